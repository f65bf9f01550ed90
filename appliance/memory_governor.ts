/**
 * Keeps garbage from piling up in V8's old generation. Buffers that are in flight for more than a
 * few milliseconds (TLS records and SMTP chunks in node's streams, spool chunks waiting for the
 * disk, PDUs waiting for the PACS) survive two scavenges and are promoted; from then on only a full
 * collection frees them, and V8 starts one only when external memory has grown by some 64 MB or
 * the heap by its growing factor. On the relay that was 60-120 MB of dead buffers at any moment,
 * and glibc keeps the arena it grew for them: peak RSS of gateway B 425-437 MB on a 2 GB study.
 *
 * So every 100 ms we compare the heap plus external memory with its lowest value since the last
 * collection (the live set, near enough) and collect when it is more than 32 MB above it, at most
 * once per 250 ms. Measured on `deno task bench relay` (4000 instances): peaks A 231 and B 295 MB
 * against 337 and 437, with about 170 collections of 25-30 ms on B over a 158 s run; in alternating
 * 1000-instance runs it cost 5-8% of B's CPU for 35-40 MB (docs/benchmarks.md, fifth session).
 *
 * It needs V8's `--expose-gc` (appliance/runtime_flags.ts); without it the appliance runs as
 * before and says so once.
 */
import type { Logger } from "../modules/core/mod.ts";

/** What the trigger looks at: bytes in the V8 heap and in ArrayBuffers and other external memory. */
export interface MemorySample {
  heapUsed: number;
  external: number;
}

export interface CollectionTriggerOptions {
  /** How far above the lowest value since the last collection the total may rise. */
  headroomBytes: number;
  /** Collections are at least this far apart, which bounds what they can cost. */
  minIntervalMs: number;
}

/**
 * The decision alone, without timers or V8: `observe` says whether to collect now, `collected`
 * records the state after a collection.
 */
export function createCollectionTrigger(options: CollectionTriggerOptions) {
  let floor = Infinity;
  let lastAt = -Infinity;
  return {
    observe(sample: MemorySample, nowMs: number): boolean {
      const total = sample.heapUsed + sample.external;
      // The lowest point tracks the live set: V8's own collections, and the buffers its
      // concurrent sweeper frees only after a collection has returned, lower it.
      floor = Math.min(floor, total);
      return total - floor > options.headroomBytes && nowMs - lastAt >= options.minIntervalMs;
    },
    collected(sample: MemorySample, nowMs: number): void {
      floor = sample.heapUsed + sample.external;
      lastAt = nowMs;
    },
  };
}

export const governorSettings = {
  headroomBytes: 32 * 1024 * 1024,
  minIntervalMs: 250,
  sampleEveryMs: 100,
};

/** What the governor did so far, for the log at shutdown. */
export interface GovernorStats {
  collections: number;
  milliseconds: number;
}

/** Starts the governor; `stop` ends it and returns its counts. */
export function startMemoryGovernor(log: Logger): { stop(): GovernorStats } {
  const stats: GovernorStats = { collections: 0, milliseconds: 0 };
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== "function") {
    log.info("memory governor off: V8 runs without --expose-gc; peak memory may be higher");
    return { stop: () => stats };
  }
  const trigger = createCollectionTrigger(governorSettings);
  const timer = setInterval(() => {
    if (!trigger.observe(Deno.memoryUsage(), performance.now())) return;
    const started = performance.now();
    gc();
    const ended = performance.now();
    stats.collections++;
    stats.milliseconds += ended - started;
    trigger.collected(Deno.memoryUsage(), ended);
  }, governorSettings.sampleEveryMs);
  Deno.unrefTimer(timer);
  return {
    stop() {
      clearInterval(timer);
      return stats;
    },
  };
}
