import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { dicomEnv, freePort, runCli, startAppliance, tempDir } from "../support/appliance.ts";
import { filesUnder, storescuDirectory } from "../support/dicom_harness.ts";
import { writeSyntheticStudy } from "../support/dicom_fixtures.ts";
import { missing } from "../support/peers.ts";

Deno.test({
  name:
    "retention: a study 40 days quiet leaves spool and index through `studies retention`, audited; a fresh one stays",
  ignore: missing("storescu"),
  fn: async () => {
    using dir = tempDir();
    const dicomPort = freePort();
    const app = await startAppliance(dir.path, dicomEnv(dicomPort, "MODALITY1"));
    const old = writeSyntheticStudy(`${dir.path}/old`, {
      instances: 6,
      rows: 32,
      cols: 32,
      patientId: "PAT-OLD",
    });
    const fresh = writeSyntheticStudy(`${dir.path}/fresh`, {
      instances: 4,
      rows: 32,
      cols: 32,
      patientId: "PAT-FRESH",
    });
    try {
      for (const sent of ["old", "fresh"]) {
        const result = await storescuDirectory(dicomPort, "MODALITY1", `${dir.path}/${sent}`);
        assert.equal(result.code, 0, result.output);
      }
    } finally {
      await app.stop();
    }
    assert.equal(filesUnder(`${dir.path}/data/spool/objects`).length, 10);

    // Time cannot pass in a test: the old study's receipt and timeline move 40 days back.
    const db = new DatabaseSync(`${dir.path}/data/beeldpoort.db`);
    const then = new Date(Date.now() - 40 * 86400_000).toISOString();
    db.prepare(
      "update studies set first_received_at = ?, last_received_at = ? where study_instance_uid = ?",
    )
      .run(then, then, old.studyUid);
    db.prepare("update study_events set at = ? where study_instance_uid = ?").run(
      then,
      old.studyUid,
    );
    db.close();

    const dry = await runCli(["studies", "retention", "--dry-run"], { cwd: dir.path });
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`^${old.studyUid}\twould be removed: 6 instances`, "m"));
    assert.match(dry.stdout, /^1 studies would be removed \(.* MB\), 0 kept; retention 30 days$/m);
    assert.equal(
      filesUnder(`${dir.path}/data/spool/objects`).length,
      10,
      "a dry run removes nothing",
    );

    const run = await runCli(["studies", "retention"], { cwd: dir.path });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^${old.studyUid}\tremoved: 6 instances`, "m"));
    assert.equal(filesUnder(`${dir.path}/data/spool/objects`).length, 4);

    const listed = await runCli(["studies", "list", "--json"], { cwd: dir.path });
    const studies = listed.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(studies.map((s) => s.studyInstanceUid), [fresh.studyUid]);

    const check = new DatabaseSync(`${dir.path}/data/beeldpoort.db`, { readOnly: true });
    const patients = check.prepare("select patient_id from patients order by patient_id").all();
    assert.deepEqual(patients.map((p) => p.patient_id), ["PAT-FRESH"]);
    const deleted = check.prepare(
      "select patient_id, object_id, detail from audit_events where action = 'delete'",
    ).all();
    check.close();
    assert.equal(deleted.length, 1);
    assert.equal(deleted[0].patient_id, "PAT-OLD");
    assert.equal(deleted[0].object_id, old.studyUid);
    assert.equal(JSON.parse(String(deleted[0].detail)).instances, 6);

    const verified = await runCli(["audit", "verify"], { cwd: dir.path });
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    const again = await runCli(["studies", "retention"], { cwd: dir.path });
    assert.match(
      again.stdout,
      /^0 studies removed \(0\.0 MB\), 0 kept, 0 finished jobs of no study removed; retention 30 days$/m,
    );
  },
});
