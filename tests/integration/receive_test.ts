import assert from "node:assert/strict";
import { dicomEnv, freePort, runCli, startAppliance, tempDir } from "../support/appliance.ts";
import { datasetBytes, dcmtk, filesUnder } from "../support/dicom_harness.ts";
import { writeSyntheticStudy } from "../support/dicom_fixtures.ts";
import { missing } from "../support/peers.ts";
import { startOrthanc } from "../../scripts/peers/orthanc.ts";

interface ListedStudy {
  studyInstanceUid: string;
  patientId: string;
  instances: number;
  bytes: number;
  state: string;
}

async function listStudies(cwd: string): Promise<ListedStudy[]> {
  const result = await runCli(["studies", "list", "--json"], { cwd });
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

/** Sent files and exported files compared by dataset bytes, keyed by SOP instance UID file name. */
function assertSameDatasets(sentFiles: string[], sopUids: string[], exportDir: string) {
  for (const [i, file] of sentFiles.entries()) {
    const exported = `${exportDir}/${sopUids[i]}.dcm`;
    assert.deepEqual(datasetBytes(exported), datasetBytes(file), `dataset of ${file}`);
  }
}

Deno.test({
  name: "storescu -> Beeldpoort: encrypted in the spool, indexed once, exported byte for byte",
  ignore: missing("storescu"),
  fn: async () => {
    using dir = tempDir();
    const dicomPort = freePort();
    const app = await startAppliance(dir.path, dicomEnv(dicomPort, "MODALITY1"));
    try {
      const study = writeSyntheticStudy(`${dir.path}/sent`, {
        instances: 12,
        series: 2,
        rows: 64,
        cols: 64,
        patientId: "PAT-RECV",
      });
      const args = [
        "-aec",
        "BEELDPOORT",
        "-aet",
        "MODALITY1",
        "+sd",
        "+r",
        "127.0.0.1",
        String(dicomPort),
        `${dir.path}/sent`,
      ];
      const sent = await dcmtk("storescu", args);
      assert.equal(sent.code, 0, sent.output);
      // the same study again: acknowledged, not indexed twice
      assert.equal((await dcmtk("storescu", args)).code, 0);

      const [listed] = await listStudies(dir.path);
      assert.equal(listed.studyInstanceUid, study.studyUid);
      assert.equal(listed.patientId, "PAT-RECV");
      assert.equal(listed.instances, 12);
      const sentBytes = study.files.reduce((n, f) => n + datasetBytes(f).length, 0);
      assert.ok(listed.bytes > sentBytes, "stored objects include the Part-10 meta header");

      // nothing readable in the spool: the synthetic patient id is not on disk in clear text
      const needle = new TextEncoder().encode("PAT-RECV");
      const objects = filesUnder(`${dir.path}/data/spool`);
      assert.equal(objects.length, 12, "one spool object per instance");
      for (const path of objects) {
        assert.equal(
          Buffer.from(Deno.readFileSync(path)).indexOf(needle),
          -1,
          "spool object is encrypted",
        );
      }

      const exported = await runCli(["studies", "export", study.studyUid, `${dir.path}/out`], {
        cwd: dir.path,
      });
      assert.equal(exported.code, 0, exported.stderr);
      assert.match(exported.stdout, /exported 12 files/);
      assertSameDatasets(study.files, study.sopUids, `${dir.path}/out`);
    } finally {
      await app.stop();
    }
  },
});

Deno.test({
  name: "an unknown calling AE is rejected by name, and echoscu from a known one succeeds",
  ignore: missing("echoscu"),
  fn: async () => {
    using dir = tempDir();
    const dicomPort = freePort();
    const app = await startAppliance(dir.path, dicomEnv(dicomPort, "CT1,MR2"));
    try {
      const ok = await dcmtk("echoscu", [
        "-aec",
        "BEELDPOORT",
        "-aet",
        "MR2",
        "127.0.0.1",
        String(dicomPort),
      ]);
      assert.equal(ok.code, 0, ok.output);
      const refused = await dcmtk("echoscu", [
        "-aec",
        "BEELDPOORT",
        "-aet",
        "INTRUDER",
        "127.0.0.1",
        String(dicomPort),
      ]);
      assert.notEqual(refused.code, 0);
      assert.match(refused.output, /Calling AE Title Not Recognized/i);
      assert.match(app.output().stderr, /"association rejected".*"callingAe":"INTRUDER"/);
    } finally {
      await app.stop();
    }
  },
});

Deno.test({
  name: "a full disk answers Out of Resources, keeps nothing partial, and the appliance lives on",
  ignore: missing("storescu") || Deno.uid?.() !== 0,
  fn: async () => {
    using dir = tempDir();
    const dicomPort = freePort();
    const env = dicomEnv(dicomPort, "*");
    const init = await runCli(["init"], { cwd: dir.path, env });
    assert.equal(init.code, 0, init.stderr);
    const spool = `${dir.path}/data/spool`;
    const mount = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=1m", "tmpfs", spool],
    }).output();
    assert.ok(mount.success, "tmpfs mount");
    try {
      const app = await startAppliance(dir.path, env);
      try {
        writeSyntheticStudy(`${dir.path}/big`, { instances: 4, rows: 512, cols: 512 });
        const sent = await dcmtk("storescu", [
          "-v",
          "-aec",
          "BEELDPOORT",
          "-aet",
          "CT1",
          "+sd",
          "+r",
          "127.0.0.1",
          String(dicomPort),
          `${dir.path}/big`,
        ]);
        assert.match(sent.output, /Out of Resources|A700|Refused: OutOfResources/i);
        const echo = await dcmtk("echoscu", [
          "-aec",
          "BEELDPOORT",
          "-aet",
          "CT1",
          "127.0.0.1",
          String(dicomPort),
        ]);
        assert.equal(echo.code, 0, "still serving after the failures");
        const leftovers = filesUnder(spool).map((p) => p.slice(spool.length));
        const stored = (await listStudies(dir.path)).reduce((n, s) => n + s.instances, 0);
        assert.equal(
          leftovers.filter((n) => n.startsWith("/tmp/")).length,
          0,
          `no temp files: ${leftovers}`,
        );
        assert.equal(leftovers.length, stored, "every spool object is indexed, nothing partial");
        assert.match(app.output().stderr, /spool write failed; answered Out of Resources/);
      } finally {
        await app.stop();
      }
    } finally {
      await new Deno.Command("umount", { args: [spool] }).output();
    }
  },
});

