import { html } from "htm/preact";
import type { MessageKey } from "../i18n/mod.ts";
import { type PageContext, renderPage } from "./layout.ts";

const tiles: MessageKey[] = [
  "dashboard.arriving",
  "dashboard.waiting",
  "dashboard.sending",
  "dashboard.failed",
];

/** The (still empty) dashboard: what is arriving, waiting, sending and failed right now. */
export function dashboardPage(ctx: PageContext): string {
  const user = ctx.user!;
  return renderPage(
    ctx,
    ctx.t("dashboard.title"),
    html`
      <p class="welcome">${ctx.t("dashboard.welcome", { user: user.username, role: user.role })}</p>
      <section class="tiles" aria-label=${ctx.t("dashboard.title")}>
        ${tiles.map((key) =>
          html`<div class="tile"><span class="count">0</span><span>${ctx.t(key)}</span></div>`
        )}
      </section>
      <p class="muted">${ctx.t("dashboard.empty")}</p>
    `,
  );
}
