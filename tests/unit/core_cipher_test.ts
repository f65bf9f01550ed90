import assert from "node:assert/strict";
import {
  CipherAuthError,
  cipherBackend,
  type CipherName,
  concatBytes,
  decryptor,
  encryptor,
  gcmOpen,
  gcmSeal,
} from "../../modules/core/mod.ts";

const pattern = (n: number, seed = 7) =>
  Uint8Array.from({ length: n }, (_, i) => (i * 131 + seed * 17 + (i >> 8)) & 255);
const key = pattern(32, 1);
const nonce = pattern(12, 2);
const aad = pattern(57, 3);

async function webGcm(plaintext: Uint8Array, k = key, iv = nonce, extra = aad) {
  const wk = await crypto.subtle.importKey("raw", new Uint8Array(k), "AES-GCM", false, ["encrypt"]);
  return new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: new Uint8Array(iv), additionalData: new Uint8Array(extra) },
      wk,
      new Uint8Array(plaintext),
    ),
  );
}

async function webCbc(plaintext: Uint8Array, k: Uint8Array, iv: Uint8Array) {
  const wk = await crypto.subtle.importKey("raw", new Uint8Array(k), "AES-CBC", false, ["encrypt"]);
  const out = await crypto.subtle.encrypt(
    { name: "AES-CBC", iv: new Uint8Array(iv) },
    wk,
    new Uint8Array(plaintext),
  );
  return new Uint8Array(out);
}

/** Feeds `input` to `cipher` in pieces of the given sizes, cycling, and joins all it returns. */
function feed(cipher: ReturnType<typeof encryptor>, input: Uint8Array, sizes: number[]) {
  const out: Uint8Array[] = [];
  for (let at = 0, i = 0; at < input.length; i++) {
    const n = sizes[i % sizes.length];
    out.push(cipher.update(input.subarray(at, at + n)).slice());
    at += n;
  }
  out.push(cipher.final());
  return concatBytes(out);
}

Deno.test("cipher: OpenSSL's libcrypto is the backend on this Debian machine", () => {
  assert.equal(cipherBackend().name, "openssl", cipherBackend().detail);
});

Deno.test("cipher: gcmSeal equals WebCrypto's AES-256-GCM, and gcmOpen reverses it", async () => {
  for (const n of [0, 1, 15, 16, 17, 4096, 131_072, 524_289]) {
    const plaintext = pattern(n);
    const sealed = gcmSeal(key, nonce, aad, plaintext);
    assert.deepEqual(sealed, await webGcm(plaintext), `length ${n}`);
    assert.deepEqual(gcmOpen(key, nonce, aad, sealed), plaintext);
  }
});

Deno.test("cipher: a changed byte in ciphertext, tag or additional data is CipherAuthError", () => {
  const sealed = gcmSeal(key, nonce, aad, pattern(1000));
  for (const at of [0, 999, 1000, 1015]) {
    const bad = sealed.slice();
    bad[at] ^= 1;
    assert.throws(() => gcmOpen(key, nonce, aad, bad), CipherAuthError, `byte ${at}`);
  }
  const otherAad = aad.slice();
  otherAad[0] ^= 1;
  assert.throws(() => gcmOpen(key, nonce, otherAad, sealed), CipherAuthError);
  assert.throws(() => gcmOpen(key, nonce, aad, sealed.subarray(0, 10)), CipherAuthError);
});

Deno.test("cipher: GCM in uneven pieces gives the one-shot result, both ways", async () => {
  const plaintext = pattern(300_001);
  const expected = await webGcm(plaintext);
  using enc = encryptor("aes-256-gcm", key, nonce, aad);
  const ciphertext = feed(enc, plaintext, [1, 100, 65_536, 7]);
  assert.deepEqual(concatBytes([ciphertext, enc.tag()]), expected);
  const tag = expected.subarray(plaintext.length);
  using dec = decryptor("aes-256-gcm", key, nonce, { aad, tag });
  assert.deepEqual(feed(dec, ciphertext, [3, 70_000]), plaintext);
});

