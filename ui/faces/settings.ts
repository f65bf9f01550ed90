import type { Context } from "hono";
import { RoutingDefinitionInvalid, RoutingNotFound } from "../../modules/routing/mod.ts";
import type { Env } from "../app.ts";
import { errorPage } from "../pages/error.ts";
import { type SettingsData, settingsPage } from "../pages/settings.ts";
import { type FacesContext, formFields } from "./context.ts";

const admin = { roles: ["admin"] } as const;

/** The admin's configuration pages: every change is validated by its module and audited. */
export function settingsRoutes(f: FacesContext): void {
  const { route, deps } = f;

  async function render(
    c: Context<Env>,
    extra: Partial<SettingsData> = {},
    status: 200 | 400 | 404 = 200,
  ) {
    const [destinations, rules, syncRuns] = await Promise.all([
      deps.router.listDestinations(),
      deps.router.listRules(),
      deps.addressBook.syncRuns(20),
    ]);
    return c.html(
      settingsPage(c.get("page"), {
        system: deps.system,
        destinations,
        rules,
        syncRuns,
        ...extra,
      }),
      status,
    );
  }

  const changed = (c: Context<Env>, what: string, id: string, detail: Record<string, string>) =>
    f.audit(c, {
      action: "config-change",
      outcome: "success",
      object: { kind: what, id },
      detail,
    });

  route.get("/settings", admin, async (c) => {
    const uid = c.req.query("dryrun")?.trim();
    if (!uid) return await render(c);
    const facts = await deps.system.studyFacts(uid);
    const study = facts ? await deps.studies.getStudy(uid) : null;
    if (study) await f.viewed(c, study, "dry-run");
    return await render(c, {
      dryRun: { studyInstanceUid: uid, plans: facts ? await deps.router.plan(facts) : null },
    });
  });

  route.post("/settings/destinations", admin, async (c) => {
    const form = await formFields(c);
    const t = c.get("page").t;
    try {
      const saved = await deps.router.putDestination({
        name: form.name?.trim(),
        kind: "dicom",
        aeTitle: form.aeTitle?.trim(),
        host: form.host?.trim(),
        port: Number(form.port),
      });
      await changed(c, "destination", saved.name, {
        change: "saved",
        aeTitle: saved.aeTitle,
        address: `${saved.host}:${saved.port}`,
      });
      return await render(c, { message: t("settings.saved", { name: saved.name }) });
    } catch (error) {
      if (!(error instanceof RoutingDefinitionInvalid)) throw error;
      return await render(c, { error: error.problems.join("; "), form }, 400);
    }
  });

  route.post("/settings/destinations/:name/echo", admin, async (c) => {
    const t = c.get("page").t;
    const name = c.req.param("name") ?? "";
    let destination;
    try {
      destination = await deps.router.getDestination(name);
    } catch (error) {
      if (error instanceof RoutingNotFound) {
        return c.html(errorPage(c.get("page"), "error.notFound"), 404);
      }
      throw error;
    }
    let outcome: { ok: boolean; text: string };
    try {
      const status = await deps.system.echo(destination);
      outcome = status === 0
        ? { ok: true, text: t("settings.echoOk", { name }) }
        : { ok: false, text: t("settings.echoStatus", { name, status: status.toString(16) }) };
    } catch (error) {
      outcome = {
        ok: false,
        text: t("settings.echoFailed", { name, reason: (error as Error).message }),
      };
    }
    await changed(c, "destination", name, { change: "c-echo", ok: String(outcome.ok) });
    return await render(c, outcome.ok ? { message: outcome.text } : { error: outcome.text });
  });

  route.post("/settings/rules", admin, async (c) => {
    const form = await formFields(c);
    const t = c.get("page").t;
    let input: unknown;
    try {
      input = JSON.parse(form.rule ?? "");
    } catch {
      return await render(c, { error: t("settings.ruleNotJson"), form }, 400);
    }
    try {
      const rule = await deps.router.addRule(input);
      await changed(c, "routing-rule", rule.id, { change: "added", name: rule.name });
      return await render(c, { message: t("settings.saved", { name: rule.name }) });
    } catch (error) {
      if (!(error instanceof RoutingDefinitionInvalid)) throw error;
      return await render(c, { error: error.problems.join("; "), form }, 400);
    }
  });

  route.post("/settings/rules/:id/toggle", admin, async (c) => {
    const id = c.req.param("id") ?? "";
    try {
      const rule = await deps.router.getRule(id);
      const updated = await deps.router.setRuleEnabled(id, !rule.enabled);
      await changed(c, "routing-rule", id, {
        change: updated.enabled ? "enabled" : "disabled",
        name: updated.name,
      });
      return c.redirect("/settings#rules", 303);
    } catch (error) {
      if (error instanceof RoutingNotFound) {
        return c.html(errorPage(c.get("page"), "error.notFound"), 404);
      }
      throw error;
    }
  });

  route.post("/settings/addressbook/sync", admin, async (c) => {
    const t = c.get("page").t;
    const runs = await deps.addressBook.sync();
    const failed = runs.filter((r) => r.status === "failed");
    await changed(c, "addressbook", "sync", {
      change: "sync now",
      sources: String(runs.length),
      failed: String(failed.length),
    });
    return await render(
      c,
      failed.length
        ? { error: t("settings.syncFailed", { sources: failed.map((r) => r.source).join(", ") }) }
        : { message: t("settings.synced", { count: String(runs.length) }) },
    );
  });
}
