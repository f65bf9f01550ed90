import { html } from "htm/preact";
import type { InboxItem, LocalPatient, PatientMatch } from "../../modules/portal/mod.ts";
import type { StudySummary } from "../../modules/studies/mod.ts";
import type { TransferJob } from "../../modules/transfer/mod.ts";
import { dicomDate, label, megabytes, personName, when } from "./format.ts";
import { csrfField, errorBox, type PageContext, renderPage } from "./layout.ts";
import { jobProgress, studyColumns } from "./study.ts";

function matchText(ctx: PageContext, m: PatientMatch): string {
  const t = ctx.t;
  if (m.kind === "bsn") return t("portal.matchBsn", { id: m.localPatientId });
  if (m.kind === "decided") {
    return m.reconciliation.decision === "new"
      ? t("portal.matchNew", { id: m.reconciliation.localPatientId })
      : t("portal.matchPicked", { id: m.reconciliation.localPatientId });
  }
  return t("portal.matchOpen");
}

/** One inbox line: the study, and who sent it (the hospital's name, else its address). */
export type InboxLine = InboxItem & { from: string };

/**
 * The caregiver's inbox: studies received by mail for their department (`department` null: a
 * caregiver without department, who sees every department's).
 */
export function portalPage(
  ctx: PageContext,
  items: InboxLine[],
  department: string | null,
): string {
  const t = ctx.t;
  return renderPage(
    ctx,
    t("portal.title"),
    html`
      <p class="muted" data-department=${department ?? ""}>${department
        ? t("portal.forDepartment", { department })
        : t("portal.allDepartments")}</p>
      ${items.length === 0 ? html`<p class="muted">${t("portal.empty")}</p>` : html`
        <table class="studies inbox">
          <thead>
            <tr>
              <th scope="col">${t("study.received")}</th>
              <th scope="col">${t("study.patientName")}</th>
              <th scope="col">${t("study.patientId")}</th>
              <th scope="col">${t("study.description")}</th>
              <th scope="col" class="num">${t("study.instances")}</th>
              <th scope="col">${t("portal.from")}</th>
              <th scope="col">${t("portal.patient")}</th>
            </tr>
          </thead>
          <tbody>
            ${items.map(({ study, match, note, department: to, from }) =>
              html`
                <tr data-study=${study.studyInstanceUid} data-match=${match.kind}>
                  <td><a href=${`/portal/studies/${
                    encodeURIComponent(study.studyInstanceUid)
                  }`}>${when(
                    study.lastReceivedAt,
                  )}</a></td>
                  <td>${personName(study.patientName)}</td>
                  <td>${study.patientId}</td>
                  <td>${study.description ?? ""} ${dicomDate(study.studyDate)}${note
                    ? html`<br /><span class="muted" data-note>${t("portal.note")}: ${note}</span>`
                    : ""}</td>
                  <td class="num">${study.instances}</td>
                  <td data-from>${from}${to
                    ? html`<br /><span class="muted" data-to>${
                      t("portal.toDepartment", {
                        department: to,
                      })
                    }</span>`
                    : ""}</td>
                  <td class=${match.kind === "open" ? "attention" : ""}>${matchText(
                    ctx,
                    match,
                  )}</td>
                </tr>
              `
            )}
          </tbody>
        </table>
      `}
    `,
  );
}

/** One received study: reconcile the patient, import into the PACS, download. */
export function portalStudyPage(ctx: PageContext, d: {
  study: StudySummary;
  match: PatientMatch;
  query: string;
  candidates: LocalPatient[];
  importJobs: TransferJob[];
  importDestination: string;
  hasReport: boolean;
  message?: string;
  error?: string;
}): string {
  const t = ctx.t;
  const uid = encodeURIComponent(d.study.studyInstanceUid);
  return renderPage(
    ctx,
    t("portal.studyTitle"),
    html`
      ${studyColumns(
        ctx,
        d,
        html`
          <p class="actions">
            <a class="button" href=${`/portal/studies/${uid}/download`} download>${t(
              "portal.download",
            )}</a>
            <span class="muted">${t("portal.downloadHint", {
              mb: megabytes(d.study.bytes),
              report: d.hasReport ? t("portal.withReport") : "",
            })}</span>
          </p>
        `,
        html`
          <section aria-labelledby="h-patient">
            <h2 id="h-patient" class="first">${t("portal.patient")}</h2>
            <p data-match=${d.match.kind}>${matchText(ctx, d.match)}</p>
            ${d.match.kind === "open" && reconcileForms(ctx, d)}
            <h2>${t("portal.import")}</h2>
            ${d.importDestination
              ? html`
                ${d.importJobs.map((j) =>
                  html`<p data-import=${j.state}>${label(t, "jobstate", j.state)} ${
                    jobProgress(
                      ctx,
                      j,
                    )
                  }</p>`
                )}
                <form method="post" action=${`/portal/studies/${uid}/import`} class="inline">
                  ${csrfField(ctx)}
                  <button type="submit" disabled=${d.match.kind === "open"}>${t(
                    "portal.importTo",
                    { destination: d.importDestination },
                  )}</button>
                </form>
                ${d.match.kind === "open" &&
                  html`<p class="muted">${t("portal.reconcileFirst")}</p>`}
              `
              : html`<p class="muted">${t("portal.noImportDestination")}</p>`}
          </section>
        `,
      )}
    `,
  );
}

