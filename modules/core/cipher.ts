/**
 * AES-GCM and AES-CBC as streams: a part of the input at a time, so a large message or object is
 * never needed whole in memory, and synchronous, so a caller pays no trip to a thread pool. Backed
 * by OpenSSL's libcrypto (libcrypto.ts) when it loads, else by node:crypto: same results, about
 * twenty times slower.
 *
 * @example
 * ```ts
 * using enc = encryptor("aes-256-gcm", key, nonce, aad);
 * const out = [enc.update(part1), enc.update(part2), enc.final()];
 * const tag = enc.tag();
 * ```
 * @module
 */
import { type CipherGCM, createCipheriv, createDecipheriv, type DecipherGCM } from "node:crypto";
import { BeeldpoortError } from "./errors.ts";
import {
  EVP_CTRL_GCM_GET_TAG,
  EVP_CTRL_GCM_SET_IVLEN,
  EVP_CTRL_GCM_SET_TAG,
  type Libcrypto,
  loadLibcrypto,
} from "./libcrypto.ts";

/** The ciphers CMS and the spool use. */
export type CipherName =
  | "aes-128-gcm"
  | "aes-192-gcm"
  | "aes-256-gcm"
  | "aes-128-cbc"
  | "aes-192-cbc"
  | "aes-256-cbc";

/** Decryption found the data altered: a GCM tag that does not verify, or CBC padding that is wrong. */
export class CipherAuthError extends BeeldpoortError {
  readonly code = "CIPHER_AUTH";
}

/** One encryption or decryption, fed in order. Dispose of it (or call `final`) when done. */
export interface StreamCipher extends Disposable {
  /**
   * Processes `input` and returns the bytes produced: a view of `output` when given (it must
   * hold `input.length` bytes for GCM, `input.length + 16` for CBC), else a new array. GCM returns exactly `input.length` bytes;
   * CBC up to a block more or less, since it works in whole blocks and decryption holds the last
   * one back for the padding check.
   */
  update(input: Uint8Array, output?: Uint8Array): Uint8Array;
  /**
   * Ends the stream and returns the last bytes (CBC's padding block, or decrypted last block).
   * Decryption throws CipherAuthError when the tag or the padding is wrong: then everything
   * `update` returned must be thrown away.
   */
  final(): Uint8Array;
  /** GCM encryption: the 16-byte tag, after `final`. */
  tag(): Uint8Array;
}

/** Options of a decryption. */
export interface DecryptOptions {
  /** GCM: additional authenticated data. */
  aad?: Uint8Array;
  /** GCM: the expected tag (12 to 16 bytes). */
  tag?: Uint8Array;
}

const KEY_BYTES: Record<string, number> = { "128": 16, "192": 24, "256": 32 };
const TAG_BYTES = 16;

/** Which implementation is in use, and why, for the startup log. */
export function cipherBackend(): { name: "openssl" | "node:crypto"; detail: string } {
  const { lib, reason } = loadLibcrypto();
  return lib ? { name: "openssl", detail: reason } : { name: "node:crypto", detail: reason };
}

/** Starts an encryption; GCM takes a 12-byte nonce as `iv` (others work), CBC a 16-byte IV. */
export function encryptor(
  name: CipherName,
  key: Uint8Array,
  iv: Uint8Array,
  aad?: Uint8Array,
): StreamCipher {
  checkParameters(name, key, iv);
  const { lib } = loadLibcrypto();
  return lib
    ? new OpensslCipher(lib, name, key, iv, true, { aad })
    : nodeEncryptor(name, key, iv, aad);
}

/** Starts a decryption; GCM needs `options.tag`. */
export function decryptor(
  name: CipherName,
  key: Uint8Array,
  iv: Uint8Array,
  options: DecryptOptions = {},
): StreamCipher {
  checkParameters(name, key, iv);
  if (isGcm(name)) {
    const length = options.tag?.length ?? 0;
    if (length < 12 || length > 16) {
      throw new RangeError(`${name}: tag must be 12 to 16 bytes, found ${length}`);
    }
  }
  const { lib } = loadLibcrypto();
  return lib
    ? new OpensslCipher(lib, name, key, iv, false, options)
    : nodeDecryptor(name, key, iv, options);
}

/** AES-256-GCM of one piece: ciphertext with the 16-byte tag behind it (WebCrypto's layout). */
export function gcmSeal(
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
): Uint8Array<ArrayBuffer> {
  const sealed = new Uint8Array(plaintext.length + TAG_BYTES);
  using enc = encryptor("aes-256-gcm", key, nonce, aad);
  enc.update(plaintext, sealed);
  enc.final();
  sealed.set(enc.tag(), plaintext.length);
  return sealed;
}

