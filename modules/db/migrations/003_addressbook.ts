import type { Kysely } from "kysely";

// The address book (modules/addressbook). Rows are kept per source, so the last good copy of each
// directory survives when that directory is down, and a full sync of one source removes only its
// own organisations. Children cascade: replacing an entry deletes its endpoints and certificates.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable("addressbook_entries")
    .addColumn("source", "text", (c) => c.notNull())
    .addColumn("ura", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("agb", "text")
    .addColumn("city", "text")
    .addColumn("address", "text")
    .addColumn("departments", "text", (c) => c.notNull().defaultTo("[]"))
    .addColumn("hash", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("addressbook_entries_pk", ["source", "ura"])
    .execute();
  await db.schema.createIndex("addressbook_entries_ura").on("addressbook_entries").column("ura")
    .execute();
  await db.schema.createTable("addressbook_endpoints")
    .addColumn("source", "text", (c) => c.notNull())
    .addColumn("ura", "text", (c) => c.notNull())
    .addColumn("address", "text", (c) => c.notNull())
    .addColumn("position", "integer", (c) => c.notNull())
    .addColumn("formats", "text", (c) => c.notNull())
    .addColumn("max_message_bytes", "integer")
    .addColumn("content_encryption", "text", (c) => c.notNull())
    .addColumn("department", "text")
    .addColumn("refused_certificates", "text", (c) => c.notNull().defaultTo("[]"))
    .addPrimaryKeyConstraint("addressbook_endpoints_pk", ["source", "ura", "address"])
    .addForeignKeyConstraint(
      "addressbook_endpoints_entry",
      ["source", "ura"],
      "addressbook_entries",
      ["source", "ura"],
      (fk) => fk.onDelete("cascade"),
    )
    .execute();
  await db.schema.createIndex("addressbook_endpoints_address").on("addressbook_endpoints")
    .column("address").execute();
  await db.schema.createTable("addressbook_certificates")
    .addColumn("source", "text", (c) => c.notNull())
    .addColumn("ura", "text", (c) => c.notNull())
    .addColumn("endpoint_address", "text", (c) => c.notNull())
    .addColumn("use", "text", (c) => c.notNull())
    .addColumn("fingerprint", "text", (c) => c.notNull())
    .addColumn("der", "blob", (c) => c.notNull())
    .addColumn("subject", "text", (c) => c.notNull())
    .addColumn("issuer", "text", (c) => c.notNull())
    .addColumn("serial_number", "text", (c) => c.notNull())
    .addColumn("not_before", "text", (c) => c.notNull())
    .addColumn("not_after", "text", (c) => c.notNull())
    .addColumn("cert_ura", "text")
    .addColumn("emails", "text", (c) => c.notNull().defaultTo("[]"))
    .addPrimaryKeyConstraint("addressbook_certificates_pk", [
      "source",
      "ura",
      "endpoint_address",
      "fingerprint",
      "use",
    ])
    .addForeignKeyConstraint(
      "addressbook_certificates_endpoint",
      ["source", "ura", "endpoint_address"],
      "addressbook_endpoints",
      ["source", "ura", "address"],
      (fk) => fk.onDelete("cascade"),
    )
    .execute();
  await db.schema.createIndex("addressbook_certificates_not_after").on("addressbook_certificates")
    .column("not_after").execute();
  await db.schema.createTable("addressbook_sync_runs")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("source", "text", (c) => c.notNull())
    .addColumn("mode", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("started_at", "text", (c) => c.notNull())
    .addColumn("duration_ms", "integer", (c) => c.notNull())
    .addColumn("added", "integer", (c) => c.notNull())
    .addColumn("changed", "integer", (c) => c.notNull())
    .addColumn("removed", "integer", (c) => c.notNull())
    .addColumn("rejected", "integer", (c) => c.notNull())
    .addColumn("problems", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("addressbook_sync_runs_source").on("addressbook_sync_runs")
    .columns(["source", "started_at"]).execute();
  await db.schema.createTable("addressbook_source_state")
    .addColumn("source", "text", (c) => c.primaryKey())
    .addColumn("watermark", "text")
    .addColumn("last_success_at", "text")
    .addColumn("last_full_at", "text")
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (
    const table of [
      "addressbook_source_state",
      "addressbook_sync_runs",
      "addressbook_certificates",
      "addressbook_endpoints",
      "addressbook_entries",
    ]
  ) {
    await db.schema.dropTable(table).execute();
  }
}
