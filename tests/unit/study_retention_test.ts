import assert from "node:assert/strict";
import { createStudyRetention } from "../../appliance/study_retention.ts";
import { createAuditTrail } from "../../modules/audit/mod.ts";
import { createLogger, fixedClock } from "../../modules/core/mod.ts";
import { migrateToLatest, openDatabase } from "../../modules/db/mod.ts";
import { createPortal } from "../../modules/portal/mod.ts";
import { createSpool } from "../../modules/spool/mod.ts";
import { createStudyIndex, type StudyIndex } from "../../modules/studies/mod.ts";
import { createTransferQueue } from "../../modules/transfer/mod.ts";
import { testKey } from "../support/spool_fixtures.ts";

const log = createLogger({ sink: () => {} });
const day = 86400_000;

async function gateway(retentionDays = 30) {
  const dir = await Deno.makeTempDir({ prefix: "bp-retention-" });
  const database = openDatabase({ kind: "sqlite", path: ":memory:" });
  await migrateToLatest(database);
  const db = database.db;
  const clock = fixedClock(new Date("2026-06-01T08:00:00Z"));
  const spool = await createSpool({ dir, masterKey: testKey(5), durability: "os" });
  const studies = createStudyIndex({ db, duplicatePolicy: "ignore", log, clock });
  const queue = createTransferQueue({ db, log, clock });
  const audit = createAuditTrail({ db, log, clock });
  const portal = createPortal({
    db,
    studies: {} as StudyIndex,
    spool,
    clock,
    links: { validDays: 14, pinAttempts: 3, grantMinutes: 30 },
    previewTool: null,
  });
  const retention = createStudyRetention({ db, spool, audit, clock, log, retentionDays });

  /** A study of `count` stored instances for `patient`; returns the spool ids. */
  async function receive(uid: string, count: number, patient = `PAT-${uid}`) {
    const ids: string[] = [];
    for (let n = 1; n <= count; n++) {
      const bytes = new Uint8Array(1000 + n).fill(n);
      const stored = await spool.put(ReadableStream.from([bytes]));
      ids.push(stored.id);
      await studies.recordInstance({
        header: {
          studyInstanceUid: uid,
          seriesInstanceUid: `${uid}.1`,
          patientId: patient,
          issuerOfPatientId: "ZH",
          modality: "CT",
          instanceNumber: n,
        },
        sopInstanceUid: `${uid}.1.${n}`,
        sopClassUid: "1.2.840.10008.5.1.4.1.1.2",
        transferSyntaxUid: "1.2.840.10008.1.2.1",
        callingAe: "CT_ZAAL3",
        size: stored.size,
        sha256: stored.sha256,
        spoolId: stored.id,
        source: "dicom",
      });
    }
    return ids;
  }

  async function job(
    uid: string | undefined,
    state: "done" | "dead" | "failed",
    lastError?: string,
  ) {
    const queued = await queue.enqueue({ kind: "dicom", destination: "PACS", subject: uid });
    await db.updateTable("transfer_jobs").set({ state, last_error: lastError ?? null })
      .where("id", "=", queued.id).execute();
    return queued.id;
  }

  const close = async () => {
    await database.close();
    await Deno.remove(dir, { recursive: true });
  };
  return { db, clock, spool, studies, queue, audit, portal, retention, receive, job, close };
}

Deno.test("retention: a study quiet for longer than retentionDays leaves the spool and the index, audited", async () => {
  const g = await gateway();
  const ids = await g.receive("2.25.1", 3);
  await g.job("2.25.1", "done");
  g.clock.advance(29 * day);
  assert.equal((await g.retention.sweep()).removed, 0, "not yet: 29 days");
  g.clock.advance(2 * day);
  const sweep = await g.retention.sweep();
  assert.deepEqual(sweep, {
    removed: 1,
    jobs: 0,
    kept: 0,
    spoolObjects: 3,
    bytes: 1001 + 1002 + 1003,
  });
  for (const id of ids) assert.equal(await g.spool.has(id), false, `spool object ${id}`);
  assert.equal(await g.studies.getStudy("2.25.1"), null);
  const count = async (table: "patients" | "instances" | "series" | "transfer_jobs") =>
    Number(
      (await g.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as("n"))
        .executeTakeFirstOrThrow()).n,
    );
  assert.equal(await count("patients"), 0);
  assert.equal(await count("series"), 0);
  assert.equal(await count("instances"), 0);
  assert.equal(await count("transfer_jobs"), 0);
  const [event] = (await g.audit.list()).filter((e) => e.action === "delete");
  assert.equal(event.object?.id, "2.25.1");
  assert.equal(event.patient.id, "PAT-2.25.1");
  assert.equal(event.detail?.instances, 3);
  assert.equal(event.detail?.retentionDays, 30);
  assert.equal((await g.retention.sweep()).removed, 0, "a second sweep finds nothing");
  await g.close();
});

