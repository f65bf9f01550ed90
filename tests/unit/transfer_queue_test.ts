import assert from "node:assert/strict";
import { createLogger, fixedClock } from "../../modules/core/mod.ts";
import { migrateToLatest, openDatabase } from "../../modules/db/mod.ts";
import {
  createTransferQueue,
  retryDelay,
  TransferJobStateError,
  TransferPermanentError,
} from "../../modules/transfer/mod.ts";

const log = createLogger({ level: "error" });

async function setup(overrides: Partial<Parameters<typeof createTransferQueue>[0]> = {}) {
  const database = openDatabase({ kind: "sqlite", path: ":memory:" });
  await migrateToLatest(database);
  const clock = fixedClock(new Date("2026-03-01T10:00:00Z"));
  const queue = createTransferQueue({
    db: database.db,
    log,
    clock,
    retry: { baseMs: 1000, maxMs: 60_000, jitter: 0 },
    maxAgeMs: 3_600_000,
    concurrency: 1,
    ...overrides,
  });
  return { database, clock, queue };
}

Deno.test("retry delays double from the base, stay within the jitter and the cap", () => {
  const policy = { baseMs: 10_000, maxMs: 100_000 };
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => retryDelay(policy, n, () => 0.5)), [
    10_000,
    20_000,
    40_000,
    80_000,
    100_000,
  ]);
  assert.equal(retryDelay(policy, 1, () => 0), 8_000);
  assert.equal(retryDelay(policy, 1, () => 1), 12_000);
});

Deno.test("a failed attempt waits its backoff, keeps delivered items, and the retry sends only the rest", async () => {
  const { database, clock, queue } = await setup();
  const offered: string[][] = [];
  let calls = 0;
  queue.register("dicom", async ({ pending, markDone }) => {
    offered.push(pending);
    calls++;
    await markDone(pending.slice(0, calls === 1 ? 2 : pending.length));
    if (calls === 1) throw new Error("association aborted");
  });
  const job = await queue.enqueue({
    kind: "dicom",
    destination: "PACS",
    subject: "2.25.1",
    items: ["a", "b", "c", "d"],
  });
  await queue.drain();
  let now = await queue.get(job.id);
  assert.equal(now.state, "failed");
  assert.equal(now.attempts, 1);
  assert.deepEqual(now.items, { total: 4, done: 2 });
  assert.equal(now.nextAttemptAt, "2026-03-01T10:00:01.000Z");
  await queue.drain(); // not due yet
  assert.equal((await queue.get(job.id)).attempts, 1);
  clock.advance(1000);
  await queue.drain();
  now = await queue.get(job.id);
  assert.equal(now.state, "done");
  assert.deepEqual(offered, [["a", "b", "c", "d"], ["c", "d"]]);
  assert.deepEqual((await queue.attempts(job.id)).map((a) => [a.outcome, a.itemsDone]), [
    ["failed", 2],
    ["delivered", 2],
  ]);
  await database.close();
});

Deno.test("a running job's lease is renewed through commitUnflushed, so no other worker takes it", async () => {
  const unflushed: string[] = [];
  const { database, clock, queue } = await setup({
    leaseMs: 300, // renewed every 100 ms
    commitUnflushed: async (queries) => {
      unflushed.push(...queries.map((q) => q.sql));
      for (const q of queries) await database.db.executeQuery(q);
    },
  });
  const other = createTransferQueue({
    db: database.db,
    log,
    clock,
    owner: "other",
    concurrency: 1,
  });
  let otherRan = false;
  other.register("dicom", () => {
    otherRan = true;
    return Promise.resolve();
  });
  queue.register("dicom", async () => {
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 100));
      clock.advance(200); // the lease would have run out by the second step without renewal
      await other.drain();
    }
  });
  const job = await queue.enqueue({ kind: "dicom", destination: "PACS", subject: "2.25.9" });
  await queue.drain();
  assert.equal((await queue.get(job.id)).state, "done");
  assert.equal(otherRan, false, "the other worker took a job whose lease was renewed");
  assert.ok(unflushed.filter((sql) => sql.includes('"lease_until"')).length >= 3, unflushed.join());
  await database.close();
});

