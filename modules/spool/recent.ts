/**
 * Plaintext of objects written moments ago, kept for their first readers. The relay writes a
 * message and reads it straight back (a sealed part before it is sent, a received mail before it is
 * opened, a received instance before it is imported): serving those reads from memory saves one
 * AES-GCM pass over every byte (WebCrypto does ~800 MB/s per core here). Bounded by bytes, oldest
 * evicted first, each handed to its first reader only (later reads and reads after a restart go to
 * disk as before), so the memory is held for moments, not for the budget's worth of old objects.
 */
import { concatBytes, releaseBytes } from "../core/mod.ts";

export interface RecentObjects {
  keep(id: string, chunks: readonly Uint8Array[], size: number): void;
  /** The kept plaintext, handed over once: the entry is gone afterwards. */
  take(id: string): Uint8Array | undefined;
  drop(id: string): void;
}

export function recentObjects(maxBytes: number): RecentObjects {
  const kept = new Map<string, Uint8Array>();
  let bytes = 0;
  const drop = (id: string) => {
    const entry = kept.get(id);
    if (!entry) return;
    kept.delete(id);
    bytes -= entry.length;
  };
  return {
    keep(id, chunks, size) {
      if (size > maxBytes) return;
      const joined = chunks.length === 1 ? chunks[0] : concatBytes(chunks);
      // Handed over by the put (see PutOptions.retain): ours to free once joined.
      if (chunks.length !== 1) chunks.forEach(releaseBytes);
      kept.set(id, joined);
      bytes += size;
      for (const oldest of kept.keys()) {
        if (bytes <= maxBytes) break;
        drop(oldest);
      }
    },
    take(id) {
      const entry = kept.get(id);
      drop(id);
      return entry;
    },
    drop,
  };
}
