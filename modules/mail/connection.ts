/**
 * nodemailer's SMTP connection for messages that `checkedMessage` has already proven canonical
 * (CRLF line breaks only). nodemailer's DATA stream looks at every byte in JavaScript to rewrite
 * bare CR and LF and to stuff dots (RFC 5321 §4.5.2); measured on the relay benchmark that was a
 * quarter of the sending gateway's CPU. A canonical message needs only the dots, and those are
 * found with the runtime's byte search, which skips a base64 body (no dots in its alphabet) in one
 * call per chunk.
 *
 * The swap happens on the one DATA stream nodemailer creates per message. Should a later nodemailer
 * create it differently, the override is simply not called and its own (slower, equally correct)
 * stuffing runs; `tests/integration/mail_transfer_test.ts` notices that.
 */
import { Buffer } from "node:buffer";
import type { Transform, TransformCallback } from "node:stream";
import SMTPConnection from "nodemailer/lib/smtp-connection";

/** What nodemailer's DATA stream keeps: its flush and the send result read these. */
interface DataStreamState {
  inByteCount: number;
  outByteCount: number;
  lastByte: number | false;
}

type DataStream = Transform & DataStreamState;

const DOT = Buffer.from(".");
const byteIndex = Uint8Array.prototype.indexOf;

/** `_transform` for a canonical message: a dot that starts a line is sent twice. */
export function stuffLineStartDots(
  this: DataStream,
  input: Buffer | string,
  _encoding: BufferEncoding,
  done: TransformCallback,
): void {
  const chunk = typeof input === "string" ? Buffer.from(input) : input;
  if (chunk.length === 0) return done();
  this.inByteCount += chunk.length;
  const pieces: Uint8Array[] = [];
  let from = 0;
  for (
    let dot = byteIndex.call(chunk, 0x2e, 0);
    dot !== -1;
    dot = byteIndex.call(chunk, 0x2e, dot + 1)
  ) {
    const before = dot === 0 ? this.lastByte : chunk[dot - 1];
    if (before === 0x0a || before === false) {
      pieces.push(chunk.subarray(from, dot), DOT);
      from = dot;
    }
  }
  let out: Uint8Array = chunk;
  if (pieces.length > 0) {
    pieces.push(chunk.subarray(from));
    out = Buffer.concat(pieces);
  }
  this.outByteCount += out.length;
  this.lastByte = chunk[chunk.length - 1];
  this.push(out);
  done();
}

/** How many DATA streams got the fast stuffing (tests check the override is still reached). */
let fastStreams = 0;
export function fastStuffingCount(): number {
  return fastStreams;
}

/**
 * An SMTP connection whose message must be canonical: feed it only `checkedMessage` streams.
 * Everything else (greeting, STARTTLS, envelope, replies, the final dot) is nodemailer's.
 */
export class CanonicalMessageConnection extends SMTPConnection {
  _createSendStream(callback: unknown): DataStream {
    // deno-lint-ignore no-explicit-any
    const parent = (SMTPConnection.prototype as any)._createSendStream as (
      this: SMTPConnection,
      callback: unknown,
    ) => DataStream;
    const stream = parent.call(this, callback);
    stream._transform = stuffLineStartDots;
    fastStreams++;
    return stream;
  }
}
