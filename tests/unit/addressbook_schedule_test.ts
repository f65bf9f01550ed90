import assert from "node:assert/strict";
import { createLogger, fixedClock } from "../../modules/core/mod.ts";
import { migrateToLatest, openDatabase } from "../../modules/db/mod.ts";
import {
  type AddressBookSource,
  createAddressBook,
  defaultSyncIntervalMs,
  type Timers,
} from "../../modules/addressbook/mod.ts";

const log = createLogger({ level: "error" });

function fakeTimers() {
  const pending: { callback: () => void; ms: number; id: number }[] = [];
  let next = 1;
  const timers: Timers = {
    setTimeout: (callback, ms) => {
      pending.push({ callback, ms, id: next });
      return next++;
    },
    clearTimeout: (id) => {
      const i = pending.findIndex((p) => p.id === id);
      if (i >= 0) pending.splice(i, 1);
    },
  };
  return { timers, pending };
}

Deno.test("schedule: syncs at once, then hourly; full first, then incremental from the watermark; stop ends it", async () => {
  const database = openDatabase({ kind: "sqlite", path: ":memory:" });
  await migrateToLatest(database);
  const calls: (string | undefined)[] = [];
  const source: AddressBookSource = {
    name: "stub",
    fetch(since) {
      calls.push(since?.toISOString());
      return Promise.resolve({
        entries: [{
          ura: "00012345",
          name: `Naam ${calls.length}`,
          departments: [],
          endpoints: [],
        }],
        complete: !since,
        watermark: new Date(`2026-01-0${calls.length}T00:00:00Z`),
      });
    },
  };
  const clock = fixedClock(new Date("2026-01-10T00:00:00Z"));
  const { timers, pending } = fakeTimers();
  const book = createAddressBook({ db: database.db, sources: [source], clock, log, timers });
  book.startSchedule();
  assert.deepEqual(pending.map((p) => p.ms), [0]);
  const fire = async () => {
    const timer = pending.shift()!;
    timer.callback();
    // Let the sync finish and re-arm the timer.
    while (pending.length === 0) await new Promise((r) => setTimeout(r, 1));
  };
  await fire();
  assert.deepEqual(pending.map((p) => p.ms), [defaultSyncIntervalMs]);
  clock.advance(defaultSyncIntervalMs);
  await fire();
  assert.deepEqual(calls, [undefined, "2026-01-01T00:00:00.000Z"]);
  const runs = await book.syncRuns();
  assert.deepEqual(runs.map((r) => [r.mode, r.added, r.changed]), [["incremental", 0, 1], [
    "full",
    1,
    0,
  ]]);
  assert.equal((await book.get("00012345"))?.name, "Naam 2");
  // A day later the incremental source gets a full sync again (deletions are invisible otherwise).
  clock.advance(24 * defaultSyncIntervalMs);
  await book.sync();
  assert.equal(calls[2], undefined);
  await book.stop();
  assert.equal(pending.length, 0);
  await database.close();
});

Deno.test("sync: concurrent calls share one run; an unknown source name is an error", async () => {
  const database = openDatabase({ kind: "sqlite", path: ":memory:" });
  await migrateToLatest(database);
  let fetches = 0;
  const source: AddressBookSource = {
    name: "stub",
    fetch: () => {
      fetches++;
      return Promise.resolve({ entries: [], complete: true });
    },
  };
  const book = createAddressBook({ db: database.db, sources: [source], log });
  const [a, b] = await Promise.all([book.sync(), book.sync()]);
  assert.equal(a, b);
  assert.equal(fetches, 1);
  await assert.rejects(book.sync({ source: "nope" }), /no address book source "nope"/);
  await database.close();
});

Deno.test("sync: entries with a bad URA are rejected and counted; the rest are stored", async () => {
  const database = openDatabase({ kind: "sqlite", path: ":memory:" });
  await migrateToLatest(database);
  const source: AddressBookSource = {
    name: "stub",
    fetch: () =>
      Promise.resolve({
        entries: [
          { ura: "1234", name: "Kort", departments: [], endpoints: [] },
          { ura: "00012345", name: "", departments: [], endpoints: [] },
          { ura: "00054321", name: "Goed", departments: [], endpoints: [] },
          { ura: "00054321", name: "Dubbel", departments: [], endpoints: [] },
        ],
        complete: true,
      }),
  };
  const book = createAddressBook({ db: database.db, sources: [source], log });
  const [run] = await book.sync();
  assert.deepEqual([run.added, run.rejected], [1, 3]);
  assert.deepEqual(run.problems.map((p) => p.code), [
    "ADDRESSBOOK_INVALID_ENTRY",
    "ADDRESSBOOK_INVALID_ENTRY",
    "DUPLICATE_URA",
  ]);
  await database.close();
});
