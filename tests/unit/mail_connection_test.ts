/**
 * The dot stuffing for canonical messages (mail/connection.ts): every dot that starts a line is
 * doubled, wherever the chunk boundaries fall, and nothing else changes.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { stuffLineStartDots } from "../../modules/mail/connection.ts";

/** Runs the transform over `chunks` the way nodemailer's DATA stream would. */
function stuffed(chunks: string[]): { out: string; inBytes: number; outBytes: number } {
  const pushed: Uint8Array[] = [];
  const state = {
    inByteCount: 0,
    outByteCount: 0,
    lastByte: false as number | false,
    push: (chunk: Uint8Array) => pushed.push(chunk),
  };
  for (const chunk of chunks) {
    // deno-lint-ignore no-explicit-any
    stuffLineStartDots.call(state as any, Buffer.from(chunk), "binary", () => {});
  }
  return {
    out: Buffer.concat(pushed).toString("latin1"),
    inBytes: state.inByteCount,
    outBytes: state.outByteCount,
  };
}

/** RFC 5321 §4.5.2 stated plainly, for comparison. */
function reference(text: string): string {
  return ("\n" + text).replaceAll("\n.", "\n..").slice(1);
}

Deno.test("dot stuffing: line-start dots doubled, others untouched, across chunk boundaries", () => {
  const text = ".first\r\nab.c\r\n..two\r\n.\r\nx\r\n.\r\n";
  // Every way of cutting the text in two, and one byte per chunk.
  for (let cut = 0; cut <= text.length; cut++) {
    const result = stuffed([text.slice(0, cut), text.slice(cut)]);
    assert.equal(result.out, reference(text), `cut at ${cut}`);
    assert.equal(result.inBytes, text.length);
    assert.equal(result.outBytes, reference(text).length);
  }
  assert.equal(stuffed([...text]).out, reference(text));
});

Deno.test("dot stuffing: a chunk without line-start dots is passed on as it is", () => {
  const pushed: Uint8Array[] = [];
  const state = {
    inByteCount: 0,
    outByteCount: 0,
    lastByte: 0x0a,
    push: (c: Uint8Array) => pushed.push(c),
  };
  const chunk = Buffer.from("QUJD.REVG\r\nR0hJ\r\n");
  // deno-lint-ignore no-explicit-any
  stuffLineStartDots.call(state as any, chunk, "binary", () => {});
  assert.equal(pushed.length, 1);
  assert.equal(pushed[0], chunk);
  assert.equal(state.lastByte, 0x0a);
});
