import { BeeldpoortError } from "../core/mod.ts";

/**
 * Base of every S/MIME failure. Callers that only need "the message was refused" catch this; the
 * UI and tests tell the reasons apart by subclass or `code`.
 *
 * @example
 * ```ts
 * try { await open(options); } catch (e) { if (e instanceof SmimeError) log.warn("refused", { code: e.code }); }
 * ```
 */
export abstract class SmimeError extends BeeldpoortError {}

/**
 * No RecipientInfo is addressed to our certificate, or our key cannot unwrap the content key.
 *
 * @example
 * ```ts
 * await assert.rejects(open({ ...options, recipientCert: other }), SmimeDecryptError);
 * ```
 */
export class SmimeDecryptError extends SmimeError {
  readonly code = "SMIME_DECRYPT";
}

/**
 * The encrypted content was altered: GCM tag mismatch (RFC 5084 §1.1), CBC padding or length
 * wrong, or a content key of the wrong size.
 *
 * @example
 * ```ts
 * if (error instanceof SmimeIntegrityError) audit("message altered in transit");
 * ```
 */
export class SmimeIntegrityError extends SmimeError {
  readonly code = "SMIME_INTEGRITY";
}

/**
 * The signature does not verify, the message digest differs, or the content is not signed.
 *
 * @example
 * ```ts
 * if (error instanceof SmimeSignatureInvalid) notify(sender, "signature invalid");
 * ```
 */
export class SmimeSignatureInvalid extends SmimeError {
  readonly code = "SMIME_SIGNATURE_INVALID";
}

/**
 * The signer's certificate does not chain to one of the configured trust anchors.
 *
 * @example
 * ```ts
 * if (error instanceof SmimeUntrustedSigner) showAnchorsHint();
 * ```
 */
export class SmimeUntrustedSigner extends SmimeError {
  readonly code = "SMIME_UNTRUSTED_SIGNER";
}

/**
 * A certificate on the signer's path is expired or not yet valid at the checking time.
 *
 * @example
 * ```ts
 * if (error instanceof SmimeCertificateExpired) notify(sender, "certificate expired");
 * ```
 */
export class SmimeCertificateExpired extends SmimeError {
  readonly code = "SMIME_CERT_EXPIRED";
}

/**
 * A certificate on the signer's path is on a revocation list its issuer signed.
 *
 * @example
 * ```ts
 * if (error instanceof SmimeCertificateRevoked) notify(sender, "certificate revoked");
 * ```
 */
export class SmimeCertificateRevoked extends SmimeError {
  readonly code = "SMIME_CERT_REVOKED";
}

/**
 * The signer's certificate is not meant for e-mail signatures: key usage without
 * digitalSignature/nonRepudiation, or an extended key usage without emailProtection (RFC 8550 §4.4).
 *
 * @example
 * ```ts
 * if (error instanceof SmimeKeyUsageInvalid) notify(sender, "certificate not for e-mail");
 * ```
 */
export class SmimeKeyUsageInvalid extends SmimeError {
  readonly code = "SMIME_KEY_USAGE";
}

/**
 * The message was validly signed, but not by the expected sender.
 *
 * @example
 * ```ts
 * await open({ ...options, expectedSigner: { email: entry.email } }); // may throw SmimeSignerMismatch
 * ```
 */
export class SmimeSignerMismatch extends SmimeError {
  readonly code = "SMIME_SIGNER_MISMATCH";
}

/**
 * The input is not S/MIME, or its MIME or ASN.1 structure is broken.
 *
 * @example
 * ```ts
 * if (error instanceof SmimeFormatError) quarantine(message, error.message);
 * ```
 */
export class SmimeFormatError extends SmimeError {
  readonly code = "SMIME_FORMAT";
}

/**
 * A well-formed message or key uses an algorithm this module does not implement.
 *
 * @example
 * ```ts
 * if (error instanceof SmimeUnsupported) log.warn("peer uses an algorithm we lack", { reason: error.message });
 * ```
 */
export class SmimeUnsupported extends SmimeError {
  readonly code = "SMIME_UNSUPPORTED";
}
