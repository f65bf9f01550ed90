import { Hono } from "hono";
import { csrf } from "hono/csrf";
import { secureHeaders } from "hono/secure-headers";
import type { AuditTrail } from "../modules/audit/mod.ts";
import type { AuthService } from "../modules/auth/mod.ts";
import type { Database } from "../modules/db/mod.ts";
import type { Logger } from "../modules/core/mod.ts";
import type { StudyIndex } from "../modules/studies/mod.ts";
import { createUi } from "../ui/app.ts";
import type { FacesDeps } from "../ui/faces/deps.ts";
import { mountPolicies, on } from "../ui/policy.ts";
import { version } from "./version.ts";

/** What the HTTP app is built from. */
export interface HttpDeps extends FacesDeps {
  database: Database;
  auth: AuthService;
  audit: AuditTrail;
  studies: StudyIndex;
  log: Logger;
  startedAt: Date;
}

/**
 * The appliance's HTTP app: security headers, an Origin check on every state-changing request,
 * the unauthenticated health endpoint, and the UI. Every route declares who may use it
 * (`routePolicies(app)` lists them).
 */
export function createHttpApp(deps: HttpDeps): Hono {
  const app = new Hono<{ Variables: { session: null } }>();
  const log = deps.log.child({ module: "http" });
  app.use(
    "*",
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
      },
      strictTransportSecurity: "max-age=31536000",
      xFrameOptions: "DENY",
    }),
  );
  app.use("*", csrf());

  on(app).get("/healthz", "public", async (c) => {
    const databaseOk = await deps.database.ping();
    return c.json({
      status: databaseOk ? "ok" : "degraded",
      version,
      uptimeSeconds: Math.round((Date.now() - deps.startedAt.getTime()) / 1000),
      database: databaseOk ? "ok" : "error",
    }, databaseOk ? 200 : 503);
  });

  const ui = createUi(deps);
  app.route("/", ui);
  mountPolicies(app, "/", ui);
  app.onError((error, c) => {
    log.error("request failed", { path: new URL(c.req.url).pathname, error });
    return c.text("Internal error", 500);
  });
  return app as unknown as Hono;
}
