import { createHash } from "node:crypto";
import type { AuditEventsTable } from "../db/mod.ts";

/** The prev_hash of the very first event. */
export const genesisHash = "0".repeat(64);

type Row = Omit<AuditEventsTable, "seq" | "hash"> & { seq: number };

/**
 * The hash of one row: SHA-256 over the previous hash and every field, sequence number included,
 * as a JSON array (fixed order, so the encoding is canonical). Changing any field, or moving a row,
 * changes it.
 */
export function rowHash(row: Row): string {
  const fields = [
    row.seq,
    row.id,
    row.occurred_at,
    row.action,
    row.outcome,
    row.actor_kind,
    row.actor_id,
    row.actor_role,
    row.source_address,
    row.patient_id,
    row.patient_bsn,
    row.object_kind,
    row.object_id,
    row.detail,
  ];
  return createHash("sha256").update(row.prev_hash).update("\n").update(JSON.stringify(fields))
    .digest("hex");
}
