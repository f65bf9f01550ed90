import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  bareLineBreak,
  base64LinesLength,
  base64LinesOf,
  decodeBase64Lines,
  indexOfBytes,
  releaseBytes,
} from "../../modules/core/mod.ts";

const text = (s: string) => new TextEncoder().encode(s);

Deno.test("base64 lines: 76 characters and CRLF per line, for every length around a line", () => {
  for (const n of [0, 1, 2, 3, 56, 57, 58, 113, 114, 115, 57 * 100 + 13]) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 255);
    const lines = new TextDecoder().decode(base64LinesOf(bytes));
    const expected = (Buffer.from(bytes).toString("base64").match(/.{1,76}/g) ?? [])
      .map((l) => l + "\r\n").join("");
    assert.equal(lines, expected, `length ${n}`);
    assert.equal(base64LinesOf(bytes).length, base64LinesLength(n));
  }
});

Deno.test("base64 decoding: lines of any length across slab boundaries; junk is refused", () => {
  const bytes = Uint8Array.from({ length: 3_000_000 }, (_, i) => (i * 13) & 255);
  const b64 = Buffer.from(bytes).toString("base64");
  // Lines of 70 characters (not a multiple of 4) so groups straddle the 1 MiB slabs.
  const odd = text((b64.match(/.{1,70}/g) ?? []).join("\n") + "\n");
  assert.deepEqual(decodeBase64Lines(odd), bytes);
  assert.deepEqual(decodeBase64Lines(base64LinesOf(bytes)), bytes);
  assert.deepEqual(decodeBase64Lines(new Uint8Array(0)), new Uint8Array(0));
  assert.throws(() => decodeBase64Lines(text("QUJD\r\nRE*G\r\n")), SyntaxError);
  assert.throws(() => decodeBase64Lines(Uint8Array.of(0xef, 0xbb, 0xbf, 0x51, 0x55)), SyntaxError);
});

Deno.test("byte search: finds a needle after false starts, from an offset, in a Buffer", () => {
  const hay = text("--a--b\r\n--boundary--");
  assert.equal(indexOfBytes(hay, text("--boundary")), 8);
  assert.equal(indexOfBytes(hay, text("--"), 1), 3);
  assert.equal(indexOfBytes(hay, text("--nope")), -1);
  assert.equal(indexOfBytes(Buffer.from(hay), text("--b"), 4), 8);
});

Deno.test("line breaks: bare LF and CR found, also across a chunk boundary", () => {
  assert.equal(bareLineBreak(text("a\r\nb\r\n")), null);
  assert.deepEqual(bareLineBreak(text("a\r\nb\nc")), { at: 4, kind: "LF" });
  assert.deepEqual(bareLineBreak(text("a\rb\r\n")), { at: 1, kind: "CR" });
  assert.deepEqual(bareLineBreak(text("\nx"), 0x0d), null); // CR ended the previous chunk
  assert.deepEqual(bareLineBreak(text("\nx")), { at: 0, kind: "LF" });
  assert.deepEqual(bareLineBreak(text("x"), 0x0d), { at: -1, kind: "CR" });
  assert.equal(bareLineBreak(text("x\r")), null); // settled by the next chunk
});

Deno.test("bareLineBreak agrees with a byte-by-byte reference at every alignment", () => {
  const reference = (b: Uint8Array, before: number) => {
    if (before === 0x0d && b.length > 0 && b[0] !== 0x0a) return { at: -1, kind: "CR" };
    for (let at = 0; at < b.length; at++) {
      if (b[at] === 0x0a && (at === 0 ? before : b[at - 1]) !== 0x0d) return { at, kind: "LF" };
      if (b[at] === 0x0d && at + 1 < b.length && b[at + 1] !== 0x0a) return { at, kind: "CR" };
    }
    return null;
  };
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const alphabet = [0x41, 0x2b, 0x0d, 0x0a, 0x8d, 0x0a0 & 0xff];
  for (let round = 0; round < 3000; round++) {
    const backing = new Uint8Array(80);
    for (let i = 0; i < backing.length; i++) {
      // Mostly canonical CRLF text, with the odd stray CR or LF.
      backing[i] = random() < 0.04 ? alphabet[Math.floor(random() * alphabet.length)] : 0x41;
      if (random() < 0.05 && i + 1 < backing.length) backing.set([0x0d, 0x0a], i++);
    }
    const start = Math.floor(random() * 8);
    const view = backing.subarray(start, start + Math.floor(random() * (80 - start)));
    const before = [-1, 0x0d, 0x0a, 0x41][Math.floor(random() * 4)];
    assert.deepEqual(bareLineBreak(view, before), reference(view, before), `round ${round}`);
  }
});

Deno.test("releaseBytes frees the buffer: every view of it reads as empty", () => {
  const bytes = new Uint8Array(1024);
  const view = bytes.subarray(10, 20);
  releaseBytes(bytes);
  assert.equal(bytes.length, 0);
  assert.equal(view.length, 0);
  releaseBytes(bytes); // twice is harmless
});