Deno.test("a job whose worker died resumes after its lease with only the unacknowledged items", async () => {
  const { database, clock, queue } = await setup({ leaseMs: 5000 });
  const job = await queue.enqueue({ kind: "dicom", destination: "PACS", items: ["a", "b", "c"] });
  // what a killed process leaves: running, leased by someone else, one item acknowledged
  await database.db.updateTable("transfer_jobs").set({
    state: "running",
    lease_owner: "dead-process",
    lease_until: "2026-03-01T10:00:05.000Z",
    attempts: 1,
  }).where("id", "=", job.id).execute();
  await database.db.updateTable("transfer_items").set({ done: 1 }).where("item", "=", "a")
    .execute();
  const offered: string[][] = [];
  queue.register("dicom", async ({ pending, markDone }) => {
    offered.push(pending);
    await markDone(pending);
  });
  await queue.drain();
  assert.deepEqual(offered, [], "the lease still holds");
  clock.advance(5001);
  await queue.drain();
  assert.deepEqual(offered, [["b", "c"]]);
  const done = await queue.get(job.id);
  assert.equal(done.state, "done");
  assert.equal(done.attempts, 2);
  await database.close();
});

Deno.test("urgent jobs overtake routine ones", async () => {
  const { database, queue } = await setup();
  const order: string[] = [];
  await queue.enqueue({ kind: "k", destination: "A", subject: "routine-1" });
  await queue.enqueue({ kind: "k", destination: "A", subject: "routine-2" });
  await queue.enqueue({ kind: "k", destination: "A", subject: "urgent", priority: "urgent" });
  queue.register("k", ({ job }) => {
    order.push(job.subject!);
    return Promise.resolve();
  });
  await queue.drain();
  assert.deepEqual(order, ["urgent", "routine-1", "routine-2"]);
  await database.close();
});

Deno.test("the circuit breaker holds a failing destination's jobs back; others still go", async () => {
  const { database, clock, queue } = await setup({ breaker: { failures: 2, openMs: 30_000 } });
  const ran: string[] = [];
  queue.register("k", ({ job }) => {
    ran.push(job.destination);
    return job.destination === "DOWN" ? Promise.reject(new Error("refused")) : Promise.resolve();
  });
  const down = await queue.enqueue({ kind: "k", destination: "DOWN" });
  await queue.drain();
  clock.advance(1000);
  await queue.drain(); // second failure opens the breaker
  await queue.enqueue({ kind: "k", destination: "DOWN" });
  await queue.enqueue({ kind: "k", destination: "UP" });
  clock.advance(5000); // the first job is due again, but the breaker is open
  await queue.drain();
  assert.deepEqual(ran, ["DOWN", "DOWN", "UP"]);
  clock.advance(30_000);
  await queue.drain(); // half open: one trial job, which fails and opens the breaker again
  assert.equal(ran.filter((d) => d === "DOWN").length, 3);
  assert.equal((await queue.list({ state: "failed" })).length, 2);
  assert.equal((await queue.get(down.id)).state, "failed");
  await database.close();
});

