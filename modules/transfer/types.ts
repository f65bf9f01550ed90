/**
 * Where a job is: `queued` (waiting for its turn), `running` (a worker holds its lease),
 * `waiting-ack` (handed over, waiting for the peer's acknowledgement), `done`, `failed` (the last
 * attempt failed; it will be retried at `nextAttemptAt`) and `dead` (given up: too old, refused
 * for good or cancelled; only an operator brings it back).
 */
export type JobState = "queued" | "running" | "waiting-ack" | "done" | "failed" | "dead";

/** Urgent jobs overtake routine ones. */
export type JobPriority = "urgent" | "routine";

/** A new job. `items` are the units whose delivery is tracked one by one (SOP Instance UIDs). */
export interface EnqueueRequest {
  /** Which handler runs it ("dicom", "peer"). */
  kind: string;
  /** The destination's name; the circuit breaker counts failures per destination. */
  destination: string;
  /** What the job is about, for lookups (a Study Instance UID). */
  subject?: string;
  priority?: JobPriority;
  items?: string[];
  /** Anything the handler needs, as JSON. */
  payload?: Record<string, unknown>;
}

/** A job as operators and handlers see it. */
export interface TransferJob {
  id: string;
  kind: string;
  destination: string;
  subject: string | null;
  priority: JobPriority;
  state: JobState;
  payload: Record<string, unknown>;
  attempts: number;
  nextAttemptAt: string;
  expiresAt: string;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  items: { total: number; done: number };
}

/** A job without its item counts (see TransferQueue.summaries). */
export type TransferJobSummary = Omit<TransferJob, "items">;

/** One run of a job. */
export interface TransferAttempt {
  attempt: number;
  startedAt: string;
  endedAt: string | null;
  outcome: "running" | "delivered" | "waiting-ack" | "failed" | "dead" | "interrupted";
  error: string | null;
  itemsDone: number;
}

/** What a handler gets for one attempt. */
export interface JobContext {
  job: TransferJob;
  /** Items not yet acknowledged, in the order they were enqueued. */
  pending: string[];
  /** Aborted when the queue stops; the handler should end the attempt soon. */
  signal: AbortSignal;
  /**
   * Records items as delivered, durably, before resolving. A resumed job never offers them
   * again. `note` (e.g. a warning status) is kept per item.
   */
  markDone(items: string[], note?: string): Promise<void>;
}

/**
 * Delivers one job to one kind of destination. Resolving means every pending item was delivered
 * (`{ waitForAck: true }`: handed over, the peer will acknowledge later); throwing means the
 * attempt failed (`TransferPermanentError`: for good).
 */
export type JobHandler = (ctx: JobContext) => Promise<void | { waitForAck: true }>;

/** A step of a job, for timelines and audit. */
export interface TransferEvent {
  kind: "queued" | "attempt" | "delivered" | "waiting-ack" | "failed" | "dead";
  job: TransferJob;
  attempt?: number;
  error?: string;
  /** For `failed`: how long until the next attempt. */
  retryInMs?: number;
  itemsDone?: number;
}

/** Retry timing: delay = min(maxMs, baseMs * factor^(attempt-1)), spread by +-jitter. */
export interface RetryPolicy {
  baseMs: number;
  maxMs: number;
  factor?: number;
  /** Fraction of the delay to spread randomly either way (0.2 = +-20%). Default 0.2. */
  jitter?: number;
}

/** After `failures` consecutive failures a destination's jobs wait `openMs`. */
export interface BreakerPolicy {
  failures: number;
  openMs: number;
}
