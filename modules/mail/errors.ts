import { BeeldpoortError } from "../core/mod.ts";

/** What the server said, when it said something (RFC 5321 §4.2 reply code and text). */
export interface SmtpReply {
  readonly responseCode?: number;
  readonly response?: string;
}

/**
 * Sending a message failed. `temporary` tells the transfer queue what to do: retry later (a 4xx
 * reply, a refused or timed-out connection) or give up (a 5xx reply, no such domain).
 *
 * @example
 * ```ts
 * if (e instanceof MailSendError && e.temporary) retryLater();
 * ```
 */
export abstract class MailSendError extends BeeldpoortError {
  abstract readonly temporary: boolean;
  readonly responseCode?: number;
  readonly response?: string;
  /** The host we were talking to, when we got that far. */
  readonly host?: string;
  constructor(
    message: string,
    details: SmtpReply & { host?: string } = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.responseCode = details.responseCode;
    this.response = details.response;
    this.host = details.host;
  }
}

/**
 * Try again later: a 4xx reply (RFC 5321 §4.2.1), a connection refused, reset or timed out.
 *
 * @example
 * ```ts
 * if (e instanceof MailTemporaryError) job.retryAt(later);
 * ```
 */
export class MailTemporaryError extends MailSendError {
  readonly code: string = "MAIL_TEMPORARY";
  readonly temporary = true;
}

/**
 * Do not try again: a 5xx reply (RFC 5321 §4.2.1), a domain that does not exist or refuses all
 * mail (null MX, RFC 7505), or a message we cannot send byte-identical.
 *
 * @example
 * ```ts
 * if (e instanceof MailPermanentError) job.deadLetter(e.message);
 * ```
 */
export class MailPermanentError extends MailSendError {
  readonly code: string = "MAIL_PERMANENT";
  readonly temporary = false;
}

/**
 * The server offered no STARTTLS, or its certificate did not verify against the configured CAs
 * (or did not match its name). The message was not sent. It counts as temporary, like a
 * Postfix "secure" TLS policy failure: the peer may fix its certificate, and the queue's retry
 * limit still ends it.
 *
 * @example
 * ```ts
 * if (e instanceof MailTlsError) alert(`TLS refused by ${e.host}: ${e.message}`);
 * ```
 */
export class MailTlsError extends MailTemporaryError {
  override readonly code: string = "MAIL_TLS";
}

/**
 * The raw message is not in SMTP canonical form (a bare CR or LF, or no CRLF at its end), so it
 * could not arrive byte-identical. Sending was aborted before the final dot: nothing was
 * delivered.
 *
 * @example
 * ```ts
 * if (e instanceof MailFormatError) console.log("build the message with CRLF line breaks");
 * ```
 */
export class MailFormatError extends MailPermanentError {
  override readonly code: string = "MAIL_FORMAT";
}

/**
 * The receiver did not take a message: why, and which SMTP reply the client got. Thrown into the
 * stream given to `store` when the client went away or the message grew over the limit, so the
 * store discards what it had.
 *
 * @example
 * ```ts
 * stream.pipeTo(sink).catch((e) => e instanceof MailReceiveAborted && e.reason);
 * ```
 */
export class MailReceiveAborted extends BeeldpoortError {
  readonly code = "MAIL_RECEIVE_ABORTED";
  constructor(readonly reason: "disconnected" | "too-large" | "timeout", message: string) {
    super(message);
  }
}
