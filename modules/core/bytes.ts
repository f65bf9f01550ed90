/**
 * Joins byte arrays into one new array.
 *
 * @example
 * ```ts
 * concatBytes([new Uint8Array([1]), new Uint8Array([2, 3])]); // Uint8Array [1, 2, 3]
 * ```
 */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Where `needle` first occurs in `haystack` at or after `from`, or -1. Jumps between occurrences
 * of the needle's first byte with the runtime's TypedArray search, so it is fast when that byte is
 * rare (a MIME delimiter's "-" never occurs in base64); node:buffer's indexOf with a multi-byte
 * needle ran at ~100 MB/s here.
 */
export function indexOfBytes(input: Uint8Array, needle: Uint8Array, from = 0): number {
  // A plain view: a node:buffer Buffer's own indexOf is a slow JavaScript search in Deno.
  const haystack = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  if (needle.length === 0) return Math.min(from, haystack.length);
  const first = needle[0];
  const last = haystack.length - needle.length;
  for (let at = haystack.indexOf(first, from); at !== -1 && at <= last;) {
    let i = 1;
    while (i < needle.length && haystack[at + i] === needle[i]) i++;
    if (i === needle.length) return at;
    at = haystack.indexOf(first, at + 1);
  }
  return -1;
}

/**
 * The first line break in `bytes` that is not CRLF: a bare LF, or a CR not followed by LF.
 * `before` is the byte preceding `bytes` (-1 at the start), so a stream can be checked chunk by
 * chunk; a CR that ends `bytes` is left for the next chunk to settle (a CR that ended the previous
 * chunk and is not followed by LF here is reported at -1). Returns the offset of the offending
 * byte and which it is, or null.
 *
 * Mail and S/MIME content has a line break every 78 bytes, so a search per line break (indexOf)
 * pays a builtin call per line: 14 ms per 13.7 MB. This tests four bytes at a time for CR or LF
 * (the "has a zero byte" trick on the word XOR each) and looks closer only at words that hold
 * one: 7 ms.
 */
export function bareLineBreak(
  input: Uint8Array,
  before = -1,
): { at: number; kind: "LF" | "CR" } | null {
  const bytes = input;
  const n = bytes.length;
  if (before === 0x0d && n > 0 && bytes[0] !== 0x0a) return { at: -1, kind: "CR" };
  const check = (at: number): { at: number; kind: "LF" | "CR" } | null => {
    const b = bytes[at];
    if (b === 0x0a) {
      if ((at === 0 ? before : bytes[at - 1]) !== 0x0d) return { at, kind: "LF" };
    } else if (b === 0x0d && at + 1 < n && bytes[at + 1] !== 0x0a) {
      return { at, kind: "CR" };
    }
    return null;
  };
  // Bytes before the first 4-byte boundary, then whole words, then the tail.
  const misalignment = (4 - (bytes.byteOffset & 3)) & 3;
  const head = Math.min(n, misalignment);
  for (let at = 0; at < head; at++) {
    const found = check(at);
    if (found) return found;
  }
  const words = head < misalignment
    ? new Uint32Array(0) // shorter than the way to the first boundary: all done above
    : new Uint32Array(bytes.buffer, bytes.byteOffset + head, (n - head) >>> 2);
  for (let w = 0; w < words.length; w++) {
    const lf = words[w] ^ 0x0a0a0a0a;
    const cr = words[w] ^ 0x0d0d0d0d;
    if (((lf - 0x01010101) & ~lf | (cr - 0x01010101) & ~cr) & 0x80808080) {
      const base = head + w * 4;
      for (let at = base; at < base + 4; at++) {
        const found = check(at);
        if (found) return found;
      }
    }
  }
  for (let at = head + words.length * 4; at < n; at++) {
    const found = check(at);
    if (found) return found;
  }
  return null;
}

/**
 * Frees the memory behind `bytes` now instead of at some later garbage collection, by detaching
 * its ArrayBuffer (V8 lets tens of megabytes of dead buffers pile up between collections, and a
 * relay part makes several). Only for a buffer the caller allocated and no one else still uses:
 * every view of the whole buffer reads as empty afterwards.
 */
export function releaseBytes(bytes: Uint8Array): void {
  if (bytes.buffer instanceof ArrayBuffer && !bytes.buffer.detached) bytes.buffer.transfer(0);
}

/** `bytes` as consecutive views of at most `size` bytes (no copies), e.g. to stream a buffer. */
export function* piecesOf(bytes: Uint8Array, size: number): Generator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}
