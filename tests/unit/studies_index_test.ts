import assert from "node:assert/strict";
import { createLogger } from "../../modules/core/mod.ts";
import { migrateToLatest, openDatabase } from "../../modules/db/mod.ts";
import {
  createStudyIndex,
  type InstanceRecord,
  UnindexableInstance,
} from "../../modules/studies/mod.ts";

const log = createLogger({ level: "error" });

function record(n: number, overrides: Partial<InstanceRecord> = {}): InstanceRecord {
  return {
    header: {
      studyInstanceUid: "2.25.100",
      seriesInstanceUid: n % 2 ? "2.25.201" : "2.25.202",
      patientId: "PAT-1",
      issuerOfPatientId: "ZH",
      modality: n % 2 ? "CT" : "PR",
      instanceNumber: n,
      seriesNumber: n % 2 ? 1 : 2,
      numberOfStudyRelatedInstances: 4,
    },
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

async function index(duplicatePolicy: "ignore" | "replace") {
  const database = openDatabase({ kind: "sqlite", path: ":memory:" });
  await migrateToLatest(database);
  return { database, index: createStudyIndex({ db: database.db, duplicatePolicy, log }) };
}

Deno.test("instances are indexed into one study with exact counts, bytes and modalities", async () => {
  const { database, index: studies } = await index("ignore");
  for (let n = 1; n <= 4; n++) {
    assert.equal((await studies.recordInstance(record(n))).outcome, "indexed");
  }
  const [study] = await studies.listStudies();
  assert.equal(study.studyInstanceUid, "2.25.100");
  assert.equal(study.patientId, "PAT-1");
  assert.equal(study.instances, 4);
  assert.equal(study.bytes, 1001 + 1002 + 1003 + 1004);
  assert.deepEqual(study.modalities, ["CT", "PR"]);
  assert.equal(study.state, "receiving");
  const instances = await studies.studyInstances("2.25.100");
  assert.deepEqual(instances.map((i) => i.instanceNumber), [1, 3, 2, 4]);
  assert.deepEqual(await studies.stateCounts(), { receiving: 1 });
  await database.close();
});

Deno.test("studyInstances with `only` gives just those instances, in study order, by SQL or by filter", async () => {
  const { database, index: studies } = await index("ignore");
  await studies.recordInstances([1, 2, 3, 4, 5, 6].map((n) => record(n)));
  const uid = (n: number) => `2.25.300.${n}`;
  const numbers = async (only?: string[]) =>
    (await studies.studyInstances("2.25.100", only)).map((i) => i.instanceNumber);
  assert.deepEqual(await numbers(), [1, 3, 5, 2, 4, 6]);
  assert.deepEqual(await numbers([uid(4), uid(1), uid(5), "2.25.999"]), [1, 5, 4]);
  assert.deepEqual(await numbers([]), []);
  // Past the SQL parameter bound the whole study is read and filtered: the same answer.
  const many = [uid(6), uid(3), ...Array.from({ length: 1500 }, (_, i) => `2.25.9.${i}`)];
  assert.deepEqual(await numbers(many), [3, 6]);
  await database.close();
});

Deno.test("a second copy of a SOP instance never makes a second row; policy decides which copy stays", async () => {
  for (const policy of ["ignore", "replace"] as const) {
    const { database, index: studies } = await index(policy);
    await studies.recordInstance(record(1));
    const same = await studies.recordInstance(record(1, { spoolId: "spool-again" }));
    assert.deepEqual(same, {
      outcome: "duplicate-identical",
      studyInstanceUid: "2.25.100",
      obsoleteSpoolId: "spool-again",
    });
    const changed = await studies.recordInstance(
      record(1, { spoolId: "spool-new", sha256: "other", size: 5000 }),
    );
    const [row] = await studies.studyInstances("2.25.100");
    const [study] = await studies.listStudies();
    assert.equal(study.instances, 1);
    if (policy === "ignore") {
      assert.equal(changed.outcome, "duplicate-ignored");
      assert.equal(changed.obsoleteSpoolId, "spool-new");
      assert.equal(row.spoolId, "spool-1");
      assert.equal(study.bytes, 1001);
    } else {
      assert.equal(changed.outcome, "duplicate-replaced");
      assert.equal(changed.obsoleteSpoolId, "spool-1");
      assert.equal(row.spoolId, "spool-new");
      assert.equal(study.bytes, 5000);
    }
    await database.close();
  }
});

Deno.test("an instance without study or series UID is refused by name", async () => {
  const { database, index: studies } = await index("ignore");
  await assert.rejects(
    studies.recordInstance(record(1, { header: { seriesInstanceUid: "2.25.1" } })),
    UnindexableInstance,
  );
  assert.deepEqual(await studies.listStudies(), []);
  await database.close();
});

Deno.test("recordInstances indexes a batch in one go, duplicates in it included; a bad one leaves none", async () => {
  const { database, index: studies } = await index("ignore");
  const outcomes = await studies.recordInstances([
    record(1),
    record(2),
    record(3),
    record(3, { spoolId: "spool-3b" }), // the same instance twice in one part
  ]);
  assert.deepEqual(outcomes.map((o) => o.outcome), [
    "indexed",
    "indexed",
    "indexed",
    "duplicate-identical",
  ]);
  assert.equal(outcomes[3].obsoleteSpoolId, "spool-3b");
  const [study] = await studies.listStudies();
  assert.equal(study.instances, 3);
  assert.equal(study.bytes, 1001 + 1002 + 1003);

  const bad = record(5, { header: { ...record(5).header, seriesInstanceUid: undefined } });
  await assert.rejects(studies.recordInstances([record(4), bad]), UnindexableInstance);
  assert.equal((await studies.listStudies())[0].instances, 3, "record 4 was not indexed either");
  await database.close();
});
