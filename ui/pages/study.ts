import { html } from "htm/preact";
import type { PatientLink } from "../../modules/portal/mod.ts";
import type { StudySummary } from "../../modules/studies/mod.ts";
import type { TransferJob } from "../../modules/transfer/mod.ts";
import { studyTable } from "./dashboard.ts";
import { dicomDate, label, megabytes, personName, when } from "./format.ts";
import { csrfField, notices, type PageContext, renderPage } from "./layout.ts";

/** One line of a study's timeline (study events and relay steps, merged in time order). */
export interface TimelineEntry {
  at: string;
  kind: string;
  text: string;
}

/** What the study page shows besides the study. */
export interface StudyPageData {
  study: StudySummary;
  timeline: TimelineEntry[];
  jobs: TransferJob[];
  links: PatientLink[];
  /** Destinations a dead "dicom" job can be redirected to. */
  destinations: string[];
  /** Display names of job destinations (hospital names for URAs). */
  destinationNames?: Record<string, string>;
  canSend: boolean;
  canOperate: boolean;
  message?: string;
  error?: string;
}

/** The facts of a study as a definition list. */
export function studyFacts(ctx: PageContext, study: StudySummary) {
  const t = ctx.t;
  const rows: [string, string][] = [
    [t("study.patientId"), study.patientId],
    [t("study.patientName"), personName(study.patientName)],
    [t("study.date"), dicomDate(study.studyDate)],
    [t("study.accession"), study.accessionNumber ?? ""],
    [t("study.description"), study.description ?? ""],
    [t("study.modalities"), study.modalities.join(", ")],
    [t("study.instances"), `${study.instances} (${megabytes(study.bytes)} MB)`],
    [t("study.sender"), study.callingAe],
    [t("study.state"), label(t, "state", study.state)],
  ];
  return html`
    <dl class="card study">
      ${rows.map(([l, v]) =>
        html`
          <dt>${l}</dt>
          <dd>${v}</dd>
        `
      )}
    </dl>
  `;
}

/** The page's opening: a notice, then the study's facts beside `side`, with `actions` below them. */
export function studyColumns(
  ctx: PageContext,
  d: { study: StudySummary; message?: string; error?: string },
  actions: unknown,
  side: unknown,
) {
  return html`
    ${notices(d.message, d.error)}
    <div class="columns">
      <section aria-labelledby="h-facts">
        <h2 id="h-facts" class="first">${ctx.t("study.facts")}</h2>
        ${studyFacts(ctx, d.study)} ${actions}
      </section>
      ${side}
    </div>
  `;
}

/** A job's progress as a native progress bar with its numbers in words. */
export function jobProgress(ctx: PageContext, job: TransferJob) {
  return html`
    <progress max=${job.items.total || 1} value=${job.items.done} data-progress-job=${job.id}
      aria-label=${ctx.t("job.progress", { destination: job.destination })}></progress>
    <span class="progress-text" data-progress-text=${job.id}>${ctx.t("job.items", {
      done: String(job.items.done),
      total: String(job.items.total),
    })}</span>
  `;
}

/** One study: facts, timeline, jobs with live progress and actions, patient links. */
export function studyPage(ctx: PageContext, d: StudyPageData): string {
  const t = ctx.t;
  const uid = encodeURIComponent(d.study.studyInstanceUid);
  const running = d.jobs.some((j) => ["queued", "running", "waiting-ack"].includes(j.state));
  return renderPage(
    ctx,
    t("study.title"),
    html`
      ${studyColumns(
        ctx,
        d,
        d.canSend && html`
          <p class="actions">
            <a class="button" href=${`/send?study=${uid}`}>${t("send.start")}</a>
          </p>
          <form method="post" action=${`/studies/${uid}/resend`} class="inline">
            ${csrfField(ctx)}
            <button type="submit" class="secondary">${t("study.resendMissing")}</button>
          </form>
        `,
        html`
          <section aria-labelledby="h-timeline">
            <h2 id="h-timeline" class="first">${t("study.timeline")}</h2>
            <ol class="timeline" data-timeline>
              ${d.timeline.map((e) =>
                html`<li data-kind=${e.kind}><time datetime=${e.at}>${when(e.at)}</time>
                <strong>${label(t, "event", e.kind)}</strong> ${e.text}</li>`
              )}
            </ol>
          </section>
        `,
      )}
      <h2>${t("study.jobs")}</h2>
      ${d.jobs.length === 0 ? html`<p class="muted">${t("study.noJobs")}</p>` : html`
        <table class="studies jobs" data-progress-url=${running
          ? `/studies/${uid}/progress.json`
          : undefined}>
          <thead>
            <tr>
              <th scope="col">${t("job.created")}</th>
              <th scope="col">${t("job.kind")}</th>
              <th scope="col">${t("job.destination")}</th>
              <th scope="col">${t("job.state")}</th>
              <th scope="col">${t("job.progressHead")}</th>
              <th scope="col">${t("job.actions")}</th>
            </tr>
          </thead>
          <tbody>
            ${d.jobs.map((j) =>
              html`
                <tr data-job=${j.id} data-state=${j.state}>
                  <td>${when(j.createdAt)}</td>
                  <td>${label(t, "jobkind", j.kind)}</td>
                  <td>${d.destinationNames?.[j.destination] ?? j.destination}</td>
                  <td data-job-state=${j.id}>${label(t, "jobstate", j.state)}${j.lastError &&
                    html`<br /><small class="error">${j.lastError}</small>`}</td>
                  <td>${jobProgress(ctx, j)}</td>
                  <td>${d.canOperate && jobActions(ctx, j, d.destinations)}</td>
                </tr>
              `
            )}
          </tbody>
        </table>
      `}
      ${d.canSend && linksSection(ctx, d)}
      ${running && html`<script type="module" src="/static/progress.js"></script>`}
    `,
  );
}

