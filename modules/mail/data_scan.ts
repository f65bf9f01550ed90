/**
 * A fast path for smtp-server's DATA parser. smtp-server looks for escape dots and the final
 * `CRLF.CRLF` by testing every byte of the message in JavaScript: on the receiving gateway of a
 * relayed 2 GB study that was 3.6 s of its main thread (V8 profile, 3.3 GB of base64 mail), the
 * largest single item of taking a message in. Our messages are S/MIME base64, which has no dot at
 * all, so nearly every chunk has nothing to unescape. For a chunk without a dot (one native
 * `indexOf` for the byte) this passes the chunk on the way smtp-server would (everything but the
 * last four bytes, which are kept to find a terminator that straddles chunks). A chunk with a dot
 * anywhere, the start of a message, and every other case go to smtp-server's own code unchanged.
 *
 * Not `Buffer#indexOf` with a two-byte needle: in Deno that runs at a sixth of the speed of
 * smtp-server's own loop, and an earlier version of this fast path that used it (28a5d40) cost
 * the receiving gateway 9 s more CPU per 2 GB instead of less (docs/benchmarks.md, session 15).
 *
 * It replaces a method of smtp-server's parser (`SMTPStream#_feedDataStream`, smtp-server 3.21.6,
 * pinned in import_map.json); tests/unit/mail_data_scan_test.ts runs the parser on messages split
 * at every position, with and without dots, and fails if an upgrade changes what it relies on.
 * @module
 */
import { SMTPStream } from "smtp-server/lib/smtp-stream.js";

type Done = (error?: Error | null) => void;

/** The DATA scan acts only on a dot at the start of a line: no dot, nothing to do. */
const DOT = 0x2e;
/** The typed array's own search for one byte: native, unlike Deno's Buffer#indexOf. */
const indexOfByte = Uint8Array.prototype.indexOf;
/** Bytes smtp-server keeps back from each chunk to find a terminator split across chunks. */
const KEPT_BYTES = 4;

let installed = false;

/** Installs the fast path (once per process; later calls do nothing). */
export function installFastDataScan(): void {
  if (installed) return;
  installed = true;
  const parser = SMTPStream.prototype;
  const original = parser._feedDataStream;
  parser._feedDataStream = function (this: SMTPStream, chunk: Buffer, done: Done): void {
    if (!passThrough(this, chunk, done)) original.call(this, chunk, done);
  };
}

/**
 * Passes `chunk` on when it (with the bytes kept from the one before) holds no dot; false, having
 * done nothing, otherwise. smtp-server's scan only ever stops at a `\n.`, so without a dot its
 * result is exactly this.
 */
function passThrough(parser: SMTPStream, chunk: Buffer, done: Done): boolean {
  const kept = parser._lastBytes || null;
  // At the message's start a leading "." may be the terminator: smtp-server decides that.
  if (parser._atDataStart || chunk.length < 2 * KEPT_BYTES) return false;
  if (indexOfByte.call(chunk, DOT) !== -1) return false;
  if (kept && kept.length > 0 && indexOfByte.call(kept, DOT) !== -1) return false;
  const whole = kept && kept.length > 0
    ? Buffer.concat([kept, chunk], kept.length + chunk.length)
    : chunk;
  parser._lastBytes = whole.subarray(whole.length - KEPT_BYTES);
  const emitted = whole.subarray(0, whole.length - KEPT_BYTES);
  parser._countDataBytes(emitted.length);
  const stream = parser._dataStream;
  if (!stream || !stream.writable) {
    done();
    return true;
  }
  if (stream.write(emitted) || stream.destroyed) {
    done();
    return true;
  }
  // Backpressure as smtp-server does it: read on once the data stream drains (or is closed by
  // the application, after which it never drains).
  const resume = () => {
    stream.off("drain", resume);
    stream.off("close", resume);
    done();
  };
  stream.once("drain", resume);
  stream.once("close", resume);
  return true;
}
