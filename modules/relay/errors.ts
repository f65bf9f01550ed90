/**
 * Why the relay refused a message or could not send. A refusal of an inbound message is answered
 * with a failure notification naming `code` and the message (no patient data in either).
 */
import { BeeldpoortError } from "../core/mod.ts";

/** Base of the relay's errors. */
export abstract class RelayError extends BeeldpoortError {}

/** Base of the reasons to refuse an inbound message; each has a readable message for the peer. */
export abstract class RelayRefusal extends RelayError {}

/** The message carries no signature (plain mail, or encrypted but not signed). */
export class RelayMessageUnsigned extends RelayRefusal {
  readonly code = "RELAY_UNSIGNED";
}

/** The signature does not verify or the signed content was altered. */
export class RelaySignatureInvalid extends RelayRefusal {
  readonly code = "RELAY_SIGNATURE_INVALID";
}

/** The signer does not chain to a trust anchor, is expired, or may not sign e-mail. */
export class RelaySignerUntrusted extends RelayRefusal {
  readonly code = "RELAY_SIGNER_UNTRUSTED";
}

/** The signer is valid but is not a certificate the address book lists for the sender's address. */
export class RelaySignerNotListed extends RelayRefusal {
  readonly code = "RELAY_SIGNER_NOT_LISTED";
}

/** The sender's address is not in the address book: no notification goes back (no backscatter). */
export class RelayUnknownSender extends RelayRefusal {
  readonly code = "RELAY_UNKNOWN_SENDER";
}

/** The message is encrypted for someone else, or our key cannot open it. */
export class RelayNotForUs extends RelayRefusal {
  readonly code = "RELAY_NOT_FOR_US";
}

/** The encrypted content was altered in transit (GCM tag, CBC padding). */
export class RelayIntegrityError extends RelayRefusal {
  readonly code = "RELAY_INTEGRITY";
}

/** The XDM package is unsafe or invalid (zip, metadata). */
export class RelayPackageInvalid extends RelayRefusal {
  readonly code = "RELAY_PACKAGE_INVALID";
}

/** A document's size or SHA-1 differs from the XDM metadata. */
export class RelayHashMismatch extends RelayRefusal {
  readonly code = "RELAY_HASH_MISMATCH";
}

/** The message or its MIME structure is broken, or carries no payload we can read. */
export class RelayMalformed extends RelayRefusal {
  readonly code = "RELAY_MALFORMED";
}

/** No transfer with this id in the given direction. */
export class RelayTransferNotFound extends RelayError {
  readonly code = "RELAY_TRANSFER_NOT_FOUND";
}

/** The recipient has no endpoint we can send this study to (format, certificate). */
export class RelayRecipientUnusable extends RelayError {
  readonly code = "RELAY_RECIPIENT_UNUSABLE";
}

/** The study has no instances to send (unknown, or the filter left none). */
export class RelayNothingToSend extends RelayError {
  readonly code = "RELAY_NOTHING_TO_SEND";
}