function jobActions(ctx: PageContext, j: TransferJob, destinations: string[]) {
  const t = ctx.t;
  const base = `/jobs/${encodeURIComponent(j.id)}`;
  const others = destinations.filter((d) => d !== j.destination);
  return html`
    ${["failed", "dead"].includes(j.state) && html`
      <form method="post" action=${`${base}/retry`} class="inline">
        ${csrfField(ctx)}<button type="submit">${t("job.retry")}</button>
      </form>
    `}
    ${["queued", "failed", "waiting-ack"].includes(j.state) && html`
      <form method="post" action=${`${base}/cancel`} class="inline">
        ${csrfField(ctx)}<button type="submit" class="secondary">${t("job.cancel")}</button>
      </form>
    `}
    ${["failed", "dead"].includes(j.state) && html`
      <form method="post" action=${`${base}/redirect`} class="inline redirect">
        ${csrfField(ctx)}
        <label for=${`to-${j.id}`} class="visually-hidden">${t("job.redirectTo")}</label>
        ${j.kind === "dicom"
          ? html`<select id=${`to-${j.id}`} name="destination" required>
            ${others.map((d) => html`<option value=${d}>${d}</option>`)}
          </select>`
          : html`
            <input id=${`to-${j.id}`} name="destination" required size="10"
              placeholder=${t("job.redirectUra")} />
          `}
        <button type="submit" class="secondary">${t("job.redirect")}</button>
      </form>
    `}
  `;
}

function linksSection(ctx: PageContext, d: StudyPageData) {
  const t = ctx.t;
  const uid = encodeURIComponent(d.study.studyInstanceUid);
  return html`
    <h2>${t("links.title")}</h2>
    ${d.links.length > 0 && html`
      <table class="studies" data-links>
        <thead>
          <tr>
            <th scope="col">${t("links.created")}</th>
            <th scope="col">${t("links.expires")}</th>
            <th scope="col">${t("links.status")}</th>
            <th scope="col" class="num">${t("links.downloads")}</th>
            <th scope="col"></th>
          </tr>
        </thead>
        <tbody>
          ${d.links.map((l) =>
            html`
              <tr data-link=${l.id}>
                <td>${when(l.createdAt)} (${l.createdBy})</td>
                <td>${when(l.expiresAt)}</td>
                <td>${label(t, "linkstatus", l.status)}</td>
                <td class="num">${l.downloads}</td>
                <td>${l.status === "active" && html`
                  <form method="post" action=${`/links/${encodeURIComponent(l.id)}/revoke`}
                    class="inline">
                    ${csrfField(ctx)}<button type="submit" class="secondary">${t(
                      "links.revoke",
                    )}</button>
                  </form>
                `}</td>
              </tr>
            `
          )}
        </tbody>
      </table>
    `}
    <form method="post" action=${`/studies/${uid}/links`} class="card form row">
      ${csrfField(ctx)}
      <label for="days">${t("links.days")}</label>
      <input id="days" name="days" type="number" min="1" max="90" value="14" required />
      <button type="submit">${t("links.create")}</button>
    </form>
  `;
}

/** Shown once after a link is made: the URL for the patient and the PIN to give separately. */
export function linkCreatedPage(
  ctx: PageContext,
  study: StudySummary,
  url: string,
  pin: string,
  expiresAt: string,
): string {
  const t = ctx.t;
  return renderPage(
    ctx,
    t("links.createdTitle"),
    html`
      <p>${t("links.createdIntro", {
        patient: personName(study.patientName) || study.patientId,
      })}</p>
      <dl class="card study">
        <dt>${t("links.url")}</dt>
        <dd><code id="link-url" class="wrap">${url}</code></dd>
        <dt>${t("links.pin")}</dt>
        <dd><code id="link-pin" class="pin">${pin}</code></dd>
        <dt>${t("links.expires")}</dt>
        <dd>${when(expiresAt)}</dd>
      </dl>
      <p class="muted">${t("links.pinOnce")}</p>
      <p><a href=${`/studies/${encodeURIComponent(study.studyInstanceUid)}`}>${t(
        "links.back",
      )}</a></p>
    `,
  );
}

/** Search by patient id, name, study date and accession number. */
export function studiesPage(
  ctx: PageContext,
  query: Record<string, string>,
  studies: StudySummary[],
): string {
  const t = ctx.t;
  const field = (name: string, key: Parameters<typeof t>[0], type = "text") =>
    html`<div><label for=${`q-${name}`}>${t(key)}</label>
      <input id=${`q-${name}`} name=${name} type=${type} value=${query[name] ?? ""} /></div>`;
  return renderPage(
    ctx,
    t("studies.title"),
    html`
      <form method="get" action="/studies" class="card search" role="search">
        ${field("patientId", "study.patientId")}
        ${field("patientName", "study.patientName")}
        ${field("date", "study.date", "date")}
        ${field("accession", "study.accession")}
        <div><button type="submit">${t("studies.search")}</button></div>
      </form>
      <p class="muted" role="status">${t("studies.found", { count: String(studies.length) })}</p>
      ${studies.length > 0 && studyTable(ctx, studies)}
    `,
  );
}
