import type { CompiledQuery, Kysely, Selectable, Updateable } from "kysely";
import { type Clock, type Logger, newId, systemClock } from "../core/mod.ts";
import { type DatabaseSchema, executeInTransaction } from "../db/mod.ts";
import { retryDelay } from "./backoff.ts";
import { TransferJobNotFound, TransferJobStateError, TransferPermanentError } from "./errors.ts";
import type {
  BreakerPolicy,
  EnqueueRequest,
  JobContext,
  JobHandler,
  JobPriority,
  JobState,
  RetryPolicy,
  TransferAttempt,
  TransferEvent,
  TransferJob,
  TransferJobSummary,
} from "./types.ts";

/** `last_error` of a job an operator gave up (`cancel`): dead, and meant to stay so. */
export const CANCELLED_BY_OPERATOR = "cancelled by operator";

/** What the queue needs. */
export interface TransferQueueOptions {
  db: Kysely<DatabaseSchema>;
  log: Logger;
  clock?: Clock;
  /** This process's name on its leases. Default: a fresh id per queue. */
  owner?: string;
  /**
   * Commits an item's done mark or a lease renewal without a flush to disk
   * (Database.commitUnflushed); default: an ordinary transaction. A crash loses no mark; a power
   * cut may lose the last ones, and those items are sent once more (for DICOM, a C-STORE of the
   * same SOP Instance UID again). A lost renewal is harmless: after a power cut every lease is a
   * dead process's.
   */
  commitUnflushed?: (queries: readonly CompiledQuery[]) => Promise<void>;
  /** How long a claim lasts without renewal; a crashed worker's jobs resume after it. */
  leaseMs?: number;
  retry?: RetryPolicy;
  /** A job older than this that fails is given up (`dead`). */
  maxAgeMs?: number;
  breaker?: BreakerPolicy;
  /** Jobs run at the same time. */
  concurrency?: number;
  /** How often due jobs are looked for (enqueue also wakes the queue). */
  pollMs?: number;
  onEvent?: (event: TransferEvent) => void | Promise<void>;
  random?: () => number;
}

type JobRow = Selectable<DatabaseSchema["transfer_jobs"]>;
type Db = Kysely<DatabaseSchema>;

const priorityValue: Record<JobPriority, number> = { urgent: 0, routine: 1 };

/**
 * A durable job queue in the database. Jobs are claimed with a lease (owner + expiry) that the
 * worker renews while it runs; after a crash or `kill -9` the lease runs out and the job is claimed
 * again, resuming with the items not yet marked done. Failed attempts retry with exponential
 * backoff and jitter until the job's maximum age; a destination that keeps failing opens its
 * circuit breaker so its jobs wait instead of hammering it. It knows no protocol: handlers are
 * registered per job kind.
 */
