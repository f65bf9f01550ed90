import { BeeldpoortError } from "../core/mod.ts";

/**
 * Base of every S/MIME failure. Callers that only need "the message was refused" catch this; the
 * UI and tests tell the reasons apart by subclass or `code`.
 */
export abstract class SmimeError extends BeeldpoortError {}

/** No RecipientInfo is addressed to our certificate, or our key cannot unwrap the content key. */
export class SmimeDecryptError extends SmimeError {
  readonly code = "SMIME_DECRYPT";
}

/**
 * The encrypted content was altered: GCM tag mismatch (RFC 5084 §1.1), CBC padding or length
 * wrong, or a content key of the wrong size.
 */
export class SmimeIntegrityError extends SmimeError {
  readonly code = "SMIME_INTEGRITY";
}

/** The signature does not verify, the message digest differs, or the content is not signed. */
export class SmimeSignatureInvalid extends SmimeError {
  readonly code = "SMIME_SIGNATURE_INVALID";
}

/** The signer's certificate does not chain to one of the configured trust anchors. */
export class SmimeUntrustedSigner extends SmimeError {
  readonly code = "SMIME_UNTRUSTED_SIGNER";
}

/** A certificate on the signer's path is expired or not yet valid at the checking time. */
export class SmimeCertificateExpired extends SmimeError {
  readonly code = "SMIME_CERT_EXPIRED";
}

/**
 * The signer's certificate is not meant for e-mail signatures: key usage without
 * digitalSignature/nonRepudiation, or an extended key usage without emailProtection (RFC 8550 §4.4).
 */
export class SmimeKeyUsageInvalid extends SmimeError {
  readonly code = "SMIME_KEY_USAGE";
}

/** The message was validly signed, but not by the expected sender. */
export class SmimeSignerMismatch extends SmimeError {
  readonly code = "SMIME_SIGNER_MISMATCH";
}

/** The input is not S/MIME, or its MIME or ASN.1 structure is broken. */
export class SmimeFormatError extends SmimeError {
  readonly code = "SMIME_FORMAT";
}

/** A well-formed message or key uses an algorithm this module does not implement. */
export class SmimeUnsupported extends SmimeError {
  readonly code = "SMIME_UNSUPPORTED";
}
