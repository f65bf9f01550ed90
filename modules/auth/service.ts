import { createHash, timingSafeEqual } from "node:crypto";
import type { Kysely } from "kysely";
import { BeeldpoortError, type Clock, newId, newToken, systemClock } from "../core/mod.ts";
import type { DatabaseSchema } from "../db/mod.ts";
import { defaultLockout, lockoutDelayMs, type LockoutPolicy } from "./lockout.ts";
import { hashPassword, passwordProblem, verifyPassword } from "./password.ts";
import { matchTotp, newTotpSecret, otpauthUri } from "./totp.ts";

/** Roles a user can have. */
export type Role = "admin" | "sender" | "caregiver" | "auditor";

/** Every role, in the order lists show them. */
export const roles: readonly Role[] = ["admin", "sender", "caregiver", "auditor"];

/** Whether `value` names a role. */
export function isRole(value: string): value is Role {
  return (roles as readonly string[]).includes(value);
}

/** A user as the rest of the program sees it (never the password hash or TOTP secret). */
export interface User {
  id: string;
  username: string;
  role: Role;
}

/** A user as the admin lists show it. */
export interface UserListing extends User {
  disabled: boolean;
  totpEnrolled: boolean;
  department: string | null;
  lockedUntil: string | null;
  createdAt: string;
}

/**
 * How far a session has come: "full" may use the routes of its role; "totp" has passed the password
 * and still owes a code; "enrol" is an admin who must set up TOTP before anything else.
 */
export type SessionStage = "full" | "totp" | "enrol";

/** A signed-in session: the cookie value goes to the browser once, only its hash is stored. */
export interface Session {
  cookieValue: string;
  csrfToken: string;
  stage: SessionStage;
  user: User;
}

/** A session as found from its cookie. */
export type ActiveSession = Omit<Session, "cookieValue">;

/** What a sign-in attempt came to. `locked` carries until when. */
export type LoginResult =
  | { kind: "session"; session: Session }
  | { kind: "failed"; userId?: string }
  | { kind: "locked"; userId: string; until: Date };

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

/** No such user. */
export class UnknownUser extends BeeldpoortError {
  readonly code = "AUTH_UNKNOWN_USER";
}

/** The user name is taken. */
export class UserExists extends BeeldpoortError {
  readonly code = "AUTH_USER_EXISTS";
}

/** The TOTP code given when enrolling does not match the secret. */
export class TotpCodeWrong extends BeeldpoortError {
  readonly code = "AUTH_TOTP_WRONG";
}

const setupTokenKey = "first_run_setup_token";
const setupTokenLifetimeMs = 24 * 3600_000;

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
  /** A session ends after this long without a request. Default 30 minutes. */
  sessionIdleMs?: number;
  /** A session ends this long after sign-in, however busy. Default 12 hours. */
  sessionMaxMs?: number;
  lockout?: LockoutPolicy;
  /** Issuer shown in authenticator apps. Default "Beeldpoort". */
  totpIssuer?: string;
}

