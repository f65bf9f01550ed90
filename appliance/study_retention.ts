/**
 * How long a study stays on the gateway (`studies.retentionDays`). Beeldpoort is a way through,
 * not an archive: once a study has gone where it had to go, its images are removed from the spool
 * and the study from the index, so the disk does not fill up and no patient data stays longer
 * than needed. A study is removed when, for `retentionDays` days, nothing has happened to it (no
 * instance received, no change to any of its jobs, no timeline or relay step) and nothing still
 * needs it:
 *
 * - no job of it is open: queued, running, waiting for an acknowledgement, failed (will be
 *   retried), or dead and not cancelled (a person has yet to retry, redirect or cancel it);
 * - no patient link to it is still valid (not revoked, not expired).
 *
 * What goes: the images and received documents (spool), the study, its series and instances, its
 * timeline, its finished jobs, its expired or revoked links and portal decisions, the patient when
 * no other study names them, and the patient details a received transfer carried. What stays: the
 * relay's record of transfers, parts and messages (no patient data; it keeps a late duplicate from
 * being imported again) and the audit trail, which gets one "delete" event per study. Finished jobs
 * that belong to no study (received messages, notifications) go after the same period.
 * @module
 */
import type { AuditTrail } from "../modules/audit/mod.ts";
import type { Clock, Logger } from "../modules/core/mod.ts";
import type { Kysely, Transaction } from "kysely";
import type { DatabaseSchema } from "../modules/db/mod.ts";
import type { Spool } from "../modules/spool/mod.ts";
import { CANCELLED_BY_OPERATOR } from "../modules/transfer/mod.ts";

/** Studies looked at per round; a sweep runs rounds until none is left. */
const ROUND = 50;

export interface StudyRetentionDeps {
  db: Kysely<DatabaseSchema>;
  spool: Spool;
  audit: AuditTrail;
  clock: Clock;
  log: Logger;
  /** 0: keep every study. */
  retentionDays: number;
}

/** What one sweep did. */
export interface RetentionSweep {
  removed: number;
  /** Finished jobs of no study (a received message processed, a notification sent) removed. */
  jobs: number;
  /** Studies past the retention period that something still needs. */
  kept: number;
  spoolObjects: number;
  bytes: number;
}

/** Why a study past its retention period stays, or null when nothing needs it. */
export type Hold = "open job" | "valid link" | "recent activity" | null;

/** One study past the retention period, as `sweep` met it. */
export interface SweptStudy {
  studyInstanceUid: string;
  /** Why it stays; null when it was (or, in a dry run, would be) removed. */
  kept: Hold;
  instances?: number;
  bytes?: number;
}

export interface SweepOptions {
  dryRun?: boolean;
  retentionDays?: number;
  onStudy?: (study: SweptStudy) => void;
}