/**
 * Opens what `gcmSeal` made, into `output` when given (exactly the plaintext's length) or a new
 * array; CipherAuthError when anything was altered, and then `output` holds nothing usable.
 */
export function gcmOpen(
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  sealed: Uint8Array,
  output?: Uint8Array,
): Uint8Array {
  if (sealed.length < TAG_BYTES) throw new CipherAuthError("sealed data shorter than its tag");
  const length = sealed.length - TAG_BYTES;
  if (output && output.length !== length) {
    throw new RangeError(`output holds ${output.length}, the plaintext is ${length}`);
  }
  const plaintext = output ?? new Uint8Array(length);
  using dec = decryptor("aes-256-gcm", key, nonce, { aad, tag: sealed.subarray(length) });
  dec.update(sealed.subarray(0, length), plaintext);
  dec.final();
  return plaintext;
}

function isGcm(name: CipherName): boolean {
  return name.endsWith("-gcm");
}

function checkParameters(name: CipherName, key: Uint8Array, iv: Uint8Array): void {
  const bits = name.split("-")[1];
  if (key.length !== KEY_BYTES[bits]) {
    throw new RangeError(`${name}: key must be ${KEY_BYTES[bits]} bytes, found ${key.length}`);
  }
  if (isGcm(name) ? iv.length < 1 || iv.length > 64 : iv.length !== 16) {
    throw new RangeError(`${name}: unusable IV of ${iv.length} bytes`);
  }
}

/** EVP_CIPHER_CTX over FFI. Every length is checked here: OpenSSL writes where it is told. */
class OpensslCipher implements StreamCipher {
  #ctx: Deno.PointerValue;
  readonly #lib: Libcrypto;
  readonly #gcm: boolean;
  readonly #encrypt: boolean;
  readonly #written = new Int32Array(1);
  #tag: Uint8Array | null = null;

