import { BeeldpoortError } from "../core/mod.ts";

/**
 * A directory could not be reached or answered with an error; the cached book stays as it was.
 *
 * @example
 * ```ts
 * if (error instanceof SourceUnavailable) console.log(error.code);
 * ```
 */
export class SourceUnavailable extends BeeldpoortError {
  readonly code = "ADDRESSBOOK_SOURCE_UNAVAILABLE";
  constructor(readonly source: string, detail: string, options?: ErrorOptions) {
    super(`address book source "${source}" unavailable: ${detail}`, options);
  }
}

/**
 * A directory answered with something we cannot read (not FHIR, not a Bundle, bad LDAP data).
 *
 * @example
 * ```ts
 * if (error instanceof SourceFormatError) console.log(error.code);
 * ```
 */
export class SourceFormatError extends BeeldpoortError {
  readonly code = "ADDRESSBOOK_SOURCE_FORMAT";
}

/**
 * A signed bundle's signature does not verify, or its signer does not chain to the anchor.
 *
 * @example
 * ```ts
 * if (error instanceof BundleSignatureInvalid) console.log(error.code);
 * ```
 */
export class BundleSignatureInvalid extends BeeldpoortError {
  readonly code = "ADDRESSBOOK_BUNDLE_SIGNATURE_INVALID";
}

/**
 * An entry is malformed (URA not 8 digits, no name); it is skipped and the sync run says so.
 *
 * @example
 * ```ts
 * if (error instanceof InvalidEntry) console.log(error.code);
 * ```
 */
export class InvalidEntry extends BeeldpoortError {
  readonly code = "ADDRESSBOOK_INVALID_ENTRY";
  constructor(readonly ura: string, message: string) {
    super(message);
  }
}

/**
 * A certificate's URA differs from the entry it is listed under; the certificate is refused.
 *
 * @example
 * ```ts
 * if (error instanceof CertificateUraMismatch) console.log(error.code);
 * ```
 */
export class CertificateUraMismatch extends BeeldpoortError {
  readonly code = "ADDRESSBOOK_CERT_URA_MISMATCH";
  constructor(readonly entryUra: string, readonly certificateUra: string) {
    super(`certificate carries URA ${certificateUra}, entry has URA ${entryUra}`);
  }
}

/**
 * The organisation is in the book but cannot be sent to now; `reasonCode` says why.
 *
 * @example
 * ```ts
 * if (error instanceof RecipientNotUsable) console.log(error.code);
 * ```
 */
export class RecipientNotUsable extends BeeldpoortError {
  readonly code = "ADDRESSBOOK_RECIPIENT_NOT_USABLE";
  constructor(readonly ura: string, readonly reasonCode: string, reason: string) {
    super(`recipient ${ura} not usable: ${reason}`);
  }
}
