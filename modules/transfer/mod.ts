/**
 * The transfer queue: every delivery is a durable job in the database with states (queued,
 * running, waiting-ack, done, failed, dead), attempts, exponential backoff with jitter, a maximum
 * age, a circuit breaker per destination, leases that survive a crash, and per-item progress so a
 * resumed job sends only what was not acknowledged. Urgent jobs overtake routine ones. It knows no
 * protocol: the appliance registers one handler per job kind.
 *
 * @example
 * ```ts
 * import { createTransferQueue } from "../transfer/mod.ts";
 * const queue = createTransferQueue({ db: database.db, log, retry: { baseMs: 10_000, maxMs: 3_600_000 } });
 * queue.register("dicom", async ({ job, pending, markDone }) => {
 *   for (const uid of pending) { await send(job.destination, uid); await markDone([uid]); }
 * });
 * queue.start();
 * await queue.enqueue({ kind: "dicom", destination: "PACS", subject: studyUid, items: uids });
 * ```
 * @module
 */
export { CANCELLED_BY_OPERATOR, createTransferQueue } from "./queue.ts";
export type { JobQuery, TransferQueue, TransferQueueOptions } from "./queue.ts";
export { retryDelay } from "./backoff.ts";
export { TransferJobNotFound, TransferJobStateError, TransferPermanentError } from "./errors.ts";
export type {
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
