import { createHash } from "node:crypto";
import { gcmSeal, newId, releaseBytes } from "../core/mod.ts";
import { SpoolWriteError } from "./errors.ts";
import { chunkAad, chunkNonce, encodeHeader, encodeTotals, FIXED_SIZE } from "./format.ts";
import { emptySlot, type MasterKey, newDataKey } from "./keys.ts";
import { ensureDir, type Layout } from "./layout.ts";
import type { IoGate } from "./io_gate.ts";

/** What `put` returns once the object is durable. */
export interface PutResult {
  /** The new object's id (a ULID). */
  id: string;
  /** Plaintext bytes stored, prefix included. */
  size: number;
  /** SHA-256 of the plaintext, lowercase hex. */
  sha256: string;
}

/** Options of one `put`. */
export interface PutOptions {
  /**
   * Plaintext bytes stored before the stream, e.g. the Part-10 preamble and file meta
   * information (PS3.10 7.1) built by the DICOM layer in front of a received dataset.
   */
  prefix?: Uint8Array;
  /**
   * Called once the stream has ended, with the id, size and digest the object will have, while
   * its last chunk is still being written and made durable. Lets the caller overlap its own work
   * (e.g. indexing) with the fsyncs. It promises nothing: only `put`'s promise says whether the
   * object exists, so commit nothing that depends on it before that promise resolves.
   */
  onDigest?: (content: PutResult) => void;
  /**
   * The stream's chunks are handed over: each one's whole buffer is freed as soon as its bytes
   * are copied in, instead of waiting for the garbage collector. For producers whose chunks own
   * their buffers and are not used again, such as a DICOM association's dataset stream: receiving
   * 1 GiB otherwise left up to 64 MB of spent P-DATA buffers waiting (V8 collects external memory
   * in steps of about that size), measured as peak RSS over 200 MB.
   */
  handOver?: boolean;
  /**
   * Plaintext bytes per chunk for this object (default: the spool's). Large objects written in one
   * go, such as mail messages, take 1 MiB: eight times fewer seals and file writes.
   */
  chunkSize?: number;
}

export interface WriterContext {
  layout: Layout;
  master: MasterKey;
  chunkSize: number;
  durable: boolean;
  /** Temporary files being written by this process; the sweep leaves them alone. */
  active: Set<string>;
  /** Idle chunk buffers, reused so a stream of small puts does not allocate one chunk each. */
  buffers: Uint8Array<ArrayBuffer>[];
  /** Says when the kernel is holding writers back, so chunks go through the thread pool. */
  gate: IoGate;
}

const idleBuffersKept = 4;

/**
 * Sealed chunks being written at once, per put: bounding them bounds memory (about this many
 * chunks of ciphertext) and makes a slow disk slow the source down.
 */
const maxChunksInFlight = 4;

/** Marks an error thrown by the caller's stream, so it passes through unchanged. */
class SourceFailed {
  constructor(readonly error: unknown) {}
}

/**
 * Frees a written ciphertext buffer now instead of at the next garbage collection: V8 lets
 * about 64 MB of dead external buffers pile up before it collects, which would otherwise be the
 * bulk of a large put's memory. Detaching drops the only reference to the backing store.
 */
function release(bytes: Uint8Array<ArrayBuffer>): void {
  bytes.buffer.transfer(0);
}

/**
 * The first 32 chunks of an object (4 MiB at the default size) are written synchronously: a write
 * into the page cache takes tens of microseconds, less than handing it to the I/O thread pool and
 * back, which on a busy 2-core machine was measured at up to a millisecond. Later chunks of a
 * large object go through the pool, and so does every chunk while the gate has seen a slow
 * synchronous write: a disk that cannot keep up then blocks only the put that waits for it.
 */
const syncWriteChunks = 32;

function writeAllSync(file: Deno.FsFile, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) offset += file.writeSync(bytes.subarray(offset));
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await file.write(bytes.subarray(offset));
}

/**
 * Streams `source` (after `prefix`) into a new object.
 *
 * Latency matters as much as throughput (a DICOM sender waits for each C-STORE response), so
 * everything that does not depend on the data starts at once and runs while it arrives: creating
 * the temporary file and making the data key. Chunks are sealed
 * as soon as they are full, several at a time, and written in order by one write chain; the source
 * is read again only while fewer than `maxChunksInFlight` chunks are pending, so memory stays at a
 * few chunks and the source is consumed at disk speed. What is left once the stream ends is the
 * last chunk, the totals, the fsync, the rename and the directory fsync.
 *
 * The temp file becomes the object by rename only after it is complete (and fsynced when
 * durable), so a crash never leaves a half object under its final name.
 */