Deno.test("permanent errors and old age make a job dead; retry, redirect and cancel bring it back or end it", async () => {
  const { database, clock, queue } = await setup({ maxAgeMs: 10_000 });
  let fail: Error | null = new TransferPermanentError("SOP class refused");
  const offered: [string, string[]][] = [];
  queue.register("k", async ({ job, pending, markDone }) => {
    offered.push([job.destination, pending]);
    if (fail) {
      await markDone(pending.slice(0, 1));
      throw fail;
    }
    await markDone(pending);
  });
  const job = await queue.enqueue({ kind: "k", destination: "A", items: ["x", "y"] });
  await queue.drain();
  assert.equal((await queue.get(job.id)).state, "dead");
  assert.equal((await queue.get(job.id)).lastError, "SOP class refused");
  await assert.rejects(() => queue.acknowledge(job.id), TransferJobStateError);

  fail = new Error("timeout");
  await queue.retry(job.id);
  clock.advance(20_000); // beyond the maximum age of the retried job: the next failure is final
  await queue.drain();
  assert.equal((await queue.get(job.id)).state, "dead");

  fail = null;
  const redirected = await queue.redirect(job.id, "B");
  assert.deepEqual(redirected.items, { total: 2, done: 0 }, "a new destination gets everything");
  await queue.drain();
  assert.equal((await queue.get(job.id)).state, "done");
  assert.deepEqual(offered.at(-1), ["B", ["x", "y"]]);

  const other = await queue.enqueue({ kind: "unhandled", destination: "A" });
  assert.equal((await queue.cancel(other.id)).state, "dead");
  assert.equal((await queue.get(other.id)).lastError, "cancelled by operator");
  await database.close();
});

Deno.test("a job waiting for the peer's acknowledgement counts every item delivered once acknowledged", async () => {
  const { database, queue } = await setup();
  queue.register("peer", () => Promise.resolve({ waitForAck: true as const }));
  const job = await queue.enqueue({
    kind: "peer",
    destination: "00000022",
    items: ["a", "b", "c"],
  });
  await queue.drain();
  const waiting = await queue.get(job.id);
  assert.equal(waiting.state, "waiting-ack");
  assert.deepEqual(waiting.items, { total: 3, done: 0 });
  const acknowledged = await queue.acknowledge(job.id);
  assert.equal(acknowledged.state, "done");
  assert.deepEqual(acknowledged.items, { total: 3, done: 3 });
  await database.close();
});

Deno.test("a kind registered with its own limit runs that many jobs at once; other kinds use the rest", async () => {
  const { database, queue } = await setup({ concurrency: 3 });
  const running = new Map<string, number>();
  const most = new Map<string, number>();
  const slow = (kind: string) => async () => {
    running.set(kind, (running.get(kind) ?? 0) + 1);
    most.set(kind, Math.max(most.get(kind) ?? 0, running.get(kind)!));
    await new Promise((resolve) => setTimeout(resolve, 20));
    running.set(kind, running.get(kind)! - 1);
  };
  for (let n = 0; n < 4; n++) {
    await queue.enqueue({ kind: "inbound", destination: "mail-in", subject: `message-${n}` });
    await queue.enqueue({ kind: "dicom", destination: "PACS", subject: `study-${n}` });
  }
  queue.register("inbound", slow("inbound"), { concurrency: 1 });
  queue.register("dicom", slow("dicom"));
  await queue.drain();
  assert.equal(most.get("inbound"), 1, "never two inbound jobs at once");
  assert.equal(most.get("dicom"), 2, "the other two slots go to dicom jobs");
  const jobs = await queue.list();
  assert.equal(jobs.filter((j) => j.state === "done").length, 8);
  await database.close();
});

