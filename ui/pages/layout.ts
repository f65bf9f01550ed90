import { html } from "htm/preact";
import type { ComponentChildren, VNode } from "preact";
import { render } from "preact-render-to-string";
import type { Lang, Translate } from "../i18n/mod.ts";

/** What every page needs to render its frame. */
export interface PageContext {
  lang: Lang;
  t: Translate;
  /** The current path, so the language switch returns to the same page. */
  path: string;
  /** The signed-in user's name and the session's CSRF token, when signed in. */
  user?: { username: string; role: string; csrfToken: string };
  /** The token every form posts back: the session's, or before sign-in the pre-session cookie's. */
  csrfToken: string;
}

type NavKey =
  | "nav.dashboard"
  | "nav.users"
  | "nav.audit"
  | "nav.portal"
  | "nav.studies"
  | "nav.settings";

/** Where each role starts, and which pages its navigation shows. */
const navigation: Record<string, [string, NavKey][]> = {
  admin: [
    ["/dashboard", "nav.dashboard"],
    ["/studies", "nav.studies"],
    ["/settings", "nav.settings"],
    ["/users", "nav.users"],
  ],
  sender: [["/dashboard", "nav.dashboard"], ["/studies", "nav.studies"]],
  caregiver: [["/portal", "nav.portal"]],
  auditor: [["/audit", "nav.audit"]],
};

function header(ctx: PageContext): VNode {
  const other = ctx.lang === "nl" ? "en" : "nl";
  return html`
    <header class="top">
      <a class="brand" href="/">${ctx.t("app.name")}</a>
      <span class="tagline">${ctx.t("app.tagline")}</span>
      <nav>
        ${ctx.user &&
          (navigation[ctx.user.role] ?? []).map(([href, key]) =>
            html`<a href=${href} aria-current=${ctx.path.startsWith(href) ? "page" : undefined}>${
              ctx.t(
                key,
              )
            }</a>`
          )}
        <a href=${`${ctx.path}?lang=${other}`} lang=${other} hreflang=${other}>${ctx.t(
          "lang.switch",
        )}</a>
        ${ctx.user &&
          html`
            <form method="post" action="/logout" class="inline">
              <input type="hidden" name="csrf" value=${ctx.user.csrfToken} />
              <button type="submit">${ctx.t("nav.logout")}</button>
            </form>
            <form method="post" action="/logout/all" class="inline">
              <input type="hidden" name="csrf" value=${ctx.user.csrfToken} />
              <button type="submit">${ctx.t("nav.logoutAll")}</button>
            </form>
          `}
      </nav>
    </header>
  `;
}

/** Renders a full HTML document around `body`. No inline scripts or styles (CSP). */
export function renderPage(ctx: PageContext, title: string, body: ComponentChildren): string {
  const page = html`
    <html lang=${ctx.lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · ${ctx.t("app.name")}</title>
        <link rel="stylesheet" href="/static/app.css" />
      </head>
      <body>
        <a class="skip" href="#main">${ctx.t("skip")}</a>
        ${header(ctx)}
        <main id="main">
          <h1>${title}</h1>
          ${body}
        </main>
      </body>
    </html>
  `;
  return "<!doctype html>" + render(page);
}

/** A message box for form errors, announced to screen readers. */
export function errorBox(message: string | undefined): VNode | null {
  return message ? html`<p class="error" role="alert">${message}</p>` : null;
}

/** The hidden CSRF field every state-changing form carries. */
export function csrfField(ctx: PageContext): VNode {
  return html`<input type="hidden" name="csrf" value=${ctx.csrfToken} />`;
}

/** The outcome of the last action: a status line, or an error announced to screen readers. */
export function notices(message: string | undefined, error: string | undefined): VNode {
  return html`${message && html`<p class="ok" role="status" data-message>${message}</p>`}${
    errorBox(
      error,
    )
  }`;
}
