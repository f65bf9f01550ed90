import assert from "node:assert/strict";
import { createLogger, fixedClock } from "../../modules/core/mod.ts";
import { migrateToLatest, openDatabase } from "../../modules/db/mod.ts";
import {
  createRouter,
  passesFilter,
  RoutingDefinitionInvalid,
  type StudyFacts,
} from "../../modules/routing/mod.ts";
import {
  createCompletenessMonitor,
  createStudyIndex,
  type InstanceRecord,
} from "../../modules/studies/mod.ts";
import { createTransferQueue } from "../../modules/transfer/mod.ts";

const log = createLogger({ level: "error" });
const ct = "1.2.840.10008.5.1.4.1.1.2";
const gsps = "1.2.840.10008.5.1.4.1.1.11.1";

async function setup() {
  const database = openDatabase({ kind: "sqlite", path: ":memory:" });
  await migrateToLatest(database);
  const queue = createTransferQueue({ db: database.db, log });
  const events: string[] = [];
  const router = createRouter({
    db: database.db,
    log,
    enqueue: (request, executor) => queue.enqueue(request, executor),
    onEvent: (_uid, kind) => {
      events.push(kind);
      return Promise.resolve();
    },
  });
  await router.putDestination({
    name: "PACS",
    kind: "dicom",
    aeTitle: "PACS",
    host: "127.0.0.1",
    port: 104,
  });
  return { database, queue, router, events };
}

function facts(instances: [string, string][], overrides: Partial<StudyFacts> = {}): StudyFacts {
  return {
    studyInstanceUid: "2.25.7",
    state: "stable",
    callingAe: "CT1",
    calledAe: "BEELDPOORT",
    modalities: ["CT", "PR"],
    studyDescription: "CT THORAX",
    referringPhysician: "Jansen^A",
    instances: instances.map(([sopInstanceUid, sopClassUid]) => ({ sopInstanceUid, sopClassUid })),
    tags: (keywords) =>
      Promise.resolve(
        Object.fromEntries(
          keywords.filter((k) => k === "BodyPartExamined").map((k) => [k, "CHEST"]),
        ),
      ),
    ...overrides,
  };
}

Deno.test("an invalid rule is refused with every problem named", async () => {
  const { database, router } = await setup();
  await assert.rejects(
    () =>
      router.addRule({
        name: "",
        match: { modality: { regex: "(" }, tags: { BodyPartExamnied: "CHEST" }, colour: "red" },
        actions: [{ type: "forward", destination: "NOWHERE" }],
        filter: { excludeSopClasses: ["PRESENTATION"] },
        priority: "asap",
      }),
    (error: unknown) => {
      assert.ok(error instanceof RoutingDefinitionInvalid);
      assert.equal(error.code, "ROUTING_DEFINITION_INVALID");
      assert.equal(error.problems.length, 7, error.problems.join("\n"));
      assert.ok(error.problems.includes("match.tags.BodyPartExamnied: not a DICOM keyword"));
      assert.ok(error.problems.includes('actions[0].destination: no destination "NOWHERE"'));
      return true;
    },
  );
  assert.deepEqual(await router.listRules(), []);
  await database.close();
});

Deno.test("dry run says which rules match and why; routing queues once, then only late instances", async () => {
  const { database, queue, router, events } = await setup();
  const matching = await router.addRule({
    name: "CT thorax to PACS",
    match: {
      callingAe: "CT1",
      modality: "CT",
      studyDescription: { regex: "thorax", ignoreCase: true },
      referringPhysician: { equals: ["Jansen^A", "Smit^B"] },
      tags: { BodyPartExamined: "CHEST" },
    },
    actions: [{ type: "forward", destination: "PACS" }, { type: "send", recipient: "gw@b.test" }],
    filter: { excludeSopClasses: ["PR"] },
    priority: "urgent",
  });
  await router.addRule({
    name: "MR only",
    match: { modality: "MR" },
    actions: [{ type: "forward", destination: "PACS" }],
  });
  const disabled = await router.addRule({
    name: "off",
    actions: [{ type: "forward", destination: "PACS" }],
  });
  await router.setRuleEnabled(disabled.id, false);
  const study = facts([["1", ct], ["2", ct], ["3", gsps]]);

  const plans = await router.plan(study);
  assert.deepEqual(plans.map((p) => [p.ruleName, p.enabled, p.matched]), [
    ["CT thorax to PACS", true, true],
    ["MR only", true, false],
    ["off", false, true],
  ]);
  assert.deepEqual(plans[0].reasons, [
    'callingAe "CT1" matches "CT1"',
    'modality ["CT","PR"] matches "CT"',
    'studyDescription "CT THORAX" matches /thorax/i',
    'referringPhysician "Jansen^A" matches one of ["Jansen^A","Smit^B"]',
    'BodyPartExamined "CHEST" matches "CHEST"',
  ]);
  assert.deepEqual(plans[1].reasons, ['modality ["CT","PR"] does not match "MR"']);
  assert.deepEqual(
    plans[0].actions.map((a) => [a.kind, a.destination, a.instances, a.excluded, a.newInstances]),
    [["dicom", "PACS", 2, 1, 2], ["peer", "gw@b.test", 2, 1, 2]],
  );
  assert.equal((await queue.list()).length, 0, "a dry run queues nothing");

  const queued = await router.route(study);
  assert.deepEqual(queued.map((q) => [q.ruleId, q.kind, q.destination, q.instances, q.priority]), [
    [matching.id, "dicom", "PACS", 2, "urgent"],
    [matching.id, "peer", "gw@b.test", 2, "urgent"],
  ]);
  assert.deepEqual(events, ["matched", "queued", "queued"]);
  assert.deepEqual(await router.route(study), [], "routing again queues nothing twice");

  const late = await router.route(facts([["1", ct], ["2", ct], ["3", gsps], ["4", ct]]));
  assert.deepEqual(late.map((q) => q.instances), [1, 1]);
  assert.deepEqual(await queue.items(late[0].jobId), [{ item: "4", done: false, note: null }]);
  await database.close();
});