export function createTransferQueue(options: TransferQueueOptions) {
  const db = options.db;
  const clock = options.clock ?? systemClock;
  const log = options.log.child({ module: "transfer" });
  const owner = options.owner ?? newId();
  const leaseMs = options.leaseMs ?? 60_000;
  const retry = options.retry ?? { baseMs: 10_000, maxMs: 3_600_000 };
  const maxAgeMs = options.maxAgeMs ?? 72 * 3_600_000;
  const breaker = options.breaker ?? { failures: 5, openMs: 60_000 };
  const concurrency = options.concurrency ?? 2;
  const pollMs = options.pollMs ?? 500;
  const random = options.random ?? Math.random;
  const handlers = new Map<string, JobHandler>();
  const commitUnflushed = options.commitUnflushed ??
    ((queries: readonly CompiledQuery[]) => executeInTransaction(db, queries));
  /** Kinds that may run fewer jobs at once than `concurrency` (see `register`). */
  const kindLimits = new Map<string, number>();
  /** Kinds that run in a lane of their own, beside the shared `concurrency` (see `register`). */
  const ownLanes = new Set<string>();
  const active = new Map<
    string,
    { kind: string; abort: AbortController; done: Promise<void> }
  >();
  let started = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let pumping: Promise<void> | null = null;
  let pumpAgain = false;

  const nowIso = () => clock.now().toISOString();
  const later = (ms: number) => new Date(clock.now().getTime() + ms).toISOString();

  async function toJob(row: JobRow, executor: Db = db): Promise<TransferJob> {
    return (await toJobs([row], executor))[0];
  }

  /** The jobs a query selects, newest first. */
  function jobRows(query: JobQuery) {
    let q = db.selectFrom("transfer_jobs").selectAll();
    if (typeof query.state === "string") q = q.where("state", "=", query.state);
    else if (query.state) q = q.where("state", "in", query.state);
    if (query.subject) q = q.where("subject", "=", query.subject);
    if (query.updatedSince) q = q.where("updated_at", ">=", query.updatedSince);
    return q.orderBy("id", "desc");
  }

  /**
   * Jobs with their item counts, counted in one grouped query: listing a study's jobs was one
   * count per job, and the relay lists them for every part (a 250-part transfer: tens of
   * thousands of queries on the receiving gateway).
   */
  async function toJobs(rows: JobRow[], executor: Db = db): Promise<TransferJob[]> {
    const counts = new Map<string, { total: number; done: number }>();
    if (rows.length > 0) {
      const found = await executor.selectFrom("transfer_items")
        .select((eb) => [
          "job_id",
          eb.fn.countAll<number>().as("total"),
          eb.fn.coalesce(eb.fn.sum<number>("done"), eb.lit(0)).as("done"),
        ])
        .where("job_id", "in", rows.map((r) => r.id))
        .groupBy("job_id").execute();
      for (const c of found) {
        counts.set(c.job_id, { total: Number(c.total), done: Number(c.done) });
      }
    }
    return rows.map((row) => ({
      ...toSummary(row),
      items: counts.get(row.id) ?? { total: 0, done: 0 },
    }));
  }

  function toSummary(row: JobRow): TransferJobSummary {
    return {
      id: row.id,
      kind: row.kind,
      destination: row.destination,
      subject: row.subject,
      priority: row.priority === 0 ? "urgent" : "routine",
      state: row.state as JobState,
      payload: JSON.parse(row.payload),
      attempts: row.attempts,
      nextAttemptAt: row.next_attempt_at,
      expiresAt: row.expires_at,
      lastError: row.last_error,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }

  async function emit(event: TransferEvent): Promise<void> {
    try {
      await options.onEvent?.(event);
    } catch (error) {
      log.error("transfer event handler failed", { kind: event.kind, jobId: event.job.id, error });
    }
  }

  async function row(id: string): Promise<JobRow> {
    const found = await db.selectFrom("transfer_jobs").selectAll().where("id", "=", id)
      .executeTakeFirst();
    if (!found) throw new TransferJobNotFound(`no transfer job ${id}`);
    return found;
  }

  async function enqueue(request: EnqueueRequest, executor: Db = db): Promise<TransferJob> {
    // newId is monotonic, so equal priority and due time go FIFO even within one millisecond.
    const id = newId(clock.now().getTime());
    const now = nowIso();
    const insert = async (tx: Db) => {
      await tx.insertInto("transfer_jobs").values({
        id,
        kind: request.kind,
        destination: request.destination,
        subject: request.subject ?? null,
        priority: priorityValue[request.priority ?? "routine"],
        state: "queued",
        payload: JSON.stringify(request.payload ?? {}),
        next_attempt_at: now,
        expires_at: later(maxAgeMs),
        lease_owner: null,
        lease_until: null,
        last_error: null,
        created_at: now,
        updated_at: now,
      }).execute();
      const items = request.items ?? [];
      for (let at = 0; at < items.length; at += 200) {
        await tx.insertInto("transfer_items").values(
          items.slice(at, at + 200).map((item, i) => ({
            job_id: id,
            item,
            position: at + i,
            note: null,
          })),
        ).execute();
      }
    };
    // Inside the caller's transaction when given one, so the job commits with what caused it.
    if (executor.isTransaction) await insert(executor);
    else await db.transaction().execute(insert);
    const job = await toJob(
      await (executor.selectFrom("transfer_jobs").selectAll()
        .where("id", "=", id).executeTakeFirstOrThrow()),
      executor,
    );
    if (!executor.isTransaction) {
      await emit({ kind: "queued", job });
      wake();
    }
    return job;
  }

  /** The registered kinds that are below their own limit of jobs at once. */
  function claimableKinds(): string[] {
    const running = new Map<string, number>();
    let shared = 0;
    for (const { kind } of active.values()) {
      running.set(kind, (running.get(kind) ?? 0) + 1);
      if (!ownLanes.has(kind)) shared++;
    }
    return [...handlers.keys()].filter((kind) =>
      (ownLanes.has(kind) || shared < concurrency) &&
      (running.get(kind) ?? 0) < (kindLimits.get(kind) ?? Infinity)
    );
  }

  /** Claims the most urgent due job whose destination's breaker is closed. */
  async function claim(): Promise<JobRow | null> {
    const kinds = claimableKinds();
    if (kinds.length === 0) return null;
    const now = nowIso();
    return await db.transaction().execute(async (tx) => {
      const candidate = await tx.selectFrom("transfer_jobs").selectAll()
        .where("kind", "in", kinds)
        .where((eb) =>
          eb.or([
            eb.and([eb("state", "in", ["queued", "failed"]), eb("next_attempt_at", "<=", now)]),
            eb.and([eb("state", "=", "running"), eb("lease_until", "<", now)]),
          ])
        )
        .where((eb) =>
          eb.not(eb.exists(
            eb.selectFrom("transfer_breakers").select("destination")
              .whereRef("transfer_breakers.destination", "=", "transfer_jobs.destination")
              .where((b) =>
                b.or([
                  b("open_until", ">", now),
                  // half open: one trial job at a time for a destination that keeps failing
                  b.and([
                    b("failures", ">=", breaker.failures),
                    b.exists(
                      b.selectFrom("transfer_jobs as r").select("r.id")
                        .whereRef("r.destination", "=", "transfer_breakers.destination")
                        .where("r.state", "=", "running").where("r.lease_until", ">=", now),
                    ),
                  ]),
                ])
              ),
          ))
        )
        .where("id", "not in", active.size ? [...active.keys()] : [""])
        .orderBy("priority").orderBy("next_attempt_at").orderBy("id")
        .limit(1).executeTakeFirst();
      if (!candidate) return null;
      await tx.updateTable("transfer_jobs").set({
        state: "running",
        lease_owner: owner,
        lease_until: later(leaseMs),
        attempts: candidate.attempts + 1,
        updated_at: now,
      }).where("id", "=", candidate.id).execute();
      await tx.insertInto("transfer_attempts").values({
        job_id: candidate.id,
        attempt: candidate.attempts + 1,
        started_at: now,
        ended_at: null,
        outcome: "running",
        error: null,
      }).execute();
      return { ...candidate, state: "running", attempts: candidate.attempts + 1 };
    });
  }

  /**
   * Ends an attempt: the job's new fields, the attempt's outcome and, when `failed` is given, the
   * destination's breaker, in one transaction (one flush).
   */
  async function endAttempt(
    claimed: JobRow,
    job: Updateable<DatabaseSchema["transfer_jobs"]>,
    outcome: TransferAttempt["outcome"],
    error: string | null,
    failed?: boolean,
  ) {
    await db.transaction().execute(async (tx) => {
      await tx.updateTable("transfer_jobs")
        .set({ ...job, lease_owner: null, lease_until: null, updated_at: nowIso() })
        .where("id", "=", claimed.id).execute();
      await tx.updateTable("transfer_attempts").set({ ended_at: nowIso(), outcome, error })
        .where("job_id", "=", claimed.id).where("attempt", "=", claimed.attempts).execute();
      if (failed !== undefined) await setBreaker(tx, claimed.destination, failed);
    });
  }

  async function setBreaker(
    q: Kysely<DatabaseSchema>,
    destination: string,
    failed: boolean,
  ): Promise<void> {
    if (!failed) {
      await q.deleteFrom("transfer_breakers").where("destination", "=", destination).execute();
      return;
    }
    const current = await q.selectFrom("transfer_breakers").select("failures")
      .where("destination", "=", destination).executeTakeFirst();
    const failures = (current?.failures ?? 0) + 1;
    const openUntil = failures >= breaker.failures ? later(breaker.openMs) : null;
    if (current) {
      await q.updateTable("transfer_breakers").set({ failures, open_until: openUntil })
        .where("destination", "=", destination).execute();
    } else {
      await q.insertInto("transfer_breakers")
        .values({ destination, failures, open_until: openUntil }).execute();
    }
    if (openUntil && failures === breaker.failures) {
      log.warn("circuit breaker open: destination keeps failing", { destination, failures });
    }
  }

  async function run(claimed: JobRow, abort: AbortController): Promise<void> {
    const attempt = claimed.attempts;
    // Unflushed: a flush here stalled the event loop for up to 150 ms while the spool writes.
    const renew = setInterval(() => {
      commitUnflushed([
        db.updateTable("transfer_jobs").set({ lease_until: later(leaseMs) })
          .where("id", "=", claimed.id).where("lease_owner", "=", owner).compile(),
      ]).catch((error) => log.error("lease renewal failed", { jobId: claimed.id, error }));
    }, Math.max(50, Math.floor(leaseMs / 3)));
    let itemsDone = 0;
    try {
      const job = await toJob(claimed);
      await emit({ kind: "attempt", job, attempt });
      const pending = (await db.selectFrom("transfer_items").select("item")
        .where("job_id", "=", claimed.id).where("done", "=", 0).orderBy("position").execute())
        .map((r) => r.item);
      const context: JobContext = {
        job,
        pending,
        signal: abort.signal,
        async markDone(items, note) {
          if (items.length === 0) return;
          const queries: CompiledQuery[] = [];
          for (let at = 0; at < items.length; at += 200) {
            queries.push(
              db.updateTable("transfer_items").set({ done: 1, note: note ?? null })
                .where("job_id", "=", claimed.id)
                .where("item", "in", items.slice(at, at + 200)).compile(),
            );
          }
          queries.push(
            db.updateTable("transfer_attempts").set((eb) => ({
              items_done: eb("items_done", "+", items.length),
            })).where("job_id", "=", claimed.id).where("attempt", "=", attempt).compile(),
          );
          await commitUnflushed(queries);
          itemsDone += items.length;
        },
      };
      const handler = handlers.get(claimed.kind)!;
      const outcome = job.items.total > 0 && pending.length === 0
        ? undefined
        : await handler(context);
      const state: JobState = outcome?.waitForAck ? "waiting-ack" : "done";
      await endAttempt(
        claimed,
        { state, last_error: null },
        state === "done" ? "delivered" : "waiting-ack",
        null,
        false,
      );
      const finished = await toJob(await row(claimed.id));
      await emit({
        kind: state === "done" ? "delivered" : "waiting-ack",
        job: finished,
        attempt,
        itemsDone,
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (abort.signal.aborted) {
        // Stopping: give the job back untouched, it resumes at the next start.
        await endAttempt(claimed, { state: "queued" }, "interrupted", message);
        return;
      }
      const permanent = error instanceof TransferPermanentError;
      const expired = clock.now().toISOString() >= claimed.expires_at;
      const delay = retryDelay(retry, attempt, random);
      const dead = permanent || expired ||
        new Date(clock.now().getTime() + delay).toISOString() > claimed.expires_at;
      await endAttempt(
        claimed,
        {
          state: dead ? "dead" : "failed",
          next_attempt_at: dead ? claimed.next_attempt_at : later(delay),
          last_error: message,
        },
        dead ? "dead" : "failed",
        message,
        permanent ? undefined : true,
      );
      log.warn(dead ? "transfer job given up" : "transfer attempt failed; will retry", {
        jobId: claimed.id,
        destination: claimed.destination,
        attempt,
        retryInMs: dead ? undefined : delay,
        error: message,
      });
      const job = await toJob(await row(claimed.id));
      await emit({
        kind: "failed",
        job,
        attempt,
        error: message,
        retryInMs: dead ? undefined : delay,
        itemsDone,
      });
      if (dead) await emit({ kind: "dead", job, attempt, error: message });
    } finally {
      clearInterval(renew);
    }
  }

  /** Starts due jobs until `concurrency` run or none is due. */
  function pump(): Promise<void> {
    if (pumping) {
      pumpAgain = true;
      return pumping;
    }
    pumping = (async () => {
      do {
        pumpAgain = false;
        while (started) {
          const claimed = await claim();
          if (!claimed) break;
          const abort = new AbortController();
          const done = run(claimed, abort)
            .catch((error) => log.error("transfer job crashed", { jobId: claimed.id, error }))
            .finally(() => {
              active.delete(claimed.id);
              wake();
            });
          active.set(claimed.id, { kind: claimed.kind, abort, done });
        }
      } while (pumpAgain && started);
    })().catch((error) => log.error("transfer scheduling failed", { error }))
      .finally(() => (pumping = null));
    return pumping;
  }

  function wake(): void {
    if (started) queueMicrotask(() => void pump());
  }

  function schedule(): void {
    timer = setTimeout(async () => {
      await pump();
      if (started) schedule();
    }, pollMs);
  }

  async function operatorUpdate(
    id: string,
    allowed: JobState[],
    set: Partial<JobRow>,
    what: string,
  ): Promise<TransferJob> {
    const current = await row(id);
    if (!allowed.includes(current.state as JobState)) {
      throw new TransferJobStateError(
        `cannot ${what} job ${id}: it is ${current.state} (only ${allowed.join(", ")})`,
      );
    }
    await db.updateTable("transfer_jobs").set({ ...set, updated_at: nowIso() })
      .where("id", "=", id).where("state", "=", current.state).execute();
    wake();
    return toJob(await row(id));
  }

  return {
    /** This queue's lease owner name. */
    owner,

    /**
     * Registers the handler for a job kind ("dicom", "peer"); replaces an earlier one.
     * `concurrency`: at most this many jobs of the kind at once (within the queue's own limit),
     * for work that holds much memory per job. `ownLane`: the kind's jobs run beside the queue's
     * limit instead of within it (default one at a time), so work of other kinds queued before
     * them never keeps them waiting, nor they it.
     */
    register(
      kind: string,
      handler: JobHandler,
      limits: { concurrency?: number; ownLane?: boolean } = {},
    ): void {
      handlers.set(kind, handler);
      // A lane of its own needs a bound of its own.
      const limit = limits.concurrency ?? (limits.ownLane ? 1 : undefined);
      if (limit !== undefined) kindLimits.set(kind, Math.max(1, limit));
      else kindLimits.delete(kind);
      if (limits.ownLane) ownLanes.add(kind);
      else ownLanes.delete(kind);
      wake();
    },

    /**
     * Adds a job. With `executor` being a transaction the job commits with the caller's work
     * (then no "queued" event is emitted: the caller records its own).
     */
    enqueue,

    /** Looks for due jobs now (e.g. after jobs were enqueued inside a caller's transaction). */
    wake,

    /** Starts running due jobs, polling every `pollMs`. */
    start(): void {
      if (started) return;
      started = true;
      schedule();
      wake();
    },

    /** Stops: no new claims; running attempts are aborted and their jobs given back. */
    async stop(): Promise<void> {
      started = false;
      clearTimeout(timer);
      for (const { abort } of active.values()) abort.abort();
      await Promise.all([...active.values()].map((a) => a.done));
      await pumping;
    },

    /** Runs jobs now until none is due (for tests and the CLI); resolves when they finished. */
    async drain(): Promise<void> {
      const wasStarted = started;
      started = true;
      try {
        for (;;) {
          await pump();
          if (active.size === 0) break;
          await Promise.all([...active.values()].map((a) => a.done));
        }
      } finally {
        started = wasStarted;
      }
    },

    async get(id: string): Promise<TransferJob> {
      return toJob(await row(id));
    },

    /** Jobs, newest first, optionally by state(s), subject or last change (ISO time, inclusive). */
    async list(query: JobQuery & { limit?: number } = {}) {
      const rows = await jobRows(query).limit(query.limit ?? 1000).execute();
      return toJobs(rows);
    },

    /** How many jobs are in each state, over all of them (a state without jobs is absent). */
    async stateCounts(): Promise<Partial<Record<JobState, number>>> {
      const rows = await db.selectFrom("transfer_jobs")
        .select((eb) => ["state", eb.fn.countAll<number>().as("jobs")])
        .groupBy("state").execute();
      return Object.fromEntries(rows.map((r) => [r.state, Number(r.jobs)]));
    },

    /**
     * Every job of a study, or every job changed since a moment, newest first, without item
     * counts and without a limit. The relay asks for every part of a transfer and the dashboard
     * for the last day's deliveries: counting all their items each time made a 250-part transfer
     * cost its receiver O(parts x instances), and list's limit hid the older ones.
     */
    async summaries(
      query: { subject: string; state?: JobState } | { updatedSince: string; state?: JobState },
    ): Promise<TransferJobSummary[]> {
      return (await jobRows(query).execute()).map(toSummary);
    },

    /** The attempts of a job, first first. */
    async attempts(id: string): Promise<TransferAttempt[]> {
      const rows = await db.selectFrom("transfer_attempts").selectAll().where("job_id", "=", id)
        .orderBy("attempt").execute();
      return rows.map((r) => ({
        attempt: r.attempt,
        startedAt: r.started_at,
        endedAt: r.ended_at,
        outcome: (r.outcome ?? "running") as TransferAttempt["outcome"],
        error: r.error,
        itemsDone: r.items_done,
      }));
    },

    /** The items of a job with their progress. */
    async items(id: string): Promise<{ item: string; done: boolean; note: string | null }[]> {
      const rows = await db.selectFrom("transfer_items").selectAll().where("job_id", "=", id)
        .orderBy("position").execute();
      return rows.map((r) => ({ item: r.item, done: r.done === 1, note: r.note }));
    },

    /** Brings a failed or dead job back now, with a fresh maximum age. */
    retry(id: string): Promise<TransferJob> {
      return operatorUpdate(id, ["failed", "dead"], {
        state: "queued",
        next_attempt_at: nowIso(),
        expires_at: later(maxAgeMs),
        last_error: null,
      }, "retry");
    },

    /** Gives a job up for good (`dead`, "cancelled by operator"). Not while it runs. */
    cancel(id: string): Promise<TransferJob> {
      return operatorUpdate(id, ["queued", "failed", "waiting-ack", "dead"], {
        state: "dead",
        last_error: CANCELLED_BY_OPERATOR,
      }, "cancel");
    },

    /** Sends a failed or dead job to another destination of the same kind, from the start. */
    async redirect(id: string, destination: string): Promise<TransferJob> {
      const job = await operatorUpdate(id, ["failed", "dead"], {
        state: "queued",
        destination,
        next_attempt_at: nowIso(),
        expires_at: later(maxAgeMs),
        last_error: null,
      }, "redirect");
      await db.updateTable("transfer_items").set({ done: 0, note: null }).where("job_id", "=", id)
        .execute();
      return toJob(await row(job.id));
    },

    /**
     * The peer refused a `waiting-ack` job for good (e.g. a failure notification): it is given
     * up (`dead`) with the peer's reason, for an operator to look at.
     */
    async reject(id: string, reason: string): Promise<TransferJob> {
      const job = await operatorUpdate(id, ["waiting-ack"], {
        state: "dead",
        last_error: reason,
      }, "reject");
      await emit({ kind: "dead", job, error: reason });
      return job;
    },

    /** The peer acknowledged a `waiting-ack` job: it is done. */
    async acknowledge(id: string): Promise<TransferJob> {
      await operatorUpdate(id, ["waiting-ack"], { state: "done" }, "acknowledge");
      // The peer confirmed the whole job: its items count as delivered from now on (progress
      // bars, and a later retry of a follow-up never offers them again).
      await db.updateTable("transfer_items").set({ done: 1 }).where("job_id", "=", id)
        .where("done", "=", 0).execute();
      const job = await toJob(await row(id));
      await emit({ kind: "delivered", job });
      return job;
    },
  };
}

/**
 * Which jobs list and summaries select: one state or any of several; `updatedSince` is an ISO
 * time, inclusive.
 */
export interface JobQuery {
  state?: JobState | readonly JobState[];
  subject?: string;
  updatedSince?: string;
}

/** The queue's interface. */
export type TransferQueue = ReturnType<typeof createTransferQueue>;
