import assert from "node:assert/strict";
import { createNoticeOutbox, noticeJobKind } from "../../appliance/relay_notices.ts";
import { createLogger, fixedClock } from "../../modules/core/mod.ts";
import { migrateToLatest, openDatabase } from "../../modules/db/mod.ts";
import type { OutgoingMail } from "../../modules/relay/mod.ts";
import { createSpool } from "../../modules/spool/mod.ts";
import { createTransferQueue, TransferPermanentError } from "../../modules/transfer/mod.ts";
import { testKey, withTempDir } from "../support/spool_fixtures.ts";

const log = createLogger({ level: "error" });
const notice = new TextEncoder().encode(
  "From: gw@zkh-b.example\r\nTo: gw@zkh-a.example\r\nSubject: mdn\r\n\r\nprocessed\r\n",
);

/** An outbox over a real spool and queue; `fail` decides what each send attempt throws. */
async function setup(dir: string, fail: (attempt: number) => Error | undefined) {
  const database = openDatabase({ kind: "sqlite", path: ":memory:" });
  await migrateToLatest(database);
  const clock = fixedClock(new Date("2026-03-01T10:00:00Z"));
  const queue = createTransferQueue({
    db: database.db,
    log,
    clock,
    retry: { baseMs: 1000, maxMs: 60_000, jitter: 0 },
    concurrency: 1,
  });
  const spool = await createSpool({ dir, masterKey: testKey(7), durability: "os" });
  const delivered: { mail: OutgoingMail; bytes: Uint8Array }[] = [];
  let attempts = 0;
  const outbox = createNoticeOutbox({
    spool,
    queue,
    log,
    transport: {
      async send(mail) {
        const error = fail(++attempts);
        if (error) throw error;
        const raw = mail.raw as ReadableStream<Uint8Array>;
        delivered.push({ mail, bytes: new Uint8Array(await new Response(raw).arrayBuffer()) });
      },
    },
  });
  const stored = async () => {
    const ids: string[] = [];
    for await (const id of spool.ids()) ids.push(id);
    return ids;
  };
  return { database, clock, queue, outbox, delivered, stored, attempts: () => attempts };
}

const mail = {
  to: "gw@zkh-a.example",
  from: "gw@zkh-b.example",
  messageId: "<mdn.1@zkh-b.example>",
  raw: notice,
};

Deno.test("a notification is stored and queued, not sent on the spot; a failed send is retried", async () => {
  await withTempDir(async (dir) => {
    const t = await setup(dir, (n) => n === 1 ? new Error("connect ECONNREFUSED") : undefined);
    await t.outbox.send(mail);
    assert.equal(t.attempts(), 0, "send returned before any SMTP attempt");
    const [job] = await t.queue.list();
    assert.equal(job.kind, noticeJobKind);
    assert.equal(job.destination, "notice:gw@zkh-a.example");
    assert.equal((await t.stored()).length, 1);

    await t.queue.drain();
    assert.equal((await t.queue.get(job.id)).state, "failed");
    assert.equal((await t.stored()).length, 1, "kept for the retry");

    t.clock.advance(1000);
    await t.queue.drain();
    assert.equal((await t.queue.get(job.id)).state, "done");
    assert.equal(t.delivered.length, 1);
    assert.deepEqual(t.delivered[0].bytes, notice);
    assert.equal(t.delivered[0].mail.to, mail.to);
    assert.equal(t.delivered[0].mail.messageId, mail.messageId);
    assert.deepEqual(await t.stored(), [], "the sent copy is deleted");
    await t.database.close();
  });
});

Deno.test("a notification the peer refuses for good is given up and its stored copy deleted", async () => {
  await withTempDir(async (dir) => {
    const t = await setup(dir, () => new TransferPermanentError("550 no such mailbox"));
    await t.outbox.send(mail);
    const [job] = await t.queue.list();
    await t.queue.drain();
    const after = await t.queue.get(job.id);
    assert.equal(after.state, "dead");
    assert.match(after.lastError ?? "", /550 no such mailbox/);
    assert.deepEqual(await t.stored(), []);
    assert.equal(t.delivered.length, 0);
    await t.database.close();
  });
});
