import { html } from "htm/preact";
import type { StudySummary } from "../../modules/studies/mod.ts";
import { type PageContext, renderPage } from "./layout.ts";

/** One study: who it belongs to, what it holds and where it came from. */
export function studyPage(ctx: PageContext, study: StudySummary): string {
  const t = ctx.t;
  const rows: [string, string][] = [
    [t("study.patientId"), study.patientId],
    [t("study.patientName"), study.patientName ?? ""],
    [t("study.date"), study.studyDate ?? ""],
    [t("study.description"), study.description ?? ""],
    [t("study.modalities"), study.modalities.join(", ")],
    [t("study.instances"), String(study.instances)],
    [t("study.sender"), study.callingAe],
    [t("study.state"), study.state],
    ["Study Instance UID", study.studyInstanceUid],
  ];
  return renderPage(
    ctx,
    t("study.title"),
    html`
      <dl class="card study">
        ${rows.map(([label, value]) =>
          html`
            <dt>${label}</dt>
            <dd>${value}</dd>
          `
        )}
      </dl>
    `,
  );
}

/** The caregiver's inbox; received studies per department arrive with the portal. */
export function portalPage(ctx: PageContext): string {
  return renderPage(
    ctx,
    ctx.t("portal.title"),
    html`<p class="muted">${ctx.t("portal.empty")}</p>`,
  );
}
