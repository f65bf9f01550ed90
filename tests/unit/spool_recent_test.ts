import assert from "node:assert/strict";
import { createSpool } from "../../modules/spool/mod.ts";
import { recentObjects } from "../../modules/spool/recent.ts";
import {
  objectFile,
  patchFile,
  patternBytes,
  readAll,
  readAt,
  testKey,
  withTempDir,
} from "../support/spool_fixtures.ts";

Deno.test("spool retain: the first read is served from memory, later reads from disk, both identical", async () => {
  await withTempDir(async (dir) => {
    const spool = await createSpool({ dir, masterKey: testKey(2), durability: "os" });
    const bytes = patternBytes(11, 0, 3 * 1024 * 1024 + 5);
    const put = await spool.put(
      ReadableStream.from([bytes.slice(0, 1000), bytes.slice(1000)]), // handed over: copies
      { retain: true },
    );
    // Corrupting the file on disk shows which copy a read comes from.
    const path = objectFile(dir, put.id);
    const at = Deno.statSync(path).size - 100;
    patchFile(path, at, readAt(path, at, 1).map((b) => b ^ 0xff));
    assert.deepEqual(await spool.readAll(put.id), bytes); // from memory
    await assert.rejects(() => spool.readAll(put.id), { name: "SpoolIntegrityError" }); // disk
  });
});

Deno.test("spool put with its own chunk size: stored with it, read back identical", async () => {
  await withTempDir(async (dir) => {
    const spool = await createSpool({ dir, masterKey: testKey(3), durability: "fsync" });
    const bytes = patternBytes(5, 0, 2 * 1024 * 1024 + 17);
    const put = await spool.put(ReadableStream.from([bytes]), { chunkSize: 1 << 20 });
    assert.equal((await spool.stat(put.id)).chunkSize, 1 << 20);
    assert.deepEqual(await readAll(await spool.get(put.id)), bytes);
    assert.deepEqual(await spool.verify(put.id), { size: bytes.length, sha256: put.sha256 });
    await assert.rejects(
      () => spool.put(ReadableStream.from([bytes]), { chunkSize: 100 }),
      RangeError,
    );
  });
});

Deno.test("recent objects: bounded by bytes, oldest evicted first, each handed over once", () => {
  const recent = recentObjects(10);
  recent.keep("a", [Uint8Array.of(1, 2, 3)], 3);
  recent.keep("b", [Uint8Array.of(4, 5), Uint8Array.of(6, 7)], 4);
  recent.keep("c", [new Uint8Array(5)], 5); // 12 bytes: "a" goes
  recent.keep("huge", [new Uint8Array(11)], 11); // over the budget: not kept at all
  assert.equal(recent.take("a"), undefined);
  assert.equal(recent.take("huge"), undefined);
  assert.deepEqual(recent.take("b"), Uint8Array.of(4, 5, 6, 7));
  assert.equal(recent.take("b"), undefined);
  recent.drop("c");
  assert.equal(recent.take("c"), undefined);
});