export async function writeObject(
  ctx: WriterContext,
  source: ReadableStream<Uint8Array>,
  options: PutOptions = {},
): Promise<PutResult> {
  const reader = source.getReader();
  const id = newId();
  const tempPath = ctx.layout.tempPath(id);
  const shard = ctx.layout.shardDir(id);
  ctx.active.add(tempPath);
  const opened = Deno.open(tempPath, { write: true, createNew: true, mode: 0o600 });
  // Made when the spool opened (prepareShards): this returns at once.
  const shardDone = ensureDir(shard, ctx.layout.objectsDir, ctx.durable);
  // Every path below awaits these; until then keep them from being reported as unhandled.
  opened.catch(() => {});
  const chunkSize = options.chunkSize ?? ctx.chunkSize;
  // Pooled buffers are of the spool's chunk size; another size gets its own.
  const pooled = chunkSize === ctx.chunkSize;
  const buffer = (pooled ? ctx.buffers.pop() : undefined) ?? new Uint8Array(chunkSize);
  const hash = createHash("sha256");
  let fill = 0;
  let index = 0;
  let size = 0;
  let written: Promise<void> = Promise.resolve();
  const inFlight: Promise<void>[] = [];
  let file: Deno.FsFile | null = null;
  const failed: { write?: { error: unknown } } = {};

  try {
    // The data key is made while the first bytes are read; the first seal waits for it. The
    // fixed part of the header (the chunks' additional data) does not depend on the key slot.
    const keyed = newDataKey(ctx.master);
    keyed.catch(() => {});
    const fixed = encodeHeader(id, chunkSize, emptySlot).slice(0, FIXED_SIZE);
    let key: Uint8Array<ArrayBuffer> | null = null;
    written = Promise.all([opened, keyed]).then(([f, { slot }]) =>
      writeAllSync(f, encodeHeader(id, chunkSize, slot))
    );
    written.catch(() => {});

    const seal = async (final: { size: number; sha256: Uint8Array } | null) => {
      key ??= (await keyed).key; // the buffer is not refilled meanwhile: take() awaits this
      // Sealed at once (OpenSSL, ~4 GB/s), so the buffer can be refilled.
      const bytes = gcmSeal(
        key,
        chunkNonce(index),
        chunkAad(fixed, index, final),
        buffer.subarray(0, fill),
      );
      index++;
      fill = 0;
      const before = written;
      const early = index <= syncWriteChunks;
      written = Promise.all([opened, before]).then(async ([f]) => {
        if (early && !ctx.gate.throttled) {
          const started = performance.now();
          writeAllSync(f, bytes);
          ctx.gate.note(bytes.length, performance.now() - started);
        } else await writeAll(f, bytes);
        release(bytes);
      });
      // Awaited below or in the failure path; noted at once so reading stops at the first failure.
      written.catch((error) => (failed.write ??= { error }));
      inFlight.push(written);
      if (inFlight.length >= maxChunksInFlight) await inFlight.shift();
    };

    const take = async (bytes: Uint8Array) => {
      let offset = 0;
      while (offset < bytes.length) {
        // A full buffer is sealed only once more data arrives: the last chunk must carry the flag.
        if (fill === buffer.length) await seal(null);
        const n = Math.min(buffer.length - fill, bytes.length - offset);
        const part = bytes.subarray(offset, offset + n);
        buffer.set(part, fill);
        hash.update(part);
        fill += n;
        offset += n;
        size += n;
      }
    };

    if (options.prefix) {
      await take(options.prefix);
    }
    for (;;) {
      if (failed.write) throw failed.write.error;
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch (error) {
        throw new SourceFailed(error);
      }
      if (result.done) break;
      if (!(result.value instanceof Uint8Array)) {
        const error = new TypeError("spool put: stream chunks must be Uint8Array");
        await reader.cancel(error).catch(() => {});
        throw new SourceFailed(error);
      }
      await take(result.value);
      if (options.handOver) releaseBytes(result.value);
    }
    const digest = hash.digest();
    const sha256 = new Uint8Array(digest);
    await seal({ size, sha256 });
    const content = { id, size, sha256: digest.toString("hex") };
    options.onDigest?.(content);
    await written;
    file = await opened;
    const totals = encodeTotals(size, sha256);
    // 40 bytes into the page cache: a synchronous write saves two trips to the I/O thread pool.
    file.seekSync(totals.offset, Deno.SeekMode.Start);
    writeAllSync(file, totals.bytes);
    if (ctx.durable) await file.syncData();
    file.close();
    file = null;
    await shardDone;
    // rename and opening a directory are metadata operations of tens of microseconds: done
    // synchronously they save two trips through the thread pool on the critical path.
    Deno.renameSync(tempPath, ctx.layout.objectPath(id));
    if (ctx.durable) {
      const dir = Deno.openSync(shard, { read: true });
      try {
        await dir.sync();
      } finally {
        dir.close();
      }
    }
    return content;
  } catch (error) {
    await Promise.allSettled([written, shardDone]);
    try {
      (file ?? await opened.catch(() => null))?.close();
    } catch { /* already closed or failing; the remove below is what matters */ }
    await Deno.remove(tempPath).catch(() => {});
    if (error instanceof SourceFailed) throw error.error;
    await reader.cancel(error).catch(() => {});
    throw new SpoolWriteError(`spool write failed: ${describe(error)}`, { cause: error });
  } finally {
    ctx.active.delete(tempPath);
    if (pooled && ctx.buffers.length < idleBuffersKept) ctx.buffers.push(buffer);
    reader.releaseLock();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
