import type { Logger } from "../core/mod.ts";
import { SpoolKeyError, SpoolNotFound } from "./errors.ts";
import { importMasterKey, type MasterKey } from "./keys.ts";
import {
  ensureDir,
  isSpoolId,
  layoutOf,
  prepareShards,
  sweepTemporary,
  syncDir,
} from "./layout.ts";
import {
  openFile,
  openObject,
  plaintextStream,
  readHeader,
  readWhole,
  verifyObject,
} from "./reader.ts";
import { listIds, rewrapObject, type RewrapOutcome } from "./rotate.ts";
import { type PutOptions, type PutResult, writeObject } from "./writer.ts";
import { IoGate } from "./io_gate.ts";

/**
 * How hard `put` works to make an object survive a power cut before resolving.
 * - "fsync": fsync the file, rename, fsync the directory. Survives a power cut.
 * - "os": rename without fsync. Survives a crash of the process, not of the machine.
 */
export type SpoolDurability = "fsync" | "os";

/** Options of `createSpool`. */
export interface SpoolOptions {
  /** The spool directory; created if missing. */
  dir: string;
  /** 32 bytes. Wraps each object's data key; it never encrypts data itself. */
  masterKey: Uint8Array;
  durability: SpoolDurability;
  log?: Logger;
  /**
   * Plaintext bytes per chunk of new objects (default 128 KiB, 4 KiB..64 MiB). Stored in each
   * header, so objects with different chunk sizes coexist. Measured with scripts/bench/spool.ts
   * and scripts/bench/ingest.ts.
   */
  chunkSize?: number;
}

/** What `stat` reports, read from the header without decrypting (use `verify` to prove it). */
export interface SpoolStat {
  id: string;
  /** Plaintext size in bytes. */
  size: number;
  /** SHA-256 of the plaintext recorded at write time, lowercase hex. */
  sha256: string;
  /** Bytes on disk (header, ciphertext and tags). */
  storedBytes: number;
  chunkSize: number;
  /** When the object was stored (file modification time). */
  storedAt: Date;
}

/** An encrypted object store for large blobs. */
export interface Spool {
  /** Stores `prefix` then `stream`; resolves once the object is complete (and durable). */
  put(stream: ReadableStream<Uint8Array>, options?: PutOptions): Promise<PutResult>;
  /**
   * The plaintext of an object, streamed. Rejects with SpoolNotFound or SpoolIntegrityError when
   * the header, key or length is wrong; a chunk that fails later errors the stream with
   * SpoolIntegrityError (bytes already delivered were each authenticated).
   */
  get(id: string): Promise<ReadableStream<Uint8Array>>;
  /**
   * The whole plaintext in one buffer the caller owns (for objects small enough to hold: a mail
   * message); the same checks as `get`.
   */
  readAll(id: string): Promise<Uint8Array>;
  /** Decrypts the whole object and checks its digest; throws SpoolIntegrityError on any fault. */
  verify(id: string): Promise<{ size: number; sha256: string }>;
  /** Removes an object; false when there was none. */
  delete(id: string): Promise<boolean>;
  has(id: string): Promise<boolean>;
  stat(id: string): Promise<SpoolStat>;
  /** Ids of all stored objects, in no particular order. */
  ids(): AsyncIterable<string>;
  /** Removes temporary files of writes that crashed; returns how many. Runs at creation too. */
  sweepTemporary(): Promise<{ removed: number }>;
}

/**
 * 128 KiB. A put seals a chunk only once it is full (the last one once the stream ends), so the
 * chunk size decides how much sealing overlaps the arriving data and how much is left after a
 * received instance's last byte; every chunk also costs a seal and a write. Measured in process on 500 x 0.5 MB CT slices from storescu (fsync, 6 interleaved runs,
 * medians; the 2-vCPU machine is shared and noisy): 128 KiB 185 files/s (receiving 1.35 ms, last
 * byte to response 1.71 ms), 256 KiB 204 (1.38, 1.18), 1 MiB 199 (0.53, 1.78). 256 KiB is kept
 * out for memory: receiving a 1 GB instance peaked at 187-198 MB RSS with it against 165 MB with
 * 128 KiB (deno task bench ingest; larger buffers stay in the allocator's per-thread arenas), and
 * the appliance must stay under 200 MB. (Those figures are from the WebCrypto spool; chunks are
 * now sealed synchronously by OpenSSL at ~4 GB/s, and 32-128 KiB measured alike.)
 */
const defaultChunkSize = 128 * 1024;

function checkChunkSize(size: number): number {
  if (!Number.isInteger(size) || size < 4096 || size > 64 * 1024 * 1024) {
    throw new RangeError(`spool chunkSize must be an integer from 4096 to 67108864, got ${size}`);
  }
  return size;
}

/**
 * Opens (creating if needed) the spool in `dir` and sweeps temporary files left by a crash.
 *
 * @example
 * ```ts
 * const spool = await createSpool({ dir: "data/spool", masterKey, durability: "fsync" });
 * const { id, size, sha256 } = await spool.put(body, { prefix: part10Meta });
 * const response = new Response(await spool.get(id));
 * ```
 */
