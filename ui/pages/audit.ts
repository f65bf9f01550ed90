import { html } from "htm/preact";
import type { AuditEvent, ChainReport } from "../../modules/audit/mod.ts";
import { type PageContext, renderPage } from "./layout.ts";

/** The auditor's view: whether the chain is intact, and the latest events. */
export function auditPage(ctx: PageContext, report: ChainReport, events: AuditEvent[]): string {
  const t = ctx.t;
  return renderPage(
    ctx,
    t("audit.title"),
    html`
      <p class=${report.ok ? "ok" : "error"} data-chain=${report.ok ? "intact" : "broken"}>
        ${report.ok
          ? t("audit.intact", { count: String(report.checked) })
          : t("audit.broken", { count: String(report.problems.length) })}
      </p>
      ${!report.ok &&
        html`<ul class="problems">${report.problems.map((p) => html`<li>${p.message}</li>`)}</ul>`}
      <table class="audit">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">${t("audit.when")}</th>
            <th scope="col">${t("audit.action")}</th>
            <th scope="col">${t("audit.outcome")}</th>
            <th scope="col">${t("audit.who")}</th>
            <th scope="col">${t("audit.from")}</th>
            <th scope="col">${t("audit.patient")}</th>
            <th scope="col">${t("audit.object")}</th>
          </tr>
        </thead>
        <tbody>
          ${events.map((e) =>
            html`
              <tr data-action=${e.action}>
                <td class="num">${e.seq}</td>
                <td>${e.occurredAt.slice(0, 19).replace("T", " ")}</td>
                <td>${e.action}</td>
                <td>${e.outcome}</td>
                <td>${e.actor.kind === "user"
                  ? `${e.actor.id} (${e.actor.role ?? ""})`
                  : e.actor.id}</td>
                <td>${e.sourceAddress ?? ""}</td>
                <td>${e.patient.bsn ?? e.patient.id ?? ""}</td>
                <td>${e.object ? `${e.object.kind} ${e.object.id}` : ""}</td>
              </tr>
            `
          )}
        </tbody>
      </table>
    `,
  );
}
