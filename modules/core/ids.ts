import { randomBytes } from "node:crypto";

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

let lastMs = -1;
let lastRandom = 0n;

/**
 * A time-ordered unique id (26 characters, ULID layout: 48-bit milliseconds, 80 random bits), so ids
 * sort by creation time in the database and in `ls`. Within this process ids are strictly
 * increasing even inside one millisecond (the random part counts up, as monotonic ULIDs do), so
 * rows ordered by id keep their creation order.
 *
 * @example
 * ```ts
 * const id = newId(); // "01JD4Z8M6Q0W8N4V2T7G9K3X5B"
 * ```
 */
export function newId(now: number = Date.now()): string {
  let random: bigint;
  if (now <= lastMs) {
    now = lastMs;
    random = (lastRandom + 1n) & ((1n << 80n) - 1n);
  } else {
    random = 0n;
    for (const byte of randomBytes(10)) random = (random << 8n) | BigInt(byte);
    // leave headroom so a burst within one millisecond does not wrap around
    random &= (1n << 79n) - 1n;
  }
  lastMs = now;
  lastRandom = random;
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = crockford[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let bits = random;
  let rand = "";
  for (let i = 0; i < 16; i++) {
    rand = crockford[Number(bits & 31n)] + rand;
    bits >>= 5n;
  }
  return time + rand;
}

/**
 * A secret token for URLs and cookies: `bytes` random bytes, base64url.
 *
 * @example
 * ```ts
 * const token = newToken(); // 43 characters
 * ```
 */
export function newToken(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}
