import { html } from "htm/preact";
import type { AddressBookEntry, Recipient } from "../../modules/addressbook/mod.ts";
import type { StudySummary } from "../../modules/studies/mod.ts";
import { dicomDate, megabytes, personName } from "./format.ts";
import { errorBox, type PageContext, renderPage } from "./layout.ts";

/** A series of the study, to pick part of it. */
export interface SeriesChoice {
  seriesInstanceUid: string;
  number: number;
  instances: number;
  bytes: number;
}

/** Step 1: what, to whom, with which note. The recipient search works without script too. */
export function sendPage(ctx: PageContext, d: {
  study: StudySummary;
  series: SeriesChoice[];
  query: string;
  results: AddressBookEntry[];
  chosen: { series: string[]; recipient: string; note: string; department?: string };
  error?: string;
}): string {
  const t = ctx.t;
  const uid = d.study.studyInstanceUid;
  return renderPage(
    ctx,
    t("send.title"),
    html`
      <p>${t("send.intro", {
        patient: `${personName(d.study.patientName)} (${d.study.patientId})`,
        date: dicomDate(d.study.studyDate),
      })}</p>
      ${errorBox(d.error)}
      <form method="get" action="/send" class="card form wide" role="search" id="recipient-search">
        <input type="hidden" name="study" value=${uid} />
        <label for="recipient-q">${t("send.searchLabel")}</label>
        <div class="row">
          <input id="recipient-q" name="q" value=${d.query} autocomplete="off"
            aria-describedby="recipient-hint" aria-controls="recipient-list" />
          <button type="submit" class="secondary">${t("send.search")}</button>
        </div>
        <small id="recipient-hint" class="muted">${t("send.searchHint")}</small>
      </form>
      <form method="post" action="/send/review" class="card form wide" id="send-form">
        <input type="hidden" name="csrf" value=${ctx.csrfToken} />
        <input type="hidden" name="study" value=${uid} />
        <fieldset id="recipient-list" aria-live="polite">
          <legend>${t("send.recipient")}</legend>
          ${d.results.length === 0
            ? html`<p class="muted" data-empty>${
              d.query ? t("send.noResults") : t("send.typeToSearch")
            }</p>`
            : d.results.map((e) => recipientOption(e, d.chosen.recipient))}
        </fieldset>
        <fieldset>
          <legend>${t("send.series")}</legend>
          ${d.series.map((s) =>
            html`<label class="check"><input type="checkbox" name="series"
              value=${s.seriesInstanceUid}
              checked=${
              d.chosen.series.length === 0 || d.chosen.series.includes(s.seriesInstanceUid)
            } />
              ${
              t("send.seriesLine", {
                n: String(s.number),
                count: String(s.instances),
                mb: megabytes(s.bytes),
              })
            }</label>`
          )}
        </fieldset>
        <label for="department">${t("send.department")}</label>
        <input id="department" name="department" value=${d.chosen.department ?? ""}
          list="departments" autocomplete="off" aria-describedby="department-hint" />
        <datalist id="departments">
          ${[...new Set(d.results.flatMap((e) => e.departments.map((x) => x.name)))].map((n) =>
            html`<option value=${n} />`
          )}
        </datalist>
        <small id="department-hint" class="muted">${t("send.departmentHint")}</small>
        <label for="note">${t("send.note")}</label>
        <textarea id="note" name="note" rows="4" maxlength="2000">${d.chosen.note}</textarea>
        <button type="submit">${t("send.review")}</button>
      </form>
      <script type="module" src="/static/recipients.js"></script>
    `,
  );
}

function recipientOption(e: AddressBookEntry, chosen: string) {
  const id = `r-${e.ura}`;
  return html`
    <div class="option">
      <input type="radio" id=${id} name="recipient" value=${e.ura} required
        checked=${chosen === e.ura} />
      <label for=${id}>${e.name}${e.city ? `, ${e.city}` : ""} <span class="muted">(URA ${e
        .ura})</span></label>
    </div>
  `;
}

/** Step 2: exactly what leaves the building, to be confirmed. */
export function sendReviewPage(ctx: PageContext, d: {
  study: StudySummary;
  recipient: Recipient;
  series: string[];
  instances: number;
  bytes: number;
  note: string;
  department: string;
}): string {
  const t = ctx.t;
  return renderPage(
    ctx,
    t("send.reviewTitle"),
    html`
      <p>${t("send.reviewIntro")}</p>
      <dl class="card study" data-summary>
        <dt>${t("send.patient")}</dt>
        <dd data-field="patient">${personName(d.study.patientName)} (${d.study.patientId})</dd>
        <dt>${t("study.description")}</dt>
        <dd>${d.study.description ?? ""} ${dicomDate(
          d.study.studyDate,
        )}</dd>
        <dt>${t("send.images")}</dt>
        <dd data-field="images">${d.instances}</dd>
        <dt>${t("send.size")}</dt>
        <dd data-field="size">${megabytes(d.bytes)} MB</dd>
        <dt>${t("send.recipient")}</dt>
        <dd data-field="recipient">${d.recipient.name}${d.recipient.city
          ? `, ${d.recipient.city}`
          : ""} (URA ${d.recipient.ura}) — ${d.recipient.endpoint.address}</dd>
        ${d.department
          ? html`
            <dt>${t("send.department")}</dt>
            <dd data-field="department">${d.department}</dd>
          `
          : ""}
        <dt>${t("send.note")}</dt>
        <dd data-field="note" class="prewrap">${d.note || "—"}</dd>
      </dl>
      <form method="post" action="/send" class="inline-actions">
        <input type="hidden" name="csrf" value=${ctx.csrfToken} />
        <input type="hidden" name="study" value=${d.study.studyInstanceUid} />
        <input type="hidden" name="recipient" value=${d.recipient.ura} />
        <input type="hidden" name="note" value=${d.note} />
        <input type="hidden" name="department" value=${d.department} />
        ${d.series.map((s) => html`<input type="hidden" name="series" value=${s} />`)}
        <button type="submit" id="confirm-send">${t("send.confirm")}</button>
        <a href=${`/send?study=${encodeURIComponent(d.study.studyInstanceUid)}`}>${t(
          "send.back",
        )}</a>
      </form>
    `,
  );
}
