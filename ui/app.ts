import { type Context, Hono, type MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { timingSafeEqual } from "node:crypto";
import type { ActiveSession, AuthService, Role, Session } from "../modules/auth/mod.ts";
import {
  isRole,
  SetupTokenInvalid,
  TotpCodeWrong,
  UserExists,
  WeakPassword,
} from "../modules/auth/mod.ts";
import type { AuditEventInput, AuditTrail } from "../modules/audit/mod.ts";
import { type Logger, newToken } from "../modules/core/mod.ts";
import type { StudyIndex, StudySummary } from "../modules/studies/mod.ts";
import { asLang, type MessageKey, translator } from "./i18n/mod.ts";
import type { PageContext } from "./pages/layout.ts";
import { loginPage } from "./pages/login.ts";
import { setupInvalidPage, setupPage } from "./pages/setup.ts";
import { errorPage } from "./pages/error.ts";
import { auditPage } from "./pages/audit.ts";
import type { FacesDeps } from "./faces/deps.ts";
import { portalRoutes } from "./faces/portal.ts";
import { settingsRoutes } from "./faces/settings.ts";
import { studyRoutes } from "./faces/studies.ts";
import { totpEnrolPage, totpLoginPage } from "./pages/totp.ts";
import { usersPage } from "./pages/users.ts";
import { anyRole, on } from "./policy.ts";
import { staticFiles } from "./static_files.ts";

/** Cookie names; the session cookie is HttpOnly, Secure and SameSite=Strict. */
export const sessionCookie = "bp_session";
const langCookie = "bp_lang";
/** Before sign-in, forms carry this cookie's value as their CSRF token (double submit). */
const preSessionCookie = "bp_csrf";

/** What the UI needs from the rest of the appliance. */
export interface UiDeps extends FacesDeps {
  auth: AuthService;
  studies: StudyIndex;
  audit: AuditTrail;
  log: Logger;
}

/** The hono environment of every UI route. */
export type Env = {
  Variables: {
    page: PageContext;
    session: ActiveSession | null;
  };
};

const cookieOptions = { httpOnly: true, secure: true, sameSite: "Strict", path: "/" } as const;

/** The client's address as the server saw it (Deno.serve passes it as the handler's info). */
export function remoteAddress(c: Context): string | undefined {
  const info = c.env as { remoteAddr?: { hostname?: string } } | undefined;
  return info?.remoteAddr?.hostname;
}

/** Where a fully signed-in user of each role starts. */
const homeOf: Record<Role, string> = {
  admin: "/dashboard",
  sender: "/dashboard",
  caregiver: "/portal",
  auditor: "/audit",
};

/** Picks the language (`?lang=` remembered in a cookie, default Dutch) and the session. */
function pageContext(deps: UiDeps): MiddlewareHandler<Env> {
  return async (c, next) => {
    const requested = c.req.query("lang");
    if (requested === "nl" || requested === "en") {
      setCookie(c, langCookie, requested, { ...cookieOptions, httpOnly: false, maxAge: 31536000 });
    }
    const lang = asLang(requested ?? getCookie(c, langCookie));
    const cookieValue = getCookie(c, sessionCookie);
    const session = cookieValue ? await deps.auth.session(cookieValue) : null;
    let csrfToken = session?.csrfToken ?? getCookie(c, preSessionCookie);
    if (!csrfToken) {
      csrfToken = newToken();
      setCookie(c, preSessionCookie, csrfToken, cookieOptions);
    }
    c.set("session", session);
    c.set("page", {
      lang,
      t: translator(lang),
      path: new URL(c.req.url).pathname,
      csrfToken,
      user: session?.stage === "full"
        ? { username: session.user.username, role: session.user.role, csrfToken: session.csrfToken }
        : undefined,
    });
    await next();
  };
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Every state-changing request carries the CSRF token: the session's (hidden field `csrf` or header
 * `X-CSRF-Token`), or before sign-in the pre-session cookie's value. A request without it, or with
 * another, is refused before any handler runs. (The Origin check in the HTTP app comes first.)
 */
const requireCsrfToken: MiddlewareHandler<Env> = async (c, next) => {
  if (["GET", "HEAD", "OPTIONS"].includes(c.req.method)) return await next();
  const expected = c.get("page").csrfToken;
  let given = c.req.header("x-csrf-token");
  if (!given) {
    const type = c.req.header("content-type") ?? "";
    if (/^(application\/x-www-form-urlencoded|multipart\/form-data)/.test(type)) {
      const body = await c.req.parseBody(); // cached: handlers read it again
      given = typeof body.csrf === "string" ? body.csrf : undefined;
    }
  }
  if (!given || !sameToken(given, expected)) {
    return c.html(errorPage(c.get("page"), "error.csrf"), 403);
  }
  await next();
};

async function formText(c: Context<Env>): Promise<Record<string, string>> {
  const body = await c.req.parseBody();
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === "string") out[k] = v;
  return out;
}

