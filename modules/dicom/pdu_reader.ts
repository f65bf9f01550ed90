/**
 * Reads whole PDUs from a connection (PS3.8 9.3.1: 1 byte type, 1 reserved, 4 bytes length), and
 * refuses before allocating anything when the header announces more than we allow. Memory per
 * association is therefore bounded by our advertised maximum PDU length, whatever the peer sends.
 */
import { AbortReason, PduType } from "./constants.ts";
import { AssociationAborted, DicomProtocolError, DicomTimeout } from "./errors.ts";
import { decodePdu, type Pdu } from "./pdu.ts";

/** Bounds for non-P-DATA PDUs: an A-ASSOCIATE-RQ with 128 contexts stays far below this. */
const maxAssociatePduLength = 256 * 1024;

/** Reads exact byte counts from a `Deno.Conn`, with a per-read silence timeout. */
export class ByteReader {
  #conn: Deno.Conn;
  #buffer = new Uint8Array(16 * 1024);
  #start = 0;
  #end = 0;
  /** Milliseconds of peer silence allowed for the next reads; 0 means none. */
  timeoutMs = 0;
  /** Called when the timeout fires; should abort and close the connection. */
  onTimeout: () => void = () => {};
  #timedOut = false;
  /** When the read in progress began waiting, or null between reads. */
  #waitingSince: number | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the pending timer fires (performance.now() time). */
  #timerDue = 0;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  async #read(into: Uint8Array): Promise<number | null> {
    if (this.timeoutMs <= 0) return await this.#conn.read(into);
    this.#waitingSince = performance.now();
    this.#watch();
    try {
      return await this.#conn.read(into);
    } catch (error) {
      if (this.#timedOut) throw new DicomTimeout(`peer silent for ${this.timeoutMs} ms`);
      throw new AssociationAborted("connection lost", { cause: error });
    } finally {
      this.#waitingSince = null;
    }
  }

  /**
   * One timer per connection instead of one per read: a setTimeout and clearTimeout around every
   * socket read cost about 5% of the receiving thread (four reads per 0.5 MB instance). When the
   * timer fires it checks how long the read now in progress has waited, and sets itself again
   * for the rest of the time when that is less than the timeout.
   */
  #watch(): void {
    if (this.#waitingSince === null) return;
    const dueAt = this.#waitingSince + this.timeoutMs;
    if (this.#timer !== undefined) {
      if (this.#timerDue <= dueAt) return; // fires in time and then looks again
      clearTimeout(this.#timer); // the timeout was shortened (e.g. ARTIM after a release)
    }
    this.#timerDue = dueAt;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#waitingSince === null || this.timeoutMs <= 0) return;
      if (performance.now() - this.#waitingSince >= this.timeoutMs) {
        this.#timedOut = true;
        this.onTimeout();
      } else this.#watch();
    }, Math.max(0, dueAt - performance.now()));
  }

  /** Stops the silence timer (the connection is closing). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Exactly `n` bytes into a fresh array (large reads go straight into it, no copying); null when
   * the connection closed cleanly before the first byte; throws when it closed halfway.
   */
  async readExact(n: number): Promise<Uint8Array | null> {
    const out = new Uint8Array(n);
    let filled = Math.min(n, this.#end - this.#start);
    out.set(this.#buffer.subarray(this.#start, this.#start + filled));
    this.#start += filled;
    while (filled < n) {
      const wanted = n - filled;
      if (wanted >= this.#buffer.length) {
        const got = await this.#read(out.subarray(filled));
        if (got === null) return this.#closed(filled);
        filled += got;
      } else {
        const got = await this.#read(this.#buffer);
        if (got === null) return this.#closed(filled);
        const take = Math.min(got, wanted);
        out.set(this.#buffer.subarray(0, take), filled);
        filled += take;
        this.#start = take;
        this.#end = got;
      }
    }
    return out;
  }

  #closed(filled: number): null {
    if (this.#timedOut) throw new DicomTimeout(`peer silent for ${this.timeoutMs} ms`);
    if (filled > 0) {
      throw new DicomProtocolError("connection closed inside a PDU (truncated PDU)");
    }
    return null;
  }
}

/**
 * Reads the next PDU, or null when the peer closed the connection between PDUs. `maxPduLength` is
 * the maximum we advertised for P-DATA-TF (PS3.8 D.1: the variable field length).
 */
export async function readPdu(reader: ByteReader, maxPduLength: number): Promise<Pdu | null> {
  const header = await reader.readExact(6);
  if (header === null) return null;
  const type = header[0];
  const length = new DataView(header.buffer).getUint32(2);
  if (type < PduType.associateRq || type > PduType.abort) {
    throw new DicomProtocolError(
      `unrecognized PDU type 0x${type.toString(16)}`,
      AbortReason.unrecognizedPdu,
    );
  }
  const limit = type === PduType.pData
    ? maxPduLength
    : type <= PduType.associateAc
    ? maxAssociatePduLength
    : 4;
  if (length > limit) {
    throw new DicomProtocolError(
      `PDU type 0x${type.toString(16)} announces ${length} bytes, more than the ${limit} allowed`,
      AbortReason.invalidPduParameterValue,
    );
  }
  const body = await reader.readExact(length);
  if (body === null) throw new DicomProtocolError("connection closed after a PDU header");
  return decodePdu(type, body);
}
