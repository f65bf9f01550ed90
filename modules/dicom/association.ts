/**
 * One association over one TCP connection (PS3.8 9.2): serialized writes, PDU reads with the
 * ARTIM/idle timers, PDV sequencing (commands and datasets, fragments, last-fragment bits) and
 * the pull-based dataset stream that gives TCP backpressure all the way to the consumer.
 */
import { concatBytes, releaseBytes } from "../core/mod.ts";
import { AbortReason, PduType } from "./constants.ts";
import { AssociationAborted, DicomProtocolError } from "./errors.ts";
import { type Command, decodeCommand, encodeCommand } from "./dimse.ts";
import type { AcceptedContext } from "./negotiation.ts";
import { encodeAbort, encodePData, type Pdu, type Pdv } from "./pdu.ts";
import { ByteReader, readPdu } from "./pdu_reader.ts";

/** A DIMSE command set is small; anything bigger is a broken or hostile peer. */
const maxCommandLength = 64 * 1024;

/** What the next read from the peer produced, between messages. */
export type AssociationEvent =
  | { kind: "pdv"; pdv: Pdv }
  | { kind: "release-rq" }
  | { kind: "release-rp" }
  | { kind: "closed" };

/** One open association; the same class serves the acceptor (SCP) and the requestor (SCU). */
export class Association {
  readonly reader: ByteReader;
  /** Accepted presentation contexts by id. */
  contexts = new Map<number, AcceptedContext>();
  /** Our receive limit (PS3.8 D.1), enforced on every P-DATA-TF read. */
  maxReceivePdu: number;
  /** The peer's receive limit; 0 means unlimited (we still fragment). */
  peerMaxPdu = 0;
  /** Set when a dataset stream failed: the association is finished, whatever the consumer did. */
  failure: Error | null = null;
  #conn: Deno.Conn;
  #writing: Promise<void> = Promise.resolve();
  #pending: Pdv[] = [];
  #closed = false;
  #fragmentChain: Promise<unknown> = Promise.resolve();

