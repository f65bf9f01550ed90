import type { Kysely } from "kysely";

// Jobs finished since a moment (the dashboard's delivery times of the last 24 hours), found without
// reading every job that ever finished: a receiving gateway has an import job per received part.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex("transfer_jobs_state_updated").on("transfer_jobs")
    .columns(["state", "updated_at"]).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex("transfer_jobs_state_updated").execute();
}
