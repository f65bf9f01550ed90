import assert from "node:assert/strict";
import { CipherAuthError, opensslKeyWrap } from "../../modules/core/mod.ts";

const hex = (s: string) => Uint8Array.from(s.match(/../g)!, (b) => parseInt(b, 16));
const keyWrap = opensslKeyWrap();
const ignore = keyWrap === null; // no libcrypto: the spool uses WebCrypto, tested elsewhere

Deno.test({
  name: "key wrap: RFC 3394 section 4.6 (256-bit key data under a 256-bit KEK)",
  ignore,
  fn: () => {
    const kek = hex("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F");
    const key = hex("00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F");
    const wrapped = keyWrap!.wrap(kek, key);
    assert.deepEqual(
      wrapped,
      hex("28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21"),
    );
    assert.deepEqual(keyWrap!.unwrap(kek, wrapped), key);
  },
});

Deno.test({
  name:
    "key wrap: the same bytes as WebCrypto's AES-KW both ways; a changed byte or KEK is refused",
  ignore,
  fn: async () => {
    for (let round = 0; round < 20; round++) {
      const kekBytes = crypto.getRandomValues(new Uint8Array(32));
      const key = crypto.getRandomValues(new Uint8Array(32));
      const kek = await crypto.subtle.importKey("raw", kekBytes, "AES-KW", false, [
        "wrapKey",
        "unwrapKey",
      ]);
      const data = await crypto.subtle.importKey("raw", key, "AES-GCM", true, ["encrypt"]);
      const web = new Uint8Array(await crypto.subtle.wrapKey("raw", data, kek, "AES-KW"));
      assert.deepEqual(keyWrap!.wrap(kekBytes, key), web);
      assert.deepEqual(keyWrap!.unwrap(kekBytes, web), key);
      const tampered = web.slice();
      tampered[round % tampered.length] ^= 0x01;
      assert.throws(() => keyWrap!.unwrap(kekBytes, tampered), CipherAuthError);
      const otherKek = kekBytes.slice();
      otherKek[0] ^= 0x80;
      assert.throws(() => keyWrap!.unwrap(otherKek, web), CipherAuthError);
    }
  },
});

Deno.test({
  name: "key wrap: wrong sizes are refused before OpenSSL sees them",
  ignore,
  fn: () => {
    assert.throws(() => keyWrap!.wrap(new Uint8Array(16), new Uint8Array(32)), RangeError);
    assert.throws(() => keyWrap!.wrap(new Uint8Array(32), new Uint8Array(20)), RangeError);
    assert.throws(() => keyWrap!.unwrap(new Uint8Array(32), new Uint8Array(16)), RangeError);
  },
});
