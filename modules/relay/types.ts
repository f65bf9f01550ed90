/** The relay's public types: options, transport and hooks, and what it reports. */
import type { Kysely } from "kysely";
import type { Clock, Logger } from "../core/mod.ts";
import type { DatabaseSchema } from "../db/mod.ts";
import type { AddressBook } from "../addressbook/mod.ts";
import type { Certificate, PrivateKey, RevocationList } from "../smime/mod.ts";
import type { Spool } from "../spool/mod.ts";
import type { StudyIndex, StudyInstance } from "../studies/mod.ts";
import type { XdmPatientInfo } from "../xdm/mod.ts";

/** One mail to hand to the mail transport; `raw` is the complete message (headers and body). */
export interface OutgoingMail {
  to: string;
  from: string;
  /** The Message-ID header value, `<…@…>`; stable across resends of the same part. */
  messageId: string;
  raw: Uint8Array | ReadableStream<Uint8Array>;
}

/** Sends mail (SMTP in the appliance, in memory in tests). Resolves once the mail is accepted. */
export interface RelayTransport {
  send(mail: OutgoingMail): Promise<void>;
}

/** Who we are: our gateway address, organisation and S/MIME keys. */
export interface RelayIdentity {
  /** URA of our organisation (goes into the XDM SubmissionSet). */
  ura: string;
  organizationName: string;
  /** Our gateway mail address (From of every message, and Disposition-Notification-To). */
  address: string;
  /** Our encryption certificate and key: peers encrypt to it, we decrypt with it. */
  certificate: Certificate;
  key: PrivateKey;
  /** A separate signing certificate and key, when the PKI issues one (else `certificate`). */
  signingCertificate?: Certificate;
  signingKey?: PrivateKey;
  /** Intermediate certificates sent along with our signatures. */
  chain?: readonly Certificate[];
}

/** A step for the audit trail (NEN 7513); no patient data, the study UID identifies the record. */
export interface RelayAuditEvent {
  action:
    | "relay.sent"
    | "relay.received"
    | "relay.refused"
    | "relay.delivered"
    | "relay.imported"
    | "relay.failed";
  outcome: "success" | "failure";
  at: string;
  peerAddress: string;
  peerUra?: string;
  transferId?: string;
  partNumber?: number;
  messageId?: string;
  studyInstanceUid?: string;
  /** For refusals and failures: the stable error code and the reason in words. */
  code?: string;
  reason?: string;
}

/** Receives audit events; the audit module arrives from another branch. */
export interface RelayAudit {
  record(event: RelayAuditEvent): Promise<void> | void;
}

/** A non-DICOM document that came with a transfer (report, note), kept in the spool. */
export interface ReceivedDocument {
  documentId: string;
  spoolId: string;
  mimeType: string;
  title?: string;
  size: number;
}

/** What the appliance gets when every part of an inbound transfer is stored and indexed. */
export interface CompletedTransfer {
  transferId: string;
  studyInstanceUid: string;
  senderUra: string;
  senderAddress: string;
  /** The patient as the sender's package names it (BSN, local ids, name, birth date, sex). */
  patient: XdmPatientInfo;
  instanceCount: number;
  documents: ReceivedDocument[];
}

/**
 * One part of an inbound transfer, just verified, stored and indexed: its instances may go on into
 * the PACS before the other parts arrive.
 */
export interface StoredPart {
  transferId: string;
  partNumber: number;
  partCount: number;
  studyInstanceUid: string;
  senderUra: string;
  /** The patient as the sender's package names it. */
  patient: XdmPatientInfo;
  /** The SOP Instance UIDs this part brought, as indexed. */
  sopInstanceUids: string[];
}

