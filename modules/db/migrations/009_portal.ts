import type { Kysely } from "kysely";

// The portal (issue 9). Patient links: the token and the PIN are stored only as SHA-256 hashes, so
// a copy of the database opens no link; wrong PINs count towards a lockout. A link grant is the
// short-lived cookie a patient gets after the PIN. Reconciliations record who decided which local
// patient a received study belongs to (the BSN did not match), once per study.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable("portal_links")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("token_hash", "text", (c) => c.notNull().unique())
    .addColumn("pin_hash", "text", (c) => c.notNull())
    .addColumn("study_instance_uid", "text", (c) => c.notNull())
    .addColumn("created_by", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .addColumn("revoked_at", "text")
    .addColumn("revoked_by", "text")
    .addColumn("failed_pins", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("locked_at", "text")
    .addColumn("downloads", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("last_used_at", "text")
    .execute();
  await db.schema.createIndex("portal_links_study").on("portal_links")
    .column("study_instance_uid").execute();
  await db.schema.createTable("portal_link_grants")
    .addColumn("grant_hash", "text", (c) => c.primaryKey())
    .addColumn("link_id", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createTable("portal_reconciliations")
    .addColumn("study_instance_uid", "text", (c) => c.primaryKey())
    .addColumn("decision", "text", (c) => c.notNull())
    .addColumn("local_patient_id", "text", (c) => c.notNull())
    .addColumn("decided_by", "text", (c) => c.notNull())
    .addColumn("decided_at", "text", (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("portal_reconciliations").execute();
  await db.schema.dropTable("portal_link_grants").execute();
  await db.schema.dropTable("portal_links").execute();
}