/**
 * Users, first-run setup, sign-in with lockout and TOTP, and sessions.
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
  const idleMs = options.sessionIdleMs ?? 30 * 60_000;
  const maxMs = options.sessionMaxMs ?? 12 * 3600_000;
  const lockout = options.lockout ?? defaultLockout;
  const issuer = options.totpIssuer ?? "Beeldpoort";
  const nowIso = () => clock.now().toISOString();

  async function createUser(
    username: string,
    password: string,
    role: Role,
    extra: { department?: string } = {},
  ): Promise<User> {
    const problem = passwordProblem(password, username);
    if (problem) throw new WeakPassword(problem);
    const taken = await db.selectFrom("users").select("id").where("username", "=", username)
      .executeTakeFirst();
    if (taken) throw new UserExists(`user ${username} exists`);
    const user = { id: newId(), username, role };
    await db.insertInto("users").values({
      ...user,
      password_hash: await hashPassword(password),
      created_at: nowIso(),
      department: extra.department ?? null,
      totp_secret: null,
      totp_last_step: null,
      failed_logins: 0,
      locked_until: null,
    }).execute();
    return user;
  }

  async function startSession(
    user: User,
    stage: SessionStage,
    remoteAddress?: string,
  ): Promise<Session> {
    const cookieValue = newToken();
    const csrfToken = newToken();
    const now = clock.now();
    await db.insertInto("sessions").values({
      id_hash: sha256(cookieValue),
      user_id: user.id,
      csrf_token: csrfToken,
      created_at: now.toISOString(),
      last_seen_at: now.toISOString(),
      expires_at: new Date(now.getTime() + maxMs).toISOString(),
      stage,
      remote_address: remoteAddress ?? null,
    }).execute();
    return { cookieValue, csrfToken, stage, user };
  }

  async function findUser(username: string) {
    const row = await db.selectFrom("users").selectAll().where("username", "=", username)
      .executeTakeFirst();
    if (!row) throw new UnknownUser(`no user ${username}`);
    return row;
  }

  async function recordFailure(userId: string, failures: number): Promise<Date | null> {
    const delay = lockoutDelayMs(failures, lockout);
    const until = delay > 0 ? new Date(clock.now().getTime() + delay) : null;
    await db.updateTable("users").set({
      failed_logins: failures,
      locked_until: until?.toISOString() ?? null,
    }).where("id", "=", userId).execute();
    return until;
  }

  /** The session row for a cookie, if it exists and has not expired (idle or absolute). */
  async function lookup(cookieValue: string) {
    const row = await db.selectFrom("sessions")
      .innerJoin("users", "users.id", "sessions.user_id")
      .select(["users.id", "users.username", "users.role", "users.disabled"])
      .select([
        "sessions.id_hash",
        "sessions.csrf_token",
        "sessions.expires_at",
        "sessions.last_seen_at",
        "sessions.created_at",
        "sessions.stage",
      ])
      .where("sessions.id_hash", "=", sha256(cookieValue))
      .executeTakeFirst();
    if (!row) return null;
    const now = clock.now().getTime();
    const lastSeen = new Date(row.last_seen_at ?? row.created_at).getTime();
    if (row.disabled || new Date(row.expires_at).getTime() <= now || now - lastSeen >= idleMs) {
      await db.deleteFrom("sessions").where("id_hash", "=", row.id_hash).execute();
      return null;
    }
    return row;
  }

  /** Replaces a half-way session with a full one (a new cookie: no fixation across stages). */
  async function promote(cookieValue: string, user: User): Promise<Session> {
    const old = await db.selectFrom("sessions").select("remote_address")
      .where("id_hash", "=", sha256(cookieValue)).executeTakeFirst();
    await db.deleteFrom("sessions").where("id_hash", "=", sha256(cookieValue)).execute();
    return startSession(user, "full", old?.remote_address ?? undefined);
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

    /**
     * Creates the first admin with the setup token and consumes the token. The session it returns
     * is at stage "enrol": an admin sets up TOTP before anything else.
     */
    async completeSetup(
      token: string,
      username: string,
      password: string,
      remoteAddress?: string,
    ): Promise<Session> {
      if (!(await this.checkSetupToken(token)) || (await this.hasAdmin())) {
        throw new SetupTokenInvalid("setup token is invalid, expired or already used");
      }
      const user = await createUser(username, password, "admin");
      await db.deleteFrom("settings").where("key", "=", setupTokenKey).execute();
      return startSession(user, "enrol", remoteAddress);
    },

    createUser,

    /**
     * Checks a user name and password. While an account is locked its password is not even
     * checked. Success gives a session at stage "totp" when the user has TOTP, "enrol" for an admin
     * without it, else "full".
     */
    async login(username: string, password: string, remoteAddress?: string): Promise<LoginResult> {
      const row = await db.selectFrom("users").selectAll().where("username", "=", username)
        .executeTakeFirst();
      if (!row || row.disabled) {
        await hashPassword(password); // same cost whether or not the user exists
        return { kind: "failed", userId: row?.id };
      }
      if (row.locked_until && new Date(row.locked_until) > clock.now()) {
        return { kind: "locked", userId: row.id, until: new Date(row.locked_until) };
      }
      if (!(await verifyPassword(password, row.password_hash))) {
        const until = await recordFailure(row.id, (row.failed_logins ?? 0) + 1);
        return until
          ? { kind: "locked", userId: row.id, until }
          : { kind: "failed", userId: row.id };
      }
      const user = { id: row.id, username: row.username, role: row.role as Role };
      let stage: SessionStage = "full";
      if (row.totp_secret) stage = "totp";
      else if (user.role === "admin") stage = "enrol";
      // The failure counter resets only once the whole sign-in (code included) succeeds.
      if (stage !== "totp") {
        await db.updateTable("users").set({ failed_logins: 0, locked_until: null })
          .where("id", "=", row.id).execute();
      }
      return { kind: "session", session: await startSession(user, stage, remoteAddress) };
    },

    /**
     * The second step: a TOTP code for a session at stage "totp". Success replaces it with a full
     * session; a wrong code counts as a failed sign-in (and can lock the account).
     */
    async verifyTotp(cookieValue: string, code: string): Promise<LoginResult> {
      const row = await lookup(cookieValue);
      if (!row || row.stage !== "totp") return { kind: "failed" };
      const account = await db.selectFrom("users").selectAll().where("id", "=", row.id)
        .executeTakeFirstOrThrow();
      if (account.locked_until && new Date(account.locked_until) > clock.now()) {
        return { kind: "locked", userId: row.id, until: new Date(account.locked_until) };
      }
      const step = account.totp_secret
        ? matchTotp(account.totp_secret, code.trim(), clock.now(), account.totp_last_step)
        : null;
      if (step === null) {
        const until = await recordFailure(row.id, (account.failed_logins ?? 0) + 1);
        return until
          ? { kind: "locked", userId: row.id, until }
          : { kind: "failed", userId: row.id };
      }
      await db.updateTable("users").set({
        totp_last_step: step,
        failed_logins: 0,
        locked_until: null,
      }).where("id", "=", row.id).execute();
      const user = { id: row.id, username: row.username, role: row.role as Role };
      return { kind: "session", session: await promote(cookieValue, user) };
    },

    /** A fresh secret and its otpauth URI, for the enrolment page to show. */
    newTotpEnrolment(username: string): { secret: string; uri: string } {
      const secret = newTotpSecret();
      return { secret, uri: otpauthUri(issuer, username, secret) };
    },

    /** The otpauth URI for a secret (to show the same secret again after a wrong code). */
    totpUri(username: string, secret: string): string {
      return otpauthUri(issuer, username, secret);
    },

    /**
     * Stores the TOTP secret once the user proves their app has it (a current code), and returns
     * a full session in place of the current one. Throws `TotpCodeWrong` otherwise.
     */
    async confirmTotpEnrolment(
      cookieValue: string,
      secret: string,
      code: string,
    ): Promise<Session> {
      const row = await lookup(cookieValue);
      if (!row || row.stage === "totp") throw new TotpCodeWrong("no session to enrol");
      const step = matchTotp(secret, code.trim(), clock.now(), null);
      if (step === null) throw new TotpCodeWrong("the code does not match the secret");
      await db.updateTable("users").set({ totp_secret: secret, totp_last_step: step })
        .where("id", "=", row.id).execute();
      const user = { id: row.id, username: row.username, role: row.role as Role };
      return promote(cookieValue, user);
    },

    /** The session for a cookie value, or null when unknown, expired (idle or absolute) or disabled. */
    async session(cookieValue: string): Promise<ActiveSession | null> {
      const row = await lookup(cookieValue);
      if (!row) return null;
      await db.updateTable("sessions").set({ last_seen_at: nowIso() })
        .where("id_hash", "=", row.id_hash).execute();
      return {
        csrfToken: row.csrf_token,
        stage: row.stage as SessionStage,
        user: { id: row.id, username: row.username, role: row.role as Role },
      };
    },

    /** Ends a session. */
    async logout(cookieValue: string): Promise<void> {
      await db.deleteFrom("sessions").where("id_hash", "=", sha256(cookieValue)).execute();
    },

    /** Ends every session of a user, on every device; returns how many. */
    async logoutEverywhere(userId: string): Promise<number> {
      const result = await db.deleteFrom("sessions").where("user_id", "=", userId)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    /** Every user, for the admin list and `beeldpoort user list`. */
    async listUsers(): Promise<UserListing[]> {
      const rows = await db.selectFrom("users").selectAll().orderBy("username").execute();
      return rows.map((r) => ({
        id: r.id,
        username: r.username,
        role: r.role as Role,
        disabled: r.disabled !== 0,
        totpEnrolled: r.totp_secret !== null,
        department: r.department,
        lockedUntil: r.locked_until && new Date(r.locked_until) > clock.now()
          ? r.locked_until
          : null,
        createdAt: r.created_at,
      }));
    },

    /** Disables an account and ends its sessions. Throws `UnknownUser`. */
    async disableUser(username: string): Promise<User> {
      const row = await findUser(username);
      await db.updateTable("users").set({ disabled: 1 }).where("id", "=", row.id).execute();
      await db.deleteFrom("sessions").where("user_id", "=", row.id).execute();
      return { id: row.id, username: row.username, role: row.role as Role };
    },

    /**
     * Forgets a user's TOTP secret (lost phone) and ends their sessions; an admin must enrol again
     * at the next sign-in. Also lifts a lockout. Throws `UnknownUser`.
     */
    async resetTotp(username: string): Promise<User> {
      const row = await findUser(username);
      await db.updateTable("users").set({
        totp_secret: null,
        totp_last_step: null,
        failed_logins: 0,
        locked_until: null,
      }).where("id", "=", row.id).execute();
      await db.deleteFrom("sessions").where("user_id", "=", row.id).execute();
      return { id: row.id, username: row.username, role: row.role as Role };
    },
  };
}

/** The auth service's interface. */
export type AuthService = ReturnType<typeof createAuthService>;
