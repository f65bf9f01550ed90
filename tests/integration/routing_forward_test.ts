import assert from "node:assert/strict";
import { startOrthanc } from "../../scripts/peers/orthanc.ts";
import { startPeer } from "../../scripts/peers/process.ts";
import { readPart10Header } from "../../modules/dicom/mod.ts";
import { freePort, tempDir } from "../support/appliance.ts";
import { datasetBytes, dcmtk } from "../support/dicom_harness.ts";
import { newUid, writeSyntheticCt, writeSyntheticStudy } from "../support/dicom_fixtures.ts";
import { missing } from "../support/peers.ts";
import { applianceWithRule, cli, eventually, jobsOf } from "../support/routing_peers.ts";

const grayscalePresentationState = "1.2.840.10008.5.1.4.1.1.11.1";

function storescu(port: number, ...paths: string[]) {
  return dcmtk("storescu", [
    "-aec",
    "BEELDPOORT",
    "-aet",
    "CT1",
    "+sd",
    "+r",
    "127.0.0.1",
    String(port),
    ...paths,
  ]);
}

/** Every instance Orthanc holds: SOP Instance UID -> dataset bytes of the file it stored. */
async function orthancDatasets(httpUrl: string): Promise<Map<string, Uint8Array>> {
  const ids = await (await fetch(`${httpUrl}/instances`)).json() as string[];
  const out = new Map<string, Uint8Array>();
  for (const id of ids) {
    const file = await (await fetch(`${httpUrl}/instances/${id}/file`)).bytes();
    const header = readPart10Header(file);
    out.set(header.sopInstanceUid, file.subarray(header.datasetOffset));
  }
  return out;
}

Deno.test({
  name:
    "storescu -> Beeldpoort -> Orthanc by rule: byte-identical, PR filtered out, dry run, late instance follows up alone",
  ignore: missing("storescu", "Orthanc"),
  fn: async () => {
    using dir = tempDir();
    const orthanc = await startOrthanc({
      dir: `${dir.path}/orthanc`,
      httpPort: freePort(),
      dicomPort: freePort(),
    });
    const { app, dicomPort, env } = await applianceWithRule(dir.path, {
      destination: { aeTitle: orthanc.aeTitle, port: orthanc.dicomPort, associations: 2 },
      rule: {
        name: "CT from CT1 to the PACS, without presentation states",
        match: { callingAe: "CT1", modality: "CT", studyDescription: { regex: "^CT THORAX" } },
        actions: [{ type: "forward", destination: "DEST" }],
        filter: { excludeSopClasses: ["PR"] },
      },
    });
    try {
      const study = writeSyntheticStudy(`${dir.path}/sent`, {
        instances: 10,
        series: 2,
        rows: 64,
        cols: 64,
      });
      const prUid = newUid();
      writeSyntheticCt(`${dir.path}/sent/pr.dcm`, {
        studyUid: study.studyUid,
        seriesUid: newUid(),
        sopUid: prUid,
        rows: 8,
        cols: 8,
        sopClassUid: grayscalePresentationState,
      });
      const sent = await storescu(dicomPort, `${dir.path}/sent`);
      assert.equal(sent.code, 0, sent.output);

      const [job] = await eventually("the forward job to finish", async () => {
        const jobs = await jobsOf(dir.path, env, study.studyUid);
        return jobs.length === 1 && jobs[0].state === "done" ? jobs : null;
      });
      assert.deepEqual(job.items, { total: 10, done: 10 });
      assert.equal(job.attempts, 1);

      const stored = await orthancDatasets(orthanc.httpUrl);
      assert.equal(stored.size, 10, "exactly the 10 CT instances, no PR");
      assert.ok(!stored.has(prUid));
      for (const [i, file] of study.files.entries()) {
        assert.deepEqual(stored.get(study.sopUids[i]), datasetBytes(file), `dataset of ${file}`);
      }
      const stats = await orthanc.rest("/statistics") as { CountInstances: number };
      assert.equal(stats.CountInstances, 10);

      // dry run: the rule matches, filters the PR out, and has nothing new to send
      const plans = JSON.parse(
        await cli(dir.path, env, "rules", "test", study.studyUid, "--json"),
      );
      assert.equal(plans.length, 1);
      assert.equal(plans[0].matched, true);
      assert.deepEqual(
        plans[0].actions.map((
          a: Record<string, unknown>,
        ) => [a.destination, a.instances, a.excluded, a.newInstances]),
        [["DEST", 10, 1, 0]],
      );
      const text = await cli(dir.path, env, "rules", "test", study.studyUid);
      assert.match(text, /callingAe "CT1" matches "CT1"/);
      assert.match(text, /would forward to DEST: 0 new of 10 instance\(s\), 1 filtered out/);

      // a late instance: one follow-up job with just that instance
      const lateUid = newUid();
      writeSyntheticCt(`${dir.path}/late.dcm`, {
        studyUid: study.studyUid,
        seriesUid: study.seriesUids[0],
        sopUid: lateUid,
        rows: 64,
        cols: 64,
        instanceNumber: 11,
      });
      assert.equal((await storescu(dicomPort, `${dir.path}/late.dcm`)).code, 0);
      const jobs = await eventually("the follow-up job", async () => {
        const all = await jobsOf(dir.path, env, study.studyUid);
        return all.length === 2 && all[1].state === "done" ? all : null;
      });
      assert.deepEqual(jobs[1].items, { total: 1, done: 1 });
      assert.equal(jobs[1].payload.followUp, true);
      const after = await orthancDatasets(orthanc.httpUrl);
      assert.equal(after.size, 11);
      assert.deepEqual(after.get(lateUid), datasetBytes(`${dir.path}/late.dcm`));

      const timeline = (await cli(dir.path, env, "studies", "timeline", study.studyUid, "--json"))
        .trim().split("\n").map((l) => JSON.parse(l).kind);
      assert.deepEqual(timeline, [
        "received",
        "stable",
        "matched",
        "queued",
        "attempt",
        "delivered",
        "received",
        "stable",
        "matched",
        "queued",
        "attempt",
        "delivered",
      ]);
    } finally {
      await app.stop();
      await orthanc.stop();
    }
  },
});

