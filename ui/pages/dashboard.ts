import { html } from "htm/preact";
import type { SyncRun } from "../../modules/addressbook/mod.ts";
import type { StudySummary } from "../../modules/studies/mod.ts";
import type { TransferJob } from "../../modules/transfer/mod.ts";
import type { MessageKey } from "../i18n/mod.ts";
import { barChart } from "./chart.ts";
import { label, megabytes, personName, when } from "./format.ts";
import { type PageContext, renderPage } from "./layout.ts";

/** Dashboard tiles and the study states each one counts. */
const tiles: [MessageKey, string[]][] = [
  ["dashboard.arriving", ["receiving"]],
  ["dashboard.waiting", ["stable", "complete", "queued"]],
  ["dashboard.sending", ["sending"]],
  ["dashboard.failed", ["failed", "dead"]],
];

/** Job states that add to the tiles: a queued or running job is waiting or sending. */
const jobTiles: Partial<Record<MessageKey, string[]>> = {
  "dashboard.waiting": ["queued"],
  "dashboard.sending": ["running", "waiting-ack"],
  "dashboard.failed": ["failed", "dead"],
};

/** Everything the dashboard shows. */
export interface DashboardData {
  counts: Record<string, number>;
  jobCounts: Record<string, number>;
  recent: StudySummary[];
  /** Last 24 hours, per hour. */
  hours: string[];
  imagesPerHour: number[];
  /** Median minutes from queued to delivered, per hour of delivery. */
  latencyPerHour: (number | null)[];
  disk: { freeBytes: number; totalBytes: number } | null;
  certificates: { name: string; notAfter: string; daysLeft: number }[];
  syncRuns: SyncRun[];
  sources: string[];
  attention: TransferJob[];
  /** Display names of job destinations (hospital names for URAs). */
  destinationNames?: Record<string, string>;
}

/** Free space below this fraction is a warning. */
const diskWarnFraction = 0.1;
/** Certificates expiring within this many days are a warning. */
const certWarnDays = 30;

