import { createHash, timingSafeEqual } from "node:crypto";
import type { Kysely } from "kysely";
import { BeeldpoortError, type Clock, newId, newToken, systemClock } from "../core/mod.ts";
import type { DatabaseSchema } from "../db/mod.ts";
import { hashPassword, passwordProblem, verifyPassword } from "./password.ts";

/** Roles a user can have. */
export type Role = "admin" | "sender" | "caregiver" | "auditor";

/** A user as the rest of the program sees it (never the password hash). */
export interface User {
  id: string;
  username: string;
  role: Role;
}

/** A signed-in session: the cookie value goes to the browser once, only its hash is stored. */
export interface Session {
  cookieValue: string;
  csrfToken: string;
  user: User;
}

/** The first-run setup token is wrong, expired or already used. */
export class SetupTokenInvalid extends BeeldpoortError {
  readonly code = "SETUP_TOKEN_INVALID";
}

/** The chosen password does not meet the policy; `reason` says how. */
export class WeakPassword extends BeeldpoortError {
  readonly code = "PASSWORD_WEAK";
  constructor(readonly reason: string) {
    super(`password rejected: ${reason}`);
  }
}

const setupTokenKey = "first_run_setup_token";
const setupTokenLifetimeMs = 24 * 3600_000;
const sessionLifetimeMs = 12 * 3600_000;

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** What the auth service needs. */
export interface AuthOptions {
  db: Kysely<DatabaseSchema>;
  clock?: Clock;
}

/**
 * Users, first-run setup and sessions.
 *
 * @example
 * ```ts
 * const auth = createAuthService({ db: database.db });
 * if (!(await auth.hasAdmin())) console.log(await auth.issueSetupToken());
 * ```
 */
export function createAuthService(options: AuthOptions) {
  const { db } = options;
  const clock = options.clock ?? systemClock;
  const nowIso = () => clock.now().toISOString();

  async function createUser(username: string, password: string, role: Role): Promise<User> {
    const problem = passwordProblem(password);
    if (problem) throw new WeakPassword(problem);
    const user = { id: newId(), username, role };
    await db.insertInto("users").values({
      ...user,
      password_hash: await hashPassword(password),
      created_at: nowIso(),
    }).execute();
    return user;
  }

  async function startSession(user: User): Promise<Session> {
    const cookieValue = newToken();
    const csrfToken = newToken();
    await db.insertInto("sessions").values({
      id_hash: sha256(cookieValue),
      user_id: user.id,
      csrf_token: csrfToken,
      created_at: nowIso(),
      expires_at: new Date(clock.now().getTime() + sessionLifetimeMs).toISOString(),
    }).execute();
    return { cookieValue, csrfToken, user };
  }

  return {
    /** Whether any admin account exists (if not, the appliance is in first-run setup). */
    async hasAdmin(): Promise<boolean> {
      const row = await db.selectFrom("users").select("id").where("role", "=", "admin")
        .limit(1).executeTakeFirst();
      return row !== undefined;
    },

    /** Makes a new one-time setup token (replacing any earlier one) and returns it. */
    async issueSetupToken(): Promise<string> {
      const token = newToken();
      const value = JSON.stringify({
        hash: sha256(token),
        expiresAt: new Date(clock.now().getTime() + setupTokenLifetimeMs).toISOString(),
      });
      await db.insertInto("settings").values({ key: setupTokenKey, value, updated_at: nowIso() })
        .onConflict((oc) => oc.column("key").doUpdateSet({ value, updated_at: nowIso() }))
        .execute();
      return token;
    },

    /** Whether `token` is the current, unexpired setup token and no admin exists yet. */
    async checkSetupToken(token: string): Promise<boolean> {
      const row = await db.selectFrom("settings").select("value").where("key", "=", setupTokenKey)
        .executeTakeFirst();
      if (!row) return false;
      const { hash, expiresAt } = JSON.parse(row.value) as { hash: string; expiresAt: string };
      return sameText(hash, sha256(token)) && new Date(expiresAt) > clock.now();
    },

    /** Creates the first admin with the setup token, consumes the token and signs the admin in. */
    async completeSetup(token: string, username: string, password: string): Promise<Session> {
      if (!(await this.checkSetupToken(token)) || (await this.hasAdmin())) {
        throw new SetupTokenInvalid("setup token is invalid, expired or already used");
      }
      const user = await createUser(username, password, "admin");
      await db.deleteFrom("settings").where("key", "=", setupTokenKey).execute();
      return startSession(user);
    },

    createUser,

    /** Signs a user in; null when the name or password is wrong or the account is disabled. */
    async login(username: string, password: string): Promise<Session | null> {
      const row = await db.selectFrom("users").selectAll().where("username", "=", username)
        .executeTakeFirst();
      if (!row || row.disabled) {
        await hashPassword(password); // same cost whether or not the user exists
        return null;
      }
      if (!(await verifyPassword(password, row.password_hash))) return null;
      return startSession({ id: row.id, username: row.username, role: row.role as Role });
    },

    /** The session for a cookie value, or null when unknown or expired. */
    async session(cookieValue: string): Promise<Omit<Session, "cookieValue"> | null> {
      const row = await db.selectFrom("sessions")
        .innerJoin("users", "users.id", "sessions.user_id")
        .select(["users.id", "users.username", "users.role", "users.disabled"])
        .select(["sessions.csrf_token", "sessions.expires_at"])
        .where("sessions.id_hash", "=", sha256(cookieValue))
        .executeTakeFirst();
      if (!row || row.disabled || new Date(row.expires_at) <= clock.now()) return null;
      return {
        csrfToken: row.csrf_token,
        user: { id: row.id, username: row.username, role: row.role as Role },
      };
    },

    /** Ends a session. */
    async logout(cookieValue: string): Promise<void> {
      await db.deleteFrom("sessions").where("id_hash", "=", sha256(cookieValue)).execute();
    },
  };
}

/** The auth service's interface. */
export type AuthService = ReturnType<typeof createAuthService>;
