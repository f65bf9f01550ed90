import assert from "node:assert/strict";
import { createSpool } from "../../modules/spool/mod.ts";
import { spoolFiles, withTempDir } from "../support/spool_fixtures.ts";

const child = new URL("../support/spool_crash_loop_child.ts", import.meta.url).pathname;

/**
 * Kills a process that puts objects continuously (three at a time, 0 B to 2 MB, durability fsync)
 * at several moments, and checks after each kill: every file under a final name is a complete,
 * verifiable object; every put that had resolved is there with its digest; what was in flight is
 * at most a temporary file, which the next start removes. (SIGKILL proves the ordering against a
 * crash of the process; a power cut additionally relies on the fsyncs, which this cannot show.)
 */
Deno.test("spool: a process killed at any moment of its puts leaves only whole objects", async () => {
  await withTempDir(async (dir) => {
    const key = new Uint8Array(32).fill(7);
    const stored = new Map<string, string>();
    for (const delayMs of [150, 420, 777, 1300]) {
      const process = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", child, dir],
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      const lines = process.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let output = "";
      // Wait for the first stored object, so the kill lands among running puts.
      while (!output.includes("stored")) {
        const { done, value } = await lines.read();
        if (done) break;
        output += value;
      }
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      process.kill("SIGKILL");
      await process.status;
      for (;;) {
        const { done, value } = await lines.read();
        if (done) break;
        output += value;
      }
      for (const line of output.split("\n")) {
        const [word, id, sha256] = line.split(" ");
        if (word === "stored") stored.set(id, sha256);
      }
      const files = spoolFiles(dir);
      const spool = await createSpool({ dir, masterKey: key, durability: "fsync" });
      for (const id of files.objects) {
        const verified = await spool.verify(id); // throws SpoolIntegrityError on anything partial
        if (stored.has(id)) assert.equal(verified.sha256, stored.get(id));
      }
      for (const id of stored.keys()) {
        assert.ok(files.objects.includes(id), `resolved put ${id} is stored`);
      }
      assert.ok(files.tmp.length <= 3, "at most the three puts in flight left a temporary file");
      assert.deepEqual(spoolFiles(dir).tmp, [], "the restart swept them");
    }
    assert.ok(stored.size >= 4, `puts completed before the kills: ${stored.size}`);
  });
});
