/**
 * Messages per client address in a sliding window. Memory stays bounded: a client's entry holds at
 * most `limit` timestamps, and entries with nothing left in the window are dropped as we go.
 */
export interface RateLimiter {
  /** Counts one message from `client` if the limit allows it; false when over the limit. */
  take(client: string, now?: number): boolean;
  /** Whether `client` is already at the limit (without counting). */
  exhausted(client: string, now?: number): boolean;
}

export function createRateLimiter(limit: number, windowMs: number): RateLimiter {
  const seen = new Map<string, number[]>();
  let sweptAt = 0;
  const recent = (client: string, now: number): number[] => {
    if (now - sweptAt > windowMs) {
      sweptAt = now;
      for (const [key, times] of seen) {
        if (times[times.length - 1] <= now - windowMs) seen.delete(key);
      }
    }
    const times = (seen.get(client) ?? []).filter((t) => t > now - windowMs);
    seen.set(client, times);
    return times;
  };
  return {
    take(client, now = Date.now()) {
      const times = recent(client, now);
      if (times.length >= limit) return false;
      times.push(now);
      return true;
    },
    exhausted(client, now = Date.now()) {
      return recent(client, now).length >= limit;
    },
  };
}
