/**
 * The outer header of a gateway message (RFC 5322 §3.6). Everything inside is sealed by S/MIME;
 * these fields travel in clear through every MTA, so they carry no patient data.
 */
import { MailFormatError } from "./errors.ts";

/** What goes into the outer header. */
export interface OuterHeaderOptions {
  /** Our gateway address (RFC 5322 §3.6.2). */
  readonly from: string;
  /** The peer gateway address(es). */
  readonly to: string | readonly string[];
  /** A fixed, non-identifying subject, e.g. "Beeldpoort transfer 3/7". Never patient data. */
  readonly subject: string;
  /** From `newMessageId`; we track notifications by it (RFC 5322 §3.6.4). */
  readonly messageId: string;
  /** Defaults to now. */
  readonly date?: Date;
  /**
   * Where the peer sends its disposition notification (RFC 8098 §2.1); usually `from`.
   * Leave out for messages that must not be answered with one (the notifications themselves).
   */
  readonly dispositionNotificationTo?: string;
  /** Further fields, e.g. `{ "Auto-Submitted": "auto-generated" }` (RFC 3834 §5). */
  readonly extra?: Readonly<Record<string, string>>;
}

const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const two = (n: number) => String(n).padStart(2, "0");

/** RFC 5322 §3.3 date-time in UTC, "+0000" rather than the obsolete "GMT". */
export function rfc5322Date(date: Date): string {
  return `${days[date.getUTCDay()]}, ${two(date.getUTCDate())} ${months[date.getUTCMonth()]} ` +
    `${date.getUTCFullYear()} ${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:` +
    `${two(date.getUTCSeconds())} +0000`;
}

/** A fresh, globally unique msg-id `<random@domain>` (RFC 5322 §3.6.4). */
export function newMessageId(domain: string): string {
  if (!/^[A-Za-z0-9.-]+$/.test(domain)) {
    throw new MailFormatError(`"${domain}" cannot be the right-hand side of a Message-ID`);
  }
  return `<${crypto.randomUUID()}@${domain}>`;
}

const addressPattern = /^[^\s<>@",;]+@[A-Za-z0-9.-]+$/;

function address(value: string, field: string): string {
  if (!addressPattern.test(value)) {
    throw new MailFormatError(`${field}: "${value}" is not a plain addr-spec`);
  }
  return value;
}

function text(value: string, field: string): string {
  // A line break would start a new header field; non-ASCII would need RFC 2047 encoded-words.
  if (/[^\t\x20-\x7e]/.test(value)) {
    throw new MailFormatError(`${field} must be printable ASCII on one line`);
  }
  return value;
}

/**
 * The outer header fields in the order they are written. MIME-Version and the Content-* fields
 * are not included: `seal` from modules/smime adds them with the S/MIME body (give it these as its
 * `headers` option), and `withOuterHeaders` adds MIME-Version for a body entity of your own.
 *
 * @example
 * ```ts
 * const messageId = newMessageId("zkh-a.example");
 * const headers = outerHeaders({
 *   from: "gateway@zkh-a.example", to: "gateway@zkh-b.example",
 *   subject: "Beeldpoort transfer 1/3", messageId,
 *   dispositionNotificationTo: "gateway@zkh-a.example",
 * });
 * ```
 */
export function outerHeaders(options: OuterHeaderOptions): Record<string, string> {
  const to = typeof options.to === "string" ? [options.to] : [...options.to];
  if (to.length === 0) throw new MailFormatError("To: at least one address");
  if (!/^<[^<>\s]+@[^<>\s]+>$/.test(options.messageId)) {
    throw new MailFormatError(`Message-ID "${options.messageId}" is not <left@right>`);
  }
  const headers: Record<string, string> = {
    "From": address(options.from, "From"),
    "To": to.map((a) => address(a, "To")).join(", "),
    "Subject": text(options.subject, "Subject"),
    "Message-ID": options.messageId,
    "Date": rfc5322Date(options.date ?? new Date()),
  };
  if (options.dispositionNotificationTo) {
    headers["Disposition-Notification-To"] = address(
      options.dispositionNotificationTo,
      "Disposition-Notification-To",
    );
  }
  for (const [name, value] of Object.entries(options.extra ?? {})) {
    if (!/^[!-9;-~]+$/.test(name)) throw new MailFormatError(`"${name}" is not a field name`);
    headers[name] = text(value, name);
  }
  return headers;
}

const encoder = new TextEncoder();

/**
 * Streams a complete message: `headers`, MIME-Version, then `entity` (a MIME entity in canonical
 * form that starts with its own Content-Type, e.g. an MDN's multipart/report).
 *
 * @example
 * ```ts
 * const raw = withOuterHeaders(headers, ReadableStream.from([entityBytes]));
 * await sender.send({ to: ["gateway@zkh-b.example"], messageId, raw });
 * ```
 */
export function withOuterHeaders(
  headers: Readonly<Record<string, string>>,
  entity: ReadableStream<Uint8Array>,
): ReadableStream<Uint8Array> {
  let head = "";
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${text(value, name)}\r\n`;
  head += "MIME-Version: 1.0\r\n";
  const reader = entity.getReader();
  let first = true;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (first) {
        first = false;
        controller.enqueue(encoder.encode(head));
        return;
      }
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  }, { highWaterMark: 0 });
}
