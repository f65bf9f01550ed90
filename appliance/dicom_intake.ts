import type { Logger } from "../modules/core/mod.ts";
import {
  type InstanceHeader,
  readInstanceHeader,
  Status,
  type StoreHandler,
  type StoreRequest,
  type StoreResult,
} from "../modules/dicom/mod.ts";
import { type PutResult, type Spool, SpoolWriteError } from "../modules/spool/mod.ts";
import { type StudyIndex, UnindexableInstance } from "../modules/studies/mod.ts";

/** How much of a dataset is kept aside to read its header: the indexed elements come long before
 * the pixel data in any sane object. */
const headerCaptureBytes = 256 * 1024;

/**
 * Copies the first `limit` bytes passing through, after `head`, without delaying or altering the
 * stream; `bytes()` is `head` plus that prefix in one buffer (no second copy to join them).
 */
function prefixCapture(
  head: Uint8Array,
  limit: number,
): { stream: TransformStream<Uint8Array, Uint8Array>; bytes(): Uint8Array } {
  const captured = new Uint8Array(head.byteLength + limit);
  captured.set(head);
  let filled = head.byteLength;
  limit += head.byteLength;
  const stream = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      if (filled < limit) {
        const take = Math.min(limit - filled, chunk.byteLength);
        captured.set(chunk.subarray(0, take), filled);
        filled += take;
      }
      controller.enqueue(chunk);
    },
  });
  return { stream, bytes: () => captured.subarray(0, filled) };
}

/** An instance is stored and indexed (called before the C-STORE-RSP goes out, e.g. to audit it). */
export type AfterStore = (
  request: Omit<StoreRequest, "dataset" | "meta">,
  header: InstanceHeader,
) => Promise<void>;

/**
 * The C-STORE handler: stream the object (our Part-10 meta header plus the dataset bytes exactly as
 * received) into the encrypted spool, read its header, index it, and only then answer success.
 *
 * The sender waits for each response, so the work after the last byte is what counts: header
 * parse and index insert run while the spool makes the object durable (final chunk, fsync,
 * rename, directory fsync); the index transaction commits only after the spool put succeeded, so
 * a row never points at bytes that failed to be stored, and the response waits for both.
 *
 * Decisions: a spool failure (disk full, I/O error) answers 0xA700 Out of Resources so the sender
 * keeps its copy and retries; a dataset without Study or Series Instance UID is refused with
 * 0xC000 Cannot Understand and not kept, since nothing could route or find it.
 */
export function createDicomIntake(
  deps: { spool: Spool; studies: StudyIndex; log: Logger; afterStore?: AfterStore },
): StoreHandler {
  const log = deps.log.child({ module: "intake" });
  return async (request) => {
    const capture = prefixCapture(request.meta, headerCaptureBytes);
    let digested: (content: PutResult) => void = () => {};
    const digest = new Promise<PutResult>((resolve) => (digested = resolve));
    const put = deps.spool.put(request.dataset.pipeThrough(capture.stream), {
      prefix: request.meta,
      onDigest: digested,
      // The association's chunks are ours alone, and the capture copies what it keeps.
      handOver: true,
    });
    put.catch(() => {}); // every path below awaits it
    const spoolFailed = (error: unknown): StoreResult => {
      if (error instanceof SpoolWriteError) {
        log.error("spool write failed; answered Out of Resources", {
          callingAe: request.callingAe,
          sopInstanceUid: request.sopInstanceUid,
          error,
        });
        return { status: Status.outOfResources, comment: "Beeldpoort spool write failed" };
      }
      throw error; // association ended mid-dataset: nothing was stored
    };

    let content: PutResult;
    try {
      // Whole stream read and hashed; the put is still making it durable.
      content = await Promise.race([digest, put]);
    } catch (error) {
      return spoolFailed(error);
    }

    let header: InstanceHeader = {};
    try {
      header = readInstanceHeader(capture.bytes());
    } catch (error) {
      log.warn("dataset header could not be parsed", {
        sopInstanceUid: request.sopInstanceUid,
        error,
      });
    }
    let outcome;
    try {
      outcome = await deps.studies.recordInstance({
        header,
        sopInstanceUid: request.sopInstanceUid,
        sopClassUid: request.sopClassUid,
        transferSyntaxUid: request.transferSyntaxUid,
        callingAe: request.callingAe,
        size: content.size,
        sha256: content.sha256,
        spoolId: content.id,
        source: "dicom",
      }, { commitAfter: put });
      if (outcome.obsoleteSpoolId) await deps.spool.delete(outcome.obsoleteSpoolId);
    } catch (error) {
      // Either the put failed (and the index rolled back), or indexing failed: then drop the copy.
      const stored = await put.then(() => null, (putError) => ({ putError }));
      if (stored) return spoolFailed(stored.putError);
      await deps.spool.delete(content.id);
      if (error instanceof UnindexableInstance) {
        log.warn("instance refused: not indexable", { callingAe: request.callingAe, error });
        return { status: Status.cannotUnderstand, comment: error.message };
      }
      log.error("indexing failed; answered Out of Resources", {
        callingAe: request.callingAe,
        error,
      });
      return { status: Status.outOfResources, comment: "Beeldpoort index write failed" };
    }
    if (outcome.outcome !== "duplicate-identical") {
      // Stored and indexed: an audit failure must not undo that, but the sender should resend.
      try {
        await deps.afterStore?.(request, header);
      } catch (error) {
        log.error("after-store hook failed", { sopInstanceUid: request.sopInstanceUid, error });
        return { status: Status.outOfResources, comment: "Beeldpoort audit write failed" };
      }
    }
    return { status: Status.success };
  };
}
