/**
 * The faces in headless Chromium against an in-process appliance: the admin's settings with a
 * C-ECHO, the dashboard, sending a study to an address-book recipient with a note, live progress,
 * retrying a dead job, reconciling a patient in the portal, and patient links (download with the
 * PIN, revoked, expired, locked after wrong PINs).
 */
import assert from "node:assert/strict";
import { unzipSync } from "fflate";
import type { Browser, Page } from "playwright-core";
import { freePort } from "../support/appliance.ts";
import { setUpAdmin } from "../support/auth_browser.ts";
import { launchChromium } from "../support/browser.ts";
import { startTestScp } from "../support/dicom_harness.ts";
import { missing } from "../support/peers.ts";
import {
  addDemoHospitals,
  demoPassword,
  signInAs,
  startUiGateway,
  storeReport,
  storeStudy,
} from "../support/ui_demo.ts";

async function newPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    acceptDownloads: true,
    viewport: { width: 1366, height: 768 },
  });
  return await context.newPage();
}

async function download(page: Page, selector: string): Promise<Uint8Array> {
  const [file] = await Promise.all([page.waitForEvent("download"), page.click(selector)]);
  return await Deno.readFile((await file.path())!);
}

/**
 * Waits until the study page has stopped following its jobs: when the last one ends, its progress
 * island reloads the page once, and a navigation started meanwhile is interrupted by that reload.
 */
async function settled(page: Page): Promise<void> {
  await page.waitForSelector("table.jobs:not([data-progress-url])", { timeout: 15_000 });
}