Deno.test("retention: an open job keeps a study; a cancelled one does not", async () => {
  const g = await gateway();
  await g.receive("2.25.2", 1);
  await g.receive("2.25.3", 1);
  await g.job("2.25.2", "failed");
  const dead = await g.job("2.25.3", "dead", "peer refused the study");
  g.clock.advance(31 * day);
  assert.deepEqual(await g.retention.sweep(), {
    removed: 0,
    jobs: 0,
    kept: 2,
    spoolObjects: 0,
    bytes: 0,
  });
  await g.queue.cancel(dead);
  // The cancel is a change to the study's job: 30 more quiet days before it goes.
  g.clock.advance(29 * day);
  assert.equal((await g.retention.sweep()).removed, 0);
  g.clock.advance(2 * day);
  const sweep = await g.retention.sweep();
  assert.equal(sweep.removed, 1);
  assert.equal(sweep.kept, 1);
  assert.equal(await g.studies.getStudy("2.25.3"), null);
  assert.ok(await g.studies.getStudy("2.25.2"), "the failed job's study stays");
  await g.close();
});

Deno.test("retention: a valid patient link keeps a study until it expires or is revoked", async () => {
  const g = await gateway();
  await g.receive("2.25.4", 1);
  g.clock.advance(25 * day);
  const { link } = await g.portal.links.create("2.25.4", "laborant");
  g.clock.advance(6 * day);
  assert.deepEqual(await g.retention.sweep(), {
    removed: 0,
    jobs: 0,
    kept: 1,
    spoolObjects: 0,
    bytes: 0,
  });
  await g.portal.links.revoke(link.id, "laborant");
  assert.equal((await g.retention.sweep()).removed, 1);
  const links = await g.db.selectFrom("portal_links").select("id").execute();
  assert.equal(links.length, 0, "the link goes with the study");
  await g.close();
});

Deno.test("retention: recent timeline steps keep a study; a shared patient stays; 0 keeps all", async () => {
  const g = await gateway();
  await g.receive("2.25.5", 1, "PAT-SHARED");
  await g.receive("2.25.6", 2, "PAT-SHARED");
  g.clock.advance(20 * day);
  await g.studies.recordEvent("2.25.6", "delivered", { destination: "PACS" });
  g.clock.advance(11 * day);
  const sweep = await g.retention.sweep();
  assert.equal(sweep.removed, 1);
  assert.equal(sweep.kept, 1);
  assert.equal(await g.studies.getStudy("2.25.5"), null);
  assert.equal((await g.studies.getStudy("2.25.6"))?.patientId, "PAT-SHARED");

  const keepAll = createStudyRetention({
    db: g.db,
    spool: g.spool,
    audit: g.audit,
    clock: g.clock,
    log,
    retentionDays: 0,
  });
  g.clock.advance(365 * day);
  assert.deepEqual(await keepAll.sweep(), {
    removed: 0,
    jobs: 0,
    kept: 0,
    spoolObjects: 0,
    bytes: 0,
  });
  assert.ok(await g.studies.getStudy("2.25.6"));
  await g.close();
});

Deno.test("retention: finished jobs of no study go after the period; dead ones and recent ones stay", async () => {
  const g = await gateway();
  const old = await g.job(undefined, "done");
  const dead = await g.job(undefined, "dead", "message refused");
  g.clock.advance(20 * day);
  const recent = await g.job(undefined, "done");
  g.clock.advance(11 * day);
  assert.equal((await g.retention.sweep({ dryRun: true })).jobs, 0, "a dry run removes no job");
  assert.equal((await g.retention.sweep()).jobs, 1);
  const left = (await g.db.selectFrom("transfer_jobs").select("id").execute()).map((j) => j.id);
  assert.deepEqual(left.sort(), [dead, recent].sort());
  assert.ok(!left.includes(old));
  await g.close();
});
