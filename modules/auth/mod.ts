/**
 * Users, roles, password hashing, first-run setup and sessions.
 *
 * @example
 * ```ts
 * const auth = createAuthService({ db: database.db });
 * const session = await auth.login("beheer", "a long password");
 * ```
 * @module
 */
export { createAuthService, SetupTokenInvalid, WeakPassword } from "./service.ts";
export type { AuthOptions, AuthService, Role, Session, User } from "./service.ts";
export {
  hashPassword,
  minimumPasswordLength,
  passwordProblem,
  verifyPassword,
} from "./password.ts";
