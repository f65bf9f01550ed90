import { join } from "node:path";

/**
 * Where things live under the spool directory:
 *
 *     <dir>/objects/<last two id characters>/<id>   stored objects
 *     <dir>/tmp/<id>.<pid>.part                      writes in progress
 *
 * Ids are ULIDs: the first characters are the time, the last ones random, so sharding on the last
 * two spreads objects over 1024 directories evenly. Temporary files live in the spool directory
 * (same filesystem) so the final rename is atomic.
 */
export interface Layout {
  dir: string;
  objectsDir: string;
  tmpDir: string;
  shardDir(id: string): string;
  objectPath(id: string): string;
  tempPath(id: string): string;
}

const idPattern = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** Whether `id` has the shape of a spool id (and so cannot escape the spool directory). */
export function isSpoolId(id: string): boolean {
  return typeof id === "string" && idPattern.test(id);
}

export function layoutOf(dir: string): Layout {
  const objectsDir = join(dir, "objects");
  const tmpDir = join(dir, "tmp");
  const shardDir = (id: string) => join(objectsDir, id.slice(-2));
  return {
    dir,
    objectsDir,
    tmpDir,
    shardDir,
    objectPath: (id) => join(shardDir(id), id),
    tempPath: (id) => join(tmpDir, `${id}.${Deno.pid}.part`),
  };
}

/** fsync a directory so a rename, create or unlink in it survives a power cut. */
export async function syncDir(path: string): Promise<void> {
  const dir = await Deno.open(path, { read: true });
  try {
    await dir.sync();
  } finally {
    dir.close();
  }
}

/** Directories this process has made sure of; shards are never removed while the spool runs. */
const existingDirs = new Set<string>();

/** Creates `path` if missing; when `durable`, fsyncs its parent so the new entry persists. */
export async function ensureDir(path: string, parent: string, durable: boolean): Promise<void> {
  // Every put lands in one of 1024 shards: after the first time, skip the mkdir (and the
  // AlreadyExists exception it costs, measured at ~0.25 ms of main-thread time per put).
  if (existingDirs.has(path)) return;
  try {
    await Deno.mkdir(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    existingDirs.add(path);
    return;
  }
  if (durable) await syncDir(parent);
  existingDirs.add(path);
}

/** The characters of a ULID (Crockford's base32), so the 1024 possible shard names. */
const ulidAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/**
 * Creates every shard directory that is missing, with one fsync of the objects directory when
 * durable. Done when the spool opens, so no put pays for a mkdir and an fsync of the parent: on a
 * fresh spool that was most of the first thousand puts (measured as a fifth of the receiver's CPU
 * in inode allocation, and an extra journal commit per object).
 */
export async function prepareShards(layout: Layout, durable: boolean): Promise<number> {
  const present = new Set<string>();
  for await (const entry of Deno.readDir(layout.objectsDir)) {
    if (entry.isDirectory) present.add(entry.name);
  }
  let created = 0;
  for (const a of ulidAlphabet) {
    for (const b of ulidAlphabet) {
      const path = join(layout.objectsDir, a + b);
      if (!present.has(a + b)) {
        try {
          await Deno.mkdir(path);
          created++;
        } catch (e) {
          if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
        }
      }
      existingDirs.add(path);
    }
  }
  if (created > 0 && durable) await syncDir(layout.objectsDir);
  return created;
}

function processAlive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

const hasProc = (() => {
  try {
    return Deno.statSync("/proc/self").isDirectory;
  } catch {
    return false;
  }
})();

/** Without /proc a foreign temp file counts as stale only when this old. */
const foreignStaleMs = 60 * 60 * 1000;

/**
 * Removes temporary files left by crashed writes. Our own in-progress writes (`active`) and those
 * of another live process on the same spool (e.g. a CLI command beside the server) are kept.
 */
export async function sweepTemporary(layout: Layout, active: Set<string>): Promise<number> {
  let removed = 0;
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(layout.tmpDir));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return 0;
    throw e;
  }
  for (const entry of entries) {
    const path = join(layout.tmpDir, entry.name);
    if (active.has(path)) continue;
    const pid = Number(entry.name.match(/\.(\d+)\.part$/)?.[1] ?? NaN);
    if (Number.isInteger(pid) && pid !== Deno.pid) {
      if (hasProc && processAlive(pid)) continue;
      if (!hasProc) {
        const mtime = (await Deno.stat(path)).mtime?.getTime() ?? 0;
        if (Date.now() - mtime < foreignStaleMs) continue;
      }
    }
    try {
      await Deno.remove(path);
      removed++;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return removed;
}
