/**
 * AES-256 key wrap (RFC 3394, default IV) by OpenSSL, synchronously: the spool wraps a fresh data
 * key for every object it stores, and WebCrypto's importKey plus wrapKey for that cost about 5% of
 * the receiving thread per 0.5 MB DICOM instance (two promises through its thread pool). The
 * output is the same bytes WebCrypto's AES-KW gives (checked in tests), so either can open what
 * the other wrapped.
 * @module
 */
import { CipherAuthError } from "./cipher.ts";
import { EVP_CIPHER_CTX_FLAG_WRAP_ALLOW, type Libcrypto, loadLibcrypto } from "./libcrypto.ts";

/** Wrap and unwrap under a 32-byte key-encryption key. */
export interface KeyWrap {
  /** `key` (a multiple of 8 bytes, at least 16) wrapped: 8 bytes longer. */
  wrap(kek: Uint8Array, key: Uint8Array): Uint8Array<ArrayBuffer>;
  /** The key inside `wrapped`; CipherAuthError when its integrity check fails. */
  unwrap(kek: Uint8Array, wrapped: Uint8Array): Uint8Array<ArrayBuffer>;
}

/** OpenSSL's AES-256 key wrap, or null when libcrypto is not loaded (use WebCrypto's AES-KW). */
export function opensslKeyWrap(): KeyWrap | null {
  const { lib } = loadLibcrypto();
  if (!lib) return null;
  return keyWrap ??= {
    wrap: (kek, key) => run(lib, kek, key, true),
    unwrap: (kek, wrapped) => run(lib, kek, wrapped, false),
  };
}

let keyWrap: KeyWrap | undefined;

function run(lib: Libcrypto, kek: Uint8Array, input: Uint8Array, wrap: boolean) {
  if (kek.length !== 32) {
    throw new RangeError(`key wrap: KEK must be 32 bytes, found ${kek.length}`);
  }
  if (input.length % 8 !== 0 || input.length < (wrap ? 16 : 24)) {
    throw new RangeError(`key wrap: unusable input of ${input.length} bytes`);
  }
  const ctx = lib.EVP_CIPHER_CTX_new();
  if (ctx === null) throw new Error("EVP_CIPHER_CTX_new failed");
  try {
    lib.EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    if (lib.EVP_CipherInit_ex(ctx, lib.EVP_aes_256_wrap(), null, kek, null, wrap ? 1 : 0) !== 1) {
      lib.ERR_clear_error();
      throw new Error("OpenSSL key wrap could not start");
    }
    const expected = wrap ? input.length + 8 : input.length - 8;
    // Room for a block more than the result: OpenSSL checks the output size it is given.
    const out = new Uint8Array(expected + 16);
    const written = new Int32Array(1);
    const ok = lib.EVP_CipherUpdate(ctx, out, written, input, input.length) === 1 &&
      written[0] === expected;
    if (!ok) {
      lib.ERR_clear_error();
      if (!wrap) throw new CipherAuthError("wrapped key fails its integrity check");
      throw new Error("OpenSSL key wrap failed");
    }
    return out.slice(0, expected);
  } finally {
    lib.EVP_CIPHER_CTX_free(ctx);
  }
}
