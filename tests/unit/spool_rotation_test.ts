import assert from "node:assert/strict";
import {
  createSpool,
  rewrap,
  rotateMasterKey,
  SpoolIntegrityError,
  SpoolKeyError,
} from "../../modules/spool/mod.ts";
import {
  assertPatternStream,
  objectFile,
  patchFile,
  patternStream,
  readAt,
  testKey,
  withTempDir,
} from "../support/spool_fixtures.ts";

const oldKey = testKey(0x11);
const newKey = testKey(0x22);
const wrongKey = (e: unknown) => e instanceof SpoolIntegrityError && e.reason === "wrong-key";

Deno.test("spool rotation: data readable with the new key only, and only headers rewritten", async () => {
  await withTempDir(async (dir) => {
    const before = await createSpool({ dir, masterKey: oldKey, durability: "fsync" });
    const sizes = [0, 1, 3 * 1024 * 1024 + 5];
    const puts = [];
    for (const [i, size] of sizes.entries()) puts.push(await before.put(patternStream(i, size)));
    const dataBefore = puts.map((p) => readAt(objectFile(dir, p.id), 4096, 1 << 30));

    const report = await rotateMasterKey({ dir, from: oldKey, to: newKey, durability: "fsync" });
    assert.deepEqual(report, { rewrapped: 3, alreadyCurrent: 0, failed: [] });

    const after = await createSpool({ dir, masterKey: newKey, durability: "fsync" });
    const stale = await createSpool({ dir, masterKey: oldKey, durability: "fsync" });
    for (const [i, put] of puts.entries()) {
      // Ciphertext untouched: rotation rewraps keys, not data.
      assert.deepEqual(readAt(objectFile(dir, put.id), 4096, 1 << 30), dataBefore[i]);
      await assertPatternStream(await after.get(put.id), i, sizes[i]);
      assert.equal((await after.verify(put.id)).sha256, put.sha256);
      await assert.rejects(stale.get(put.id), wrongKey);
    }
    // Run again (e.g. after an interruption): nothing left to do.
    assert.deepEqual(
      await rotateMasterKey({ dir, from: oldKey, to: newKey, durability: "os" }),
      { rewrapped: 0, alreadyCurrent: 3, failed: [] },
    );
  });
});

Deno.test("spool rotation interrupted between the two slot writes leaves both keys working", async () => {
  await withTempDir(async (dir) => {
    const spool = await createSpool({ dir, masterKey: oldKey, durability: "os" });
    const put = await spool.put(patternStream(5, 70_000));
    const path = objectFile(dir, put.id);
    const slotA = readAt(path, 512, 56);
    // A crash after slot B was written but before slot A was cleared: rotate, restore slot A.
    await rewrap(put.id, { dir, from: oldKey, to: newKey, durability: "os" });
    assert.deepEqual(readAt(path, 512, 56), new Uint8Array(56), "old slot cleared");
    patchFile(path, 512, slotA);
    for (const key of [oldKey, newKey]) {
      const reader = await createSpool({ dir, masterKey: key, durability: "os" });
      await assertPatternStream(await reader.get(put.id), 5, 70_000);
    }
    // Finishing the rotation clears the old slot.
    assert.deepEqual(
      await rotateMasterKey({ dir, from: oldKey, to: newKey, durability: "os" }),
      { rewrapped: 1, alreadyCurrent: 0, failed: [] },
    );
    const stale = await createSpool({ dir, masterKey: oldKey, durability: "os" });
    await assert.rejects(stale.get(put.id), wrongKey);
  });
});

Deno.test("spool rotation reports objects the old key cannot open and leaves them alone", async () => {
  await withTempDir(async (dir) => {
    const spool = await createSpool({ dir, masterKey: oldKey, durability: "os" });
    const ok = await spool.put(patternStream(1, 10));
    const foreign = await (await createSpool({ dir, masterKey: testKey(0x33), durability: "os" }))
      .put(patternStream(2, 10));
    const report = await rotateMasterKey({ dir, from: oldKey, to: newKey, durability: "os" });
    assert.equal(report.rewrapped, 1);
    assert.deepEqual(report.failed.map((f) => f.id), [foreign.id]);
    assert.ok(wrongKey(report.failed[0].error));
    const after = await createSpool({ dir, masterKey: newKey, durability: "os" });
    assert.equal((await after.verify(ok.id)).size, 10);
  });
});

Deno.test("spool rotation refuses identical or malformed keys", async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(
      rotateMasterKey({ dir, from: oldKey, to: testKey(0x11), durability: "os" }),
      SpoolKeyError,
    );
    await assert.rejects(
      rotateMasterKey({ dir, from: oldKey, to: new Uint8Array(24), durability: "os" }),
      SpoolKeyError,
    );
  });
});
