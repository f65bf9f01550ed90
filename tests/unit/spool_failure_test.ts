import assert from "node:assert/strict";
import { join } from "node:path";
import { createSpool, SpoolWriteError } from "../../modules/spool/mod.ts";
import {
  patternBytes,
  patternStream,
  spoolFiles,
  testKey,
  withTempDir,
} from "../support/spool_fixtures.ts";

Deno.test("spool put: a source that fails midway leaves no object and no temp file", async () => {
  await withTempDir(async (dir) => {
    const spool = await createSpool({ dir, masterKey: testKey(1), durability: "fsync" });
    const aborted = new Error("association aborted by peer");
    let sent = 0;
    const source = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 3 * 1024 * 1024) return controller.error(aborted);
        controller.enqueue(patternBytes(1, sent, 256 * 1024));
        sent += 256 * 1024;
      },
    }, { highWaterMark: 0 });
    await assert.rejects(spool.put(source), (e) => e === aborted); // the caller's own error
    assert.deepEqual(spoolFiles(dir), { tmp: [], objects: [] });
    assert.deepEqual(await Array.fromAsync(spool.ids()), []);
  });
});

Deno.test("spool put: a source that yields non-bytes fails and leaves nothing", async () => {
  await withTempDir(async (dir) => {
    const spool = await createSpool({ dir, masterKey: testKey(1), durability: "os" });
    const source = ReadableStream.from(["text"]) as unknown as ReadableStream<Uint8Array>;
    await assert.rejects(spool.put(source), TypeError);
    assert.deepEqual(spoolFiles(dir), { tmp: [], objects: [] });
  });
});

/** Whether this machine lets us mount a small tmpfs (root on Linux); probed once. */
function canMountTmpfs(): boolean {
  if (Deno.build.os !== "linux" || Deno.uid() !== 0) return false;
  const dir = Deno.makeTempDirSync({ prefix: "spool-probe-" });
  try {
    const run = (cmd: string, args: string[]) =>
      new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).outputSync().success;
    if (!run("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir])) return false;
    return run("umount", [dir]);
  } catch {
    return false;
  } finally {
    Deno.removeSync(dir);
  }
}
const tmpfs = canMountTmpfs();
if (!tmpfs) console.log("skipping disk-full test: cannot mount a tmpfs (needs root on Linux)");

Deno.test({
  name: "spool put on a full disk: SpoolWriteError with ENOSPC, nothing partial, source cancelled",
  ignore: !tmpfs,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "spool-full-" });
    const mounted = new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir],
    }).outputSync();
    assert.ok(mounted.success);
    try {
      const spool = await createSpool({ dir, masterKey: testKey(2), durability: "fsync" });
      let cancelReason: unknown = null;
      const bytes = patternStream(2, 4 * 1024 * 1024);
      const reader = bytes.getReader();
      const source = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const { done, value } = await reader.read();
          if (done) controller.close();
          else controller.enqueue(value);
        },
        cancel(reason) {
          cancelReason = reason;
        },
      }, { highWaterMark: 0 });
      let failure: unknown;
      await assert.rejects(spool.put(source), (e) => {
        failure = e;
        return e instanceof SpoolWriteError && e.code === "SPOOL_WRITE_FAILED";
      });
      const cause = (failure as SpoolWriteError).cause as { code?: string };
      assert.equal(cause.code, "ENOSPC");
      assert.equal(cancelReason, cause, "the sender learns why its stream was cut");
      assert.deepEqual(spoolFiles(dir), { tmp: [], objects: [] });
      // The space was given back: a small object fits again.
      const small = await spool.put(patternStream(3, 100_000));
      assert.equal((await spool.verify(small.id)).size, 100_000);
    } finally {
      new Deno.Command("umount", { args: [dir] }).outputSync();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("spool start sweeps stale temp files and keeps those of live writers", async () => {
  await withTempDir(async (dir) => {
    const first = await createSpool({ dir, masterKey: testKey(4), durability: "os" });
    const kept = await first.put(patternStream(4, 5000));
    const tmp = join(dir, "tmp");
    const dead = "01JD4Z8M6Q0W8N4V2T7G9K3X5B.2147483647.part"; // no such pid
    const ours = `01JD4Z8M6Q0W8N4V2T7G9K3X5C.${Deno.pid}.part`; // this process, no write running
    const live = "01JD4Z8M6Q0W8N4V2T7G9K3X5D.1.part"; // pid 1 is alive: another writer's file
    const odd = "leftover.part";
    for (const name of [dead, ours, live, odd]) {
      Deno.writeFileSync(join(tmp, name), new Uint8Array(9));
    }
    await createSpool({ dir, masterKey: testKey(4), durability: "os" });
    assert.deepEqual(spoolFiles(dir), { tmp: [live], objects: [kept.id] });
    Deno.writeFileSync(join(tmp, dead), new Uint8Array(9));
    assert.deepEqual(await first.sweepTemporary(), { removed: 1 });
    assert.deepEqual(spoolFiles(dir).tmp, [live]);
  });
});

Deno.test("spool: a process killed mid-put leaves only a temp file, swept at next start", async () => {
  await withTempDir(async (dir) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../support/spool_crash_child.ts", import.meta.url).pathname,
        dir,
      ],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let output = "";
    while (!output.includes("writing")) {
      const { done, value } = await reader.read();
      if (done) break;
      output += value;
    }
    child.kill("SIGKILL");
    await child.status;
    await reader.cancel();
    const files = spoolFiles(dir);
    assert.equal(files.objects.length, 0, "no object under a final name");
    assert.equal(files.tmp.length, 1);
    assert.ok(Deno.statSync(join(dir, "tmp", files.tmp[0])).size > 4096, "data had been written");
    await createSpool({ dir, masterKey: testKey(7), durability: "fsync" });
    assert.deepEqual(spoolFiles(dir), { tmp: [], objects: [] });
  });
});
