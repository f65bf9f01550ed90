import { html } from "htm/preact";
import type { SyncRun } from "../../modules/addressbook/mod.ts";
import type { Destination, Rule, RulePlan } from "../../modules/routing/mod.ts";
import type { SystemView } from "../faces/deps.ts";
import { when } from "./format.ts";
import { csrfField, notices, type PageContext, renderPage } from "./layout.ts";

/** What the settings page shows. */
export interface SettingsData {
  system: SystemView;
  destinations: Destination[];
  rules: Rule[];
  syncRuns: SyncRun[];
  dryRun?: { studyInstanceUid: string; plans: RulePlan[] | null };
  message?: string;
  error?: string;
  /** What the add-destination and add-rule forms held when they were refused. */
  form?: Record<string, string>;
}

/** The admin's configuration: DICOM, destinations, routing, address book, retention. */
export function settingsPage(ctx: PageContext, d: SettingsData): string {
  const t = ctx.t;
  const s = d.system;
  const f = d.form ?? {};
  return renderPage(
    ctx,
    t("settings.title"),
    html`
      ${notices(d.message, d.error)}
      <nav class="toc" aria-label=${t("settings.sections")}>
        <a href="#dicom">${t("settings.dicom")}</a>
        <a href="#destinations">${t("settings.destinations")}</a>
        <a href="#rules">${t("settings.rules")}</a>
        <a href="#addressbook">${t("settings.addressBook")}</a>
        <a href="#retention">${t("settings.retention")}</a>
        <a href="/users">${t("nav.users")}</a>
      </nav>
      <section id="dicom" aria-labelledby="h-dicom">
        <h2 id="h-dicom">${t("settings.dicom")}</h2>
        <p class="muted">${t("settings.dicomReadOnly")}</p>
        <dl class="card compact">
          <dt>${t("settings.aeTitle")}</dt>
          <dd data-ae>${s.dicom.aeTitle}</dd>
          <dt>${t("settings.listen")}</dt>
          <dd>${s.dicom.host}:${s.dicom.port}${s.dicom.tlsPort
            ? ` (TLS ${s.dicom.tlsPort})`
            : ""}</dd>
          <dt>${t("settings.allowedSenders")}</dt>
          <dd>${s.dicom.allowedSenders.join(", ") ||
            t("settings.none")}</dd>
          <dt>${t("settings.maxAssociations")}</dt>
          <dd>${s.dicom.maxAssociations}</dd>
          <dt>${t("settings.importDestination")}</dt>
          <dd>${s.importDestination ||
            t("settings.none")}</dd>
        </dl>
      </section>
      <section id="destinations" aria-labelledby="h-dest">
        <h2 id="h-dest">${t("settings.destinations")}</h2>
        <table class="studies" data-destinations>
          <thead>
            <tr>
              <th scope="col">${t("settings.name")}</th>
              <th scope="col">${t("settings.aeTitle")}</th>
              <th scope="col">${t("settings.address")}</th>
              <th scope="col"></th>
            </tr>
          </thead>
          <tbody>
            ${d.destinations.map((x) =>
              html`
                <tr data-destination=${x.name}>
                  <td>${x.name}</td>
                  <td>${x.aeTitle}</td>
                  <td>${x.host}:${x.port}</td>
                  <td>
                    <form method="post" action=${`/settings/destinations/${
                      encodeURIComponent(x.name)
                    }/echo`} class="inline">
                                  ${csrfField(ctx)}<button type="submit">${t(
                                    "settings.echo",
                                  )}</button>
                                </form>
                  </td>
                </tr>
              `
            )}
          </tbody>
        </table>
        <form method="post" action="/settings/destinations" class="card form grid4">
          ${csrfField(ctx)}
          <div><label for="d-name">${t("settings.name")}</label>
            <input id="d-name" name="name" required value=${f.name ?? ""} /></div>
          <div><label for="d-ae">${t("settings.aeTitle")}</label>
            <input id="d-ae" name="aeTitle" required maxlength="16" value=${f.aeTitle ??
              ""} /></div>
          <div><label for="d-host">${t("settings.host")}</label>
            <input id="d-host" name="host" required value=${f.host ?? ""} /></div>
          <div><label for="d-port">${t("settings.port")}</label>
            <input id="d-port" name="port" type="number" min="1" max="65535" required
              value=${f.port ?? "104"} /></div>
          <div><button type="submit">${t("settings.saveDestination")}</button></div>
        </form>
      </section>
      <section id="rules" aria-labelledby="h-rules">
        <h2 id="h-rules">${t("settings.rules")}</h2>
        <table class="studies" data-rules>
          <thead><tr>
            <th scope="col">${t("settings.name")}</th>
            <th scope="col">${t("settings.ruleWhat")}</th>
            <th scope="col">${t("settings.enabled")}</th>
            <th scope="col"></th>
          </tr></thead>
          <tbody>
            ${d.rules.map((r) =>
              html`
                <tr data-rule=${r.name}>
                  <td>${r.name}</td>
                  <td><code class="wrap">${JSON.stringify({
                    match: r.definition.match ?? {},
                    actions: r.definition.actions,
                  })}</code></td>
                  <td>${r.enabled ? t("users.yes") : t("users.no")}</td>
                  <td>
                    <form method="post" action=${`/settings/rules/${
                      encodeURIComponent(r.id)
                    }/toggle`} class="inline">
                                  ${csrfField(
                                    ctx,
                                  )}<button type="submit" class="secondary">${r.enabled
                                    ? t("settings.disable")
                                    : t("settings.enable")}</button>
                                </form>
                  </td>
                </tr>
              `
            )}
          </tbody>
        </table>
        <form method="post" action="/settings/rules" class="card form wide">
          ${csrfField(ctx)}
          <label for="rule-json">${t("settings.ruleJson")}</label>
          <textarea id="rule-json" name="rule" rows="4" required class="mono">${f.rule ??
            '{"name": "ct-naar-pacs", "match": {"modality": "CT"}, "actions": [{"type": "forward", "destination": "PACS"}]}'}</textarea>
          <button type="submit">${t("settings.addRule")}</button>
        </form>
        <form method="get" action="/settings" class="card form row" role="search">
          <label for="dry-uid">${t("settings.dryRunLabel")}</label>
          <input id="dry-uid" name="dryrun" value=${d.dryRun?.studyInstanceUid ?? ""} required />
          <button type="submit" class="secondary">${t("settings.dryRun")}</button>
        </form>
        ${d.dryRun && dryRunResult(ctx, d.dryRun.plans)}
      </section>
      <section id="addressbook" aria-labelledby="h-book">
        <h2 id="h-book">${t("settings.addressBook")}</h2>
        <p>${s.addressBookSources.length
          ? t("settings.sources", { sources: s.addressBookSources.join(", ") })
          : t("dashboard.noSources")}</p>
        <table class="studies" data-sync-runs>
          <thead>
            <tr>
              <th scope="col">${t("settings.source")}</th>
              <th scope="col">${t("settings.syncWhen")}</th>
              <th scope="col">${t("settings.syncResult")}</th>
            </tr>
          </thead>
          <tbody>
            ${d.syncRuns.slice(0, 8).map((r) =>
              html`
                <tr>
                  <td>${r.source}</td>
                  <td>${when(r.startedAt)}</td>
                  <td class=${r.status === "failed" ? "error" : ""}>${r.status === "ok"
                    ? t("settings.syncCounts", {
                      added: String(r.added),
                      changed: String(r.changed),
                      removed: String(r.removed),
                    })
                    : r.problems[0]?.message ?? r.status}</td>
                </tr>
              `
            )}
          </tbody>
        </table>
        <form method="post" action="/settings/addressbook/sync" class="inline">
          ${csrfField(ctx)}<button type="submit">${t("settings.syncNow")}</button>
        </form>
      </section>
      <section id="retention" aria-labelledby="h-ret">
        <h2 id="h-ret">${t("settings.retention")}</h2>
        <dl class="card compact">
          <dt>${t("settings.studyDays")}</dt>
          <dd>${s.retention.studyDays || t("settings.keepAll")}</dd>
          <dt>${t("settings.auditDays")}</dt>
          <dd>${s.retention.auditDays || t("settings.keepAll")}</dd>
          <dt>${t("settings.linkDays")}</dt>
          <dd>${s.retention.linkDays}</dd>
          <dt>${t("settings.pinAttempts")}</dt>
          <dd>${s.retention.pinAttempts}</dd>
        </dl>
      </section>
    `,
  );
}

function dryRunResult(ctx: PageContext, plans: RulePlan[] | null) {
  const t = ctx.t;
  if (plans === null) return html`<p class="error" role="alert">${t("error.notFound")}</p>`;
  if (plans.length === 0) return html`<p class="muted">${t("settings.noRules")}</p>`;
  return html`
    <ul class="card plans" data-dry-run>
      ${plans.map((p) =>
        html`<li data-plan=${p.ruleName} data-matched=${String(p.matched)}>
          <strong>${p.ruleName}</strong>: ${
          p.matched
            ? t("settings.matches", {
              actions: p.actions.map((a) => `${a.kind} → ${a.destination} (${a.newInstances})`)
                .join(", "),
            })
            : t("settings.noMatch")
        }${p.waiting ? ` — ${p.waiting}` : ""}
          <ul>${p.reasons.map((r) => html`<li class="muted">${r}</li>`)}</ul>
        </li>`
      )}
    </ul>
  `;
}
