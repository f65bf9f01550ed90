import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

// scrypt cost: N=2^15, r=8 costs ~32 MiB and ~50-100 ms per hash on these machines, which makes
// offline guessing expensive while keeping a login quick.
const cost = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const keyLength = 32;

function derive(password: string, salt: Buffer, params: typeof cost): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize("NFKC"), salt, keyLength, params, (error, key) => {
      if (error) reject(error);
      else resolve(key);
    })
  );
}

/**
 * Hashes a password with scrypt; the result carries its own parameters and salt.
 *
 * @example
 * ```ts
 * const stored = await hashPassword("correct horse battery staple");
 * await verifyPassword("correct horse battery staple", stored); // true
 * ```
 */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, cost);
  return ["scrypt", cost.N, cost.r, cost.p, salt.toString("base64"), key.toString("base64")]
    .join("$");
}

/** Checks a password against a stored hash in constant time. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || !hash) return false;
  const expected = Buffer.from(hash, "base64");
  const key = await derive(password, Buffer.from(salt, "base64"), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: cost.maxmem,
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** Minimum password length for every account. */
export const minimumPasswordLength = 12;

/** Returns a reason code when a password is too weak, else null. */
export function passwordProblem(password: string): "too_short" | null {
  return [...password].length < minimumPasswordLength ? "too_short" : null;
}
