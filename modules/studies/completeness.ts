import type { Kysely } from "kysely";
import { type Clock, type Logger, systemClock } from "../core/mod.ts";
import type { DatabaseSchema } from "../db/mod.ts";
import { insertEvent } from "./events.ts";

/**
 * Where a study is in its receive life cycle. `incomplete` is "stable but incomplete": quiet for
 * the whole quiet period while fewer instances than expected have arrived.
 */
export type StudyState = "receiving" | "stable" | "complete" | "incomplete";

/** A study that has just settled (left `receiving`). */
export interface SettledStudy {
  studyInstanceUid: string;
  state: Exclude<StudyState, "receiving">;
  instances: number;
  expectedInstances: number | null;
  callingAe: string;
}

/** What the completeness monitor needs. */
export interface CompletenessOptions {
  db: Kysely<DatabaseSchema>;
  log: Logger;
  clock?: Clock;
  /** Silence after the last instance before a study counts as settled (ms). */
  quietPeriodMs: number;
  /** Quiet periods per calling AE title, overriding `quietPeriodMs` (e.g. a slow CT sender). */
  quietPeriodByAe?: Record<string, number>;
  /**
   * Called for every study that settles, before its new state is stored. It must be idempotent
   * (routing is: it never queues an instance twice), because a crash between the call and the
   * store repeats it after restart.
   */
  onSettled?: (study: SettledStudy) => Promise<void>;
}

/** The monitor: `check` once, or `start` a periodic check. */
export interface CompletenessMonitor {
  /** Settles every study whose quiet period has passed; returns them. */
  check(): Promise<SettledStudy[]>;
  /** Checks every `intervalMs` until `stop`. */
  start(intervalMs: number): void;
  /** Stops the periodic check and waits for a check in progress. */
  stop(): Promise<void>;
}

/**
 * Decides when a study has arrived: `receiving` until no instance came for the quiet period of its
 * sender, then `complete` when the expected count (Number of Study Related Instances (0020,1208) or
 * a count the sender reported) is met, `incomplete` when it is known and not met, else `stable`.
 * There is no DICOM message that says "study done" for plain C-STORE senders (standards.md,
 * completeness heuristics), so silence plus counts is the best evidence there is.
 */
export function createCompletenessMonitor(options: CompletenessOptions): CompletenessMonitor {
  const { db } = options;
  const clock = options.clock ?? systemClock;
  const log = options.log.child({ module: "completeness" });
  const quietFor = (ae: string) => options.quietPeriodByAe?.[ae] ?? options.quietPeriodMs;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = true;

  async function check(): Promise<SettledStudy[]> {
    const now = clock.now();
    const rows = await db.selectFrom("studies")
      .select([
        "study_instance_uid",
        "calling_ae",
        "instance_count",
        "expected_instances",
        "last_received_at",
      ])
      .where("state", "=", "receiving").execute();
    const settled: SettledStudy[] = [];
    for (const row of rows) {
      if (Date.parse(row.last_received_at) + quietFor(row.calling_ae) > now.getTime()) continue;
      const expected = row.expected_instances;
      const state = expected === null
        ? "stable"
        : row.instance_count >= expected
        ? "complete"
        : "incomplete";
      const study: SettledStudy = {
        studyInstanceUid: row.study_instance_uid,
        state,
        instances: row.instance_count,
        expectedInstances: expected,
        callingAe: row.calling_ae,
      };
      await insertEvent(db, row.study_instance_uid, clock.now().toISOString(), state, {
        instances: row.instance_count,
        expectedInstances: expected,
      });
      try {
        await options.onSettled?.(study);
      } catch (error) {
        log.error("settled study could not be routed; retrying at the next check", {
          studyInstanceUid: row.study_instance_uid,
          error,
        });
        continue;
      }
      // Only if nothing arrived meanwhile: a late instance keeps the study receiving, and the next
      // settle routes just the new instances.
      await db.updateTable("studies").set({ state })
        .where("study_instance_uid", "=", row.study_instance_uid)
        .where("state", "=", "receiving")
        .where("last_received_at", "=", row.last_received_at)
        .execute();
      settled.push(study);
    }
    return settled;
  }

  return {
    check,
    start(intervalMs) {
      stopped = false;
      const tick = () => {
        if (stopped) return;
        running = check().catch((error) => log.error("completeness check failed", { error }))
          .finally(() => {
            if (!stopped) timer = setTimeout(tick, intervalMs);
          });
      };
      timer = setTimeout(tick, intervalMs);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