/** Everything the relay needs; the appliance builds it from configuration. */
export interface RelayOptions {
  db: Kysely<DatabaseSchema>;
  spool: Spool;
  studies: StudyIndex;
  addressBook: AddressBook;
  transport: RelayTransport;
  /**
   * Where notifications (MDNs) go; default `transport`. The appliance passes a durable outbox, so
   * that processing a part does not wait for the peer's SMTP answer to its notification.
   */
  noticeTransport?: RelayTransport;
  identity: RelayIdentity;
  /** The CAs a peer's signer must chain to. */
  trustAnchors: readonly Certificate[];
  /** The CRLs of those CAs as they are now: a signer on one of them is refused. */
  revocationLists?: () => Promise<readonly RevocationList[]>;
  log: Logger;
  /** Largest XDM zip per part before the recipient's limit is applied. Default 20 000 000. */
  partSizeBytes?: number;
  /**
   * Called once all parts of an inbound transfer are in (again after a crash before it returned:
   * make it idempotent). The appliance reconciles the patient, imports into the PACS and then
   * calls `confirmImported`.
   */
  onTransferComplete?: (transfer: CompletedTransfer) => Promise<void>;
  /**
   * Called once per part when it is first stored, before the sender hears "processed". A part
   * stored before a crash is not offered again: `onTransferComplete` must pick up what no part
   * call took.
   */
  onPartStored?: (part: StoredPart) => Promise<void>;
  /**
   * Called after a peer's notification moved one of our outbound transfers to `delivered`,
   * `imported` or `failed` (the appliance acknowledges or fails the delivery job with it). A
   * notification that arrives again calls it again: make it idempotent.
   */
  onTransferState?: (change: TransferStateChange) => Promise<void>;
  audit?: RelayAudit;
  clock?: Clock;
  /** Product line for README.TXT and Reporting-UA. */
  product?: { name: string; version: string; vendor: string };
}

/** An outbound transfer moved on because of the peer's notification. */
export interface TransferStateChange {
  transferId: string;
  state: "delivered" | "imported" | "failed";
  /** For `failed`: the peer's reason in words and its stable code. */
  reason?: string;
  reasonCode?: string;
}

/** What to send to whom. */
export interface SendTransferRequest {
  studyInstanceUid: string;
  recipientUra: string;
  /** Free text for the recipient; travels inside the encryption, never in the Subject. */
  note?: string;
  /** Sends only the instances for which this returns true. */
  instanceFilter?: (instance: StudyInstance) => boolean;
  /**
   * Resume a transfer a crash interrupted: parts already sealed are kept (byte-identical), the
   * rest is packed again. Without it a new transfer id is chosen.
   */
  transferId?: string;
  department?: string;
}

/** Outbound: packing, sent, delivered, imported, failed. Inbound: receiving, received, imported. */
export type TransferState =
  | "packing"
  | "sent"
  | "delivered"
  | "imported"
  | "failed"
  | "receiving"
  | "received";

/** Outbound: packed, sent, processed, failed. Inbound: stored. */
export type PartState = "packed" | "sent" | "processed" | "failed" | "stored";

/** One part of a transfer as the UI and the queue see it. */
export interface PartStatus {
  partNumber: number;
  partCount: number;
  state: PartState;
  messageId: string;
  bytes: number;
  instanceCount: number;
  attempts: number;
  sentAt?: string;
  acknowledgedAt?: string;
  reason?: string;
}

/** One step of a transfer's timeline. */
export interface RelayEvent {
  at: string;
  kind: string;
  partNumber?: number;
  detail?: string;
}

/** A transfer with its parts and timeline. */
export interface TransferStatus {
  transferId: string;
  direction: "out" | "in";
  state: TransferState;
  studyInstanceUid?: string;
  peerUra?: string;
  peerAddress: string;
  format: string;
  partCount?: number;
  instanceCount?: number;
  /** Why the transfer failed, in words (from the peer's failure notification). */
  reason?: string;
  reasonCode?: string;
  createdAt: string;
  updatedAt: string;
  parts: PartStatus[];
  events: RelayEvent[];
}

/** What `acceptMessage` did with one message. `repeated`: it had been processed before. */
export type AcceptOutcome =
  | {
    kind: "part";
    repeated: boolean;
    transferId: string;
    partNumber: number;
    partCount: number;
    /** The part had been stored before (a resend or a duplicate): nothing was stored again. */
    duplicate: boolean;
    /** Every part of the transfer is in. */
    complete: boolean;
  }
  | {
    kind: "notification";
    repeated: boolean;
    stage: "processed" | "imported" | "refused";
    transferId?: string;
    partNumber?: number;
  }
  | { kind: "refused"; repeated: boolean; code: string; reason: string; notified: boolean };
