/**
 * Decides whether a chunk is written or read synchronously or through the I/O thread pool.
 *
 * A write into the page cache, or a read out of it, normally takes tens of microseconds, less than
 * a trip through the thread pool, so the spool does both synchronously. But when the kernel makes
 * writers wait (too much dirty data for the disk, or reclaiming memory for new cache pages), or a
 * read has to go to the disk, one call can take milliseconds, and a synchronous one stalls the
 * whole event loop: relaying 4000 instances (10 GB written by the two gateways), the receiving
 * gateway's main thread spent 12 s of 98 in synchronous spool writes (V8 profile). So after one
 * call slower than the page cache allows, the spool uses the pool for a while, where a slow disk
 * blocks only the object that waits for it. Writes and reads have a gate each.
 * Measured against always writing synchronously and always through the pool in
 * docs/benchmarks.md (sessions 11-13): no slower than the first, faster than the second; reads in
 * session 17.
 * @module
 */

/** Below this rate a synchronous call is taken as the kernel holding the caller back. */
const slowBytesPerMs = 256 * 1024;
/** Whatever its size, a call under this is never slow (scheduling noise on a busy machine). */
const minSlowMs = 1;
/** How long the pool is used after a slow call before synchronous calls are tried again. */
const holdMs = 2000;

/** One per spool and direction: the kernel's pressure is the same for every object. */
export class IoGate {
  #poolUntil = 0;
  readonly #now: () => number;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** True while calls should go through the thread pool. */
  get throttled(): boolean {
    return this.#now() < this.#poolUntil;
  }

  /** Notes a synchronous call that moved `bytes` in `ms`. */
  note(bytes: number, ms: number): void {
    if (ms >= minSlowMs && ms > bytes / slowBytesPerMs) this.#poolUntil = this.#now() + holdMs;
  }
}