Deno.test({
  name: "Orthanc sends a study to Beeldpoort through its REST API; every dataset arrives unchanged",
  ignore: missing("Orthanc", "storescu"),
  fn: async () => {
    using dir = tempDir();
    const dicomPort = freePort();
    const app = await startAppliance(dir.path, dicomEnv(dicomPort, "ORTHANC"));
    const orthanc = await startOrthanc({
      dir: `${dir.path}/orthanc`,
      httpPort: freePort(),
      dicomPort: freePort(),
      modalities: { beeldpoort: ["BEELDPOORT", "127.0.0.1", dicomPort] },
    });
    try {
      const study = writeSyntheticStudy(`${dir.path}/sent`, { instances: 6, rows: 64, cols: 64 });
      for (const file of study.files) {
        await orthanc.rest("/instances", { method: "POST", body: Deno.readFileSync(file) });
      }
      const [orthancStudy] = await orthanc.rest("/studies") as string[];
      const job = await orthanc.rest("/modalities/beeldpoort/store", {
        method: "POST",
        body: JSON.stringify({ Resources: [orthancStudy], Synchronous: true }),
      }) as { InstancesCount?: number; FailedInstancesCount?: number };
      assert.equal(job.FailedInstancesCount ?? 0, 0);

      const [listed] = await listStudies(dir.path);
      assert.equal(listed.studyInstanceUid, study.studyUid);
      assert.equal(listed.instances, 6);
      const exported = await runCli(["studies", "export", study.studyUid, `${dir.path}/out`], {
        cwd: dir.path,
      });
      assert.equal(exported.code, 0, exported.stderr);
      assertSameDatasets(study.files, study.sopUids, `${dir.path}/out`);
    } finally {
      await orthanc.stop();
      await app.stop();
    }
  },
});
