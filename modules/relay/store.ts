/** The relay's rows: transfers, parts, documents, processed messages and the event timeline. */
import type { Kysely } from "kysely";
import { newId } from "../core/mod.ts";
import type { DatabaseSchema } from "../db/mod.ts";
import type { PartState, PartStatus, RelayEvent, TransferState, TransferStatus } from "./types.ts";

export type Direction = "out" | "in";
type Db = Kysely<DatabaseSchema>;

/**
 * Adds a step to a transfer's timeline. Kept in relay_events until the studies module offers a
 * shared event mechanism; then this is the one place to change.
 */
export async function recordEvent(
  db: Db,
  event: {
    direction: Direction;
    transferId: string;
    kind: string;
    partNumber?: number;
    detail?: string;
    at: string;
  },
): Promise<void> {
  await db.insertInto("relay_events").values({
    id: newId(),
    direction: event.direction,
    transfer_id: event.transferId,
    part_number: event.partNumber ?? null,
    kind: event.kind,
    detail: event.detail ?? null,
    at: event.at,
  }).execute();
}

export function transferRow(db: Db, direction: Direction, id: string) {
  return db.selectFrom("relay_transfers").selectAll()
    .where("direction", "=", direction).where("id", "=", id).executeTakeFirst();
}

export function partRows(db: Db, direction: Direction, transferId: string) {
  return db.selectFrom("relay_parts").selectAll()
    .where("direction", "=", direction).where("transfer_id", "=", transferId)
    .orderBy("part_number").execute();
}

export async function setTransferState(
  db: Db,
  direction: Direction,
  id: string,
  state: TransferState,
  at: string,
  options: { from?: TransferState[]; reason?: string | null; reasonCode?: string | null } = {},
): Promise<boolean> {
  let query = db.updateTable("relay_transfers").set({
    state,
    updated_at: at,
    ...(options.reason !== undefined ? { reason: options.reason } : {}),
    ...(options.reasonCode !== undefined ? { reason_code: options.reasonCode } : {}),
  }).where("direction", "=", direction).where("id", "=", id);
  if (options.from) query = query.where("state", "in", options.from);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** A transfer with its parts and timeline, or undefined. */
export async function transferStatus(
  db: Db,
  direction: Direction,
  id: string,
): Promise<TransferStatus | undefined> {
  const row = await transferRow(db, direction, id);
  if (!row) return undefined;
  const parts = await partRows(db, direction, id);
  const events = await db.selectFrom("relay_events").selectAll()
    .where("direction", "=", direction).where("transfer_id", "=", id)
    .orderBy("at").orderBy("id").execute();
  return {
    transferId: row.id,
    direction,
    state: row.state as TransferState,
    studyInstanceUid: row.study_instance_uid ?? undefined,
    peerUra: row.peer_ura ?? undefined,
    peerAddress: row.peer_address,
    format: row.format,
    partCount: row.part_count ?? undefined,
    instanceCount: row.instance_count ?? undefined,
    reason: row.reason ?? undefined,
    reasonCode: row.reason_code ?? undefined,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    parts: parts.map((p): PartStatus => ({
      partNumber: p.part_number,
      partCount: p.part_count,
      state: p.state as PartState,
      messageId: p.message_id,
      bytes: p.bytes,
      instanceCount: p.instance_count,
      attempts: p.attempts,
      sentAt: p.sent_at ?? undefined,
      acknowledgedAt: p.acknowledged_at ?? undefined,
      reason: p.reason ?? undefined,
    })),
    events: events.map((e): RelayEvent => ({
      at: e.at,
      kind: e.kind,
      partNumber: e.part_number ?? undefined,
      detail: e.detail ?? undefined,
    })),
  };
}

/** Transfers newest first, optionally of one direction or state. */
export async function listTransferIds(
  db: Db,
  query: { direction?: Direction; state?: TransferState; limit?: number },
): Promise<{ direction: Direction; id: string }[]> {
  let q = db.selectFrom("relay_transfers").select(["direction", "id"]);
  if (query.direction) q = q.where("direction", "=", query.direction);
  if (query.state) q = q.where("state", "=", query.state);
  const rows = await q.orderBy("created_at", "desc").limit(query.limit ?? 100).execute();
  return rows.map((r) => ({ direction: r.direction as Direction, id: r.id }));
}
