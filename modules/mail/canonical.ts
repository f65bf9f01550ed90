/**
 * The raw message on its way into nodemailer. Nodemailer rewrites bare CR and bare LF into CRLF
 * and adds a CRLF before the final dot when the message lacks one: both would change the bytes the
 * receiver stores. We check instead of rewriting (RFC 5321 §2.3.8: lines end in CRLF), and fail
 * the stream before the final dot is sent, so a non-canonical message is never delivered at all.
 */
import { createReadStream } from "node:fs";
import { Readable, Transform, type TransformCallback } from "node:stream";
import { bareLineBreak } from "../core/mod.ts";
import { MailFormatError } from "./errors.ts";

/** A Transform that passes bytes through unchanged and errors on the first non-canonical one. */
class CanonicalCheck extends Transform {
  #offset = 0;
  #last = -1;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const bare = bareLineBreak(chunk, this.#last);
    if (bare) {
      done(new MailFormatError(`bare ${bare.kind} at byte ${this.#offset + bare.at}`));
      return;
    }
    if (chunk.length > 0) this.#last = chunk[chunk.length - 1];
    this.#offset += chunk.length;
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.#offset === 0) done(new MailFormatError("the message is empty"));
    else if (this.#last !== 0x0a) done(new MailFormatError("the message does not end with CRLF"));
    else done();
  }
}

/** The raw message as nodemailer takes it, plus whether sending it has started. */
export interface CheckedMessage {
  readonly stream: Readable;
  /** Whether nodemailer asked for bytes; until then the message can still go to another host. */
  started(): boolean;
}

/**
 * Opens `raw` (a stream or a file path) behind the canonical-form check. Nothing is opened or read
 * until nodemailer reads (which it does only after the server accepted the envelope), so a
 * connection failure leaves a stream untouched for the next MX host.
 */
export function checkedMessage(raw: ReadableStream<Uint8Array> | string): CheckedMessage {
  const highWaterMark = 256 * 1024;
  let check: CanonicalCheck | undefined;
  const out = new Readable({
    highWaterMark,
    read() {
      if (check) {
        check.resume();
        return;
      }
      const source = typeof raw === "string"
        ? createReadStream(raw, { highWaterMark })
        // deno-lint-ignore no-explicit-any
        : Readable.fromWeb(raw as any, { highWaterMark });
      check = new CanonicalCheck({ highWaterMark });
      const piped = check;
      source.on("error", (e: Error) => piped.destroy(e));
      piped.on("data", (chunk: Buffer) => {
        if (!out.push(chunk)) piped.pause();
      });
      piped.on("end", () => out.push(null));
      piped.on("error", (e) => out.destroy(e));
      source.pipe(piped);
    },
    destroy(error, callback) {
      // An unread stream is left alone: the sender may offer it to the next host.
      check?.destroy();
      callback(error);
    },
  });
  return { stream: out, started: () => check !== undefined };
}
