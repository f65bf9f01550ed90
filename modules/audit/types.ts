/**
 * What was done (NEN 7513 "handeling"). The first six are the ones issue 8 names; the rest cover
 * the users, the trail itself and sign-out.
 */
export type AuditAction =
  | "login"
  | "logout"
  | "view"
  | "receive"
  | "send"
  | "download"
  | "import"
  | "export"
  | "user-admin"
  | "audit-read"
  | "audit-prune"
  /** Patient data removed: a study past its retention period (studies.retentionDays). */
  | "delete"
  /** An admin changed configuration (destinations, rules, address-book sync). */
  | "config-change"
  /** Which local patient a received study belongs to was decided (reconciliation). */
  | "patient-record";

/** How it ended. Maps to the ATNA EventOutcomeIndicator 0, 4 and 8 (PS3.15 A.5.3.1). */
export type AuditOutcome = "success" | "failure" | "serious-failure";

/** Who acted: a person signed in to the UI, or the system itself (a DICOM peer, a job). */
export interface AuditActor {
  kind: "user" | "system";
  /** User name, or for the system e.g. `dicom:CT_ZAAL3` or `beeldpoort`. */
  id: string;
  /** The user's role, when a user. */
  role?: string;
}

/** One event to record. Everything but action, outcome and actor is optional. */
export interface AuditEventInput {
  action: AuditAction;
  outcome: AuditOutcome;
  actor: AuditActor;
  /** From where: the client IP address or the DICOM peer's address. */
  sourceAddress?: string;
  /** On whose data: the patient id (as the sender issued it) and the BSN when known. */
  patient?: { id?: string; bsn?: string };
  /** Which object: e.g. `{ kind: "study", id: studyInstanceUid }`. */
  object?: { kind: string; id: string };
  /** Small extra context; never free text typed by users. */
  detail?: Record<string, string | number | boolean>;
}

/** A recorded event as stored: the input plus its place and hashes in the chain. */
export interface AuditEvent {
  seq: number;
  id: string;
  occurredAt: string;
  action: AuditAction;
  outcome: AuditOutcome;
  actor: AuditActor;
  sourceAddress: string | null;
  patient: { id: string | null; bsn: string | null };
  object: { kind: string; id: string } | null;
  detail: Record<string, string | number | boolean> | null;
  prevHash: string;
  hash: string;
}

/** One thing `verify` found wrong, with where. */
export interface ChainProblem {
  /** "edited": a row's content no longer matches its hash; "broken": a row does not point at the
   * one before it; "missing": sequence numbers are absent (rows deleted). */
  kind: "edited" | "broken" | "missing";
  /** The row where it shows (for "missing": the first absent number). */
  seq: number;
  message: string;
}

/** The outcome of `verify`. */
export interface ChainReport {
  ok: boolean;
  /** Rows checked. */
  checked: number;
  firstSeq: number | null;
  lastSeq: number | null;
  problems: ChainProblem[];
}
