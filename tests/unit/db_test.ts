import assert from "node:assert/strict";
import { sql } from "kysely";
import {
  knownMigrations,
  migrateToLatest,
  openDatabase,
  pendingMigrations,
} from "../../modules/db/mod.ts";
import { tempDir } from "../support/appliance.ts";

Deno.test("migrations apply once and are idempotent on a file database", async () => {
  using dir = tempDir();
  const path = `${dir.path}/bp.db`;
  const first = openDatabase({ kind: "sqlite", path });
  assert.deepEqual(await pendingMigrations(first), knownMigrations());
  assert.deepEqual(await migrateToLatest(first), knownMigrations());
  assert.deepEqual(await migrateToLatest(first), []);
  await first.close();

  const again = openDatabase({ kind: "sqlite", path });
  assert.deepEqual(await migrateToLatest(again), []);
  assert.deepEqual(await pendingMigrations(again), []);
  const tables = (await again.db.introspection.getTables()).map((t) => t.name).sort();
  for (const table of ["sessions", "settings", "users"]) assert.ok(tables.includes(table), table);
  await again.close();
});

Deno.test("connections use WAL, enforce foreign keys and wait when busy", async () => {
  using dir = tempDir();
  const database = openDatabase({ kind: "sqlite", path: `${dir.path}/bp.db` });
  await migrateToLatest(database);
  const pragma = async (name: string) =>
    Object.values((await sql.raw(`PRAGMA ${name}`).execute(database.db)).rows[0] as object)[0];
  assert.equal(await pragma("journal_mode"), "wal");
  assert.equal(await pragma("foreign_keys"), 1);
  assert.equal(await pragma("busy_timeout"), 5000);
  await assert.rejects(
    database.db.insertInto("sessions").values({
      id_hash: "x",
      user_id: "no-such-user",
      csrf_token: "t",
      created_at: "now",
      expires_at: "later",
    }).execute(),
    /FOREIGN KEY constraint failed/,
  );
  assert.equal(await database.ping(), true);
  await database.close();
  assert.equal(await database.ping(), false);
});

Deno.test("commits are fsynced (FULL) unless the appliance runs with os durability (NORMAL)", async () => {
  using dir = tempDir();
  const level = async (durable?: boolean) => {
    const database = openDatabase({ kind: "sqlite", path: `${dir.path}/bp.db`, durable });
    try {
      const { rows } = await sql<{ synchronous: number }>`PRAGMA synchronous`.execute(database.db);
      return rows[0].synchronous;
    } finally {
      await database.close();
    }
  };
  assert.equal(await level(), 2); // FULL: the default
  assert.equal(await level(true), 2);
  assert.equal(await level(false), 1); // NORMAL
});

Deno.test("commitUnflushed: all or nothing, FULL again afterwards, waits for an open transaction", async () => {
  using dir = tempDir();
  const database = openDatabase({ kind: "sqlite", path: `${dir.path}/bp.db` });
  try {
    await migrateToLatest(database);
    const db = database.db;
    const synchronous = async () =>
      (await sql<{ synchronous: number }>`PRAGMA synchronous`.execute(db)).rows[0].synchronous;
    const setting = (key: string) =>
      db.insertInto("settings").values({ key, value: key, updated_at: "now" }).compile();
    const keys = async () =>
      (await db.selectFrom("settings").select("key").orderBy("key").execute()).map((r) => r.key);

    await database.commitUnflushed([setting("a"), setting("b")]);
    assert.deepEqual(await keys(), ["a", "b"]);
    assert.equal(await synchronous(), 2);

    // The second insert breaks the primary key: the first is rolled back with it.
    await assert.rejects(database.commitUnflushed([setting("c"), setting("a")]), /UNIQUE/);
    assert.deepEqual(await keys(), ["a", "b"]);
    assert.equal(await synchronous(), 2);

    // A Kysely transaction holds the connection across an await: the marks wait their turn.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const open = db.transaction().execute(async (tx) => {
      await tx.insertInto("settings").values({ key: "t", value: "t", updated_at: "now" }).execute();
      await held;
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    const marks = database.commitUnflushed([setting("d")]);
    release();
    await Promise.all([open, marks]);
    assert.deepEqual(await keys(), ["a", "b", "d", "t"]);
    assert.equal(await synchronous(), 2);
  } finally {
    await database.close();
  }
});
