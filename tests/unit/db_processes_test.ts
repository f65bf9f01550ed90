/**
 * Two processes on one database file, each reading and then writing in one transaction (as two
 * CLI commands migrating beside a running appliance do): both commit, the second waiting for the
 * first, instead of one failing at once with "database is locked".
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { migrateToLatest, openDatabase } from "../../modules/db/mod.ts";

Deno.test("two processes that read then write in a transaction both commit", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bp-db-race-" });
  try {
    const path = join(dir, "beeldpoort.db");
    const database = openDatabase({ kind: "sqlite", path });
    await migrateToLatest(database);
    await database.close();
    const script = new URL("../support/db_read_then_write.ts", import.meta.url).pathname;
    const run = (name: string) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", script, path, name, "300"],
        stdout: "piped",
        stderr: "inherit",
      }).output().then((out) => new TextDecoder().decode(out.stdout).trim());
    const outcomes = await Promise.all([run("first"), run("second")]);
    assert.deepEqual(outcomes, ["ok", "ok"]);
    const check = openDatabase({ kind: "sqlite", path });
    const keys = (await check.db.selectFrom("settings").select("key").execute()).map((r) => r.key);
    await check.close();
    assert.deepEqual(keys.sort(), ["first", "second"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
