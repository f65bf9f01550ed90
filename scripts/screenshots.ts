/**
 * `deno task screenshots`: starts the demo pair of gateways (tests/support/ui_relay.ts: Ziekenhuis
 * A and B as real `beeldpoort serve` processes, demo CA, shared address book, Orthanc behind B),
 * sends synthetic studies from A to B through the web UI, and writes PNGs of the main pages at
 * 1366x768 to docs/screenshots/: A's dashboard, the send flow, a study timeline during a transfer,
 * B's settings, B's portal inbox, and the patient download page.
 */
import type { Page } from "playwright-core";
import { setUpAdmin } from "../tests/support/auth_browser.ts";
import { hospitalScreen, launchChromium } from "../tests/support/browser.ts";
import { writeSyntheticStudy } from "../tests/support/dicom_fixtures.ts";
import { type Gateway, storescuInto } from "../tests/support/relay_gateways.ts";
import { signInAs } from "../tests/support/ui_demo.ts";
import {
  addUser,
  departmentB,
  reviewSendToB,
  startUiPair,
  waitForText,
} from "../tests/support/ui_relay.ts";

const out = new URL("../docs/screenshots/", import.meta.url).pathname;
await Deno.mkdir(out, { recursive: true });
const root = await Deno.makeTempDir({ prefix: "bp-screenshots-" });

// Small parts, so the timeline of the big study shows parts going out one by one.
const pair = await startUiPair(root, { BEELDPOORT_XDM__PARTSIZEBYTES: "1000000" });
const { a, b } = pair;
const browser = await launchChromium();
const shoot = async (page: Page, name: string) => {
  await page.screenshot({ path: `${out}${name}.png`, fullPage: false });
  console.log(`docs/screenshots/${name}.png`);
};
const newPage = () => hospitalScreen(browser);

/** Writes a study and sends it into `gateway` as the modality would. */
async function acquire(
  gateway: Gateway,
  n: number,
  o: { id: string; name: string; description: string; instances: number; size: number },
) {
  const dir = `${root}/study-${n}`;
  const study = writeSyntheticStudy(dir, {
    instances: o.instances,
    series: 2,
    rows: o.size,
    cols: o.size,
    seed: 100 + n,
    patientId: o.id,
    patientName: o.name,
    studyDescription: o.description,
  });
  await storescuInto(gateway, dir);
  return study.studyUid;
}

/** The send flow to B's radiology; `confirm` false stops at the review. */
async function send(page: Page, uid: string, note: string, confirm = true) {
  await reviewSendToB(page, pair, uid, note);
  if (!confirm) return;
  await page.click("#confirm-send");
  await page.waitForURL(/\/studies\//);
}

try {
  const [senderPw, caregiverPw] = await Promise.all([
    addUser(a, "laborant", "sender"),
    addUser(b, "zorgverlener", "caregiver", departmentB),
  ]);
  const studies = [
    { id: "Z100234", name: "Jansen^Anna", description: "CT thorax", instances: 24, size: 128 },
    {
      id: "Z100235",
      name: "de Vries^Pieter",
      description: "MR knie links",
      instances: 16,
      size: 128,
    },
    { id: "Z100236", name: "Bakker^Fatima", description: "CT abdomen", instances: 12, size: 128 },
    { id: "Z100237", name: "Visser^Sem", description: "CT hersenen", instances: 60, size: 256 },
  ];
  const uids = [];
  for (const [i, s] of studies.entries()) uids.push(await acquire(a, i, s));

  const sender = await newPage();
  await signInAs(sender, a.app!.baseUrl, "laborant", senderPw);
  // Traffic for the charts: two studies delivered to B.
  await send(sender, uids[0], "Graag beoordelen voor het MDO van donderdag.");
  await send(sender, uids[1], "Second opinion gevraagd; vergelijk met de MR van vorig jaar.");
  for (const uid of uids.slice(0, 2)) {
    await waitForText(sender, `${a.app!.baseUrl}/studies/${uid}`, "[data-timeline]", /Afgeleverd/);
  }

  await send(sender, uids[2], "Spoed: vraagstelling abces.", false);
  await shoot(sender, "send-flow");
  await sender.click("#confirm-send");
  await sender.waitForURL(/\/studies\//);

  // The big study in parts of 1 MB: caught while its parts go out.
  await send(sender, uids[3], "Vervolg na val; graag vergelijken.");
  const timelineUrl = `${a.app!.baseUrl}/studies/${uids[3]}`;
  for (let i = 0; i < 100; i++) {
    await sender.goto(timelineUrl);
    const text = (await sender.textContent("[data-timeline]")) ?? "";
    if (/Ontvangst bevestigd/.test(text) && !/Afgeleverd/.test(text)) break;
    if (/Afgeleverd/.test(text)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await shoot(sender, "study-timeline");
  await waitForText(sender, timelineUrl, "[data-timeline]", /Afgeleverd/);
  await sender.goto(`${a.app!.baseUrl}/dashboard`);
  await shoot(sender, "dashboard");

  // B: the caregiver imports the first study; the others wait in the inbox.
  const caregiver = await newPage();
  await signInAs(caregiver, b.app!.baseUrl, "zorgverlener", caregiverPw);
  await caregiver.goto(`${b.app!.baseUrl}/portal/studies/${uids[0]}`);
  await caregiver.click("#reconcile-new");
  await caregiver.click(`form[action$="/import"] button`);
  await waitForText(
    sender,
    `${a.app!.baseUrl}/studies/${uids[0]}`,
    "[data-timeline]",
    /Geïmporteerd/,
  );
  await caregiver.goto(`${b.app!.baseUrl}/portal`);
  await shoot(caregiver, "portal-inbox");

  await sender.goto(`${a.app!.baseUrl}/studies/${uids[1]}`);
  await sender.click(`form[action$="/links"] button`);
  const url = (await sender.textContent("#link-url"))!.trim();
  const pin = (await sender.textContent("#link-pin"))!.trim();
  const patient = await newPage();
  await patient.goto(url);
  await patient.fill("#pin", pin);
  await patient.click("main button[type=submit]");
  await patient.waitForSelector(".previews img");
  await patient.waitForFunction(() =>
    [...document.querySelectorAll(".previews img")].every((i) => (i as HTMLImageElement).complete)
  );
  await shoot(patient, "patient-download");

  // B's settings: its PACS (Orthanc) as destination and import destination.
  const admin = await newPage();
  await setUpAdmin(admin, b.app!.setupUrl!);
  await admin.goto(`${b.app!.baseUrl}/settings?dryrun=${uids[0]}`);
  await shoot(admin, "settings");
} finally {
  await browser.close();
  await pair.close();
  await Deno.remove(root, { recursive: true });
}
