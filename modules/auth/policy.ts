import type { ActiveSession, Role, SessionStage } from "./service.ts";

/**
 * Who may use a route: "public" (anyone, signed in or not), or sessions of the listed roles at the
 * listed stages (default: only fully signed-in sessions).
 */
export type Access = "public" | { roles: readonly Role[]; stages?: readonly SessionStage[] };

/** What a guard does with a request: let it through, send it to sign in, or refuse it. */
export type AccessDecision =
  | { kind: "allow" }
  | { kind: "sign-in" }
  | { kind: "continue"; stage: "totp" | "enrol" }
  | { kind: "forbidden" };

/**
 * Decides whether a session may use a route with `access`. A half-way session (password done, TOTP
 * owed or not enrolled) is sent on to finish its sign-in; nothing else is open to it.
 *
 * @example
 * ```ts
 * decideAccess({ roles: ["auditor"] }, session); // { kind: "forbidden" } for a sender
 * ```
 */
export function decideAccess(access: Access, session: ActiveSession | null): AccessDecision {
  if (access === "public") return { kind: "allow" };
  if (!session) return { kind: "sign-in" };
  const stages = access.stages ?? ["full"];
  if (!stages.includes(session.stage)) {
    return session.stage === "full"
      ? { kind: "forbidden" }
      : { kind: "continue", stage: session.stage };
  }
  return access.roles.includes(session.user.role) ? { kind: "allow" } : { kind: "forbidden" };
}
