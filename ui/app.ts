import { type Context, Hono, type MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { AuthService, Session } from "../modules/auth/mod.ts";
import { SetupTokenInvalid, WeakPassword } from "../modules/auth/mod.ts";
import type { Logger } from "../modules/core/mod.ts";
import type { StudyIndex } from "../modules/studies/mod.ts";
import { asLang, type MessageKey, translator } from "./i18n/mod.ts";
import type { PageContext } from "./pages/layout.ts";
import { loginPage } from "./pages/login.ts";
import { setupInvalidPage, setupPage } from "./pages/setup.ts";
import { dashboardPage } from "./pages/dashboard.ts";
import { errorPage } from "./pages/error.ts";
import { staticFiles } from "./static_files.ts";

/** Cookie names; the session cookie is HttpOnly, Secure and SameSite=Strict. */
export const sessionCookie = "bp_session";
const langCookie = "bp_lang";

/** What the UI needs from the rest of the appliance. */
export interface UiDeps {
  auth: AuthService;
  studies: StudyIndex;
  log: Logger;
}

type Env = {
  Variables: {
    page: PageContext;
    session: Omit<Session, "cookieValue"> | null;
  };
};

const cookieOptions = { httpOnly: true, secure: true, sameSite: "Strict", path: "/" } as const;

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
    c.set("session", session);
    c.set("page", {
      lang,
      t: translator(lang),
      path: new URL(c.req.url).pathname,
      user: session
        ? { username: session.user.username, role: session.user.role, csrfToken: session.csrfToken }
        : undefined,
    });
    await next();
  };
}

/** Only for signed-in users; others go to the sign-in page. */
const requireSession: MiddlewareHandler<Env> = async (c, next) => {
  if (!c.get("session")) return c.redirect("/login", 303);
  await next();
};

function startSession(c: Context<Env>, session: Session): Response {
  setCookie(c, sessionCookie, session.cookieValue, cookieOptions);
  return c.redirect("/dashboard", 303);
}

async function formText(c: Context<Env>): Promise<Record<string, string>> {
  const body = await c.req.parseBody();
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === "string") out[k] = v;
  return out;
}

/**
 * The web UI's routes: first-run setup, sign-in, sign-out, dashboard and static assets.
 * Mounted by the appliance's HTTP app.
 */
export function createUi(deps: UiDeps): Hono<Env> {
  const app = new Hono<Env>();
  const log = deps.log.child({ module: "ui" });
  app.get("/static/:name", staticFiles());
  app.use("*", pageContext(deps));

  app.get("/", async (c) => {
    if (!(await deps.auth.hasAdmin())) return c.redirect("/login", 303);
    return c.redirect(c.get("session") ? "/dashboard" : "/login", 303);
  });

  app.get("/setup", async (c) => {
    const page = c.get("page");
    const token = c.req.query("token") ?? "";
    if ((await deps.auth.hasAdmin()) || !(await deps.auth.checkSetupToken(token))) {
      return c.html(setupInvalidPage(page), 403);
    }
    return c.html(setupPage(page, token));
  });

  app.post("/setup", async (c) => {
    const page = c.get("page");
    const form = await formText(c);
    const token = form.token ?? "";
    const username = (form.username ?? "").trim();
    const again = (key: MessageKey) => c.html(setupPage(page, token, page.t(key)), 400);
    if (!username) return again("setup.usernameRequired");
    if (form.password !== form.password2) return again("setup.passwordMismatch");
    try {
      const session = await deps.auth.completeSetup(token, username, form.password ?? "");
      log.info("first admin created", { username });
      return startSession(c, session);
    } catch (error) {
      if (error instanceof WeakPassword) return again(`setup.${error.reason}` as MessageKey);
      if (error instanceof SetupTokenInvalid) {
        log.warn("setup attempted with an invalid token", { from: c.req.header("x-real-ip") });
        return c.html(setupInvalidPage(page), 403);
      }
      throw error;
    }
  });

  app.get("/login", (c) => {
    if (c.get("session")) return c.redirect("/dashboard", 303);
    return c.html(loginPage(c.get("page")));
  });

  app.post("/login", async (c) => {
    const page = c.get("page");
    const form = await formText(c);
    const username = (form.username ?? "").trim();
    const session = await deps.auth.login(username, form.password ?? "");
    if (!session) {
      log.warn("sign-in failed", { username });
      return c.html(loginPage(page, page.t("login.failed")), 401);
    }
    log.info("signed in", { username, role: session.user.role });
    return startSession(c, session);
  });

  app.post("/logout", requireSession, async (c) => {
    const form = await formText(c);
    if (form.csrf !== c.get("session")!.csrfToken) {
      return c.html(errorPage(c.get("page"), "error.forbidden"), 403);
    }
    await deps.auth.logout(getCookie(c, sessionCookie)!);
    deleteCookie(c, sessionCookie, cookieOptions);
    return c.redirect("/login", 303);
  });

  app.get("/dashboard", requireSession, async (c) => {
    const [counts, recent] = await Promise.all([
      deps.studies.stateCounts(),
      deps.studies.listStudies({ limit: 20 }),
    ]);
    return c.html(dashboardPage(c.get("page"), counts, recent));
  });

  app.notFound((c) => {
    const page = c.get("page") ?? { lang: "nl", t: translator("nl"), path: "/" };
    return c.html(errorPage(page, "error.notFound"), 404);
  });
  return app;
}