Deno.test({
  name: "faces: settings, dashboard, send with a note, progress, retry, portal, patient links",
  ignore: missing("chromium", "openssl"),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const gw = await startUiGateway();
    const { services } = gw;
    const cleanupCa = await addDemoHospitals(services);
    const scpDir = await Deno.makeTempDir({ prefix: "bp-ui-scp-" });
    const scp = startTestScp(freePort(), scpDir);
    const browser = await launchChromium();
    try {
      const local = await storeStudy(services, {
        source: "dicom",
        patientId: "LOC-1001",
        patientName: "Jansen^Anna",
        description: "CT thorax",
        accession: "ACC-77",
        studyDate: "20260110",
        instances: 3,
        series: 2,
      });
      const received = await storeStudy(services, {
        source: "mail",
        patientId: "EXT-55",
        patientName: "Jansen^Anna",
        description: "MR knie",
        accession: "B-19",
        studyDate: "20260105",
        instances: 2,
      });
      await storeReport(services, received.studyInstanceUid);
      await services.auth.createUser("laborant", demoPassword, "sender");
      await services.auth.createUser("zorgverlener", demoPassword, "caregiver", {
        department: "radiologie",
      });

      await t.step("admin: first sign-in, settings, a destination saved and C-ECHOed", async () => {
        const page = await newPage(browser);
        await setUpAdmin(page, gw.app.setupUrl!);
        await page.goto(`${gw.baseUrl}/settings`);
        assert.equal(await page.textContent("[data-ae]"), "BEELDPOORT");
        await page.fill("#d-name", "PACS");
        await page.fill("#d-ae", "BEELDPOORT");
        await page.fill("#d-host", "127.0.0.1");
        await page.fill("#d-port", String(scp.server.port));
        await page.click("form[action='/settings/destinations'] button");
        assert.match(await page.textContent("[data-message]") ?? "", /PACS is opgeslagen/);
        await page.click("tr[data-destination=PACS] button");
        assert.match(await page.textContent("[data-message]") ?? "", /PACS antwoordt op C-ECHO/);
        const changes = (await services.audit.list(50)).filter((e) => e.action === "config-change");
        assert.deepEqual(changes.map((e) => e.detail?.change).sort(), ["c-echo", "saved"]);
        await page.context().close();
      });

      const sender = await newPage(browser);
      await t.step("sender: sign-in and dashboard", async () => {
        await signInAs(sender, gw.baseUrl, "laborant");
        assert.match(sender.url(), /\/dashboard$/);
        assert.equal(await sender.locator("figure.chart svg").count(), 2);
        assert.match(await sender.textContent("table.studies") ?? "", /LOC-1001/);
        assert.match(await sender.textContent("[data-disk]") ?? "", /GB vrij van/);
      });

      await t.step("sender: send one series to an address-book recipient with a note", async () => {
        await sender.goto(`${gw.baseUrl}/studies/${local.studyInstanceUid}`);
        await sender.click("text=Versturen naar ziekenhuis");
        await sender.waitForSelector("#recipient-q[data-island=ready]");
        await sender.fill("#recipient-q", "deven"); // the island searches as you type
        await sender.waitForSelector("#r-00000002");
        await sender.check("#r-00000002");
        const series = await sender.$$("input[name=series]");
        assert.equal(series.length, 2);
        await series[1].uncheck();
        await sender.fill("#note", "Graag vergelijken met MR van vorige week.");
        await sender.click("#send-form button[type=submit]");
        assert.equal(await sender.textContent("[data-field=images]"), "2");
        assert.match(await sender.textContent("[data-field=patient]") ?? "", /LOC-1001/);
        assert.match(await sender.textContent("[data-field=recipient]") ?? "", /Ziekenhuis Oost/);
        await sender.click("#confirm-send");
        await sender.waitForURL(/\/studies\/[\d.]+\?sent=/);
        const jobs = await services.transfer.list({ subject: local.studyInstanceUid });
        assert.equal(jobs.length, 1);
        const [job] = jobs;
        assert.deepEqual([job.kind, job.destination, job.items.total], ["peer", "00000002", 2]);
        assert.deepEqual(job.payload, {
          studyInstanceUid: local.studyInstanceUid,
          recipientUra: "00000002",
          note: "Graag vergelijken met MR van vorige week.",
        });
        const items = (await services.transfer.items(job.id)).map((i) => i.item);
        assert.deepEqual(items, local.sopInstanceUids.slice(0, 2));
        const send = (await services.audit.list(100)).find((e) => e.action === "send")!;
        assert.deepEqual([send.actor.id, send.patient.id], ["laborant", "LOC-1001"]);
      });

      await t.step("sender: the progress bar follows a running transfer to done", async () => {
        // A stand-in for the relay's "peer" handler (wired in another branch): one item a beat.
        services.transfer.register("peer", async ({ pending, markDone }) => {
          for (const item of pending) {
            await new Promise((r) => setTimeout(r, 700));
            await markDone([item]);
          }
        });
        await sender.reload();
        await sender.waitForFunction(() =>
          document.querySelector("[data-progress-text]")?.textContent?.startsWith("2 van 2")
        );
        await sender.waitForSelector("tr[data-state=done]", { timeout: 15_000 });
        assert.match(await sender.textContent("[data-timeline]") ?? "", /Afgeleverd/);
        await settled(sender);
      });

      await t.step("sender: a dead job is retried and then delivered", async () => {
        // Dead for good: its destination did not exist (yet) when it ran.
        const job = await services.transfer.enqueue({
          kind: "dicom",
          destination: "NIEUW",
          subject: local.studyInstanceUid,
          items: local.sopInstanceUids,
        });
        for (let i = 0; i < 100 && (await services.transfer.get(job.id)).state !== "dead"; i++) {
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.equal((await services.transfer.get(job.id)).state, "dead");
        await services.router.putDestination({
          name: "NIEUW",
          kind: "dicom",
          aeTitle: "BEELDPOORT",
          host: "127.0.0.1",
          port: scp.server.port,
        });
        await sender.goto(`${gw.baseUrl}/studies/${local.studyInstanceUid}`);
        await sender.click(`tr[data-job="${job.id}"] form[action$="/retry"] button`);
        await sender.waitForLoadState();
        for (let i = 0; i < 100 && (await services.transfer.get(job.id)).state !== "done"; i++) {
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.equal((await services.transfer.get(job.id)).state, "done");
        assert.deepEqual(scp.stored.sort(), [...local.sopInstanceUids].sort());
        await settled(sender);
      });

      await t.step("caregiver: reconcile the patient of a received study and import", async () => {
        const page = await newPage(browser);
        await signInAs(page, gw.baseUrl, "zorgverlener");
        assert.match(page.url(), /\/portal$/);
        const row = page.locator(`tr[data-study="${received.studyInstanceUid}"]`);
        assert.equal(await row.getAttribute("data-match"), "open");
        await row.locator("a").click();
        await page.fill("#patient-q", "jansen");
        await page.click("form[role=search] button");
        await page.check("#p-LOC-1001");
        await page.click("#reconcile-existing");
        assert.equal(await page.getAttribute("[data-match]", "data-match"), "decided");
        const decided = await services.portal.reconciliations.decided(received.studyInstanceUid);
        assert.deepEqual([decided?.decision, decided?.localPatientId, decided?.decidedBy], [
          "existing",
          "LOC-1001",
          "zorgverlener",
        ]);
        await page.click(`form[action$="/import"] button`);
        const imports = (await services.transfer.list({ subject: received.studyInstanceUid }))
          .filter((j) => j.kind === "dicom");
        assert.deepEqual(imports.map((j) => [j.destination, j.items.total]), [["PACS", 2]]);
        await page.context().close();
      });

      let token = "";
      let pin = "";
      await t.step(
        "patient link: made by the sender, opened with the PIN, zip identical",
        async () => {
          await sender.goto(`${gw.baseUrl}/studies/${local.studyInstanceUid}`);
          await sender.click(`form[action$="/links"] button`);
          const url = (await sender.textContent("#link-url"))!.trim();
          pin = (await sender.textContent("#link-pin"))!.trim();
          token = url.split("/p/")[1];
          assert.match(pin, /^\d{6}$/);
          const patient = await newPage(browser);
          await patient.goto(url);
          await patient.fill("#pin", pin);
          await patient.click("main button[type=submit]");
          // the previews load as images after the page: let them finish before counting uses
          await patient.waitForLoadState("networkidle");
          const zip = unzipSync(await download(patient, "#download-zip"));
          const dicom = Object.keys(zip).filter((n) => n.startsWith("DICOM/")).sort();
          assert.equal(dicom.length, 3);
          const stored = local.sopInstanceUids.map((u) => local.bytes.get(u)!);
          for (let i = 0; i < 3; i++) assert.deepEqual(zip[dicom[i]], stored[i], dicom[i]);
          assert.ok(zip.DICOMDIR, "a DICOMDIR");
          const [link] = await services.portal.links.list(local.studyInstanceUid);
          assert.equal(link.downloads, 1);
          const uses = (await services.audit.list(200)).filter((e) =>
            e.actor.id === `patient-link:${link.id}`
          );
          // the page, then one JPEG preview per series (two)
          assert.deepEqual(uses.map((e) => e.action).sort(), [
            "download",
            "login",
            "view",
            "view",
            "view",
          ]);
          await patient.context().close();
        },
      );

      await t.step("patient link: revoked and expired links are refused", async () => {
        await sender.goto(`${gw.baseUrl}/studies/${local.studyInstanceUid}`);
        await sender.click(`form[action$="/revoke"] button`);
        const patient = await newPage(browser);
        const revoked = await patient.goto(`${gw.baseUrl}/p/${token}`);
        assert.equal(revoked!.status(), 410);
        assert.equal(await patient.getAttribute("[data-gone]", "data-gone"), "revoked");
        const fresh = await services.portal.links.create(local.studyInstanceUid, "laborant", 14);
        await services.database.db.updateTable("portal_links")
          .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
          .where("id", "=", fresh.link.id).execute();
        const expired = await patient.goto(`${gw.baseUrl}/p/${fresh.token}`);
        assert.equal(expired!.status(), 410);
        assert.equal(await patient.getAttribute("[data-gone]", "data-gone"), "expired");
        await patient.context().close();
      });

      await t.step(
        "patient link: five wrong PINs lock it, then the right PIN does not open",
        async () => {
          const { token: tk, pin: right } = await services.portal.links.create(
            local.studyInstanceUid,
            "laborant",
          );
          const wrong = right === "000000" ? "111111" : "000000";
          const patient = await newPage(browser);
          await patient.goto(`${gw.baseUrl}/p/${tk}`);
          for (let i = 1; i <= 4; i++) {
            await patient.fill("#pin", wrong);
            await patient.click("main button[type=submit]");
            assert.match(
              await patient.textContent("[role=alert]") ?? "",
              new RegExp(`${5 - i} pogingen`),
            );
          }
          await patient.fill("#pin", wrong);
          await patient.click("main button[type=submit]");
          assert.equal(await patient.getAttribute("[data-gone]", "data-gone"), "locked");
          const again = await patient.goto(`${gw.baseUrl}/p/${tk}`);
          assert.equal(again!.status(), 410);
          const [link] = await services.portal.links.list(local.studyInstanceUid);
          assert.deepEqual([link.status, link.failedPins], ["locked", 5]);
          await patient.context().close();
        },
      );
    } finally {
      await browser.close();
      await scp.server.close();
      await gw.stop();
      await cleanupCa();
      await Deno.remove(scpDir, { recursive: true });
    }
  },
});
