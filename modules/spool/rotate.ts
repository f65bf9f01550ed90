import { emptySlot, encodeSlot, SLOT_OFFSETS } from "./format.ts";
import { type MasterKey, slotFor, unwrapDataKey, wrapFor } from "./keys.ts";
import type { Layout } from "./layout.ts";
import { openFile, readHeader } from "./reader.ts";

/** What happened to one object in a rewrap. */
export type RewrapOutcome = "rewrapped" | "already-current";

async function writeAt(file: Deno.FsFile, offset: number, bytes: Uint8Array): Promise<void> {
  await file.seek(offset, Deno.SeekMode.Start);
  let done = 0;
  while (done < bytes.length) done += await file.write(bytes.subarray(done));
}

/**
 * Rewraps one object's data key from `from` to `to`, touching only its header: the new wrapping
 * goes into the slot not holding the old one and is made durable before the old slot is cleared,
 * so a crash at any point leaves the object readable with at least one of the two keys.
 * The data key is unwrapped with `from` first, which proves `from` really is the object's key.
 */
export async function rewrapObject(
  layout: Layout,
  id: string,
  from: MasterKey,
  to: MasterKey,
  durable: boolean,
): Promise<RewrapOutcome> {
  const file = await openFile(layout, id, true);
  try {
    const header = await readHeader(file, id);
    const toIndex = slotFor(header, to);
    const fromIndex = slotFor(header, from);
    if (toIndex >= 0 && fromIndex < 0) {
      await unwrapDataKey(header, to); // already rotated: just prove the slot is sound
      return "already-current";
    }
    const key = await unwrapDataKey(header, from);
    if (toIndex < 0) {
      const target = 1 - fromIndex;
      await writeAt(file, SLOT_OFFSETS[target], encodeSlot(await wrapFor(key, to)));
      if (durable) await file.syncData();
    }
    if (fromIndex !== toIndex) {
      await writeAt(file, SLOT_OFFSETS[fromIndex], encodeSlot(emptySlot));
      if (durable) await file.syncData();
    }
    return "rewrapped";
  } finally {
    file.close();
  }
}

/** Ids of every stored object, shard by shard (no particular order). */
export async function* listIds(layout: Layout): AsyncGenerator<string> {
  let shards: Deno.DirEntry[];
  try {
    shards = await Array.fromAsync(Deno.readDir(layout.objectsDir));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  for (const shard of shards) {
    if (!shard.isDirectory) continue;
    for await (const entry of Deno.readDir(`${layout.objectsDir}/${shard.name}`)) {
      if (entry.isFile) yield entry.name;
    }
  }
}
