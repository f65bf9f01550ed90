/**
 * The CLI helpers: packStudyDirectory reads Part-10 files from a folder and writes XDM parts;
 * inspectXdm reports every check and names the failure of a tampered package.
 */
import assert from "node:assert/strict";
import { inspectXdm, readXdm } from "../../modules/xdm/mod.ts";
import { packStudyDirectory } from "../../appliance/study_directory.ts";
import {
  buildZip,
  collect,
  syntheticStudy,
  testRecipient,
  testSender,
  unzipAll,
} from "../support/xdm_fixtures.ts";

Deno.test("xdm directory: a folder of 24 Part-10 files packs into parts that inspect clean", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "xdm_dir_" });
  try {
    const study = syntheticStudy(3, 8, 64);
    Deno.mkdirSync(`${dir}/study/sub`, { recursive: true });
    let i = 0;
    for (const bytes of study.files.values()) {
      Deno.writeFileSync(`${dir}/study/${i % 2 ? "sub/" : ""}f${i++}`, bytes);
    }
    Deno.writeTextFileSync(`${dir}/study/notes.txt`, "not dicom"); // skipped
    Deno.writeTextFileSync(`${dir}/report.txt`, "Verslag");
    const result = await packStudyDirectory(`${dir}/study`, {
      out: `${dir}/out.zip`,
      reportPath: `${dir}/report.txt`,
      note: "Graag beoordelen",
      sender: testSender,
      recipient: testRecipient,
      patient: { bsn: "999999990" },
      partSizeBytes: 60_000,
    });
    assert.equal(result.instanceCount, 24);
    assert.equal(result.studyInstanceUid, study.study.studyInstanceUid);
    assert.ok(result.parts.length > 1);
    const received = new Map<string, Uint8Array>();
    for (const part of result.parts) {
      assert.match(part.path, /out\.part\d{2}of\d{2}\.zip$/);
      const inspection = await inspectXdm(part.path);
      assert.equal(inspection.ok, true, JSON.stringify(inspection.checks));
      assert.equal(inspection.summary.partNumber, part.partNumber);
      assert.equal(inspection.summary.partCount, result.parts.length);
      const pkg = await readXdm(part.path);
      assert.equal(pkg.patient.bsn, "999999990");
      assert.equal(pkg.patient.name, "Proef^Anna");
      for (const doc of pkg.documents.filter((d) => d.entryName.includes("/IMG"))) {
        received.set(doc.uniqueId!, await collect(pkg.openDocument(doc)));
      }
      pkg.close();
    }
    assert.equal(received.size, 24);
    for (const [uid, bytes] of study.files) assert.deepEqual(received.get(uid), bytes);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("xdm directory: inspectXdm names a hash mismatch instead of throwing", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "xdm_inspect_" });
  try {
    const study = syntheticStudy(1, 2, 32);
    Deno.mkdirSync(`${dir}/study`);
    let i = 0;
    for (const bytes of study.files.values()) Deno.writeFileSync(`${dir}/study/f${i++}`, bytes);
    await packStudyDirectory(`${dir}/study`, {
      out: `${dir}/one.zip`,
      sender: testSender,
      recipient: testRecipient,
    });
    const entries = unzipAll(Deno.readFileSync(`${dir}/one.zip`)).map((e) => {
      if (!e.name.endsWith("I0000002.DCM")) return e;
      const data = e.data.slice();
      data[200] ^= 1;
      return { ...e, data };
    });
    Deno.writeFileSync(`${dir}/bad.zip`, buildZip(entries));
    const inspection = await inspectXdm(`${dir}/bad.zip`);
    assert.equal(inspection.ok, false);
    const failed = inspection.checks.filter((c) => !c.ok);
    assert.equal(failed.length, 2);
    assert.match(failed[0].detail, /^XdmHashMismatch \(XDM_HASH_MISMATCH\)/);
    assert.equal(failed[1].detail, "2 of 3 match METADATA.XML");
    const clean = await inspectXdm(`${dir}/one.zip`);
    assert.equal(clean.ok, true);
    assert.equal(clean.summary.documents, 3);
    assert.equal(clean.summary.manifests, 1);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
