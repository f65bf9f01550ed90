/**
 * The faces against two real gateways: a sender at Ziekenhuis A sends a study to Ziekenhuis B's
 * radiology department from the address book with a note and watches A's study timeline reach
 * "delivered"; at B the radiology caregiver finds it in the portal inbox with the note (another
 * department's caregiver does not), reconciles the patient (B knows no such BSN, so it was held)
 * and imports it into B's Orthanc, after which A's timeline shows "imported".
 */
import assert from "node:assert/strict";
import { hospitalScreen, launchChromium } from "../support/browser.ts";
import { writeSyntheticStudy } from "../support/dicom_fixtures.ts";
import { missing } from "../support/peers.ts";
import { orthancCount, storescuInto, transfersOf } from "../support/relay_gateways.ts";
import { signInAs } from "../support/ui_demo.ts";
import {
  addUser,
  departmentB,
  reviewSendToB,
  startUiPair,
  waitForText,
} from "../support/ui_relay.ts";

const newPage = hospitalScreen;

const note = "Graag beoordelen voor het MDO van donderdag.";

Deno.test({
  name: "faces with the relay: send with a note, delivered, portal per department, imported",
  ignore: missing("chromium", "openssl", "storescu", "Orthanc"),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const root = await Deno.makeTempDir({ prefix: "bp-ui-relay-" });
    const pair = await startUiPair(root);
    const { a, b } = pair;
    const browser = await launchChromium();
    try {
      const study = writeSyntheticStudy(`${root}/study`, { instances: 6, series: 2, seed: 11 });
      const [senderPw, caregiverPw, otherPw] = await Promise.all([
        addUser(a, "laborant", "sender"),
        addUser(b, "zorgverlener", "caregiver", departmentB),
        addUser(b, "cardioloog", "caregiver", "cardiologie"),
      ]);
      await storescuInto(a, `${root}/study`);
      const studyUrl = `${a.app!.baseUrl}/studies/${study.studyUid}`;

      const sender = await newPage(browser);
      await t.step("A: the sender sends the study to B's radiology with a note", async () => {
        await signInAs(sender, a.app!.baseUrl, "laborant", senderPw);
        await reviewSendToB(sender, pair, study.studyUid, note);
        assert.equal(await sender.textContent("[data-field=images]"), "6");
        assert.match(
          await sender.textContent("[data-field=recipient]") ?? "",
          /Ziekenhuis B.*gw\+radiologie@zkh-b\.example/,
        );
        assert.equal(await sender.textContent("[data-field=department]"), departmentB);
        await sender.click("#confirm-send");
        await sender.waitForURL(/\/studies\/[\d.]+\?sent=/);
      });

      await t.step(
        "A: the timeline shows the parts sent and acknowledged, then delivered",
        async () => {
          const text = await waitForText(sender, studyUrl, "[data-timeline]", /Afgeleverd/);
          assert.match(text, /Deel verzonden → Ziekenhuis B · 1\/1/);
          assert.match(text, /Ontvangst bevestigd → Ziekenhuis B · 1\/1/);
          assert.doesNotMatch(text, /Geïmporteerd/);
          const [transfer] = await transfersOf(a, "out");
          assert.equal(transfer.state, "delivered");
        },
      );

      const caregiver = await newPage(browser);
      await t.step(
        "B: radiology's inbox has the study with the note; cardiology's not",
        async () => {
          const other = await newPage(browser);
          await signInAs(other, b.app!.baseUrl, "cardioloog", otherPw);
          assert.match(other.url(), /\/portal$/);
          assert.equal(await other.locator(`tr[data-study="${study.studyUid}"]`).count(), 0);
          await other.context().close();

          await signInAs(caregiver, b.app!.baseUrl, "zorgverlener", caregiverPw);
          assert.match(caregiver.url(), /\/portal$/);
          assert.equal(
            await caregiver.getAttribute("[data-department]", "data-department"),
            "radiologie",
          );
          const row = caregiver.locator(`tr[data-study="${study.studyUid}"]`);
          assert.equal(await row.getAttribute("data-match"), "open");
          assert.equal(await row.locator("[data-note]").textContent(), `Notitie: ${note}`);
          assert.match(await row.locator("[data-from]").textContent() ?? "", /^Ziekenhuis A/);
          const [received] = await transfersOf(b, "in");
          assert.ok(received.events.some((e) => e.kind === "held"), "held: no local BSN");
          assert.equal(await orthancCount(pair.orthanc), 0);
        },
      );

      await t.step(
        "B: reconcile as a new patient and import; A's timeline shows imported",
        async () => {
          await caregiver.locator(`tr[data-study="${study.studyUid}"] a`).click();
          await caregiver.fill("#new-id", "B-900001");
          await caregiver.click("#reconcile-new");
          assert.equal(await caregiver.getAttribute("[data-match]", "data-match"), "decided");
          await caregiver.click(`form[action$="/import"] button`);
          const deadline = Date.now() + 60_000;
          while (Date.now() < deadline && (await orthancCount(pair.orthanc)) < 6) {
            await new Promise((r) => setTimeout(r, 250));
          }
          assert.equal(await orthancCount(pair.orthanc), 6);
          const text = await waitForText(sender, studyUrl, "[data-timeline]", /Geïmporteerd/);
          assert.match(text, /Afgeleverd/);
          const [transfer] = await transfersOf(a, "out");
          assert.equal(transfer.state, "imported");
        },
      );
    } finally {
      await browser.close();
      await pair.close();
      await Deno.remove(root, { recursive: true });
    }
  },
});
