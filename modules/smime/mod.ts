/**
 * S/MIME 4.0 (RFC 8551) for gateway-to-gateway mail: sign then encrypt on the way out, decrypt
 * then verify on the way in, with CMS (RFC 5652), AuthEnvelopedData + AES-GCM (RFC 5083/5084),
 * EnvelopedData + AES-CBC, RSA-OAEP key transport, and certificate checks against pinned anchors.
 *
 * @example
 * ```ts
 * import { loadCertificatePem, loadPrivateKeyPem, open, seal } from "../smime/mod.ts";
 * const signerCert = await loadCertificatePem("ours.pem");
 * const signerKey = await loadPrivateKeyPem("ours.key");
 * const peer = await loadCertificatePem("peer.pem");
 * const mail = await seal({ content, signerCert, signerKey, recipients: [peer] });
 * ```
 * @module
 */
export {
  SmimeCertificateExpired,
  SmimeCertificateRevoked,
  SmimeDecryptError,
  SmimeError,
  SmimeFormatError,
  SmimeIntegrityError,
  SmimeKeyUsageInvalid,
  SmimeSignatureInvalid,
  SmimeSignerMismatch,
  SmimeUnsupported,
  SmimeUntrustedSigner,
} from "./errors.ts";
export { Certificate, parseCertificates } from "./certificate.ts";
export { parseRevocationLists, revocationAmong } from "./crl.ts";
export type { RevocationList } from "./crl.ts";
export type { KeyUsage } from "./certificate.ts";
export { parsePrivateKey } from "./keys.ts";
export type { PrivateKey } from "./keys.ts";
export { parsePkcs12 } from "./pkcs12.ts";
export type { Pkcs12Contents } from "./pkcs12.ts";
export { seal } from "./seal.ts";
export type { SealOptions } from "./seal.ts";
export type { ContentAlgorithm } from "./enveloped.ts";
export { open } from "./open.ts";
export type { ExpectedSigner, OpenedMessage, OpenOptions } from "./open.ts";
export { loadCertificatePem, loadCertificatesPem, loadPkcs12, loadPrivateKeyPem } from "./files.ts";
