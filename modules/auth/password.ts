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

/** Why a password is refused. */
export type PasswordProblem = "too_short" | "contains_username" | "too_common";

// Long passwords that are still among the first guesses of any cracking list (NIST SP 800-63B
// 5.1.1.2 asks to refuse known-compromised and context-specific passwords).
const commonPasswords = new Set([
  "123456789012",
  "1234567890123",
  "qwertyuiopas",
  "password1234",
  "passwordpassword",
  "wachtwoord123",
  "wachtwoord1234",
  "welkom123456",
  "welkomwelkom",
  "beeldpoort123",
  "ziekenhuis123",
  "administrator",
  "letmeinletmein",
]);

/**
 * The policy (NIST SP 800-63B: length over composition rules): at least 12 characters, not
 * containing the user name, not a known common password or one character repeated.
 * Returns a reason code when a password is refused, else null.
 *
 * @example
 * ```ts
 * passwordProblem("kort"); // "too_short"
 * passwordProblem("beheer-beheer-1", "beheer"); // "contains_username"
 * ```
 */
export function passwordProblem(password: string, username = ""): PasswordProblem | null {
  if ([...password].length < minimumPasswordLength) return "too_short";
  const lower = password.toLowerCase();
  if (username.length >= 3 && lower.includes(username.toLowerCase())) return "contains_username";
  if (commonPasswords.has(lower) || new Set(lower).size <= 2) return "too_common";
  return null;
}
