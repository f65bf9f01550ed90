/**
 * Users, roles, password policy and hashing, lockout, TOTP (RFC 6238), sessions with idle and
 * absolute expiry, and route access decisions.
 *
 * @example
 * ```ts
 * const auth = createAuthService({ db: database.db });
 * const result = await auth.login("beheer", "a long password", "10.0.0.5");
 * if (result.kind === "session" && result.session.stage === "totp") {
 *   await auth.verifyTotp(result.session.cookieValue, "123456");
 * }
 * ```
 * @module
 */
export {
  createAuthService,
  isRole,
  roles,
  SetupTokenInvalid,
  TotpCodeWrong,
  UnknownUser,
  UserExists,
  WeakPassword,
} from "./service.ts";
export type {
  ActiveSession,
  AuthOptions,
  AuthService,
  LoginResult,
  Role,
  Session,
  SessionStage,
  User,
  UserListing,
} from "./service.ts";
export {
  hashPassword,
  minimumPasswordLength,
  passwordProblem,
  verifyPassword,
} from "./password.ts";
export type { PasswordProblem } from "./password.ts";
export { base32Decode, base32Encode, matchTotp, otpauthUri, totpCode } from "./totp.ts";
export { defaultLockout, lockoutDelayMs } from "./lockout.ts";
export type { LockoutPolicy } from "./lockout.ts";
export { decideAccess } from "./policy.ts";
export type { Access, AccessDecision } from "./policy.ts";