/**
 * The web UI's routes. Each is registered with who may use it (`on(app).get(path, access, ...)`);
 * the table-driven role test walks them all. Mounted by the appliance's HTTP app.
 */
export function createUi(deps: UiDeps): Hono<Env> {
  const app = new Hono<Env>();
  const log = deps.log.child({ module: "ui" });
  const route = on(app, (c) => c.html(errorPage(c.get("page"), "error.forbidden"), 403));
  route.get("/static/:name", "public", staticFiles());
  app.use("*", pageContext(deps));
  app.use("*", requireCsrfToken);

  /** Records an audit event about the signed-in user; awaited, so no access goes unrecorded. */
  const audit = (c: Context<Env>, event: Omit<AuditEventInput, "actor" | "sourceAddress">) => {
    const user = c.get("session")?.user;
    return deps.audit.record({
      ...event,
      actor: user
        ? { kind: "user", id: user.username, role: user.role }
        : { kind: "user", id: "(anonymous)" },
      sourceAddress: remoteAddress(c),
    });
  };

  /** A page showed the user this study (and so its patient). */
  const viewed = (c: Context<Env>, study: StudySummary, page: string) =>
    audit(c, {
      action: "view",
      outcome: "success",
      patient: { id: study.patientId },
      object: { kind: "study", id: study.studyInstanceUid },
      detail: { page },
    });

  /** Sets the session cookie and sends the browser to the next step of its sign-in. */
  function continueSession(c: Context<Env>, session: Session): Response {
    setCookie(c, sessionCookie, session.cookieValue, cookieOptions);
    if (session.stage === "totp") return c.redirect("/login/totp", 303);
    if (session.stage === "enrol") return c.redirect("/totp/enrol", 303);
    return c.redirect(homeOf[session.user.role], 303);
  }

  route.get("/", "public", async (c) => {
    const session = c.get("session");
    if (!session || !(await deps.auth.hasAdmin())) return c.redirect("/login", 303);
    if (session.stage === "totp") return c.redirect("/login/totp", 303);
    if (session.stage === "enrol") return c.redirect("/totp/enrol", 303);
    return c.redirect(homeOf[session.user.role], 303);
  });

  route.get("/setup", "public", async (c) => {
    const page = c.get("page");
    const token = c.req.query("token") ?? "";
    if ((await deps.auth.hasAdmin()) || !(await deps.auth.checkSetupToken(token))) {
      return c.html(setupInvalidPage(page), 403);
    }
    return c.html(setupPage(page, token));
  });

  route.post("/setup", "public", async (c) => {
    const page = c.get("page");
    const form = await formText(c);
    const token = form.token ?? "";
    const username = (form.username ?? "").trim();
    const again = (key: MessageKey) => c.html(setupPage(page, token, page.t(key)), 400);
    if (!username) return again("setup.usernameRequired");
    if (form.password !== form.password2) return again("setup.passwordMismatch");
    try {
      const session = await deps.auth.completeSetup(
        token,
        username,
        form.password ?? "",
        remoteAddress(c),
      );
      log.info("first admin created", { username });
      await deps.audit.record({
        action: "user-admin",
        outcome: "success",
        actor: { kind: "user", id: username, role: "admin" },
        sourceAddress: remoteAddress(c),
        object: { kind: "user", id: username },
        detail: { change: "first admin created" },
      });
      return continueSession(c, session);
    } catch (error) {
      if (error instanceof WeakPassword) return again(`setup.${error.reason}` as MessageKey);
      if (error instanceof SetupTokenInvalid) {
        log.warn("setup attempted with an invalid token", { from: remoteAddress(c) });
        return c.html(setupInvalidPage(page), 403);
      }
      throw error;
    }
  });

  route.get("/login", "public", (c) => {
    if (c.get("session")) return c.redirect("/", 303);
    return c.html(loginPage(c.get("page")));
  });

  route.post("/login", "public", async (c) => {
    const page = c.get("page");
    const form = await formText(c);
    const username = (form.username ?? "").trim();
    const result = await deps.auth.login(username, form.password ?? "", remoteAddress(c));
    if (result.kind !== "session") {
      log.warn("sign-in failed", { username, locked: result.kind === "locked" });
      await deps.audit.record({
        action: "login",
        outcome: "failure",
        actor: { kind: "user", id: username || "(empty)" },
        sourceAddress: remoteAddress(c),
        detail: { reason: result.kind === "locked" ? "locked" : "password" },
      });
      const key = result.kind === "locked" ? "login.locked" : "login.failed";
      return c.html(loginPage(page, page.t(key)), result.kind === "locked" ? 429 : 401);
    }
    const { session } = result;
    if (session.stage !== "totp") {
      log.info("signed in", { username, role: session.user.role });
      await deps.audit.record({
        action: "login",
        outcome: "success",
        actor: { kind: "user", id: username, role: session.user.role },
        sourceAddress: remoteAddress(c),
        detail: { factors: 1 },
      });
    }
    return continueSession(c, session);
  });

  const pendingTotp = { roles: anyRole.roles, stages: ["totp"] } as const;
  route.get("/login/totp", pendingTotp, (c) => c.html(totpLoginPage(c.get("page"))));

  route.post("/login/totp", pendingTotp, async (c) => {
    const page = c.get("page");
    const form = await formText(c);
    const user = c.get("session")!.user;
    const result = await deps.auth.verifyTotp(getCookie(c, sessionCookie)!, form.code ?? "");
    const actor = { kind: "user" as const, id: user.username, role: user.role };
    if (result.kind !== "session") {
      await deps.audit.record({
        action: "login",
        outcome: "failure",
        actor,
        sourceAddress: remoteAddress(c),
        detail: { reason: result.kind === "locked" ? "locked" : "totp" },
      });
      if (result.kind === "locked") {
        await deps.auth.logout(getCookie(c, sessionCookie)!);
        deleteCookie(c, sessionCookie, cookieOptions);
        return c.html(loginPage(page, page.t("login.locked")), 429);
      }
      return c.html(totpLoginPage(page, page.t("totp.wrong")), 401);
    }
    log.info("signed in", { username: user.username, role: user.role });
    await deps.audit.record({
      action: "login",
      outcome: "success",
      actor,
      sourceAddress: remoteAddress(c),
      detail: { factors: 2 },
    });
    return continueSession(c, result.session);
  });

  const enrolment = { roles: anyRole.roles, stages: ["enrol", "full"] } as const;
  route.get("/totp/enrol", enrolment, (c) => {
    const { secret, uri } = deps.auth.newTotpEnrolment(c.get("session")!.user.username);
    return c.html(totpEnrolPage(c.get("page"), secret, uri));
  });

  route.post("/totp/enrol", enrolment, async (c) => {
    const page = c.get("page");
    const form = await formText(c);
    const session = c.get("session")!;
    const secret = form.secret ?? "";
    try {
      const full = await deps.auth.confirmTotpEnrolment(
        getCookie(c, sessionCookie)!,
        secret,
        form.code ?? "",
      );
      await audit(c, {
        action: "user-admin",
        outcome: "success",
        object: { kind: "user", id: session.user.username },
        detail: { change: "totp enrolled" },
      });
      if (session.stage === "enrol") {
        await audit(c, { action: "login", outcome: "success", detail: { factors: 2 } });
      }
      return continueSession(c, full);
    } catch (error) {
      if (!(error instanceof TotpCodeWrong)) throw error;
      const uri = deps.auth.totpUri(session.user.username, secret);
      return c.html(totpEnrolPage(page, secret, uri, page.t("totp.wrong")), 400);
    }
  });

  route.post("/logout", { roles: anyRole.roles, stages: ["full", "totp", "enrol"] }, async (c) => {
    const session = c.get("session")!;
    await deps.auth.logout(getCookie(c, sessionCookie)!);
    deleteCookie(c, sessionCookie, cookieOptions);
    await audit(c, { action: "logout", outcome: "success" });
    log.info("signed out", { username: session.user.username });
    return c.redirect("/login", 303);
  });

  route.post("/logout/all", anyRole, async (c) => {
    const session = c.get("session")!;
    const ended = await deps.auth.logoutEverywhere(session.user.id);
    deleteCookie(c, sessionCookie, cookieOptions);
    await audit(c, { action: "logout", outcome: "success", detail: { everywhere: true, ended } });
    log.info("signed out everywhere", { username: session.user.username, ended });
    return c.redirect("/login", 303);
  });

  const faces = { route, deps, log, audit, viewed };
  studyRoutes(faces);
  settingsRoutes(faces);
  portalRoutes(faces);

  route.get("/audit", { roles: ["auditor"] }, async (c) => {
    const [report, events] = await Promise.all([deps.audit.verify(), deps.audit.list(200)]);
    await audit(c, { action: "audit-read", outcome: "success", detail: { page: "audit" } });
    return c.html(auditPage(c.get("page"), report, events));
  });

  const admin = { roles: ["admin"] } as const;
  route.get("/users", admin, async (c) => {
    return c.html(usersPage(c.get("page"), await deps.auth.listUsers()));
  });

  route.post("/users", admin, async (c) => {
    const page = c.get("page");
    const form = await formText(c);
    const username = (form.username ?? "").trim();
    const role = form.role ?? "";
    const again = async (key: MessageKey) =>
      c.html(usersPage(page, await deps.auth.listUsers(), page.t(key)), 400);
    if (!username) return again("setup.usernameRequired");
    if (!isRole(role)) return again("users.badRole");
    try {
      await deps.auth.createUser(username, form.password ?? "", role, {
        department: form.department?.trim() || undefined,
      });
    } catch (error) {
      if (error instanceof WeakPassword) return again(`setup.${error.reason}` as MessageKey);
      if (error instanceof UserExists) return again("users.exists");
      throw error;
    }
    await audit(c, {
      action: "user-admin",
      outcome: "success",
      object: { kind: "user", id: username },
      detail: { change: "created", role },
    });
    return c.redirect("/users", 303);
  });

  for (const [action, change] of [["disable", "disabled"], ["reset-totp", "totp reset"]] as const) {
    route.post(`/users/:username/${action}`, admin, async (c) => {
      const username = c.req.param("username") ?? "";
      const known = (await deps.auth.listUsers()).some((u) => u.username === username);
      if (!known) return c.html(errorPage(c.get("page"), "error.notFound"), 404);
      if (action === "disable") await deps.auth.disableUser(username);
      else await deps.auth.resetTotp(username);
      await audit(c, {
        action: "user-admin",
        outcome: "success",
        object: { kind: "user", id: username },
        detail: { change },
      });
      return c.redirect("/users", 303);
    });
  }

  app.notFound((c) => {
    const page = c.get("page") ??
      { lang: "nl", t: translator("nl"), path: "/", csrfToken: "" };
    return c.html(errorPage(page, "error.notFound"), 404);
  });
  return app;
}
