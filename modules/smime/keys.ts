/** Private keys: PEM (PKCS#8, PKCS#1, encrypted PKCS#8) and DER PKCS#8, as node:crypto KeyObjects. */
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { bytesEqual } from "./ber.ts";
import type { Certificate } from "./certificate.ts";
import { SmimeDecryptError, SmimeFormatError } from "./errors.ts";

/**
 * A private key held by node:crypto. A KeyObject rather than a WebCrypto CryptoKey because one key
 * must both sign (PKCS#1 v1.5 or PSS) and unwrap content keys (OAEP or PKCS#1 v1.5), and WebCrypto
 * binds a key to one algorithm and has no RSAES-PKCS1-v1_5 at all.
 *
 * @example
 * ```ts
 * const key: PrivateKey = parsePrivateKey(pemText);
 * ```
 */
export type PrivateKey = KeyObject;

/**
 * Parses a private key from PEM text or PKCS#8 DER. Encrypted PEM needs `passphrase`.
 *
 * @example
 * ```ts
 * const key = parsePrivateKey(await Deno.readTextFile("signer.key"));
 * ```
 */
export function parsePrivateKey(input: Uint8Array | string, passphrase?: string): PrivateKey {
  try {
    if (typeof input !== "string" && input[0] === 0x30) {
      return createPrivateKey({ key: Buffer.from(input), format: "der", type: "pkcs8" });
    }
    const text = typeof input === "string" ? input : new TextDecoder().decode(input);
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
      throw new SmimeFormatError("no PRIVATE KEY block in PEM input");
    }
    return createPrivateKey(passphrase === undefined ? { key: text } : { key: text, passphrase });
  } catch (error) {
    if (error instanceof SmimeFormatError) throw error;
    if (passphrase !== undefined || /ENCRYPTED/.test(String(input))) {
      throw new SmimeDecryptError("private key could not be decrypted (passphrase?)", {
        cause: error,
      });
    }
    throw new SmimeFormatError("private key could not be parsed", { cause: error });
  }
}

/** Whether `key` is the private half of the public key in `certificate`. */
export function keyMatchesCertificate(key: PrivateKey, certificate: Certificate): boolean {
  const spki = createPublicKey(key).export({ format: "der", type: "spki" });
  return bytesEqual(new Uint8Array(spki), certificate.spki);
}