Deno.test("cipher: AES-CBC with PKCS#7 padding in pieces equals WebCrypto, for 128/192/256", async () => {
  const iv = pattern(16, 4);
  for (const bits of [128, 192, 256]) {
    const name = `aes-${bits}-cbc` as CipherName;
    const k = pattern(bits / 8, 5);
    for (const n of [0, 1, 16, 33, 100_000]) {
      const plaintext = pattern(n);
      const expected = await webCbc(plaintext, k, iv);
      using enc = encryptor(name, k, iv);
      assert.deepEqual(feed(enc, plaintext, [5, 16, 1000]), expected, `${name} length ${n}`);
      using dec = decryptor(name, k, iv);
      assert.deepEqual(feed(dec, expected, [17, 3]), plaintext, `${name} length ${n}`);
    }
  }
});

Deno.test("cipher: CBC with broken padding is CipherAuthError", async () => {
  const k = pattern(32, 6);
  const iv = pattern(16, 4);
  const sealed = await webCbc(pattern(64), k, iv);
  sealed[sealed.length - 1] ^= 0x55;
  using dec = decryptor("aes-256-cbc", k, iv);
  dec.update(sealed);
  assert.throws(() => dec.final(), CipherAuthError);
});

Deno.test("cipher: a 16-byte nonce and a 12-byte tag (allowed by RFC 5084) decrypt", async () => {
  const iv = pattern(16, 8);
  const plaintext = pattern(5000);
  const wk = await crypto.subtle.importKey("raw", key, "AES-GCM", false, ["encrypt"]);
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-GCM", iv, tagLength: 96 }, wk, plaintext),
  );
  using dec = decryptor("aes-256-gcm", key, iv, { tag: sealed.subarray(5000) });
  assert.deepEqual(feed(dec, sealed.subarray(0, 5000), [4096]), plaintext);
});

Deno.test("cipher: wrong key, IV or tag sizes are refused before any work", () => {
  assert.throws(() => encryptor("aes-256-gcm", pattern(16), nonce), /key must be 32 bytes/);
  assert.throws(() => encryptor("aes-128-cbc", pattern(16), pattern(12)), /unusable IV/);
  assert.throws(() => decryptor("aes-256-gcm", key, nonce, { tag: pattern(8) }), /tag must be/);
  using enc = encryptor("aes-256-gcm", key, nonce);
  assert.throws(() => enc.update(pattern(100), new Uint8Array(99)), /output holds 99/);
});

Deno.test("cipher: the node:crypto fallback makes the same bytes and opens OpenSSL's", async () => {
  const plaintext = pattern(20_000); // as hex, under the 128 KiB limit of one argument
  const sealed = gcmSeal(key, nonce, aad, plaintext);
  const iv = pattern(16, 9);
  using cbc = encryptor("aes-256-cbc", key, iv);
  const cbcSealed = concatBytes([cbc.update(plaintext), cbc.final()]);
  const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  const script = `
    import { cipherBackend, concatBytes, decryptor, encryptor, gcmOpen, gcmSeal } from "${new URL(
    "../../modules/core/mod.ts",
    import.meta.url,
  )}";
    const h = (s) => Uint8Array.from(s.match(/../g), (x) => parseInt(x, 16));
    const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
    const [key, nonce, aad, iv, plaintext, sealed, cbcSealed] = Deno.args.map(h);
    const enc = encryptor("aes-256-cbc", key, iv);
    const dec = decryptor("aes-256-cbc", key, iv);
    console.log(JSON.stringify({
      backend: cipherBackend().name,
      gcmOpens: same(gcmOpen(key, nonce, aad, sealed), plaintext),
      gcmEqual: same(gcmSeal(key, nonce, aad, plaintext), sealed),
      cbcOpens: same(concatBytes([dec.update(cbcSealed), dec.final()]), plaintext),
      cbcEqual: same(concatBytes([enc.update(plaintext), enc.final()]), cbcSealed),
    }));
  `;
  const file = await Deno.makeTempFile({ suffix: ".js" });
  try {
    await Deno.writeTextFile(file, script);
    const args = [key, nonce, aad, iv, plaintext, sealed, cbcSealed].map(hex);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", file, ...args],
      env: { BP_DEV_CRYPTO: "node", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), {
      backend: "node:crypto",
      gcmOpens: true,
      gcmEqual: true,
      cbcOpens: true,
      cbcEqual: true,
    });
  } finally {
    await Deno.remove(file);
  }
});
