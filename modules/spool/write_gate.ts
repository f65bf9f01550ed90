/**
 * Decides whether a chunk is written synchronously or through the I/O thread pool.
 *
 * A write into the page cache normally takes tens of microseconds, less than a trip through the
 * thread pool, so the spool writes synchronously. But when the kernel makes writers wait (too
 * much dirty data for the disk, or reclaiming memory for new cache pages), one write can take
 * milliseconds, and a synchronous one stalls the whole event loop: relaying 4000 instances
 * (10 GB written by the two gateways), the receiving gateway's main thread spent 12 s of 98 in
 * synchronous spool writes (V8 profile). So after one write slower than the page cache allows,
 * the spool uses the pool for a while, where a slow disk blocks only the put that waits for it.
 * Measured against always writing synchronously and always through the pool in
 * docs/benchmarks.md (sessions 11-13): no slower than the first, faster than the second.
 * @module
 */

/** Below this rate a synchronous write is taken as the kernel holding the writer back. */
const slowBytesPerMs = 256 * 1024;
/** Whatever its size, a write under this is never slow (scheduling noise on a busy machine). */
const minSlowMs = 1;
/** How long the pool is used after a slow write before synchronous writes are tried again. */
const holdMs = 2000;

/** One per spool: the kernel's pressure is the same for every object being written. */
export class WriteGate {
  #poolUntil = 0;
  readonly #now: () => number;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** True while writes should go through the thread pool. */
  get throttled(): boolean {
    return this.#now() < this.#poolUntil;
  }

  /** Notes a synchronous write of `bytes` that took `ms`. */
  note(bytes: number, ms: number): void {
    if (ms >= minSlowMs && ms > bytes / slowBytesPerMs) this.#poolUntil = this.#now() + holdMs;
  }
}
