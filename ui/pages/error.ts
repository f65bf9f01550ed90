import type { MessageKey } from "../i18n/mod.ts";
import { errorBox, type PageContext, renderPage } from "./layout.ts";

/** A plain error page (403, 404). */
export function errorPage(ctx: PageContext, key: MessageKey): string {
  return renderPage(ctx, ctx.t("app.name"), errorBox(ctx.t(key)));
}
