import assert from "node:assert/strict";
import { createLogger } from "../../modules/core/mod.ts";
import { migrateToLatest, openDatabase } from "../../modules/db/mod.ts";
import { createStudyIndex, type InstanceRecord } from "../../modules/studies/mod.ts";

const log = createLogger({ level: "error" });

function record(n: number, overrides: Partial<InstanceRecord> = {}): InstanceRecord {
  return {
    header: { studyInstanceUid: "2.25.100", seriesInstanceUid: "2.25.201", patientId: "PAT-1" },
    sopInstanceUid: `2.25.300.${n}`,
    sopClassUid: "1.2.840.10008.5.1.4.1.1.2",
    transferSyntaxUid: "1.2.840.10008.1.2.1",
    callingAe: "CT1",
    size: 1000 + n,
    sha256: `hash-${n}`,
    spoolId: `spool-${n}`,
    source: "dicom",
    ...overrides,
  };
}

async function open(duplicatePolicy: "ignore" | "replace" = "replace") {
  const database = openDatabase({ kind: "sqlite", path: ":memory:" });
  await migrateToLatest(database);
  return { database, studies: createStudyIndex({ db: database.db, duplicatePolicy, log }) };
}

Deno.test("recordInstance commits only after commitAfter resolves", async () => {
  const { database, studies } = await open();
  let release: () => void = () => {};
  const durable = new Promise<void>((resolve) => (release = resolve));
  let settled = false;
  const recorded = studies.recordInstance(record(1), { commitAfter: durable }).then((r) => {
    settled = true;
    return r;
  });
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(settled, false, "waits for commitAfter");
  release();
  assert.equal((await recorded).outcome, "indexed");
  const [study] = await studies.listStudies();
  assert.equal(study.instances, 1);
  assert.equal(study.bytes, 1001);
  await database.close();
});

Deno.test("recordInstance rolls back everything when commitAfter rejects, with that error", async () => {
  const { database, studies } = await open();
  const failure = new Error("fsync failed");
  const rejected = Promise.reject(failure);
  await assert.rejects(studies.recordInstance(record(1), { commitAfter: rejected }), (e) => {
    return e === failure;
  });
  assert.deepEqual(await studies.listStudies(), [], "no patient, study, series or instance row");
  // A replacement whose bytes failed leaves the old copy indexed as it was.
  await studies.recordInstance(record(2));
  await assert.rejects(
    studies.recordInstance(record(2, { spoolId: "spool-new", sha256: "new", size: 9 }), {
      commitAfter: Promise.reject(failure),
    }),
    (e) => e === failure,
  );
  const [row] = await studies.studyInstances("2.25.100");
  assert.deepEqual([row.spoolId, row.sha256, row.size], ["spool-2", "hash-2", 1002]);
  const [study] = await studies.listStudies();
  assert.deepEqual([study.instances, study.bytes], [1, 1002]);
  // The connection is usable afterwards.
  assert.equal((await studies.recordInstance(record(3))).outcome, "indexed");
  await database.close();
});
