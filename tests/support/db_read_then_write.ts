/**
 * One process of the read-then-write race in tests/unit/db_processes_test.ts: in one transaction,
 * reads the settings, waits, then writes a row. Prints "ok" or the error's message.
 */
import { openDatabase } from "../../modules/db/mod.ts";

const [path, name, waitMs] = Deno.args;
const database = openDatabase({ kind: "sqlite", path });
try {
  await database.db.transaction().execute(async (tx) => {
    await tx.selectFrom("settings").selectAll().execute();
    await new Promise((resolve) => setTimeout(resolve, Number(waitMs)));
    await tx.insertInto("settings").values({
      key: name,
      value: "1",
      updated_at: new Date().toISOString(),
    }).execute();
  });
  console.log("ok");
} catch (error) {
  console.log(error instanceof Error ? error.message : String(error));
} finally {
  await database.close();
}
