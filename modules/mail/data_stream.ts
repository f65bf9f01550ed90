/**
 * The DATA of one SMTP transaction as a Web stream for `store`, with backpressure: smtp-server's
 * stream is read only when the store asks for more, so its buffer fills, smtp-server stops
 * reading the socket and TCP flow control holds the client back. Memory stays at a few chunks
 * whatever the message size.
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
  let waiting: (() => void) | null = null;
  const wake = () => {
    const w = waiting;
    waiting = null;
    w?.();
  };
  const fail = (error: MailReceiveAborted) => {
    if (finished) return;
    finished = true;
    abortedWith = error;
    controller.error(error);
    drain();
    wake();
  };
  // Read and discard the rest: smtp-server answers only once the DATA stream has ended. A
  // "readable" listener would keep the stream in paused mode, so it goes first.
  const drain = () => {
    data.off("readable", wake);
    data.resume();
  };
  const tooLarge = () => new MailReceiveAborted("too-large", `message over ${maxBytes} bytes`);
  const gone = () => new MailReceiveAborted("disconnected", "the client went away during DATA");
  data.on("readable", wake);
  data.on("end", () => {
    if (finished) return;
    if (data.sizeExceeded) return fail(tooLarge());
    finished = true;
    ended = true;
    controller.close();
    wake();
  });
  data.on("error", () => fail(gone()));
  data.on("close", () => fail(gone()));
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    async pull(c) {
      while (!finished) {
        const chunk = data.read() as Uint8Array | null;
        if (chunk !== null) {
          bytes += chunk.length;
          if (data.sizeExceeded || bytes > maxBytes) return fail(tooLarge());
          // Copy out of smtp-server's buffer pool: the store may hold on to the chunk.
          c.enqueue(new Uint8Array(chunk));
          return;
        }
        await new Promise<void>((resolve) => (waiting = resolve));
      }
    },
    cancel() {
      finished = true;
      drain();
      wake();
    },
  }, { highWaterMark: 2 });
  return {
    stream,
    bytes: () => bytes,
    complete: () => ended && !abortedWith,
    aborted: () => abortedWith,
  };
}
