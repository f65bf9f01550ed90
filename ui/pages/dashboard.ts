import { html } from "htm/preact";
import type { StudySummary } from "../../modules/studies/mod.ts";
import { isMessageKey, type MessageKey } from "../i18n/mod.ts";
import { type PageContext, renderPage } from "./layout.ts";

/** Dashboard tiles and the study states each one counts. */
const tiles: [MessageKey, string[]][] = [
  ["dashboard.arriving", ["receiving"]],
  ["dashboard.waiting", ["stable", "complete", "queued"]],
  ["dashboard.sending", ["sending"]],
  ["dashboard.failed", ["failed", "dead"]],
];

function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

/** What is arriving, waiting, sending and failed right now, and the latest studies. */
export function dashboardPage(
  ctx: PageContext,
  counts: Record<string, number>,
  recent: StudySummary[],
): string {
  const user = ctx.user!;
  const t = ctx.t;
  const stateLabel = (state: string) => {
    const key = `state.${state}`;
    return isMessageKey(key) ? t(key) : state;
  };
  return renderPage(
    ctx,
    t("dashboard.title"),
    html`
      <p class="welcome">${t("dashboard.welcome", { user: user.username, role: user.role })}</p>
      <section class="tiles" aria-label=${t("dashboard.title")}>
        ${tiles.map(([key, states]) =>
          html`
            <div class="tile" data-tile=${key}>
              <span class="count">${states.reduce((n, s) => n + (counts[s] ?? 0), 0)}</span>
              <span>${t(key)}</span>
            </div>
          `
        )}
      </section>
      <h2>${t("dashboard.recent")}</h2>
      ${recent.length === 0 ? html`<p class="muted">${t("dashboard.empty")}</p>` : html`
        <table class="studies">
          <thead>
            <tr>
              <th scope="col">${t("study.received")}</th>
              <th scope="col">${t("study.patientId")}</th>
              <th scope="col">${t("study.modalities")}</th>
              <th scope="col">${t("study.description")}</th>
              <th scope="col" class="num">${t("study.instances")}</th>
              <th scope="col" class="num">MB</th>
              <th scope="col">${t("study.sender")}</th>
              <th scope="col">${t("study.state")}</th>
            </tr>
          </thead>
          <tbody>
            ${recent.map((s) =>
              html`
                <tr>
                  <td>${s.lastReceivedAt.slice(0, 16).replace("T", " ")}</td>
                  <td>${s.patientId}</td>
                  <td>${s.modalities.join(", ")}</td>
                  <td>${s.description ?? ""}</td>
                  <td class="num">${s.instances}</td>
                  <td class="num">${megabytes(s.bytes)}</td>
                  <td>${s.callingAe}</td>
                  <td>${stateLabel(s.state)}</td>
                </tr>
              `
            )}
          </tbody>
        </table>
      `}
    `,
  );
}