Deno.test("a kind in its own lane starts at once while the shared slots are busy, and takes none of them", async () => {
  const { database, queue } = await setup({ concurrency: 2 });
  const running = new Map<string, number>();
  const most = new Map<string, number>();
  const started: string[] = [];
  const slow =
    (kind: string, ms: number) => async ({ job }: { job: { subject: string | null } }) => {
      started.push(`${kind}:${job.subject}`);
      running.set(kind, (running.get(kind) ?? 0) + 1);
      most.set(kind, Math.max(most.get(kind) ?? 0, running.get(kind)!));
      await new Promise((resolve) => setTimeout(resolve, ms));
      running.set(kind, running.get(kind)! - 1);
    };
  // Four long dicom jobs queued before the inbound ones: in the shared slots the inbound jobs
  // would wait for two of them to end.
  for (let n = 0; n < 4; n++) {
    await queue.enqueue({ kind: "dicom", destination: "PACS", subject: `study-${n}` });
  }
  for (let n = 0; n < 3; n++) {
    await queue.enqueue({ kind: "inbound", destination: "mail-in", subject: `message-${n}` });
  }
  queue.register("dicom", slow("dicom", 60));
  queue.register("inbound", slow("inbound", 5), { ownLane: true });
  await queue.drain();
  assert.equal(most.get("inbound"), 1, "one at a time by default");
  assert.equal(most.get("dicom"), 2, "both shared slots still go to dicom jobs");
  // All three inbound jobs ran while the first two dicom jobs (60 ms) were still running.
  assert.deepEqual(started.slice(0, 5).sort(), [
    "dicom:study-0",
    "dicom:study-1",
    "inbound:message-0",
    "inbound:message-1",
    "inbound:message-2",
  ]);
  const jobs = await queue.list();
  assert.equal(jobs.filter((j) => j.state === "done").length, 7);
  await database.close();
});

Deno.test("summaries lists every job of a study, past list's limit, without item counts", async () => {
  const { database, queue } = await setup();
  // 1001 part jobs of one study (a 10 GB transfer has more parts than list's 1000) and two others.
  for (let part = 1; part <= 1001; part++) {
    await queue.enqueue({
      kind: "dicom",
      destination: "PACS",
      subject: "1.2.3",
      payload: { part },
    });
  }
  await queue.enqueue({ kind: "dicom", destination: "PACS", subject: "1.2.4" });
  await queue.enqueue({ kind: "dicom", destination: "PACS" });
  const jobs = await queue.summaries({ subject: "1.2.3" });
  assert.equal(jobs.length, 1001);
  assert.equal((await queue.list({ subject: "1.2.3" })).length, 1000);
  assert.deepEqual(
    jobs.map((j) => j.payload.part),
    Array.from({ length: 1001 }, (_, i) => 1001 - i),
  );
  assert.ok(jobs.every((j) => j.subject === "1.2.3" && !("items" in j)));
  await database.close();
});

Deno.test("stateCounts counts every job by state, beyond the newest 1000", async () => {
  const { database, queue } = await setup();
  queue.register("ok", () => Promise.resolve());
  queue.register("refused", () => Promise.reject(new TransferPermanentError("SOP class refused")));
  await queue.enqueue({ kind: "refused", destination: "PACS" });
  for (let i = 0; i < 1001; i++) await queue.enqueue({ kind: "ok", destination: "PACS" });
  await queue.enqueue({ kind: "unhandled", destination: "PACS" });
  await queue.drain();
  assert.deepEqual(await queue.stateCounts(), { dead: 1, done: 1001, queued: 1 });
  // The dead job is the oldest: the newest 1000 would not show it, a list by state does.
  assert.equal((await queue.list()).filter((j) => j.state === "dead").length, 0);
  assert.equal((await queue.list({ state: "dead", limit: 10 })).length, 1);
  await database.close();
});

Deno.test("summaries by last change: the jobs finished since a moment, however many", async () => {
  const { database, clock, queue } = await setup();
  queue.register("ok", () => Promise.resolve());
  await queue.enqueue({ kind: "ok", destination: "PACS" });
  await queue.drain();
  clock.advance(86_400_000 + 1000);
  const since = new Date(clock.now().getTime() - 86_400_000).toISOString();
  for (let i = 0; i < 1001; i++) await queue.enqueue({ kind: "ok", destination: "PACS" });
  await queue.drain();
  const recent = await queue.summaries({ state: "done", updatedSince: since });
  assert.equal(recent.length, 1001);
  assert.ok(recent.every((j) => j.updatedAt >= since));
  assert.equal((await queue.stateCounts()).done, 1002);
  await database.close();
});
