/**
 * Jobs whose work is a message kept in the spool (a received mail, a notification to send): the
 * copy and the job are made together, and a job whose copy has gone fails for good.
 */
import type { PutOptions, PutResult, Spool } from "../modules/spool/mod.ts";
import {
  type EnqueueRequest,
  type TransferJob,
  TransferPermanentError,
  type TransferQueue,
} from "../modules/transfer/mod.ts";

/**
 * Stores `stream` durably and queues the job `request` builds for it: both, or neither (a failed
 * enqueue deletes the stored copy).
 */
export async function queueStored(
  deps: { spool: Spool; queue: TransferQueue },
  stream: ReadableStream<Uint8Array>,
  putOptions: PutOptions,
  request: (stored: PutResult) => EnqueueRequest,
): Promise<TransferJob> {
  const stored = await deps.spool.put(stream, putOptions);
  try {
    return await deps.queue.enqueue(request(stored));
  } catch (error) {
    await deps.spool.delete(stored.id).catch(() => {});
    throw error;
  }
}

/** Throws a permanent failure when a job's stored copy is gone: no retry can bring it back. */
export async function requireStored(spool: Spool, spoolId: string, what: string): Promise<void> {
  if (!(await spool.has(spoolId))) {
    throw new TransferPermanentError(`stored ${what} ${spoolId} is gone from the spool`);
  }
}
