/** Helpers for the spool tests: temp spools, synthetic byte patterns, reading and tampering. */
import { createHash } from "node:crypto";
import { join } from "node:path";

export const testKey = (fill: number): Uint8Array => new Uint8Array(32).fill(fill);

/**
 * Byte `i` of the synthetic pattern `seed`: a counter hashed with murmur3's finaliser, so any
 * range can be regenerated for comparison without keeping the object in memory.
 */
export function patternBytes(seed: number, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const position = offset + i;
    let h = (Math.floor(position / 4) ^ Math.imul(seed, 0x9e3779b1)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
    out[i] = (h >>> ((position % 4) * 8)) & 0xff;
  }
  return out;
}

/** A stream of `size` pattern bytes in pieces of `piece` bytes (odd sizes cross chunk edges). */
export function patternStream(
  seed: number,
  size: number,
  piece = 65_521,
  offset = 0,
): ReadableStream<Uint8Array> {
  let position = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (position >= size) return controller.close();
      const n = Math.min(piece, size - position);
      controller.enqueue(patternBytes(seed, offset + position, n));
      position += n;
    },
  }, { highWaterMark: 0 });
}

/** SHA-256 (hex) of `size` pattern bytes, computed independently of the spool. */
export function patternSha256(seed: number, size: number, offset = 0): string {
  const hash = createHash("sha256");
  const step = 1 << 20;
  for (let p = 0; p < size; p += step) {
    hash.update(patternBytes(seed, offset + p, Math.min(step, size - p)));
  }
  return hash.digest("hex");
}

/** Reads a stream to the end, comparing every byte with the pattern; returns the length read. */
export async function assertPatternStream(
  stream: ReadableStream<Uint8Array>,
  seed: number,
  size: number,
): Promise<void> {
  let position = 0;
  for await (const chunk of stream) {
    const expected = patternBytes(seed, position, chunk.length);
    for (let i = 0; i < chunk.length; i++) {
      if (chunk[i] !== expected[i]) throw new Error(`byte ${position + i} differs`);
    }
    position += chunk.length;
  }
  if (position !== size) throw new Error(`read ${position} bytes, expected ${size}`);
}

/** All bytes of a stream (small objects only). */
export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return await new Response(stream).bytes();
}

/** Path of a stored object's file, found by walking the spool (tests know no internals). */
export function objectFile(dir: string, id: string): string {
  for (const shard of Deno.readDirSync(join(dir, "objects"))) {
    const path = join(dir, "objects", shard.name, id);
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch { /* not in this shard */ }
  }
  throw new Error(`no file for ${id}`);
}

/** Names of files under the spool's tmp and objects folders. */
export function spoolFiles(dir: string): { tmp: string[]; objects: string[] } {
  const tmp = [...Deno.readDirSync(join(dir, "tmp"))].map((e) => e.name);
  const objects: string[] = [];
  for (const shard of Deno.readDirSync(join(dir, "objects"))) {
    for (const e of Deno.readDirSync(join(dir, "objects", shard.name))) objects.push(e.name);
  }
  return { tmp, objects };
}

/** Overwrites `bytes` at `offset` of a file. */
export function patchFile(path: string, offset: number, bytes: Uint8Array): void {
  const file = Deno.openSync(path, { read: true, write: true });
  try {
    file.seekSync(offset, Deno.SeekMode.Start);
    file.writeSync(bytes);
  } finally {
    file.close();
  }
}

/** Reads `length` bytes at `offset` of a file. */
export function readAt(path: string, offset: number, length: number): Uint8Array {
  return Deno.readFileSync(path).slice(offset, offset + length);
}

/** A temporary directory for one test, removed afterwards. */
export async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "spool-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
