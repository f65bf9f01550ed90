import { Hono } from "hono";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
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

const originRefused =
  "Geweigerd: dit verzoek komt niet van een pagina van deze Beeldpoort (Origin-controle).\n" +
  "Refused: this request does not come from a page of this Beeldpoort (Origin check).\n";

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
    const path = new URL(c.req.url).pathname;
    // A refusal by middleware keeps its status. The only 403 thrown is the Origin check's: a form
    // posted by another site, or by a client (script, proxy) that sends no Origin header.
    if (error instanceof HTTPException) {
      log.warn("request refused", {
        path,
        status: error.status,
        origin: c.req.header("origin") ?? "(none)",
      });
      return error.status === 403 ? c.text(originRefused, 403) : error.getResponse();
    }
    log.error("request failed", { path, error });
    return c.text("Internal error", 500);
  });
  return app as unknown as Hono;
}
