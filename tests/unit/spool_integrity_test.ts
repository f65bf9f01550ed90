import assert from "node:assert/strict";
import { join } from "node:path";
import {
  createSpool,
  SpoolIntegrityError,
  type SpoolIntegrityReason,
  SpoolKeyError,
} from "../../modules/spool/mod.ts";
import {
  objectFile,
  patchFile,
  patternStream,
  readAll,
  readAt,
  testKey,
  withTempDir,
} from "../support/spool_fixtures.ts";

const chunk = 4096; // small chunks so a multi-chunk object stays small
const header = 4096;
const sealed = chunk + 16; // ciphertext and tag of a full chunk
const size = 3 * chunk + 100; // chunks 0..2 full, chunk 3 (final) 100 bytes

function integrity(reason: SpoolIntegrityReason) {
  return (e: unknown) => {
    assert.ok(e instanceof SpoolIntegrityError, `expected SpoolIntegrityError, got ${e}`);
    assert.equal(e.reason, reason);
    assert.equal(e.code, "SPOOL_INTEGRITY");
    return true;
  };
}

async function stored(dir: string) {
  const spool = await createSpool({
    dir,
    masterKey: testKey(1),
    durability: "os",
    chunkSize: chunk,
  });
  const put = await spool.put(patternStream(3, size, 999));
  return { spool, id: put.id, path: objectFile(dir, put.id) };
}

/** Reads a stream, returning how many bytes arrived before it failed, and the failure. */
async function readUntilError(stream: ReadableStream<Uint8Array>) {
  let delivered = 0;
  try {
    for await (const piece of stream) delivered += piece.length;
  } catch (error) {
    return { delivered, error };
  }
  return { delivered, error: null };
}

Deno.test("spool: a flipped ciphertext byte fails get (as a stream error) and verify", async () => {
  await withTempDir(async (dir) => {
    const { spool, id, path } = await stored(dir);
    const offset = header + sealed + 10; // inside chunk 1
    patchFile(path, offset, new Uint8Array([readAt(path, offset, 1)[0] ^ 0x01]));
    const { delivered, error } = await readUntilError(await spool.get(id));
    assert.equal(delivered, chunk, "chunk 0 is intact and was delivered");
    assert.ok(integrity("chunk")(error));
    await assert.rejects(spool.verify(id), integrity("chunk"));
    await assert.rejects(spool.readAll(id), integrity("chunk"));
  });
});

Deno.test("spool: a flipped tag byte of the final chunk fails", async () => {
  await withTempDir(async (dir) => {
    const { spool, id, path } = await stored(dir);
    const last = Deno.statSync(path).size - 1;
    patchFile(path, last, new Uint8Array([readAt(path, last, 1)[0] ^ 0x80]));
    await assert.rejects(readAll(await spool.get(id)), integrity("chunk"));
    await assert.rejects(spool.verify(id), integrity("chunk"));
  });
});

Deno.test("spool: dropping the final chunk fails before any byte is served", async () => {
  await withTempDir(async (dir) => {
    const { spool, id, path } = await stored(dir);
    await Deno.truncate(path, header + 3 * sealed);
    await assert.rejects(spool.get(id), integrity("length"));
    await assert.rejects(spool.verify(id), integrity("length"));
  });
});

Deno.test("spool: dropping the final chunk and fixing the header size still fails", async () => {
  await withTempDir(async (dir) => {
    const { spool, id, path } = await stored(dir);
    await Deno.truncate(path, header + 3 * sealed);
    // An attacker who also edits the recorded size: chunk 2 was sealed as not final.
    const sizeField = new Uint8Array(8);
    new DataView(sizeField.buffer).setBigUint64(0, BigInt(3 * chunk));
    patchFile(path, 48, sizeField);
    const { delivered, error } = await readUntilError(await spool.get(id));
    assert.equal(delivered, 2 * chunk);
    assert.ok(integrity("chunk")(error));
    await assert.rejects(spool.verify(id), integrity("chunk"));
  });
});

Deno.test("spool: appended bytes fail (the object was extended)", async () => {
  await withTempDir(async (dir) => {
    const { spool, id, path } = await stored(dir);
    const file = Deno.openSync(path, { append: true });
    file.writeSync(new Uint8Array(16));
    file.close();
    await assert.rejects(spool.verify(id), integrity("length"));
  });
});

Deno.test("spool: swapping two chunks fails", async () => {
  await withTempDir(async (dir) => {
    const { spool, id, path } = await stored(dir);
    const zero = readAt(path, header, sealed);
    const one = readAt(path, header + sealed, sealed);
    patchFile(path, header, one);
    patchFile(path, header + sealed, zero);
    const { delivered, error } = await readUntilError(await spool.get(id));
    assert.equal(delivered, 0);
    assert.ok(integrity("chunk")(error));
    await assert.rejects(spool.verify(id), integrity("chunk"));
  });
});

Deno.test("spool: a chunk copied from another object with the same key fails", async () => {
  await withTempDir(async (dir) => {
    const { spool, id, path } = await stored(dir);
    const other = await spool.put(patternStream(3, size, 999)); // same plaintext, same master
    patchFile(path, header, readAt(objectFile(dir, other.id), header, sealed));
    await assert.rejects(spool.verify(id), integrity("chunk"));
  });
});

Deno.test("spool: an object file renamed over another id fails", async () => {
  await withTempDir(async (dir) => {
    const { spool, path } = await stored(dir);
    const other = await spool.put(patternStream(4, 10));
    await Deno.copyFile(path, objectFile(dir, other.id));
    await assert.rejects(spool.get(other.id), integrity("header"));
  });
});

Deno.test("spool: a wrong master key is a named error, not garbage", async () => {
  await withTempDir(async (dir) => {
    const { id } = await stored(dir);
    const wrong = await createSpool({ dir, masterKey: testKey(9), durability: "os" });
    await assert.rejects(wrong.get(id), integrity("wrong-key"));
    await assert.rejects(wrong.verify(id), integrity("wrong-key"));
  });
});

Deno.test("spool: a tampered wrapped key fails its unwrap check", async () => {
  await withTempDir(async (dir) => {
    const { spool, id, path } = await stored(dir);
    const offset = 512 + 16 + 5; // slot A, inside the wrapped key
    patchFile(path, offset, new Uint8Array([readAt(path, offset, 1)[0] ^ 0xff]));
    await assert.rejects(spool.get(id), integrity("key-unwrap"));
  });
});

Deno.test("spool: a damaged magic or version is a header error", async () => {
  await withTempDir(async (dir) => {
    const { spool, id, path } = await stored(dir);
    patchFile(path, 5, new Uint8Array([2])); // version 1 -> 2
    await assert.rejects(spool.get(id), integrity("header"));
    patchFile(path, 0, new TextEncoder().encode("XXXX"));
    await assert.rejects(spool.verify(id), integrity("header"));
  });
});

Deno.test("spool: a master key that is not 32 bytes is a SpoolKeyError", async () => {
  const dir = join(Deno.env.get("TMPDIR") ?? "/tmp", "spool-never-created");
  for (const length of [0, 16, 31, 33, 64]) {
    await assert.rejects(
      createSpool({ dir, masterKey: new Uint8Array(length), durability: "os" }),
      (e: unknown) => e instanceof SpoolKeyError && e.code === "SPOOL_KEY_INVALID",
    );
  }
  assert.throws(() => Deno.statSync(dir), Deno.errors.NotFound);
});
