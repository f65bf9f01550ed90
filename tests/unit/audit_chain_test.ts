import assert from "node:assert/strict";
import { sql } from "kysely";
import { createAuditTrail } from "../../modules/audit/mod.ts";
import { createLogger, fixedClock } from "../../modules/core/mod.ts";
import { migrateToLatest, openDatabase } from "../../modules/db/mod.ts";

async function setup(retentionDays = 0) {
  const database = openDatabase({ kind: "sqlite", path: ":memory:" });
  await migrateToLatest(database);
  const clock = fixedClock(new Date("2026-11-21T10:00:00Z"));
  const audit = createAuditTrail({
    db: database.db,
    log: createLogger({ sink: () => {} }),
    clock,
    retentionDays,
  });
  for (let i = 1; i <= 10; i++) {
    await audit.record({
      action: i % 2 ? "view" : "receive",
      outcome: "success",
      actor: i % 2 ? { kind: "user", id: "dr.jansen", role: "caregiver" } : {
        kind: "system",
        id: "dicom:CT_ZAAL3",
      },
      sourceAddress: "10.0.0.7",
      patient: { id: `PAT-${i}`, bsn: "999999990" },
      object: { kind: "study", id: `1.2.826.0.1.3680043.8.498.${i}` },
    });
    clock.advance(86400_000);
  }
  return { database, audit, clock };
}

Deno.test("an untouched trail verifies; every event carries the NEN 7513 fields", async () => {
  const { database, audit } = await setup();
  const report = await audit.verify();
  assert.deepEqual(report, { ok: true, checked: 10, firstSeq: 1, lastSeq: 10, problems: [] });
  const [newest] = await audit.list(1);
  assert.equal(newest.seq, 10);
  assert.equal(newest.actor.id, "dicom:CT_ZAAL3");
  assert.equal(newest.patient.bsn, "999999990");
  assert.equal(newest.sourceAddress, "10.0.0.7");
  assert.equal(newest.occurredAt, "2026-11-30T10:00:00.000Z");
  assert.equal(newest.object?.id, "1.2.826.0.1.3680043.8.498.10");
  await database.close();
});

Deno.test("the database refuses updates; an edit behind its back is found and named", async () => {
  const { database, audit } = await setup();
  await assert.rejects(
    sql`UPDATE audit_events SET patient_id = 'PAT-X' WHERE seq = 4`.execute(database.db),
    /append-only/,
  );
  await sql`DROP TRIGGER audit_events_append_only`.execute(database.db);
  await sql`UPDATE audit_events SET patient_id = 'PAT-X' WHERE seq = 4`.execute(database.db);
  const report = await audit.verify();
  assert.equal(report.ok, false);
  assert.deepEqual(report.problems.map((p) => [p.kind, p.seq]), [["edited", 4]]);
  assert.match(report.problems[0].message, /row 4 .* was changed/);
  await database.close();
});

Deno.test("a removed row, and removed newest rows, are found and named", async () => {
  const { database, audit } = await setup();
  await sql`DELETE FROM audit_events WHERE seq = 6`.execute(database.db);
  let report = await audit.verify();
  assert.deepEqual(report.problems.map((p) => [p.kind, p.seq]), [["missing", 6]]);
  assert.match(report.problems[0].message, /rows 6\.\.6 are missing/);

  await sql`DELETE FROM audit_events WHERE seq >= 9`.execute(database.db);
  report = await audit.verify();
  assert.deepEqual(report.problems.map((p) => [p.kind, p.seq]), [["missing", 6], ["missing", 9]]);
  assert.match(report.problems[1].message, /rows 9\.\.10 are missing \(the newest/);
  await database.close();
});

Deno.test("retention removes old events and the chain still verifies from the anchor", async () => {
  const { database, audit } = await setup(5);
  // the clock stands 10 days after the first event: events of days 1-5 are older than 5 days
  assert.equal(await audit.prune(), 5);
  const report = await audit.verify();
  assert.equal(report.ok, true, JSON.stringify(report.problems));
  assert.equal(report.firstSeq, 6);
  assert.equal(report.checked, 6, "five kept plus the prune event itself");
  const [prune] = await audit.list(1);
  assert.equal(prune.action, "audit-prune");
  assert.deepEqual(prune.detail, { removed: 5, retentionDays: 5 });
  await database.close();
});

Deno.test("export writes JSON lines and DICOM audit messages in order", async () => {
  const { database, audit } = await setup();
  const jsonl = await new Response(audit.export("jsonl")).text();
  const lines = jsonl.trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const atna = (await new Response(audit.export("atna")).text()).trimEnd().split("\n");
  assert.equal(atna.length, 10);
  assert.match(atna[1], /<EventID csd-code="110104" codeSystemName="DCM"/);
  assert.match(atna[1], /EventActionCode="C"/);
  assert.match(
    atna[1],
    /ParticipantObjectID="999999990\^\^\^&#38;2\.16\.840\.1\.113883\.2\.4\.6\.3&#38;ISO"/,
  );
  assert.match(atna[0], /UserID="dr\.jansen" AlternativeUserID="caregiver"/);
  await database.close();
});
