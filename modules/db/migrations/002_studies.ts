import type { Kysely } from "kysely";

// The study index (modules/studies): patients, studies, series and instances. Bytes live in the
// spool; rows point at them by spool id.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable("patients")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("patient_id", "text", (c) => c.notNull())
    .addColumn("issuer", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("bsn", "text")
    .addColumn("name", "text")
    .addColumn("birth_date", "text")
    .addColumn("sex", "text")
    .addUniqueConstraint("patients_id_issuer", ["patient_id", "issuer"])
    .execute();
  await db.schema.createTable("studies")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("study_instance_uid", "text", (c) => c.notNull().unique())
    .addColumn("patient_ref", "text", (c) => c.notNull().references("patients.id"))
    .addColumn("study_date", "text")
    .addColumn("study_time", "text")
    .addColumn("description", "text")
    .addColumn("accession_number", "text")
    .addColumn("referring_physician", "text")
    .addColumn("calling_ae", "text", (c) => c.notNull())
    .addColumn("source", "text", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("expected_instances", "integer")
    .addColumn("instance_count", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("total_bytes", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("first_received_at", "text", (c) => c.notNull())
    .addColumn("last_received_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("studies_last_received").on("studies").column("last_received_at")
    .execute();
  await db.schema.createTable("series")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("series_instance_uid", "text", (c) => c.notNull().unique())
    .addColumn("study_ref", "text", (c) => c.notNull().references("studies.id").onDelete("cascade"))
    .addColumn("modality", "text")
    .addColumn("series_number", "integer")
    .addColumn("description", "text")
    .execute();
  await db.schema.createTable("instances")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("sop_instance_uid", "text", (c) => c.notNull().unique())
    .addColumn("sop_class_uid", "text", (c) => c.notNull())
    .addColumn("series_ref", "text", (c) => c.notNull().references("series.id").onDelete("cascade"))
    .addColumn("study_ref", "text", (c) => c.notNull().references("studies.id").onDelete("cascade"))
    .addColumn("instance_number", "integer")
    .addColumn("transfer_syntax_uid", "text", (c) => c.notNull())
    .addColumn("size", "integer", (c) => c.notNull())
    .addColumn("sha256", "text", (c) => c.notNull())
    .addColumn("spool_id", "text", (c) => c.notNull())
    .addColumn("calling_ae", "text", (c) => c.notNull())
    .addColumn("received_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("instances_study").on("instances").column("study_ref").execute();
  await db.schema.createIndex("instances_series").on("instances").column("series_ref").execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ["instances", "series", "studies", "patients"]) {
    await db.schema.dropTable(table).execute();
  }
}
