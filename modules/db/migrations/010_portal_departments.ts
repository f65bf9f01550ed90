import type { Kysely } from "kysely";

// The department a received study was addressed to (issue 9): the caregiver inbox shows a
// department's own studies. One row per study; a study without a row is for the whole hospital.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable("portal_departments")
    .addColumn("study_instance_uid", "text", (c) => c.primaryKey())
    .addColumn("department", "text", (c) => c.notNull())
    .addColumn("recorded_at", "text", (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("portal_departments").execute();
}