export function createStudyRetention(deps: StudyRetentionDeps) {
  const { db, spool, audit, clock, log } = deps;

  async function holdOf(
    tx: Transaction<DatabaseSchema>,
    uid: string,
    cutoff: string,
    now: string,
  ): Promise<Hold> {
    const jobs = await tx.selectFrom("transfer_jobs").select(["state", "last_error", "updated_at"])
      .where("subject", "=", uid).execute();
    const open = jobs.some((j) =>
      j.state !== "done" && !(j.state === "dead" && j.last_error === CANCELLED_BY_OPERATOR)
    );
    if (open) return "open job";
    const link = await tx.selectFrom("portal_links").select("id")
      .where("study_instance_uid", "=", uid).where("revoked_at", "is", null)
      .where("expires_at", ">", now).executeTakeFirst();
    if (link) return "valid link";
    if (jobs.some((j) => j.updated_at >= cutoff)) return "recent activity";
    const event = await tx.selectFrom("study_events").select("id")
      .where("study_instance_uid", "=", uid).where("at", ">=", cutoff).executeTakeFirst();
    if (event) return "recent activity";
    const relayed = await tx.selectFrom("relay_transfers").select("id")
      .where("study_instance_uid", "=", uid).where("updated_at", ">=", cutoff).executeTakeFirst();
    return relayed ? "recent activity" : null;
  }

  /**
   * Removes one study's rows unless something holds it, in one transaction: the checks and the
   * deletion see the same state, so an instance or a job that arrives meanwhile keeps the study.
   * Returns what the study held in the spool; those objects are deleted after the commit (a crash
   * in between leaves unreferenced objects, never rows that point at nothing).
   */
  async function removeRows(
    studyId: string,
    uid: string,
    cutoff: string,
    now: string,
    dryRun: boolean,
  ) {
    return await db.transaction().execute(async (tx) => {
      const still = await tx.selectFrom("studies").select("id").where("id", "=", studyId)
        .where("last_received_at", "<", cutoff).executeTakeFirst();
      if (!still) return { held: "recent activity" as const };
      const held = await holdOf(tx, uid, cutoff, now);
      if (held) return { held };
      const study = await tx.selectFrom("studies")
        .innerJoin("patients", "patients.id", "studies.patient_ref")
        .select([
          "studies.patient_ref",
          "studies.instance_count",
          "studies.total_bytes",
          "studies.source",
          "patients.patient_id",
          "patients.bsn",
        ])
        .where("studies.id", "=", studyId).executeTakeFirstOrThrow();
      if (dryRun) return { held: null, study, spoolIds: [] };
      const images = await tx.selectFrom("instances").select("spool_id")
        .where("study_ref", "=", studyId).execute();
      const transfers = (await tx.selectFrom("relay_transfers").select("id")
        .where("study_instance_uid", "=", uid).execute()).map((t) => t.id);
      const documents = transfers.length === 0 ? [] : await tx.selectFrom("relay_documents")
        .select("spool_id").where("transfer_id", "in", transfers).execute();
      const sealed = transfers.length === 0 ? [] : await tx.selectFrom("relay_parts")
        .select("spool_id").where("transfer_id", "in", transfers)
        .where("spool_id", "is not", null).execute();
      if (transfers.length > 0) {
        await tx.deleteFrom("relay_documents").where("transfer_id", "in", transfers).execute();
        await tx.updateTable("relay_parts").set({ spool_id: null })
          .where("transfer_id", "in", transfers).execute();
        await tx.updateTable("relay_transfers").set({ patient_json: null })
          .where("id", "in", transfers).execute();
      }
      const links = tx.selectFrom("portal_links").select("id").where(
        "study_instance_uid",
        "=",
        uid,
      );
      await tx.deleteFrom("portal_link_grants").where("link_id", "in", links).execute();
      await tx.deleteFrom("portal_links").where("study_instance_uid", "=", uid).execute();
      await tx.deleteFrom("portal_reconciliations").where("study_instance_uid", "=", uid).execute();
      await tx.deleteFrom("portal_departments").where("study_instance_uid", "=", uid).execute();
      await tx.deleteFrom("routing_deliveries").where("study_instance_uid", "=", uid).execute();
      // Items and attempts go with their jobs (on delete cascade), series and instances with the
      // study.
      await tx.deleteFrom("transfer_jobs").where("subject", "=", uid).execute();
      await tx.deleteFrom("study_events").where("study_instance_uid", "=", uid).execute();
      await tx.deleteFrom("studies").where("id", "=", studyId).execute();
      const other = await tx.selectFrom("studies").select("id")
        .where("patient_ref", "=", study.patient_ref).executeTakeFirst();
      if (!other) await tx.deleteFrom("patients").where("id", "=", study.patient_ref).execute();
      const spoolIds = [...images, ...documents, ...sealed].map((r) => r.spool_id)
        .filter((id): id is string => typeof id === "string");
      return { held: null, study, spoolIds };
    });
  }

  /**
   * Removes every study past its retention period that nothing needs any more. `dryRun` removes
   * nothing and counts what would go as removed; `retentionDays` overrides the configured period
   * (the CLI's --days); `onStudy` hears about every study past the period, kept or not.
   */
  async function sweep(options: SweepOptions = {}): Promise<RetentionSweep> {
    const result: RetentionSweep = { removed: 0, jobs: 0, kept: 0, spoolObjects: 0, bytes: 0 };
    const days = options.retentionDays ?? deps.retentionDays;
    const dryRun = options.dryRun ?? false;
    if (days <= 0) return result;
    const now = clock.now();
    const cutoff = new Date(now.getTime() - days * 86400_000).toISOString();
    // Oldest first, a round at a time; a kept study is passed over by the cursor, not asked again.
    let after = { at: "", id: "" };
    for (;;) {
      const candidates = await db.selectFrom("studies")
        .select(["id", "study_instance_uid", "last_received_at"])
        .where("last_received_at", "<", cutoff)
        .where((eb) =>
          eb.or([
            eb("last_received_at", ">", after.at),
            eb.and([eb("last_received_at", "=", after.at), eb("id", ">", after.id)]),
          ])
        )
        .orderBy("last_received_at").orderBy("id").limit(ROUND).execute();
      if (candidates.length === 0) break;
      for (const candidate of candidates) {
        after = { at: candidate.last_received_at, id: candidate.id };
        const uid = candidate.study_instance_uid;
        const removed = await removeRows(candidate.id, uid, cutoff, now.toISOString(), dryRun);
        if (removed.held) {
          result.kept++;
          options.onStudy?.({ studyInstanceUid: uid, kept: removed.held });
          continue;
        }
        const { study, spoolIds } = removed;
        options.onStudy?.({
          studyInstanceUid: uid,
          kept: null,
          instances: study.instance_count,
          bytes: study.total_bytes,
        });
        if (dryRun) {
          result.removed++;
          result.bytes += study.total_bytes;
          continue;
        }
        let missing = 0;
        for (const id of spoolIds) {
          if (!(await spool.delete(id))) missing++;
        }
        result.removed++;
        result.spoolObjects += spoolIds.length;
        result.bytes += study.total_bytes;
        await audit.record({
          action: "delete",
          outcome: "success",
          actor: { kind: "system", id: "beeldpoort" },
          patient: { id: study.patient_id, bsn: study.bsn ?? undefined },
          object: { kind: "study", id: uid },
          detail: {
            instances: study.instance_count,
            bytes: study.total_bytes,
            source: study.source,
            retentionDays: days,
          },
        });
        if (missing > 0) {
          log.warn("study removed; some of its spool objects were already gone", { missing });
        }
      }
    }
    if (!dryRun) {
      // A receiving gateway has a job per message and per notification, with no study: done ones
      // go after the same period. Dead ones stay on the dashboard until a person deals with them.
      const jobs = await db.deleteFrom("transfer_jobs").where("subject", "is", null)
        .where("state", "=", "done").where("updated_at", "<", cutoff).executeTakeFirst();
      result.jobs = Number(jobs.numDeletedRows);
    }
    if (!dryRun && (result.removed > 0 || result.kept > 0 || result.jobs > 0)) {
      log.info("study retention", { ...result, retentionDays: days });
    }
    return result;
  }

  return { sweep };
}

export type StudyRetention = ReturnType<typeof createStudyRetention>;
