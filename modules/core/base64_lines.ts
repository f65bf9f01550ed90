/**
 * Base64 in CRLF-terminated 76-character lines (RFC 2045 §6.8), written by the runtime's encoder
 * a slab at a time: about ten times a per-line loop in JavaScript.
 */

/** 57 bytes make one 76-character line. */
export const BASE64_LINE_BYTES = 57;

const encoder = new TextEncoder();

/** Length of `n` bytes as base64 in CRLF lines. */
export function base64LinesLength(n: number): number {
  const chars = Math.ceil(n / 3) * 4;
  return chars + Math.ceil(chars / 76) * 2;
}

/**
 * Writes `bytes` as base64 lines into `out` at `pos`; returns the position after them. Only the
 * last call for a body may pass a length that is not a multiple of 57. The text is written in one
 * piece and the lines are then moved apart from the last to the first, two bytes further each for
 * its CRLF: 2.7 times faster than copying line by line (14 against 39 ms for 20 MB here).
 */
export function writeBase64Lines(bytes: Uint8Array, out: Uint8Array, pos: number): number {
  for (let at = 0; at < bytes.length; at += STRING_SLAB) {
    pos = writeSlab(bytes.subarray(at, at + STRING_SLAB), out, pos);
  }
  return pos;
}

/**
 * Bytes encoded per runtime call: 57 KiB in, 78 KiB of text. V8 allocates a string this size in
 * its young generation, where it is freed by the next scavenge; a larger one goes to the large
 * object space, which only a full collection frees, and V8 grew its heap by 100+ MB on the relay
 * before collecting them.
 */
const STRING_SLAB = BASE64_LINE_BYTES * 1024;

function writeSlab(bytes: Uint8Array, out: Uint8Array, pos: number): number {
  const region = out.subarray(pos);
  const { written } = encoder.encodeInto(bytes.toBase64(), region);
  const lines = Math.ceil(written / 76);
  for (let k = lines - 1; k >= 0; k--) {
    const start = k * 76;
    const end = Math.min(start + 76, written);
    region.copyWithin(k * 78, start, end);
    const at = k * 78 + (end - start);
    region[at] = 0x0d;
    region[at + 1] = 0x0a;
  }
  return pos + written + lines * 2;
}

/** `bytes` as base64 lines in a new buffer. */
export function base64LinesOf(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(base64LinesLength(bytes.length));
  return out.subarray(0, writeBase64Lines(bytes, out, 0));
}

/** Base64 text is ASCII; any other byte decodes to a character the base64 decoder refuses. */
const asciiText = new TextDecoder("utf-8", { ignoreBOM: true });
/** Text decoded per runtime call: small enough for V8's young generation (see STRING_SLAB). */
const DECODE_SLAB = 64 * 1024;

/**
 * Decodes a base64 body with line breaks (RFC 2045 §6.8; ASCII whitespace is skipped) a slab at a
 * time, so a 37 MB body never becomes one 37 MB string (node:buffer's latin1 conversion of whole
 * bodies was a tenth of a relay gateway's CPU). Throws SyntaxError on any other character.
 */
export function decodeBase64Lines(text: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.floor((text.length * 3) / 4) + 3);
  let written = 0;
  let carry = "";
  for (let at = 0; at < text.length; at += DECODE_SLAB) {
    const last = at + DECODE_SLAB >= text.length;
    const chunk = carry + asciiText.decode(text.subarray(at, at + DECODE_SLAB));
    // Partial final groups wait for the next slab; only the very end may be partial.
    const result = out.subarray(written).setFromBase64(
      chunk,
      last ? {} : { lastChunkHandling: "stop-before-partial" },
    );
    written += result.written;
    carry = last ? "" : chunk.slice(result.read);
  }
  return out.subarray(0, written);
}