Deno.test("a complete-trigger rule waits for the expected count; filters know aliases and prefixes", async () => {
  const { database, router } = await setup();
  await router.addRule({
    name: "complete only",
    trigger: "complete",
    actions: [{ type: "forward", destination: "PACS" }],
  });
  const study = facts([["1", ct]], { state: "incomplete" });
  assert.equal(
    (await router.plan(study))[0].waiting,
    "waits for a complete study (now incomplete)",
  );
  assert.deepEqual(await router.route(study), []);
  assert.equal((await router.route({ ...study, state: "complete" })).length, 1);
  assert.equal(passesFilter(gsps, { excludeSopClasses: ["PR"] }), false);
  assert.equal(
    passesFilter("1.2.840.10008.5.1.4.1.1.88.67", { excludeSopClasses: ["DOSE"] }),
    false,
  );
  assert.equal(passesFilter(ct, { includeSopClasses: ["1.2.840.10008.5.1.4.1.1.*"] }), true);
  assert.equal(passesFilter(ct, { includeSopClasses: ["SR"] }), false);
  await database.close();
});

function record(n: number, callingAe = "CT1", expected?: number): InstanceRecord {
  return {
    header: {
      studyInstanceUid: `2.25.${callingAe}`,
      seriesInstanceUid: `2.25.${callingAe}.1`,
      patientId: "P",
      numberOfStudyRelatedInstances: expected,
    },
    sopInstanceUid: `2.25.${callingAe}.${n}`,
    sopClassUid: ct,
    transferSyntaxUid: "1.2.840.10008.1.2.1",
    callingAe,
    size: 10,
    sha256: `h${callingAe}${n}`,
    spoolId: `s${callingAe}${n}`,
    source: "dicom",
  };
}

Deno.test("completeness: quiet period per sender, complete / incomplete / stable, late instances receive again", async () => {
  const database = openDatabase({ kind: "sqlite", path: ":memory:" });
  await migrateToLatest(database);
  const clock = fixedClock(new Date("2026-03-01T10:00:00Z"));
  const studies = createStudyIndex({ db: database.db, duplicatePolicy: "ignore", log, clock });
  const settled: string[] = [];
  const monitor = createCompletenessMonitor({
    db: database.db,
    log,
    clock,
    quietPeriodMs: 30_000,
    quietPeriodByAe: { SLOW: 120_000 },
    onSettled: (s) => {
      settled.push(`${s.callingAe}:${s.state}`);
      return Promise.resolve();
    },
  });
  for (let n = 1; n <= 3; n++) await studies.recordInstance(record(n, "CT1", 3));
  for (let n = 1; n <= 2; n++) await studies.recordInstance(record(n, "MR2", 3));
  await studies.recordInstance(record(1, "US3"));
  await studies.recordInstance(record(1, "SLOW"));
  clock.advance(29_999);
  assert.deepEqual(await monitor.check(), []);
  clock.advance(1);
  await monitor.check();
  assert.deepEqual(settled.sort(), ["CT1:complete", "MR2:incomplete", "US3:stable"]);
  assert.equal((await studies.getStudy("2.25.SLOW"))!.state, "receiving");

  await studies.recordInstance(record(3, "MR2"));
  assert.equal((await studies.getStudy("2.25.MR2"))!.state, "receiving");
  clock.advance(30_000);
  await monitor.check();
  assert.equal((await studies.getStudy("2.25.MR2"))!.state, "complete");
  assert.deepEqual(
    (await studies.timeline("2.25.MR2")).map((e) => [e.kind, e.detail.late ?? null]),
    [
      ["received", null],
      ["incomplete", null],
      ["received", true],
      ["complete", null],
    ],
  );
  clock.advance(60_000);
  await monitor.check();
  assert.equal((await studies.getStudy("2.25.SLOW"))!.state, "stable");
  await database.close();
});
