import { createHash } from "node:crypto";
import { newId } from "../core/mod.ts";
import { SpoolWriteError } from "./errors.ts";
import { chunkAad, chunkNonce, encodeHeader, encodeTotals, FIXED_SIZE } from "./format.ts";
import { type MasterKey, newDataKey } from "./keys.ts";
import { ensureDir, type Layout, syncDir } from "./layout.ts";

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
}

export interface WriterContext {
  layout: Layout;
  master: MasterKey;
  chunkSize: number;
  durable: boolean;
  /** Temporary files being written by this process; the sweep leaves them alone. */
  active: Set<string>;
  /** Shard directories known to exist. */
  shards: Set<string>;
  /** Idle chunk buffers, reused so a stream of small puts does not allocate one chunk each. */
  buffers: Uint8Array<ArrayBuffer>[];
}

const idleBuffersKept = 4;

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

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await file.write(bytes.subarray(offset));
}

/**
 * Streams `source` (after `prefix`) into a new object. Chunks are sealed as the input arrives, one
 * chunk is written while the next is being filled and sealed, and the source is read only when
 * the previous write finished: memory stays at a few chunks and the source is consumed at disk
 * speed. The temp file becomes the object by rename only after it is complete (and fsynced when
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
  const { key, slot } = await newDataKey(ctx.master);
  const header = encodeHeader(id, ctx.chunkSize, slot);
  const fixed = header.slice(0, FIXED_SIZE);
  const hash = createHash("sha256");
  const buffer = ctx.buffers.pop() ?? new Uint8Array(ctx.chunkSize);
  let fill = 0;
  let index = 0;
  let size = 0;
  let file: Deno.FsFile | null = null;
  let pendingWrite: Promise<void> = Promise.resolve();

  const seal = async (final: { size: number; sha256: Uint8Array } | null) => {
    const ciphertext = new Uint8Array(
      await crypto.subtle.encrypt(
        { name: "AES-GCM", iv: chunkNonce(index), additionalData: chunkAad(fixed, index, final) },
        key,
        buffer.subarray(0, fill), // WebCrypto copies its input, so the buffer can be refilled
      ),
    );
    index++;
    fill = 0;
    await pendingWrite; // at most one write in flight
    pendingWrite = writeAll(file!, ciphertext).then(() => release(ciphertext));
    pendingWrite.catch(() => {}); // awaited later; keep it from being reported as unhandled
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

  ctx.active.add(tempPath);
  try {
    file = await Deno.open(tempPath, { write: true, createNew: true, mode: 0o600 });
    await writeAll(file, header);
    if (options.prefix) await take(options.prefix);
    for (;;) {
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
    }
    const digest = hash.digest();
    const sha256 = new Uint8Array(digest);
    await seal({ size, sha256 });
    await pendingWrite;
    const totals = encodeTotals(size, sha256);
    await file.seek(totals.offset, Deno.SeekMode.Start);
    await writeAll(file, totals.bytes);
    if (ctx.durable) await file.syncData();
    file.close();
    file = null;
    const shard = ctx.layout.shardDir(id);
    if (!ctx.shards.has(shard)) {
      await ensureDir(shard, ctx.layout.objectsDir, ctx.durable);
      ctx.shards.add(shard);
    }
    await Deno.rename(tempPath, ctx.layout.objectPath(id));
    if (ctx.durable) await syncDir(shard);
    return { id, size, sha256: digest.toString("hex") };
  } catch (error) {
    await pendingWrite.catch(() => {});
    try {
      file?.close();
    } catch { /* already failing; the remove below is what matters */ }
    await Deno.remove(tempPath).catch(() => {});
    if (error instanceof SourceFailed) throw error.error;
    await reader.cancel(error).catch(() => {});
    throw new SpoolWriteError(`spool write failed: ${describe(error)}`, { cause: error });
  } finally {
    ctx.active.delete(tempPath);
    if (ctx.buffers.length < idleBuffersKept) ctx.buffers.push(buffer);
    reader.releaseLock();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
