import type { Kysely } from "kysely";

// The gateway-to-gateway relay (modules/relay). Transfers and their parts are kept per direction
// ("out": we sent, "in": we received), because a transfer id is chosen by the sender and a gateway
// may both send and receive the same id. Sealed outbound parts stay in the spool (spool_id) until
// acknowledged, so a resend is byte-identical. relay_messages makes inbound processing idempotent.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable("relay_transfers")
    .addColumn("direction", "text", (c) => c.notNull())
    .addColumn("id", "text", (c) => c.notNull())
    .addColumn("study_instance_uid", "text")
    .addColumn("peer_ura", "text")
    .addColumn("peer_address", "text", (c) => c.notNull())
    .addColumn("format", "text", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("part_count", "integer")
    .addColumn("instance_count", "integer")
    .addColumn("reason", "text")
    .addColumn("reason_code", "text")
    .addColumn("patient_json", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("relay_transfers_pk", ["direction", "id"])
    .execute();
  await db.schema.createIndex("relay_transfers_state").on("relay_transfers")
    .columns(["direction", "state"]).execute();
  await db.schema.createTable("relay_parts")
    .addColumn("direction", "text", (c) => c.notNull())
    .addColumn("transfer_id", "text", (c) => c.notNull())
    .addColumn("part_number", "integer", (c) => c.notNull())
    .addColumn("part_count", "integer", (c) => c.notNull())
    .addColumn("message_id", "text", (c) => c.notNull())
    .addColumn("spool_id", "text")
    .addColumn("bytes", "integer", (c) => c.notNull())
    .addColumn("instance_count", "integer", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("reason", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("sent_at", "text")
    .addColumn("acknowledged_at", "text")
    .addPrimaryKeyConstraint("relay_parts_pk", ["direction", "transfer_id", "part_number"])
    .execute();
  await db.schema.createIndex("relay_parts_message").on("relay_parts").column("message_id")
    .execute();
  await db.schema.createTable("relay_documents")
    .addColumn("transfer_id", "text", (c) => c.notNull())
    .addColumn("document_id", "text", (c) => c.notNull())
    .addColumn("spool_id", "text", (c) => c.notNull())
    .addColumn("mime_type", "text", (c) => c.notNull())
    .addColumn("title", "text")
    .addColumn("size", "integer", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("relay_documents_pk", ["transfer_id", "document_id"])
    .execute();
  await db.schema.createTable("relay_messages")
    .addColumn("message_key", "text", (c) => c.primaryKey())
    .addColumn("message_id", "text")
    .addColumn("from_address", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("outcome", "text", (c) => c.notNull())
    .addColumn("code", "text")
    .addColumn("reason", "text")
    .addColumn("transfer_id", "text")
    .addColumn("part_number", "integer")
    .addColumn("part_count", "integer")
    .addColumn("received_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createTable("relay_events")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("direction", "text", (c) => c.notNull())
    .addColumn("transfer_id", "text", (c) => c.notNull())
    .addColumn("part_number", "integer")
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("detail", "text")
    .addColumn("at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("relay_events_transfer").on("relay_events")
    .columns(["transfer_id", "at"]).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (
    const table of [
      "relay_events",
      "relay_messages",
      "relay_documents",
      "relay_parts",
      "relay_transfers",
    ]
  ) {
    await db.schema.dropTable(table).execute();
  }
}
