import type { Context, Env as HonoEnv, Handler, Hono, MiddlewareHandler } from "hono";
import { type Access, decideAccess, roles } from "../modules/auth/mod.ts";
import type { ActiveSession } from "../modules/auth/mod.ts";

/** Every role: for routes any signed-in user may use. */
export const anyRole = { roles } as const;

/** Declared access of every route of an app, keyed "METHOD /path" as hono registers it. */
const declared = new WeakMap<object, Map<string, Access>>();

/** The route policies declared on `app` (and on the apps mounted into it with `mountPolicies`). */
export function routePolicies(app: object): Map<string, Access> {
  let table = declared.get(app);
  if (!table) declared.set(app, table = new Map());
  return table;
}

/** Copies the policies of a sub-app mounted at `prefix` into `parent`'s table. */
export function mountPolicies(parent: object, prefix: string, child: object): void {
  const base = prefix.replace(/\/$/, "");
  for (const [key, access] of routePolicies(child)) {
    const [method, path] = key.split(" ");
    routePolicies(parent).set(`${method} ${base}${path}`, access);
  }
}

type WithSession = { Variables: { session: ActiveSession | null } };

/** Enforces `access` with the session the page-context middleware found. */
export function guard<E extends HonoEnv & WithSession>(
  access: Access,
  forbidden: (c: Context<E>) => Response | Promise<Response> = (c) => c.text("Forbidden", 403),
): MiddlewareHandler<E> {
  return async (c, next) => {
    const decision = decideAccess(access, c.get("session") ?? null);
    if (decision.kind === "allow") return await next();
    if (decision.kind === "sign-in") return c.redirect("/login", 303);
    if (decision.kind === "continue") {
      return c.redirect(decision.stage === "totp" ? "/login/totp" : "/totp/enrol", 303);
    }
    return forbidden(c);
  };
}

/**
 * Registers routes only together with who may use them: `on(app).get(path, access, handler)`.
 * A route added with plain `app.get` has no declared policy, and the route-policy test fails.
 */
export function on<E extends HonoEnv & WithSession>(
  app: Hono<E>,
  forbidden?: (c: Context<E>) => Response | Promise<Response>,
) {
  const add =
    (method: "GET" | "POST") => (path: string, access: Access, ...handlers: Handler<E>[]) => {
      routePolicies(app).set(`${method} ${path}`, access);
      app.on(method, path, guard<E>(access, forbidden), ...handlers);
    };
  return { get: add("GET"), post: add("POST") };
}
