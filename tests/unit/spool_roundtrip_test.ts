import assert from "node:assert/strict";
import { createSpool, SpoolNotFound } from "../../modules/spool/mod.ts";
import type { SpoolDurability } from "../../modules/spool/mod.ts";
import {
  assertPatternStream,
  patternBytes,
  patternSha256,
  patternStream,
  readAll,
  spoolFiles,
  testKey,
  withTempDir,
} from "../support/spool_fixtures.ts";

const chunk = 128 * 1024; // the default chunk size

for (const durability of ["fsync", "os"] as SpoolDurability[]) {
  for (
    const [label, size] of [
      ["0 bytes", 0],
      ["1 byte", 1],
      ["exactly one chunk", chunk],
      ["one chunk and one byte", chunk + 1],
      ["three chunks less one byte", 3 * chunk - 1],
    ] as const
  ) {
    Deno.test(`spool round trip, durability ${durability}: ${label}`, async () => {
      await withTempDir(async (dir) => {
        const spool = await createSpool({ dir, masterKey: testKey(1), durability });
        const seed = size + 7;
        const put = await spool.put(patternStream(seed, size));
        assert.equal(put.size, size);
        assert.equal(put.sha256, patternSha256(seed, size));
        assert.match(put.id, /^[0-9A-Z]{26}$/);
        await assertPatternStream(await spool.get(put.id), seed, size);
        assert.deepEqual(await spool.readAll(put.id), patternBytes(seed, 0, size));
        assert.deepEqual(await spool.verify(put.id), { size, sha256: put.sha256 });
        assert.deepEqual(spoolFiles(dir), { tmp: [], objects: [put.id] });
      });
    });
  }
}

Deno.test("spool round trip of a 50 MB object: bytes identical, digest right", async () => {
  await withTempDir(async (dir) => {
    const spool = await createSpool({ dir, masterKey: testKey(2), durability: "fsync" });
    const size = 50_000_000;
    const put = await spool.put(patternStream(50, size, 300_007));
    assert.equal(put.size, size);
    assert.equal(put.sha256, patternSha256(50, size));
    await assertPatternStream(await spool.get(put.id), 50, size);
    assert.deepEqual(await spool.verify(put.id), { size, sha256: put.sha256 });
    const stat = await spool.stat(put.id);
    assert.equal(stat.size, size);
    assert.equal(stat.sha256, put.sha256);
    assert.equal(stat.chunkSize, chunk);
    // 4096-byte header plus a 16-byte tag per chunk (382 chunks), nothing else.
    assert.equal(stat.storedBytes, 4096 + size + 382 * 16);
  });
});

Deno.test("spool stores a prefix before the stream as one object", async () => {
  await withTempDir(async (dir) => {
    const spool = await createSpool({ dir, masterKey: testKey(3), durability: "os" });
    const whole = patternBytes(9, 0, 2 * chunk + 300);
    const prefix = whole.slice(0, 132); // e.g. a Part-10 preamble, "DICM" and meta header
    const rest = whole.slice(132);
    const put = await spool.put(ReadableStream.from([rest]), { prefix });
    assert.equal(put.size, whole.length);
    assert.equal(put.sha256, patternSha256(9, whole.length));
    assert.deepEqual(await readAll(await spool.get(put.id)), whole);
  });
});

Deno.test("spool has, stat, ids and delete", async () => {
  await withTempDir(async (dir) => {
    const spool = await createSpool({ dir, masterKey: testKey(4), durability: "fsync" });
    const a = await spool.put(patternStream(1, 1000));
    const b = await spool.put(patternStream(2, 2000));
    assert.equal(await spool.has(a.id), true);
    const stat = await spool.stat(b.id);
    assert.deepEqual(
      { id: stat.id, size: stat.size, sha256: stat.sha256, storedBytes: stat.storedBytes },
      { id: b.id, size: 2000, sha256: b.sha256, storedBytes: 4096 + 2000 + 16 },
    );
    assert.ok(stat.storedAt instanceof Date);
    assert.deepEqual((await Array.fromAsync(spool.ids())).sort(), [a.id, b.id].sort());
    assert.equal(await spool.delete(a.id), true);
    assert.equal(await spool.delete(a.id), false);
    assert.equal(await spool.has(a.id), false);
    await assert.rejects(spool.get(a.id), SpoolNotFound);
    await assert.rejects(spool.verify(a.id), SpoolNotFound);
    await assert.rejects(spool.stat(a.id), SpoolNotFound);
    assert.deepEqual(await Array.fromAsync(spool.ids()), [b.id]);
  });
});

Deno.test("spool refuses ids that are not spool ids (no path escapes)", async () => {
  await withTempDir(async (dir) => {
    const spool = await createSpool({ dir, masterKey: testKey(5), durability: "os" });
    for (const id of ["../../etc/passwd", "", "01JD4Z8M6Q0W8N4V2T7G9K3X5b", "x".repeat(26)]) {
      assert.equal(await spool.has(id), false);
      assert.equal(await spool.delete(id), false);
      await assert.rejects(spool.get(id), SpoolNotFound);
    }
  });
});

Deno.test("spool reads an object written by an earlier instance on the same dir", async () => {
  await withTempDir(async (dir) => {
    const first = await createSpool({ dir, masterKey: testKey(6), durability: "fsync" });
    const put = await first.put(patternStream(6, 12_345));
    const second = await createSpool({ dir, masterKey: testKey(6), durability: "os" });
    await assertPatternStream(await second.get(put.id), 6, 12_345);
  });
});

Deno.test("spool get can be cancelled part way and the object stays readable", async () => {
  await withTempDir(async (dir) => {
    const spool = await createSpool({ dir, masterKey: testKey(7), durability: "os" });
    const put = await spool.put(patternStream(7, 3 * chunk));
    const reader = (await spool.get(put.id)).getReader();
    const first = await reader.read();
    assert.equal(first.value?.length, chunk);
    await reader.cancel();
    assert.deepEqual(await spool.verify(put.id), { size: 3 * chunk, sha256: put.sha256 });
  });
});

Deno.test("spool handles concurrent puts and gets of different sizes", async () => {
  await withTempDir(async (dir) => {
    const spool = await createSpool({ dir, masterKey: testKey(8), durability: "fsync" });
    const sizes = [0, 17, chunk - 1, chunk, 2 * chunk + 3, 5 * chunk + 11];
    const puts = await Promise.all(sizes.map((size, i) => spool.put(patternStream(i, size, 4099))));
    await Promise.all(puts.map(async (put, i) => {
      assert.equal(put.sha256, patternSha256(i, sizes[i]));
      await assertPatternStream(await spool.get(put.id), i, sizes[i]);
    }));
    assert.equal(new Set(puts.map((p) => p.id)).size, sizes.length);
  });
});

Deno.test({
  name: "spool memory stays flat: a 256 MiB put and verify stay within 48 MB of the baseline",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    await withTempDir(async (dir) => {
      const child = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          new URL("../support/spool_memory_child.ts", import.meta.url).pathname,
          dir,
          "256",
        ],
        stderr: "inherit",
      }).output();
      assert.ok(child.success);
      const { baselineMb, putPeakMb, verifyPeakMb } = JSON.parse(
        new TextDecoder().decode(child.stdout),
      );
      assert.ok(putPeakMb - baselineMb < 48, `put grew by ${putPeakMb - baselineMb} MB`);
      assert.ok(verifyPeakMb - baselineMb < 48, `verify grew by ${verifyPeakMb - baselineMb} MB`);
    });
  },
});
