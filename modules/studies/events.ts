import type { Kysely } from "kysely";
import { newId } from "../core/mod.ts";
import type { DatabaseSchema } from "../db/mod.ts";

/**
 * Kinds of steps in a study's timeline. Other modules add their own (the relay will add "sent",
 * "notified"); these are the ones routing and delivery write.
 */
export type StudyEventKind =
  | "received"
  | "stable"
  | "complete"
  | "incomplete"
  | "matched"
  | "queued"
  | "attempt"
  | "delivered"
  | "failed"
  | (string & Record<never, never>);

/** One step in a study's life, as the UI timeline draws it. `detail` never holds patient data. */
export interface StudyEvent {
  id: string;
  studyInstanceUid: string;
  at: string;
  kind: StudyEventKind;
  detail: Record<string, unknown>;
}

/** Writes one event; `db` may be a transaction so the event commits with what it describes. */
export async function insertEvent(
  db: Kysely<DatabaseSchema>,
  studyInstanceUid: string,
  at: string,
  kind: StudyEventKind,
  detail: Record<string, unknown> = {},
): Promise<void> {
  await db.insertInto("study_events").values({
    // newId is monotonic: ids sort in write order even within one millisecond (timelines are
    // ordered by id).
    id: newId(Date.parse(at)),
    study_instance_uid: studyInstanceUid,
    at,
    kind,
    detail: JSON.stringify(detail),
  }).execute();
}

/** The events of a study, oldest first. */
export async function listEvents(
  db: Kysely<DatabaseSchema>,
  studyInstanceUid: string,
): Promise<StudyEvent[]> {
  const rows = await db.selectFrom("study_events").selectAll()
    .where("study_instance_uid", "=", studyInstanceUid).orderBy("id").execute();
  return rows.map((r) => ({
    id: r.id,
    studyInstanceUid: r.study_instance_uid,
    at: r.at,
    kind: r.kind,
    detail: JSON.parse(r.detail),
  }));
}
