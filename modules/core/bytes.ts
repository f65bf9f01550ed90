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
 * chunk; a CR that ends `bytes` is left for the next chunk to settle. Returns the offset of the
 * offending byte and which it is, or null.
 */
export function bareLineBreak(
  input: Uint8Array,
  before = -1,
): { at: number; kind: "LF" | "CR" } | null {
  // A plain view: a node:buffer Buffer's own indexOf is a slow JavaScript search in Deno.
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  for (let at = bytes.indexOf(0x0a); at !== -1; at = bytes.indexOf(0x0a, at + 1)) {
    if ((at === 0 ? before : bytes[at - 1]) !== 0x0d) return { at, kind: "LF" };
  }
  if (before === 0x0d && bytes.length > 0 && bytes[0] !== 0x0a) return { at: -1, kind: "CR" };
  for (let at = bytes.indexOf(0x0d); at !== -1; at = bytes.indexOf(0x0d, at + 1)) {
    if (at + 1 < bytes.length && bytes[at + 1] !== 0x0a) return { at, kind: "CR" };
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
