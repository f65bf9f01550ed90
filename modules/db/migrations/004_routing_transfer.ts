import type { Kysely } from "kysely";

// Routing and delivery (modules/studies events, modules/routing, modules/transfer).
// - study_events: the timeline of a study (received, complete, matched, queued, attempt, ...).
// - routing_destinations / routing_rules: operator-managed, validated before they are stored.
// - routing_deliveries: which instance went into a job for which (rule, destination), so late
//   instances produce a follow-up job of only what is new.
// - transfer_jobs / transfer_items / transfer_attempts / transfer_breakers: the durable queue,
//   with per-item progress so a resumed job sends only what was not acknowledged.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable("study_events")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("study_instance_uid", "text", (c) => c.notNull())
    .addColumn("at", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("detail", "text", (c) => c.notNull().defaultTo("{}"))
    .execute();
  await db.schema.createIndex("study_events_study").on("study_events")
    .columns(["study_instance_uid", "id"]).execute();

  await db.schema.createTable("routing_destinations")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("definition", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createTable("routing_rules")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("position", "integer", (c) => c.notNull())
    .addColumn("enabled", "integer", (c) => c.notNull().defaultTo(1))
    .addColumn("definition", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createTable("routing_deliveries")
    .addColumn("study_instance_uid", "text", (c) => c.notNull())
    .addColumn("rule_id", "text", (c) => c.notNull())
    .addColumn("destination", "text", (c) => c.notNull())
    .addColumn("sop_instance_uid", "text", (c) => c.notNull())
    .addColumn("job_id", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("routing_deliveries_pk", [
      "study_instance_uid",
      "rule_id",
      "destination",
      "sop_instance_uid",
    ])
    .execute();

  await db.schema.createTable("transfer_jobs")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("destination", "text", (c) => c.notNull())
    .addColumn("subject", "text")
    .addColumn("priority", "integer", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("payload", "text", (c) => c.notNull().defaultTo("{}"))
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("next_attempt_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .addColumn("lease_owner", "text")
    .addColumn("lease_until", "text")
    .addColumn("last_error", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("transfer_jobs_due").on("transfer_jobs")
    .columns(["state", "priority", "next_attempt_at"]).execute();
  await db.schema.createIndex("transfer_jobs_subject").on("transfer_jobs").column("subject")
    .execute();
  await db.schema.createTable("transfer_items")
    .addColumn(
      "job_id",
      "text",
      (c) => c.notNull().references("transfer_jobs.id").onDelete("cascade"),
    )
    .addColumn("item", "text", (c) => c.notNull())
    .addColumn("position", "integer", (c) => c.notNull())
    .addColumn("done", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("note", "text")
    .addPrimaryKeyConstraint("transfer_items_pk", ["job_id", "item"])
    .execute();
  await db.schema.createTable("transfer_attempts")
    .addColumn(
      "job_id",
      "text",
      (c) => c.notNull().references("transfer_jobs.id").onDelete("cascade"),
    )
    .addColumn("attempt", "integer", (c) => c.notNull())
    .addColumn("started_at", "text", (c) => c.notNull())
    .addColumn("ended_at", "text")
    .addColumn("outcome", "text")
    .addColumn("error", "text")
    .addColumn("items_done", "integer", (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint("transfer_attempts_pk", ["job_id", "attempt"])
    .execute();
  await db.schema.createTable("transfer_breakers")
    .addColumn("destination", "text", (c) => c.primaryKey())
    .addColumn("failures", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("open_until", "text")
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (
    const table of [
      "transfer_breakers",
      "transfer_attempts",
      "transfer_items",
      "transfer_jobs",
      "routing_deliveries",
      "routing_rules",
      "routing_destinations",
      "study_events",
    ]
  ) {
    await db.schema.dropTable(table).execute();
  }
}
