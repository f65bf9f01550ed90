import type { RetryPolicy } from "./types.ts";

/**
 * The wait before retry number `attempt` (1 = after the first failure): exponential, capped, with
 * jitter so that many jobs failing together (one PACS down) do not all come back in the same
 * second.
 *
 * @example
 * ```ts
 * retryDelay({ baseMs: 10_000, maxMs: 3_600_000 }, 3); // about 40 s
 * ```
 */
export function retryDelay(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const factor = policy.factor ?? 2;
  const jitter = policy.jitter ?? 0.2;
  const base = Math.min(policy.maxMs, policy.baseMs * factor ** Math.max(0, attempt - 1));
  return Math.round(Math.min(policy.maxMs, base * (1 + jitter * (random() * 2 - 1))));
}
