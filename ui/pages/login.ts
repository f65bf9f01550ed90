import { html } from "htm/preact";
import { errorBox, type PageContext, renderPage } from "./layout.ts";

/** The sign-in form. */
export function loginPage(ctx: PageContext, error?: string): string {
  return renderPage(
    ctx,
    ctx.t("login.title"),
    html`
      ${errorBox(error)}
      <form method="post" action="/login" class="card form">
        <input type="hidden" name="csrf" value=${ctx.csrfToken} />
        <label for="username">${ctx.t("login.username")}</label>
        <input id="username" name="username" autocomplete="username" required autofocus />
        <label for="password">${ctx.t("login.password")}</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
        <button type="submit">${ctx.t("login.submit")}</button>
      </form>
    `,
  );
}
