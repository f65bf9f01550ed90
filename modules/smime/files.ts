/** File-level loading for the CLI and the appliance: PEM certificates and keys, PKCS#12. */
import { readFile } from "node:fs/promises";
import { type Certificate, parseCertificates } from "./certificate.ts";
import { parsePrivateKey, type PrivateKey } from "./keys.ts";
import { parsePkcs12, type Pkcs12Contents } from "./pkcs12.ts";

/**
 * Reads the first certificate of a PEM (or DER) file.
 *
 * @example
 * ```ts
 * const peer = await loadCertificatePem("/etc/beeldpoort/peer.pem");
 * ```
 */
export async function loadCertificatePem(path: string): Promise<Certificate> {
  return parseCertificates(await readFile(path))[0];
}

/**
 * Reads every certificate of a PEM bundle (trust anchors, chains).
 *
 * @example
 * ```ts
 * const anchors = await loadCertificatesPem("/etc/beeldpoort/trust.pem");
 * ```
 */
export async function loadCertificatesPem(path: string): Promise<Certificate[]> {
  return parseCertificates(await readFile(path));
}

/**
 * Reads a PEM private key (PKCS#8, PKCS#1, or encrypted PKCS#8 with `passphrase`).
 *
 * @example
 * ```ts
 * const key = await loadPrivateKeyPem("/etc/beeldpoort/gateway.key");
 * ```
 */
export async function loadPrivateKeyPem(path: string, passphrase?: string): Promise<PrivateKey> {
  return parsePrivateKey(await readFile(path), passphrase);
}

/**
 * Reads a PKCS#12 (.p12/.pfx) file.
 *
 * @example
 * ```ts
 * const { key, certificate } = await loadPkcs12("/etc/beeldpoort/gateway.p12", password);
 * ```
 */
export async function loadPkcs12(path: string, password: string): Promise<Pkcs12Contents> {
  return parsePkcs12(new Uint8Array(await readFile(path)), password);
}
