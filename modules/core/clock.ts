/** A source of time, so tests can control it. */
export interface Clock {
  now(): Date;
}

/** The real wall clock. */
export const systemClock: Clock = { now: () => new Date() };

/**
 * A clock that stands still until moved; for tests of expiry and timeouts.
 *
 * @example
 * ```ts
 * const clock = fixedClock(new Date("2026-01-01T00:00:00Z"));
 * clock.advance(60_000);
 * ```
 */
export function fixedClock(start: Date): Clock & { advance(ms: number): void } {
  let current = start.getTime();
  return {
    now: () => new Date(current),
    advance: (ms: number) => {
      current += ms;
    },
  };
}