  constructor(
    lib: Libcrypto,
    name: CipherName,
    key: Uint8Array,
    iv: Uint8Array,
    encrypt: boolean,
    options: DecryptOptions,
  ) {
    this.#lib = lib;
    this.#gcm = isGcm(name);
    this.#encrypt = encrypt;
    this.#ctx = lib.EVP_CIPHER_CTX_new();
    if (this.#ctx === null) throw new Error("EVP_CIPHER_CTX_new failed");
    try {
      const enc = encrypt ? 1 : 0;
      this.#check(lib.EVP_CipherInit_ex(this.#ctx, cipherOf(lib, name), null, null, null, enc));
      if (this.#gcm && iv.length !== 12) {
        this.#check(lib.EVP_CIPHER_CTX_ctrl(this.#ctx, EVP_CTRL_GCM_SET_IVLEN, iv.length, null));
      }
      this.#check(lib.EVP_CipherInit_ex(this.#ctx, null, null, key, iv, enc));
      if (this.#gcm && !encrypt) {
        const tag = Uint8Array.from(options.tag!);
        this.#check(lib.EVP_CIPHER_CTX_ctrl(this.#ctx, EVP_CTRL_GCM_SET_TAG, tag.length, tag));
      }
      if (this.#gcm && options.aad && options.aad.length > 0) {
        // A null output pointer makes the input additional data (EVP_EncryptUpdate(3)).
        this.#check(
          lib.EVP_CipherUpdate(this.#ctx, null, this.#written, options.aad, options.aad.length),
        );
      }
    } catch (error) {
      this[Symbol.dispose]();
      throw error;
    }
  }

  update(input: Uint8Array, output?: Uint8Array): Uint8Array {
    const ctx = this.#live();
    const room = roomFor(this.#gcm, input.length);
    const out = output ?? new Uint8Array(room);
    if (out.length < room) throw new RangeError(`output holds ${out.length}, needs ${room}`);
    let produced = 0;
    // EVP takes an int length: feed very large inputs in 1 GiB steps.
    for (let at = 0; at < input.length; at += 1 << 30) {
      const piece = input.subarray(at, at + (1 << 30));
      this.#check(
        this.#lib.EVP_CipherUpdate(ctx, out.subarray(produced), this.#written, piece, piece.length),
      );
      produced += this.#written[0];
    }
    return out.subarray(0, produced);
  }

  final(): Uint8Array {
    const ctx = this.#live();
    const out = new Uint8Array(TAG_BYTES);
    try {
      if (this.#lib.EVP_CipherFinal_ex(ctx, out, this.#written) !== 1) {
        this.#lib.ERR_clear_error();
        throw new CipherAuthError(
          this.#gcm ? "authentication tag does not verify" : "padding does not verify",
        );
      }
      if (this.#gcm && this.#encrypt) {
        const tag = new Uint8Array(TAG_BYTES);
        this.#check(this.#lib.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, tag));
        this.#tag = tag;
      }
      return out.subarray(0, this.#written[0]);
    } finally {
      this[Symbol.dispose]();
    }
  }

  tag(): Uint8Array {
    if (!this.#tag) throw new Error("tag(): only after final() of a GCM encryption");
    return this.#tag;
  }

  [Symbol.dispose](): void {
    if (this.#ctx !== null) this.#lib.EVP_CIPHER_CTX_free(this.#ctx);
    this.#ctx = null;
  }

  #live(): NonNullable<Deno.PointerValue> {
    if (this.#ctx === null) throw new Error("cipher already finished");
    return this.#ctx;
  }

  #check(result: number): void {
    if (result !== 1) {
      this.#lib.ERR_clear_error();
      throw new Error("OpenSSL cipher call failed");
    }
  }
}

function cipherOf(lib: Libcrypto, name: CipherName): Deno.PointerValue {
  switch (name) {
    case "aes-128-gcm":
      return lib.EVP_aes_128_gcm();
    case "aes-192-gcm":
      return lib.EVP_aes_192_gcm();
    case "aes-256-gcm":
      return lib.EVP_aes_256_gcm();
    case "aes-128-cbc":
      return lib.EVP_aes_128_cbc();
    case "aes-192-cbc":
      return lib.EVP_aes_192_cbc();
    case "aes-256-cbc":
      return lib.EVP_aes_256_cbc();
  }
}

/** The fallback: node:crypto's Cipheriv, with the same contract. */
function nodeEncryptor(
  name: CipherName,
  key: Uint8Array,
  iv: Uint8Array,
  aad?: Uint8Array,
): StreamCipher {
  const cipher = createCipheriv(name, key, iv, { authTagLength: TAG_BYTES } as never);
  if (aad && aad.length > 0) (cipher as CipherGCM).setAAD(aad);
  let tag: Uint8Array | null = null;
  return {
    update: (input, output) =>
      place(cipher.update(input), output, roomFor(isGcm(name), input.length)),
    final: () => {
      const last = new Uint8Array(cipher.final());
      if (isGcm(name)) tag = new Uint8Array((cipher as CipherGCM).getAuthTag());
      return last;
    },
    tag: () => {
      if (!tag) throw new Error("tag(): only after final() of a GCM encryption");
      return tag;
    },
    [Symbol.dispose]: () => {},
  };
}

function nodeDecryptor(
  name: CipherName,
  key: Uint8Array,
  iv: Uint8Array,
  options: DecryptOptions,
): StreamCipher {
  const gcm = isGcm(name);
  const decipher = createDecipheriv(
    name,
    key,
    iv,
    (gcm ? { authTagLength: options.tag!.length } : {}) as never,
  );
  if (gcm) {
    (decipher as DecipherGCM).setAuthTag(options.tag!);
    if (options.aad && options.aad.length > 0) (decipher as DecipherGCM).setAAD(options.aad);
  }
  return {
    update: (input, output) => place(decipher.update(input), output, roomFor(gcm, input.length)),
    final: () => {
      try {
        return new Uint8Array(decipher.final());
      } catch (cause) {
        throw new CipherAuthError(
          gcm ? "authentication tag does not verify" : "padding does not verify",
          { cause },
        );
      }
    },
    tag: () => {
      throw new Error("tag(): only after final() of a GCM encryption");
    },
    [Symbol.dispose]: () => {},
  };
}

/** Output bytes `update` may need: GCM is a stream cipher; CBC can release a held-back block. */
function roomFor(gcm: boolean, inputLength: number): number {
  return gcm ? inputLength : inputLength + 16;
}

function place(produced: Uint8Array, output: Uint8Array | undefined, room: number) {
  if (!output) return new Uint8Array(produced.buffer, produced.byteOffset, produced.length);
  if (output.length < room) throw new RangeError(`output holds ${output.length}, needs ${room}`);
  output.set(produced);
  return output.subarray(0, produced.length);
}