  constructor(conn: Deno.Conn, maxReceivePdu: number) {
    this.#conn = conn;
    this.reader = new ByteReader(conn);
    this.maxReceivePdu = maxReceivePdu;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** Writes bytes after any write in progress (responses and A-ABORT never interleave). */
  send(bytes: Uint8Array): Promise<void> {
    const write = this.#writing.then(async () => {
      let at = 0;
      while (at < bytes.length) at += await this.#conn.write(bytes.subarray(at));
    });
    this.#writing = write.catch(() => {});
    return write;
  }

  /** Reads one PDU with our limits (the caller sets `reader.timeoutMs`). */
  readPdu(): Promise<Pdu | null> {
    return readPdu(this.reader, this.maxReceivePdu);
  }

  /** Sends an A-ABORT (best effort) and closes the connection (PS3.8 9.2, AA-1). */
  async abort(source: number, reason: number): Promise<void> {
    if (this.#closed) return;
    try {
      await withTimeout(this.send(encodeAbort(source, reason)), 1000);
    } catch {
      // The peer may be gone already; closing is what matters.
    }
    this.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.reader.stop();
    try {
      this.#conn.close();
    } catch {
      // already closed by the peer
    }
  }

  /** Waits (up to `ms`) for the peer to close after A-ASSOCIATE-RJ or A-RELEASE-RP, then closes. */
  async awaitPeerClose(ms: number): Promise<void> {
    this.reader.timeoutMs = ms;
    this.reader.onTimeout = () => this.close();
    try {
      while (!this.#closed && (await this.reader.readExact(1)) !== null) {
        // PS3.8 9.2 state 13: anything but a close is ignored until ARTIM fires.
      }
    } catch {
      // timeout or reset: closing below either way
    }
    this.close();
  }

  /** The next PDV, release request/reply, or clean close. Throws on abort and protocol errors. */
  async nextEvent(): Promise<AssociationEvent> {
    const queued = this.#pending.shift();
    if (queued) return { kind: "pdv", pdv: queued };
    const pdu = await this.readPdu();
    if (pdu === null) return { kind: "closed" };
    switch (pdu.type) {
      case PduType.pData:
        for (const pdv of pdu.pdvs) {
          if (!this.contexts.has(pdv.contextId)) {
            throw new DicomProtocolError(
              `PDV for presentation context ${pdv.contextId}, which was not accepted`,
              AbortReason.invalidPduParameterValue,
            );
          }
        }
        this.#pending = pdu.pdvs;
        return { kind: "pdv", pdv: this.#pending.shift()! };
      case PduType.releaseRq:
        return { kind: "release-rq" };
      case PduType.releaseRp:
        return { kind: "release-rp" };
      case PduType.abort:
        throw AssociationAborted.fromAbortPdu(pdu.source, pdu.reason);
      default:
        throw new DicomProtocolError(
          `unexpected PDU type 0x${pdu.type.toString(16)} on an established association`,
          AbortReason.unexpectedPdu,
        );
    }
  }

  /**
   * The next complete command set (fragments joined, PS3.8 E.2), or a release/close event when one
   * arrives between messages.
   */
  async readCommand(): Promise<
    | { kind: "command"; contextId: number; command: Command }
    | { kind: "release-rq" | "release-rp" | "closed" }
  > {
    const fragments: Uint8Array[] = [];
    let contextId = -1;
    let length = 0;
    for (;;) {
      const event = await this.nextEvent();
      if (event.kind !== "pdv") {
        if (fragments.length === 0) return event;
        if (event.kind === "closed") {
          throw new AssociationAborted("connection closed inside a command");
        }
        throw new DicomProtocolError("release inside a command", AbortReason.unexpectedPdu);
      }
      const { pdv } = event;
      if (!pdv.isCommand) {
        throw new DicomProtocolError(
          "dataset fragment where a command was expected",
          AbortReason.unexpectedPduParameter,
        );
      }
      if (contextId !== -1 && pdv.contextId !== contextId) {
        throw new DicomProtocolError(
          "command fragments on different presentation contexts",
          AbortReason.unexpectedPduParameter,
        );
      }
      contextId = pdv.contextId;
      length += pdv.data.length;
      if (length > maxCommandLength) {
        throw new DicomProtocolError(
          `command set longer than ${maxCommandLength} bytes`,
          AbortReason.invalidPduParameterValue,
        );
      }
      fragments.push(pdv.data);
      if (pdv.isLast) break;
    }
    const bytes = fragments.length === 1 ? fragments[0] : concatBytes(fragments);
    return { kind: "command", contextId, command: decodeCommand(bytes) };
  }

  /**
   * The dataset that follows a command on `contextId`, as a pull-based stream: nothing is read
   * from the socket until the consumer asks, so a slow consumer slows the sender (TCP window) and
   * memory stays at about one PDU. `finish()` reads and discards whatever the consumer left,
   * so the next command can be read; it throws if the association failed.
   *
   * Each chunk's buffer is the consumer's alone (a PDV that shares its PDU with others is copied;
   * the usual one PDV per PDU is not), so a consumer that copies the bytes may free the buffer at
   * once (the spool's `handOver`) instead of leaving it to the garbage collector.
   */
  datasetStream(
    contextId: number,
  ): { stream: ReadableStream<Uint8Array>; finish(): Promise<void> } {
    let done = false;
    const next = (): Promise<Uint8Array | null> => {
      const run = this.#fragmentChain.then(async () => {
        while (!done) {
          const event = await this.nextEvent();
          if (event.kind === "closed") {
            throw new AssociationAborted("connection closed inside a dataset");
          }
          if (event.kind !== "pdv") {
            throw new DicomProtocolError("release inside a dataset", AbortReason.unexpectedPdu);
          }
          const { pdv } = event;
          if (pdv.isCommand || pdv.contextId !== contextId) {
            throw new DicomProtocolError(
              "command fragment or other presentation context inside a dataset",
              AbortReason.unexpectedPduParameter,
            );
          }
          if (pdv.isLast) done = true;
          if (pdv.data.length > 0) return pdv.sharesBuffer ? pdv.data.slice() : pdv.data;
        }
        return null;
      });
      this.#fragmentChain = run.catch(() => {});
      return run.catch((error) => {
        this.failure ??= error;
        throw error;
      });
    };
    const stream = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const chunk = await next();
        if (chunk === null) controller.close();
        else controller.enqueue(chunk);
      },
    });
    return {
      stream,
      finish: async () => {
        if (this.failure) throw this.failure;
        while ((await next()) !== null) {
          // discard what the consumer did not read
        }
      },
    };
  }

  /** Sends a command set as P-DATA, fragmented to the peer's limit. */
  async sendCommand(contextId: number, command: Command): Promise<void> {
    await this.sendFragments(contextId, true, [encodeCommand(command)], true);
  }

  /**
   * Sends data on `contextId`, each chunk split to fit the peer's maximum PDU (PS3.8 9.3.5 and
   * D.1: the variable field holds one PDV of 6 bytes header plus data). When `last` is set, the
   * final fragment carries the last-fragment bit.
   *
   * PDUs are built into one batch buffer of up to 256 KiB and written together: a peer that takes
   * 16 KiB PDUs (Orthanc, dcmtk's default) would otherwise cost a socket write per 16 KiB, measured
   * at 1.4 s of the importing gateway's 20 s busy time for 0.5 GB. The buffer is refilled once the
   * batch before it is written, so a 0.5 MB instance leaves no garbage behind. With `handOver` the
   * chunks own their buffers (as the spool's do), and each is freed once its last fragment is
   * copied into the batch.
   */
  async sendFragments(
    contextId: number,
    isCommand: boolean,
    chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
    last: boolean,
    options: { handOver?: boolean } = {},
  ): Promise<void> {
    const limit = this.peerMaxPdu > 0 ? Math.min(this.peerMaxPdu, 1 << 20) : 1 << 20;
    // Even fragments: dcmtk rejects odd PDV lengths.
    const max = (limit - 6) & ~1;
    let batch: Uint8Array | null = null;
    let filled = 0;
    const flush = async () => {
      if (filled === 0) return;
      const bytes = batch!.subarray(0, filled);
      filled = 0;
      await this.send(bytes);
    };
    const addPdv = async (data: Uint8Array, isLast: boolean) => {
      const length = 12 + data.length;
      if (batch && filled + length > batch.length) await flush();
      if (!batch || batch.length < length) {
        if (batch) releaseBytes(batch);
        batch = new Uint8Array(Math.max(batchBytes, length));
      }
      encodePData(contextId, isCommand, isLast, data, batch.subarray(filled));
      filled += length;
    };
    let held: Uint8Array | null = null;
    let heldChunk: Uint8Array | null = null;
    try {
      for await (const chunk of chunks) {
        for (let at = 0; at < chunk.length; at += max) {
          if (held) {
            await addPdv(held, false);
            // Freed only once no fragment left to copy lies in its buffer.
            if (options.handOver && heldChunk!.buffer !== chunk.buffer) releaseBytes(heldChunk!);
          }
          held = chunk.subarray(at, Math.min(chunk.length, at + max));
          heldChunk = chunk;
        }
      }
      if (held) {
        await addPdv(held, last);
        if (options.handOver) releaseBytes(heldChunk!);
      } else if (last) await addPdv(new Uint8Array(0), true);
      await flush();
    } finally {
      if (batch) releaseBytes(batch);
    }
  }
}

/** How many bytes of consecutive PDUs `sendFragments` writes at once. */
const batchBytes = 256 * 1024;

/** Waits for `promise` at most `ms`; the timer never outlives the wait. */
export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
