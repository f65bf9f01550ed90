import { randomBytes } from "node:crypto";

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/**
 * A time-ordered unique id (26 characters, ULID layout: 48-bit milliseconds, 80 random bits), so ids
 * sort by creation time in the database and in `ls`.
 *
 * @example
 * ```ts
 * const id = newId(); // "01JD4Z8M6Q0W8N4V2T7G9K3X5B"
 * ```
 */
export function newId(now: number = Date.now()): string {
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = crockford[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const random = randomBytes(10);
  let bits = 0n;
  for (const byte of random) bits = (bits << 8n) | BigInt(byte);
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
