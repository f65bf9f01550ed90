/**
 * The study zip: every instance byte-identical to the spool, the report, and a DICOMDIR that
 * dicom3tools' dciodvfy accepts as a Basic Directory and whose record offsets dcmdump confirms.
 */
import assert from "node:assert/strict";
import { unzipSync } from "fflate";
import { createLogger } from "../../modules/core/mod.ts";
import { migrateToLatest, openDatabase } from "../../modules/db/mod.ts";
import { createStudyIndex } from "../../modules/studies/mod.ts";
import type { Services } from "../../appliance/services.ts";
import { missing } from "../support/peers.ts";
import { facesForTest } from "../support/ui_faces.ts";
import { storeReport, storeStudy, tinyPdf } from "../support/ui_demo.ts";

Deno.test({
  name: "a study zip holds the stored bytes, the report and a valid DICOMDIR",
  ignore: missing("dciodvfy", "dcmdump"),
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "bp-archive-" });
    const database = openDatabase({ kind: "sqlite", path: ":memory:" });
    await migrateToLatest(database);
    const log = createLogger({ level: "error" });
    const studies = createStudyIndex({ db: database.db, duplicatePolicy: "ignore", log });
    const faces = await facesForTest({ db: database.db, studies, log, spoolDir: `${dir}/spool` });
    // the demo helpers need only these services
    const services = { database, studies, spool: faces.spool } as unknown as Services;
    try {
      const study = await storeStudy(services, {
        source: "mail",
        patientId: "ZIP-1",
        patientName: "Visser^Ünal", // non-ASCII: the records declare ISO_IR 192
        description: "CT abdomen",
        accession: "ACC-9",
        studyDate: "20260202",
        instances: 5,
        series: 2,
        size: 32,
      });
      await storeReport(services, study.studyInstanceUid);
      const { stream, instances } = await faces.portal.archive(study.studyInstanceUid);
      assert.equal(instances, 5);
      const zip = unzipSync(new Uint8Array(await new Response(stream).arrayBuffer()));
      assert.deepEqual(Object.keys(zip).sort(), [
        "DICOM/S0001/I00001",
        "DICOM/S0001/I00002",
        "DICOM/S0001/I00003",
        "DICOM/S0002/I00001",
        "DICOM/S0002/I00002",
        "DICOMDIR",
        "REPORT.PDF",
      ]);
      const names = Object.keys(zip).filter((n) => n.startsWith("DICOM/")).sort();
      names.forEach((n, i) =>
        assert.deepEqual(zip[n], study.bytes.get(study.sopInstanceUids[i])!, n)
      );
      assert.deepEqual(zip["REPORT.PDF"], tinyPdf("Verslag (synthetisch)"));

      for (const [name, bytes] of Object.entries(zip)) {
        await Deno.mkdir(`${dir}/media/${name.split("/").slice(0, -1).join("/")}`, {
          recursive: true,
        });
        await Deno.writeFile(`${dir}/media/${name}`, bytes);
      }
      const run = async (tool: string, args: string[]) => {
        const out = await new Deno.Command(tool, { args, stdout: "piped", stderr: "piped" })
          .output();
        return new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      };
      const verdict = await run("dciodvfy", [`${dir}/media/DICOMDIR`]);
      assert.match(verdict, /BasicDirectory/);
      assert.doesNotMatch(verdict, /^Error/m, verdict);
      const dump = await run("dcmdump", [`${dir}/media/DICOMDIR`]);
      // each record starts where the offsets say (dcmdump prints where it found each item)
      const found = [...dump.matchAll(/# {2}offset=\$(\d+)/g)].map((m) => Number(m[1]));
      const pointed = [...dump.matchAll(/\((0004,1200|0004,1400|0004,1420)\) up (\d+)/g)]
        .map((m) => Number(m[2])).filter((n) => n > 0);
      assert.equal(found.length, 1 + 1 + 2 + 5);
      for (const offset of pointed) assert.ok(found.includes(offset), `offset ${offset}`);
      const files = [...dump.matchAll(/refFileID="([^"]+)"/g)].map((m) => m[1]).sort();
      assert.deepEqual(files, names.map((n) => n.replaceAll("/", "\\")));
      assert.match(dump, /ISO_IR 192/);
    } finally {
      await database.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
