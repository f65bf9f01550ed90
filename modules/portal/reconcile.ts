import type { Kysely } from "kysely";
import type { DatabaseSchema } from "../db/mod.ts";
import type { StudySummary } from "../studies/mod.ts";
import { PortalReconciliationInvalid } from "./errors.ts";

/** A patient known here from our own modalities (not from received mail). */
export interface LocalPatient {
  patientId: string;
  name: string | null;
  birthDate: string | null;
}

/** The decision that ties a received study to a local patient. */
export interface Reconciliation {
  studyInstanceUid: string;
  /** `existing`: a local patient was picked; `new`: confirmed as a patient new to us. */
  decision: "existing" | "new";
  localPatientId: string;
  decidedBy: string;
  decidedAt: string;
}

/** Where a received study stands with its patient. */
export type PatientMatch =
  /** The BSN of the received patient is that of a local patient. */
  | { kind: "bsn"; localPatientId: string }
  /** A caregiver decided. */
  | { kind: "decided"; reconciliation: Reconciliation }
  /** Nobody decided yet and the BSN did not match (or was absent). */
  | { kind: "open" };

export function createReconciliations(db: Kysely<DatabaseSchema>, now: () => Date) {
  async function decided(studyInstanceUid: string): Promise<Reconciliation | null> {
    const r = await db.selectFrom("portal_reconciliations").selectAll()
      .where("study_instance_uid", "=", studyInstanceUid).executeTakeFirst();
    return r
      ? {
        studyInstanceUid: r.study_instance_uid,
        decision: r.decision as Reconciliation["decision"],
        localPatientId: r.local_patient_id,
        decidedBy: r.decided_by,
        decidedAt: r.decided_at,
      }
      : null;
  }

  /** Local patients: those with at least one study that did not arrive by mail. */
  function localQuery() {
    return db.selectFrom("patients")
      .select(["patients.patient_id", "patients.name", "patients.birth_date", "patients.bsn"])
      .where((eb) =>
        eb.exists(
          eb.selectFrom("studies").select("studies.id")
            .whereRef("studies.patient_ref", "=", "patients.id")
            .where("studies.source", "!=", "mail"),
        )
      );
  }

  return {
    decided,

    async match(study: StudySummary): Promise<PatientMatch> {
      const decision = await decided(study.studyInstanceUid);
      if (decision) return { kind: "decided", reconciliation: decision };
      const received = await db.selectFrom("patients").select("bsn")
        .where("patient_id", "=", study.patientId)
        .where("issuer", "=", study.issuerOfPatientId).executeTakeFirst();
      if (received?.bsn) {
        const local = await localQuery().where("patients.bsn", "=", received.bsn)
          .executeTakeFirst();
        if (local) return { kind: "bsn", localPatientId: local.patient_id };
      }
      return { kind: "open" };
    },

    /** Local patients whose id or name contains `text` (case-insensitive), at most 20. */
    async localPatients(text: string): Promise<LocalPatient[]> {
      const like = `%${text.trim().toLowerCase()}%`;
      const rows = await localQuery()
        .where((eb) =>
          eb.or([
            eb(eb.fn("lower", ["patients.patient_id"]), "like", like),
            eb(eb.fn("lower", ["patients.name"]), "like", like),
          ])
        )
        .orderBy("patients.patient_id").limit(20).execute();
      return rows.map((r) => ({ patientId: r.patient_id, name: r.name, birthDate: r.birth_date }));
    },

    /** Records the decision once; a second decision for the same study is refused. */
    async decide(
      input: Omit<Reconciliation, "decidedAt">,
    ): Promise<Reconciliation> {
      if (!input.localPatientId.trim()) {
        throw new PortalReconciliationInvalid("a local patient id is required");
      }
      if (input.decision === "existing") {
        const known = await localQuery().where("patients.patient_id", "=", input.localPatientId)
          .executeTakeFirst();
        if (!known) {
          throw new PortalReconciliationInvalid(`no local patient ${input.localPatientId}`);
        }
      }
      if (await decided(input.studyInstanceUid)) {
        throw new PortalReconciliationInvalid(
          `study ${input.studyInstanceUid} was reconciled before`,
        );
      }
      await db.insertInto("portal_reconciliations").values({
        study_instance_uid: input.studyInstanceUid,
        decision: input.decision,
        local_patient_id: input.localPatientId.trim(),
        decided_by: input.decidedBy,
        decided_at: now().toISOString(),
      }).execute();
      return (await decided(input.studyInstanceUid))!;
    },
  };
}
