/**
 * A fast path for smtp-server's DATA parser. smtp-server looks for escape dots and the final
 * `CRLF.CRLF` by testing every byte of the message in JavaScript: on the receiving gateway that
 * was the largest single cost of taking a message in (1.4 s of main-thread time per 1000 relayed
 * instances, about 500 MB of base64). Our messages are S/MIME base64, whose lines never start with
 * a dot, so nearly every chunk has nothing to unescape. For such a chunk this asks the native
 * `indexOf` whether a line-start dot occurs anywhere and, when none does, passes the chunk on the
 * way smtp-server would (everything but the last four bytes, which are kept to find a terminator
 * that straddles chunks). A chunk with a line-start dot anywhere, the start of a message, and every
 * other case go to smtp-server's own code unchanged.
 *
 * It replaces a method of smtp-server's parser (`SMTPStream#_feedDataStream`, smtp-server 3.21.6,
 * pinned in import_map.json); tests/unit/mail_data_scan_test.ts runs the parser on messages split
 * at every position, with and without dots, and fails if an upgrade changes what it relies on.
 * @module
 */
import { SMTPStream } from "smtp-server/lib/smtp-stream.js";

type Done = (error?: Error | null) => void;

/** A dot at the start of a line: the only thing the DATA scan acts on. */
const LINE_START_DOT = Buffer.from("\n.");
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
 * Passes `chunk` on when it (with the bytes kept from the one before) holds no line-start dot;
 * false, having done nothing, otherwise. smtp-server's scan only ever stops at a `\n.`, so without
 * one its result is exactly this.
 */
function passThrough(parser: SMTPStream, chunk: Buffer, done: Done): boolean {
  const kept = parser._lastBytes || null;
  // At the message's start a leading "." may be the terminator: smtp-server decides that.
  if (parser._atDataStart || chunk.length < 2 * KEPT_BYTES) return false;
  if (chunk.indexOf(LINE_START_DOT) !== -1) return false;
  if (kept && kept.length > 0) {
    if (kept.indexOf(LINE_START_DOT) !== -1) return false;
    if (kept[kept.length - 1] === 0x0a && chunk[0] === 0x2e) return false;
  }
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
