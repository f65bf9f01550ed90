import assert from "node:assert/strict";
import { dicomEnv, freePort, startAppliance, tempDir } from "../support/appliance.ts";
import { setUpAdmin } from "../support/auth_browser.ts";
import { launchChromium } from "../support/browser.ts";
import { dcmtk } from "../support/dicom_harness.ts";
import { writeSyntheticStudy } from "../support/dicom_fixtures.ts";
import { missing } from "../support/peers.ts";

Deno.test({
  name: "the dashboard shows a study a modality just sent: one arriving, its images counted",
  ignore: missing("chromium", "storescu"),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    using dir = tempDir();
    const dicomPort = freePort();
    const app = await startAppliance(dir.path, dicomEnv(dicomPort, "CT_ZAAL3"));
    const browser = await launchChromium();
    try {
      const page = await (await browser.newContext({ ignoreHTTPSErrors: true })).newPage();
      await setUpAdmin(page, app.setupUrl!);
      assert.equal(await page.textContent("[data-tile='dashboard.arriving'] .count"), "0");
      assert.match(await page.textContent("main") ?? "", /Nog geen studies/);

      writeSyntheticStudy(`${dir.path}/ct`, {
        instances: 7,
        rows: 32,
        cols: 32,
        patientId: "DASH-007",
      });
      const sent = await dcmtk("storescu", [
        "-aec",
        "BEELDPOORT",
        "-aet",
        "CT_ZAAL3",
        "+sd",
        "+r",
        "127.0.0.1",
        String(dicomPort),
        `${dir.path}/ct`,
      ]);
      assert.equal(sent.code, 0, sent.output);

      await page.reload();
      assert.equal(await page.textContent("[data-tile='dashboard.arriving'] .count"), "1");
      const row = await page.textContent("table.studies tbody tr");
      assert.match(row ?? "", /DASH-007/);
      assert.match(row ?? "", /CT_ZAAL3/);
      assert.match(row ?? "", /wordt ontvangen/);
      const cells = await page.$$eval(
        "table.studies tbody tr td.num",
        (tds) => tds.map((td) => td.textContent),
      );
      assert.equal(cells[0], "7");
    } finally {
      await browser.close();
      await app.stop();
    }
  },
});
