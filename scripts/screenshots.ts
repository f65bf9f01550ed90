/**
 * `deno task screenshots`: starts one gateway in this process with synthetic demo data, signs in
 * as each role in headless Chromium at 1366x768, and writes PNGs of the main pages to
 * docs/screenshots/. A stand-in "peer" handler moves one image per second so the study timeline is
 * caught mid-transfer (the real relay handler is wired separately).
 */
import type { Page } from "playwright-core";
import { setUpAdmin } from "../tests/support/auth_browser.ts";
import { launchChromium } from "../tests/support/browser.ts";
import {
  addDemoHospitals,
  demoPassword,
  signInAs,
  startUiGateway,
  storeReport,
  storeStudy,
} from "../tests/support/ui_demo.ts";

const out = new URL("../docs/screenshots/", import.meta.url).pathname;
await Deno.mkdir(out, { recursive: true });

const gw = await startUiGateway();
const { services } = gw;
const cleanupCa = await addDemoHospitals(services);
const browser = await launchChromium();
const shoot = async (page: Page, name: string) => {
  await page.screenshot({ path: `${out}${name}.png`, fullPage: false });
  console.log(`docs/screenshots/${name}.png`);
};
const newPage = async () =>
  await (await browser.newContext({
    ignoreHTTPSErrors: true,
    viewport: { width: 1366, height: 768 },
  })).newPage();

try {
  const people = [
    ["Jansen^Anna", "CT thorax", 24, 3],
    ["de Vries^Pieter", "MR knie links", 40, 4],
    ["Bakker^Fatima", "CT abdomen", 30, 2],
    ["Visser^Sem", "X-thorax", 2, 1],
  ] as const;
  const locals = [];
  for (const [i, [name, description, instances, series]] of people.entries()) {
    locals.push(
      await storeStudy(services, {
        source: "dicom",
        patientId: `Z${100234 + i}`,
        patientName: name,
        description,
        accession: `ACC${5510 + i}`,
        studyDate: `2026031${i}`,
        instances,
        series,
        size: 128,
      }),
    );
  }
  const received = await storeStudy(services, {
    source: "mail",
    patientId: "EXT-8812",
    patientName: "Jansen^Anna",
    description: "CT hersenen",
    accession: "OOST-221",
    studyDate: "20260308",
    instances: 12,
    series: 2,
    size: 128,
  });
  await storeReport(services, received.studyInstanceUid);
  await storeStudy(services, {
    source: "mail",
    patientId: "EXT-9034",
    patientName: "Mulder^Daan",
    description: "MR wervelkolom",
    accession: "WEST-17",
    studyDate: "20260309",
    instances: 8,
    size: 128,
  });
  await services.router.putDestination({
    name: "PACS",
    kind: "dicom",
    aeTitle: "PACS",
    host: "127.0.0.1",
    port: 1, // nothing listens: the import job shows as failing
  });
  await services.router.addRule({
    name: "ct-naar-pacs",
    match: { modality: "CT" },
    actions: [{ type: "forward", destination: "PACS" }],
  });
  // A delivered send (for the latency chart) and a dead one (for "needs attention").
  let slow = false;
  services.transfer.register("peer", async ({ pending, markDone }) => {
    for (const item of pending) {
      await new Promise((r) => setTimeout(r, slow ? 1000 : 20));
      await markDone([item]);
    }
  });
  const done = await services.transfer.enqueue({
    kind: "peer",
    destination: "00000003",
    subject: locals[1].studyInstanceUid,
    items: locals[1].sopInstanceUids,
    payload: { studyInstanceUid: locals[1].studyInstanceUid, recipientUra: "00000003" },
  });
  await services.transfer.drain();
  void done;
  const dead = await services.transfer.enqueue({
    kind: "dicom",
    destination: "OUD-PACS",
    subject: locals[2].studyInstanceUid,
    items: locals[2].sopInstanceUids,
  });
  await services.transfer.drain();
  void dead;

  const admin = await newPage();
  await setUpAdmin(admin, gw.app.setupUrl!);
  await admin.goto(`${gw.baseUrl}/settings?dryrun=${locals[0].studyInstanceUid}`);
  await shoot(admin, "settings");

  await services.auth.createUser("laborant", demoPassword, "sender");
  await services.auth.createUser("zorgverlener", demoPassword, "caregiver");
  const sender = await newPage();
  await signInAs(sender, gw.baseUrl, "laborant");
  await sender.goto(`${gw.baseUrl}/dashboard`);
  await shoot(sender, "dashboard");

  await sender.goto(`${gw.baseUrl}/send?study=${locals[0].studyInstanceUid}`);
  await sender.waitForSelector("#recipient-q[data-island=ready]");
  await sender.fill("#recipient-q", "zieken");
  await sender.waitForSelector("#r-00000002");
  await sender.check("#r-00000002");
  await sender.fill("#note", "Graag beoordelen voor MDO donderdag. Vergelijk met CT van januari.");
  await sender.click("#send-form button[type=submit]");
  await shoot(sender, "send-flow");
  slow = true;
  await sender.click("#confirm-send");
  await sender.waitForURL(/\/studies\//);
  await sender.waitForFunction(
    () =>
      /^([5-9]|1\d) van 24/.test(document.querySelector("[data-progress-text]")?.textContent ?? ""),
    undefined,
    { timeout: 30_000 },
  );
  await shoot(sender, "study-timeline");

  await sender.goto(`${gw.baseUrl}/studies/${locals[3].studyInstanceUid}`);
  await sender.click(`form[action$="/links"] button`);
  const url = (await sender.textContent("#link-url"))!.trim();
  const pin = (await sender.textContent("#link-pin"))!.trim();

  const caregiver = await newPage();
  await signInAs(caregiver, gw.baseUrl, "zorgverlener");
  await shoot(caregiver, "portal-inbox");

  const patient = await newPage();
  await patient.goto(url);
  await patient.fill("#pin", pin);
  await patient.click("main button[type=submit]");
  await patient.waitForSelector(".previews img");
  await patient.waitForFunction(() =>
    [...document.querySelectorAll(".previews img")].every((i) => (i as HTMLImageElement).complete)
  );
  await shoot(patient, "patient-download");
} finally {
  await browser.close();
  await gw.stop();
  await cleanupCa();
}
