import { type Kysely, sql } from "kysely";

// Auth (issue 8): lockout counters and TOTP on users; staged sessions with an idle clock.
// Audit (NEN 7513): an append-only, hash-chained event table and the outbox of events still to be
// forwarded to the syslog collector. The outbox is separate so audit rows are never updated.
export async function up(db: Kysely<unknown>): Promise<void> {
  // SQLite adds one column per ALTER TABLE.
  const users: [string, "text" | "integer"][] = [
    ["totp_secret", "text"],
    ["totp_last_step", "integer"],
    ["failed_logins", "integer"],
    ["locked_until", "text"],
    ["department", "text"],
  ];
  for (const [name, type] of users) {
    await db.schema.alterTable("users").addColumn(name, type).execute();
  }
  await db.schema.alterTable("sessions").addColumn("last_seen_at", "text").execute();
  await db.schema.alterTable("sessions")
    .addColumn("stage", "text", (c) => c.notNull().defaultTo("full")).execute();
  await db.schema.alterTable("sessions").addColumn("remote_address", "text").execute();

  await db.schema.createTable("audit_events")
    .addColumn("seq", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("id", "text", (c) => c.notNull().unique())
    .addColumn("occurred_at", "text", (c) => c.notNull())
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("outcome", "text", (c) => c.notNull())
    .addColumn("actor_kind", "text", (c) => c.notNull())
    .addColumn("actor_id", "text", (c) => c.notNull())
    .addColumn("actor_role", "text")
    .addColumn("source_address", "text")
    .addColumn("patient_id", "text")
    .addColumn("patient_bsn", "text")
    .addColumn("object_kind", "text")
    .addColumn("object_id", "text")
    .addColumn("detail", "text")
    .addColumn("prev_hash", "text", (c) => c.notNull())
    .addColumn("hash", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("audit_events_time").on("audit_events").column("occurred_at")
    .execute();
  await db.schema.createIndex("audit_events_patient").on("audit_events").column("patient_id")
    .execute();
  // Defence in depth: the program never updates an audit row; the chain catches whoever does.
  await sql`CREATE TRIGGER audit_events_append_only BEFORE UPDATE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END`.execute(db);
  await db.schema.createTable("audit_outbox")
    .addColumn("seq", "integer", (c) => c.primaryKey())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("last_error", "text")
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("audit_outbox").execute();
  await db.schema.dropTable("audit_events").execute();
  for (const name of ["last_seen_at", "stage", "remote_address"]) {
    await db.schema.alterTable("sessions").dropColumn(name).execute();
  }
  for (
    const name of ["totp_secret", "totp_last_step", "failed_logins", "locked_until", "department"]
  ) {
    await db.schema.alterTable("users").dropColumn(name).execute();
  }
}
