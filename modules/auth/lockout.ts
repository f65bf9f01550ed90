/** How sign-in failures lock an account. */
export interface LockoutPolicy {
  /** Failures in a row that are free; the next one locks. */
  threshold: number;
  /** The first lock; each further failure doubles it. */
  baseMs: number;
  /** The longest lock. */
  maxMs: number;
}

/** Five tries, then 1, 2, 4 ... minutes up to an hour: guessing becomes hopeless, a typo is cheap. */
export const defaultLockout: LockoutPolicy = { threshold: 5, baseMs: 60_000, maxMs: 3600_000 };

/** How long an account is locked after `failures` failures in a row (0: not locked). */
export function lockoutDelayMs(failures: number, policy: LockoutPolicy = defaultLockout): number {
  if (failures < policy.threshold) return 0;
  const doublings = Math.min(failures - policy.threshold, 30);
  return Math.min(policy.baseMs * 2 ** doublings, policy.maxMs);
}
