import { html } from "htm/preact";
import { renderSVG } from "uqr";
import { errorBox, type PageContext, renderPage } from "./layout.ts";

/** The second sign-in step: the six-digit code from the authenticator app. */
export function totpLoginPage(ctx: PageContext, error?: string): string {
  return renderPage(
    ctx,
    ctx.t("totp.loginTitle"),
    html`
      <p>${ctx.t("totp.loginIntro")}</p>
      ${errorBox(error)}
      <form method="post" action="/login/totp" class="card form">
        <input type="hidden" name="csrf" value=${ctx.csrfToken} />
        <label for="code">${ctx.t("totp.code")}</label>
        <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}"
          maxlength="6" required autofocus />
        <button type="submit">${ctx.t("totp.verify")}</button>
      </form>
    `,
  );
}

/**
 * TOTP enrolment: the otpauth URI as a QR code (an SVG image from a data: URL, so no script and no
 * external asset) and as text for typing, and a field for the first code.
 */
export function totpEnrolPage(
  ctx: PageContext,
  secret: string,
  uri: string,
  error?: string,
): string {
  const qr = `data:image/svg+xml;base64,${btoa(renderSVG(uri, { border: 2 }))}`;
  return renderPage(
    ctx,
    ctx.t("totp.enrolTitle"),
    html`
      <p>${ctx.t("totp.enrolIntro")}</p>
      ${errorBox(error)}
      <div class="card">
        <img class="qr" src=${qr} width="220" height="220" alt=${ctx.t("totp.qrAlt")} />
        <p>${ctx.t("totp.manual")}</p>
        <p><code id="totp-secret">${secret}</code></p>
        <p><code id="otpauth-uri" class="wrap">${uri}</code></p>
      </div>
      <form method="post" action="/totp/enrol" class="card form">
        <input type="hidden" name="csrf" value=${ctx.csrfToken} />
        <input type="hidden" name="secret" value=${secret} />
        <label for="code">${ctx.t("totp.code")}</label>
        <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}"
          maxlength="6" required />
        <button type="submit">${ctx.t("totp.enrolSubmit")}</button>
      </form>
    `,
  );
}