function reconcileForms(ctx: PageContext, d: {
  study: StudySummary;
  query: string;
  candidates: LocalPatient[];
}) {
  const t = ctx.t;
  const uid = encodeURIComponent(d.study.studyInstanceUid);
  return html`
    <form method="get" action=${`/portal/studies/${uid}`} class="card form" role="search">
      <label for="patient-q">${t("portal.searchLocal")}</label>
      <div class="row">
        <input id="patient-q" name="q" value=${d.query} />
        <button type="submit" class="secondary">${t("send.search")}</button>
      </div>
    </form>
    ${d.query && html`
      <form method="post" action=${`/portal/studies/${uid}/reconcile`} class="card form">
        ${csrfField(ctx)}
        <input type="hidden" name="decision" value="existing" />
        <fieldset>
          <legend>${t("portal.pickLocal")}</legend>
          ${d.candidates.length === 0
            ? html`<p class="muted">${t("send.noResults")}</p>`
            : d.candidates.map((p) =>
              html`<div class="option"><input type="radio" name="localPatientId" required
                id=${`p-${p.patientId}`} value=${p.patientId} />
                <label for=${`p-${p.patientId}`}>${personName(p.name)} (${p.patientId}${
                p.birthDate ? `, ${dicomDate(p.birthDate)}` : ""
              })</label></div>`
            )}
        </fieldset>
        ${d.candidates.length > 0 &&
          html`<button type="submit" id="reconcile-existing">${t("portal.confirmPick")}</button>`}
      </form>
    `}
    <form method="post" action=${`/portal/studies/${uid}/reconcile`} class="card form">
      ${csrfField(ctx)}
      <input type="hidden" name="decision" value="new" />
      <label for="new-id">${t("portal.newPatientId")}</label>
      <input id="new-id" name="localPatientId" required value=${d.study.patientId} />
      <button type="submit" id="reconcile-new" class="secondary">${t("portal.confirmNew")}</button>
    </form>
  `;
}

/** The patient's page behind a link: first the PIN, then the downloads. */
export function patientLinkPage(ctx: PageContext, d: {
  token: string;
  granted: boolean;
  study?: StudySummary;
  previews?: number;
  previewsEnabled?: boolean;
  hasReport?: boolean;
  error?: string;
}): string {
  const t = ctx.t;
  const base = `/p/${encodeURIComponent(d.token)}`;
  if (!d.granted) {
    return renderPage(
      ctx,
      t("patient.title"),
      html`
        <p>${t("patient.pinIntro")}</p>
        ${errorBox(d.error)}
        <form method="post" action=${base} class="card form">
          ${csrfField(ctx)}
          <label for="pin">${t("patient.pin")}</label>
          <input id="pin" name="pin" inputmode="numeric" autocomplete="one-time-code"
            pattern="[0-9]{6}" maxlength="6" required autofocus />
          <button type="submit">${t("patient.open")}</button>
        </form>
      `,
    );
  }
  const s = d.study!;
  return renderPage(
    ctx,
    t("patient.title"),
    html`
      <p>${t("patient.intro", {
        description: s.description ?? "",
        date: dicomDate(s.studyDate),
      })}</p>
      <ul class="downloads">
        <li><a class="button" id="download-zip" href=${`${base}/download`} download>${t(
          "patient.zip",
          { mb: megabytes(s.bytes), count: String(s.instances) },
        )}</a>
          <p class="muted">${t("patient.zipHint")}</p></li>
        ${d.hasReport && html`<li><a class="button" href=${`${base}/report`} download>${
          t(
            "patient.report",
          )
        }</a></li>`}
      </ul>
      <h2>${t("patient.previews")}</h2>
      ${d.previewsEnabled && d.previews
        ? html`<div class="previews">${
          Array.from({ length: d.previews }, (_, i) =>
            html`<a href=${`${base}/preview/${i}`} download=${`beeld-${i + 1}.jpg`}><img
            src=${`${base}/preview/${i}`} alt=${t("patient.previewAlt", { n: String(i + 1) })}
            width="240" loading="lazy" /></a>`)
        }</div>`
        : html`<p class="muted">${t("patient.noPreviews")}</p>`}
    `,
  );
}

/** A link that cannot be used (expired, revoked, locked, unknown): says which, and what to do. */
export function patientGonePage(ctx: PageContext, reason: string): string {
  const t = ctx.t;
  return renderPage(
    ctx,
    t("patient.title"),
    html`
      <p class="error" role="alert" data-gone=${reason}>${label(t, "patient.gone", reason)}</p>
      <p>${t("patient.goneHelp")}</p>
    `,
  );
}