Deno.test({
  name: "destination down when the study settles: retries with growing delays, then delivers",
  ignore: missing("storescu", "Orthanc"),
  fn: async () => {
    using dir = tempDir();
    const orthancPorts = { httpPort: freePort(), dicomPort: freePort() };
    const { app, dicomPort, env } = await applianceWithRule(dir.path, {
      destination: { aeTitle: "ORTHANC", port: orthancPorts.dicomPort },
      rule: { name: "everything", actions: [{ type: "forward", destination: "DEST" }] },
    });
    let orthanc;
    try {
      const study = writeSyntheticStudy(`${dir.path}/sent`, { instances: 5, rows: 64, cols: 64 });
      assert.equal((await storescu(dicomPort, `${dir.path}/sent`)).code, 0);
      const [failing] = await eventually("three failed attempts", async () => {
        const jobs = await jobsOf(dir.path, env, study.studyUid);
        return jobs.length === 1 && jobs[0].attempts >= 3 ? jobs : null;
      });
      assert.equal(failing.state === "failed" || failing.state === "running", true);
      orthanc = await startOrthanc({ dir: `${dir.path}/orthanc`, ...orthancPorts });
      const [job] = await eventually("delivery once the destination is up", async () => {
        const jobs = await jobsOf(dir.path, env, study.studyUid);
        return jobs[0].state === "done" ? jobs : null;
      });
      assert.deepEqual(job.items, { total: 5, done: 5 });
      const { attempts } = JSON.parse(await cli(dir.path, env, "jobs", "show", job.id, "--json"));
      assert.ok(attempts.length >= 4, `attempts: ${attempts.length}`);
      assert.deepEqual(
        attempts.map((a: { outcome: string }) => a.outcome),
        [...Array(attempts.length - 1).fill("failed"), "delivered"],
      );
      const starts = attempts.map((a: { startedAt: string }) => Date.parse(a.startedAt));
      const gaps = starts.slice(1).map((t: number, i: number) => t - starts[i]);
      for (let i = 1; i < gaps.length; i++) {
        assert.ok(gaps[i] > gaps[i - 1], `delays grow: ${gaps.join(", ")} ms`);
      }
      assert.match(attempts[0].error, /refused|connect/i);
      const stats = await orthanc.rest("/statistics") as { CountInstances: number };
      assert.equal(stats.CountInstances, 5);
    } finally {
      await app.stop();
      await orthanc?.stop();
    }
  },
});

Deno.test({
  name: "kill -9 in the middle of a forward, restart: storescp has every instance exactly once",
  ignore: missing("storescu", "storescp"),
  fn: async () => {
    using dir = tempDir();
    const out = `${dir.path}/dest`;
    Deno.mkdirSync(out);
    const destPort = freePort();
    // one file per SOP Instance UID (-uf, the default naming); a second of a second per store
    const storescp = startPeer("storescp", [
      "-v",
      "-aet",
      "DEST",
      "-od",
      out,
      "-uf",
      "--sleep-after",
      "1",
      String(destPort),
    ], { env: { TCP_NODELAY: "1" } });
    const setup = await applianceWithRule(dir.path, {
      destination: { aeTitle: "DEST", port: destPort },
      rule: { name: "everything", actions: [{ type: "forward", destination: "DEST" }] },
    });
    let app = setup.app;
    const { dicomPort, env } = setup;
    try {
      const study = writeSyntheticStudy(`${dir.path}/sent`, { instances: 6, rows: 64, cols: 64 });
      assert.equal((await storescu(dicomPort, `${dir.path}/sent`)).code, 0);
      await eventually(
        "two instances at the destination",
        () => Promise.resolve([...Deno.readDirSync(out)].length >= 2),
        30_000,
      );
      const killed = await app.stop("SIGKILL");
      assert.equal(killed.signal, "SIGKILL");
      const atKill = [...Deno.readDirSync(out)].length;
      assert.ok(atKill < 6, `killed mid-forward (${atKill} of 6 there)`);

      const { startAppliance } = await import("../support/appliance.ts");
      app = await startAppliance(dir.path, env);
      const [job] = await eventually("the resumed job to finish", async () => {
        const jobs = await jobsOf(dir.path, env, study.studyUid);
        return jobs.length === 1 && jobs[0].state === "done" ? jobs : null;
      });
      assert.deepEqual(job.items, { total: 6, done: 6 });
      assert.ok(job.attempts >= 2);
      const files = [...Deno.readDirSync(out)].map((e) => e.name).sort();
      assert.equal(files.length, 6, files.join(" "));
      for (const [i, uid] of study.sopUids.entries()) {
        const name = files.find((f) => f.endsWith(uid));
        assert.ok(name, `instance ${uid} at the destination`);
        assert.deepEqual(datasetBytes(`${out}/${name}`), datasetBytes(study.files[i]));
      }
      // Only an instance acknowledged in the instant before the kill may have gone twice.
      const received = (storescp.output().match(/Received Store Request/g) ?? []).length;
      console.log(`storescp received ${received} C-STORE requests for 6 instances`);
      assert.ok(received <= 7, `at most one resend, got ${received}`);
    } finally {
      await app.stop();
      await storescp.stop();
    }
  },
});