export async function createSpool(options: SpoolOptions): Promise<Spool> {
  const master = await importMasterKey(options.masterKey);
  const chunkSize = checkChunkSize(options.chunkSize ?? defaultChunkSize);
  const durable = options.durability === "fsync";
  if (options.durability !== "fsync" && options.durability !== "os") {
    throw new RangeError(`spool durability must be "fsync" or "os", got ${options.durability}`);
  }
  const layout = layoutOf(options.dir);
  const log = options.log?.child({ module: "spool" });
  await Deno.mkdir(layout.dir, { recursive: true });
  await ensureDir(layout.objectsDir, layout.dir, durable);
  await ensureDir(layout.tmpDir, layout.dir, durable);
  await prepareShards(layout, durable);
  const active = new Set<string>();
  const buffers: Uint8Array<ArrayBuffer>[] = [];
  const writeGate = new IoGate();
  const readGate = new IoGate();

  const sweep = async () => {
    const removed = await sweepTemporary(layout, active);
    if (removed > 0) log?.warn("removed temporary files of interrupted writes", { removed });
    return { removed };
  };
  await sweep();

  return {
    async put(stream, putOptions) {
      if (putOptions?.chunkSize !== undefined) checkChunkSize(putOptions.chunkSize);
      const started = performance.now();
      const result = await writeObject(
        { layout, master, chunkSize, durable, active, buffers, gate: writeGate },
        stream,
        putOptions,
      );
      log?.debug("object stored", {
        id: result.id,
        size: result.size,
        ms: Math.round(performance.now() - started),
      });
      return result;
    },
    async get(id) {
      return plaintextStream(await openObject(layout, id, master, readGate));
    },
    async readAll(id) {
      return await readWhole(await openObject(layout, id, master, readGate));
    },
    async verify(id) {
      return await verifyObject(await openObject(layout, id, master, readGate));
    },
    async delete(id) {
      if (!isSpoolId(id)) return false;
      try {
        await Deno.remove(layout.objectPath(id));
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return false;
        throw e;
      }
      if (durable) await syncDir(layout.shardDir(id));
      return true;
    },
    async has(id) {
      if (!isSpoolId(id)) return false;
      try {
        return (await Deno.stat(layout.objectPath(id))).isFile;
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return false;
        throw e;
      }
    },
    async stat(id) {
      const file = await openFile(layout, id);
      try {
        const header = await readHeader(file, id);
        const info = await file.stat();
        return {
          id,
          size: header.size,
          sha256: Array.from(header.sha256, (b) => b.toString(16).padStart(2, "0")).join(""),
          storedBytes: info.size,
          chunkSize: header.chunkSize,
          storedAt: info.mtime ?? new Date(0),
        };
      } finally {
        file.close();
      }
    },
    ids: () => listIds(layout),
    sweepTemporary: sweep,
  };
}

/** Options of `rotateMasterKey` and `rewrap`. */
export interface RotateOptions {
  dir: string;
  /** The master key the objects are wrapped with now. */
  from: Uint8Array;
  /** The master key they should be wrapped with. */
  to: Uint8Array;
  durability: SpoolDurability;
  log?: Logger;
}

async function rotationKeys(options: RotateOptions): Promise<[MasterKey, MasterKey]> {
  const from = await importMasterKey(options.from);
  const to = await importMasterKey(options.to);
  if (from.id.every((v, i) => v === to.id[i])) {
    throw new SpoolKeyError("old and new master key are the same");
  }
  return [from, to];
}

/**
 * Rewraps one object's data key from one master key to another. Only the header changes.
 *
 * @example
 * ```ts
 * await rewrap(id, { dir: "data/spool", from: oldKey, to: newKey, durability: "fsync" });
 * ```
 */
export async function rewrap(id: string, options: RotateOptions): Promise<RewrapOutcome> {
  const [from, to] = await rotationKeys(options);
  return await rewrapObject(layoutOf(options.dir), id, from, to, options.durability === "fsync");
}

/** Outcome of a master key rotation. */
export interface RotationReport {
  rewrapped: number;
  /** Objects already wrapped by the new key (e.g. a rotation run again after a crash). */
  alreadyCurrent: number;
  /** Objects neither key could unwrap, or that could not be written; left as they were. */
  failed: { id: string; error: Error }[];
}

/**
 * Rewraps every object's data key from `from` to `to`, rewriting only headers (a few hundred
 * bytes per object, whatever its size). Safe to run again after an interruption. Run it while no
 * process writes to the spool with the old key, then start the appliance with the new key.
 *
 * @example
 * ```ts
 * const report = await rotateMasterKey({ dir: "data/spool", from: oldKey, to: newKey,
 *   durability: "fsync" });
 * if (report.failed.length > 0) console.error(report.failed);
 * ```
 */
export async function rotateMasterKey(options: RotateOptions): Promise<RotationReport> {
  const [from, to] = await rotationKeys(options);
  const layout = layoutOf(options.dir);
  const durable = options.durability === "fsync";
  const report: RotationReport = { rewrapped: 0, alreadyCurrent: 0, failed: [] };
  for await (const id of listIds(layout)) {
    try {
      const outcome = await rewrapObject(layout, id, from, to, durable);
      if (outcome === "rewrapped") report.rewrapped++;
      else report.alreadyCurrent++;
    } catch (e) {
      if (e instanceof SpoolNotFound) continue; // deleted meanwhile
      const error = e instanceof Error ? e : new Error(String(e));
      report.failed.push({ id, error });
      options.log?.error("master key rotation failed for an object", { id, error });
    }
  }
  options.log?.info("master key rotation finished", {
    rewrapped: report.rewrapped,
    alreadyCurrent: report.alreadyCurrent,
    failed: report.failed.length,
  });
  return report;
}