/** What is arriving, waiting, sending and failed right now, the last day, and warnings. */
export function dashboardPage(ctx: PageContext, d: DashboardData): string {
  const user = ctx.user!;
  const t = ctx.t;
  const warnings: string[] = [];
  if (d.disk && d.disk.freeBytes / d.disk.totalBytes < diskWarnFraction) {
    warnings.push(t("dashboard.diskLow", { free: megabytes(d.disk.freeBytes) }));
  }
  for (const c of d.certificates) {
    if (c.daysLeft < certWarnDays) {
      warnings.push(
        t(c.daysLeft < 0 ? "dashboard.certExpired" : "dashboard.certExpiring", {
          name: c.name,
          date: c.notAfter.slice(0, 10),
          days: String(c.daysLeft),
        }),
      );
    }
  }
  const lastRun = (source: string) => d.syncRuns.find((r) => r.source === source);
  return renderPage(
    ctx,
    t("dashboard.title"),
    html`
      <p class="welcome">${t("dashboard.welcome", { user: user.username, role: user.role })}</p>
      ${warnings.length > 0 &&
        html`<ul class="warnings" role="status">${warnings.map((w) => html`<li>${w}</li>`)}</ul>`}
      <section class="tiles" aria-label=${t("dashboard.now")}>
        ${tiles.map(([key, states]) =>
          html`
            <div class="tile" data-tile=${key}>
              <span class="count">${states.reduce((n, s) => n + (d.counts[s] ?? 0), 0) +
                (jobTiles[key] ?? []).reduce((n, s) => n + (d.jobCounts[s] ?? 0), 0)}</span>
              <span>${t(key)}</span>
            </div>
          `
        )}
      </section>
      <div class="charts">
        ${barChart({
          id: "throughput",
          title: t("dashboard.throughput"),
          unit: t("dashboard.images"),
          labels: d.hours,
          values: d.imagesPerHour,
          emptyText: t("dashboard.noData"),
        })}
        ${barChart({
          id: "latency",
          title: t("dashboard.latency"),
          unit: t("dashboard.minutes"),
          labels: d.hours,
          values: d.latencyPerHour,
          emptyText: t("dashboard.noData"),
        })}
      </div>
      <div class="columns">
        <section aria-labelledby="h-system">
          <h2 id="h-system">${t("dashboard.system")}</h2>
          <dl class="card compact">
            <dt>${t("dashboard.disk")}</dt>
            <dd data-disk>${d.disk
              ? t("dashboard.diskFree", {
                free: (d.disk.freeBytes / 1e9).toFixed(1),
                total: (d.disk.totalBytes / 1e9).toFixed(1),
              })
              : "?"}</dd>
            ${d.certificates.map((c) =>
              html`
                <dt>${c.name}</dt>
                <dd>${t("dashboard.validUntil", {
                  date: c.notAfter.slice(0, 10),
                })}</dd>
              `
            )}
          </dl>
        </section>
        <section aria-labelledby="h-book">
          <h2 id="h-book">${t("dashboard.addressBook")}</h2>
          ${d.sources.length === 0 ? html`<p class="muted">${t("dashboard.noSources")}</p>` : html`
            <dl class="card compact" data-sync>
              ${d.sources.map((s) => {
                const run = lastRun(s);
                return html`
                  <dt>${s}</dt>
                  <dd class=${run?.status === "failed" ? "error" : ""}>${run
                    ? t(run.status === "ok" ? "dashboard.syncOk" : "dashboard.syncFailed", {
                      when: when(run.startedAt),
                      added: String(run.added),
                      changed: String(run.changed),
                    })
                    : t("dashboard.syncNever")}</dd>
                `;
              })}
            </dl>
          `}
        </section>
      </div>
      ${d.attention.length > 0 && html`
        <h2>${t("dashboard.attention")}</h2>
        <table class="studies" data-attention>
          <thead>
            <tr>
              <th scope="col">${t("job.destination")}</th>
              <th scope="col">${t("job.state")}</th>
              <th scope="col">${t("job.error")}</th>
              <th scope="col"></th>
            </tr>
          </thead>
          <tbody>
            ${d.attention.map((j) =>
              html`
                <tr>
                  <td>${d.destinationNames?.[j.destination] ?? j.destination}</td>
                  <td>${label(t, "jobstate", j.state)}</td>
                  <td>${j.lastError ?? ""}</td>
                  <td>${j.subject &&
                    html`<a href=${`/studies/${encodeURIComponent(j.subject)}`}>${
                      t(
                        "dashboard.open",
                      )
                    }</a>`}</td>
                </tr>
              `
            )}
          </tbody>
        </table>
      `}
      <h2>${t("dashboard.recent")}</h2>
      ${d.recent.length === 0
        ? html`<p class="muted">${t("dashboard.empty")}</p>`
        : studyTable(ctx, d.recent)}
    `,
  );
}

/** The studies table of the dashboard and the search page. */
export function studyTable(ctx: PageContext, studies: StudySummary[]) {
  const t = ctx.t;
  return html`
    <table class="studies">
      <thead>
        <tr>
          <th scope="col">${t("study.received")}</th>
          <th scope="col">${t("study.patientId")}</th>
          <th scope="col">${t("study.patientName")}</th>
          <th scope="col">${t("study.modalities")}</th>
          <th scope="col">${t("study.description")}</th>
          <th scope="col" class="num">${t("study.instances")}</th>
          <th scope="col" class="num">MB</th>
          <th scope="col">${t("study.sender")}</th>
          <th scope="col">${t("study.state")}</th>
        </tr>
      </thead>
      <tbody>
        ${studies.map((s) =>
          html`
            <tr>
              <td><a href=${`/studies/${encodeURIComponent(s.studyInstanceUid)}`}>${when(
                s.lastReceivedAt,
              )}</a></td>
              <td>${s.patientId}</td>
              <td>${personName(s.patientName)}</td>
              <td>${s.modalities.join(", ")}</td>
              <td>${s.description ?? ""}</td>
              <td class="num">${s.instances}</td>
              <td class="num">${megabytes(s.bytes)}</td>
              <td>${s.callingAe}</td>
              <td>${label(t, "state", s.state)}</td>
            </tr>
          `
        )}
      </tbody>
    </table>
  `;
}
