import { html } from "htm/preact";
import { errorBox, type PageContext, renderPage } from "./layout.ts";

/** The first-run form where the first admin chooses a name and password. */
export function setupPage(ctx: PageContext, token: string, error?: string): string {
  return renderPage(
    ctx,
    ctx.t("setup.title"),
    html`
      <p>${ctx.t("setup.intro")}</p>
      ${errorBox(error)}
      <form method="post" action="/setup" class="card form">
        <input type="hidden" name="token" value=${token} />
        <input type="hidden" name="csrf" value=${ctx.csrfToken} />
        <label for="username">${ctx.t("setup.username")}</label>
        <input id="username" name="username" autocomplete="username" required autofocus />
        <label for="password">${ctx.t("setup.password")}</label>
        <input id="password" name="password" type="password" autocomplete="new-password" minlength="12"
          required />
        <label for="password2">${ctx.t("setup.passwordRepeat")}</label>
        <input id="password2" name="password2" type="password" autocomplete="new-password" minlength="12"
          required />
        <button type="submit">${ctx.t("setup.submit")}</button>
      </form>
    `,
  );
}

/** Shown when the setup link cannot be used. */
export function setupInvalidPage(ctx: PageContext): string {
  return renderPage(ctx, ctx.t("setup.title"), errorBox(ctx.t("setup.tokenInvalid")));
}
