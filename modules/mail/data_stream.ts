/**
 * The DATA of one SMTP transaction as a Web stream for `store`, with backpressure: smtp-server's
 * stream is paused while the store is behind, so the socket stops being read and TCP flow control
 * holds the client back. Memory stays at a few chunks whatever the message size.
 */
import type { SMTPServerDataStream } from "smtp-server";
import { MailReceiveAborted } from "./errors.ts";

/** The Web stream plus what became of the message. */
export interface DataStreamView {
  readonly stream: ReadableStream<Uint8Array>;
  /** Bytes passed on so far. */
  bytes(): number;
  /** Whether the whole message was passed on (the final dot arrived, nothing went wrong). */
  complete(): boolean;
  /** Why the stream errored, if it did. */
  aborted(): MailReceiveAborted | null;
}

/**
 * Wraps `data`. If the client disconnects mid-DATA or the message grows past the size limit, the
 * Web stream errors with MailReceiveAborted, so the store drops what it had; the rest of the
 * SMTP stream is then read and discarded so smtp-server can answer the client.
 */
export function dataStreamView(data: SMTPServerDataStream, maxBytes: number): DataStreamView {
  let bytes = 0;
  let finished = false;
  let ended = false;
  let abortedWith: MailReceiveAborted | null = null;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const fail = (error: MailReceiveAborted) => {
    if (finished) return;
    finished = true;
    abortedWith = error;
    controller.error(error);
    data.resume(); // drain: smtp-server answers only once the DATA stream has ended
  };
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      data.on("data", (chunk: Uint8Array) => {
        if (finished) return;
        bytes += chunk.length;
        if (data.sizeExceeded || bytes > maxBytes) {
          fail(new MailReceiveAborted("too-large", `message over ${maxBytes} bytes`));
          return;
        }
        // Copy out of smtp-server's buffer pool: the store may hold on to the chunk.
        c.enqueue(new Uint8Array(chunk));
        if ((c.desiredSize ?? 0) <= 0) data.pause();
      });
      data.on("end", () => {
        if (finished) return;
        if (data.sizeExceeded) {
          fail(new MailReceiveAborted("too-large", `message over ${maxBytes} bytes`));
          return;
        }
        finished = true;
        ended = true;
        c.close();
      });
      data.on("error", () => {
        fail(new MailReceiveAborted("disconnected", "the client went away during DATA"));
      });
      data.on("close", () => {
        fail(new MailReceiveAborted("disconnected", "the client went away during DATA"));
      });
    },
    pull() {
      data.resume();
    },
    cancel() {
      finished = true;
      data.resume();
    },
  }, { highWaterMark: 4 });
  data.pause();
  return {
    stream,
    bytes: () => bytes,
    complete: () => ended && !abortedWith,
    aborted: () => abortedWith,
  };
}
