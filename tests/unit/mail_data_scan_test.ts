/**
 * The DATA fast path (modules/mail/data_scan.ts) on smtp-server's own parser: messages with and
 * without escape dots, split at every position and at random, come out unescaped and end at the
 * terminator exactly as written; a dot-free message goes past smtp-server's byte loop.
 */
import assert from "node:assert/strict";
import { SMTPStream } from "smtp-server/lib/smtp-stream.js";
import { installFastDataScan } from "../../modules/mail/data_scan.ts";

// Count what still reaches smtp-server's own scan: installed beneath the fast path.
let slowCalls = 0;
const smtpServerScan = SMTPStream.prototype._feedDataStream;
SMTPStream.prototype._feedDataStream = function (chunk, done) {
  slowCalls++;
  smtpServerScan.call(this, chunk, done);
};
installFastDataScan();

/** Dot-stuffs `body` (RFC 5321 §4.5.2) and ends it; `after` follows on the wire. */
function onTheWire(body: string, after = "QUIT\r\n"): string {
  return body.replace(/^\./gm, "..") + ".\r\n" + after;
}

/** Runs `chunks` through a parser in DATA mode: the data it emits and the commands after it. */
async function parse(chunks: Uint8Array[]): Promise<{ data: string; commands: string[] }> {
  const parser = new SMTPStream();
  const commands: string[] = [];
  parser.oncommand = (line, next) => {
    commands.push(line.toString("binary"));
    next?.();
  };
  const stream = parser.startDataMode();
  const received: Buffer[] = [];
  const reading = (async () => {
    for await (const chunk of stream) received.push(chunk as Buffer);
    parser.continue();
  })();
  for (const chunk of chunks) {
    await new Promise<void>((resolve, reject) =>
      parser.write(chunk, (error) => error ? reject(error) : resolve())
    );
  }
  await reading;
  return { data: Buffer.concat(received).toString("binary"), commands };
}

const bytes = (text: string) => Buffer.from(text, "binary");

function splitAt(text: string, ...at: number[]): Uint8Array[] {
  const cuts = [0, ...at, text.length];
  return cuts.slice(1).map((end, i) => bytes(text.slice(cuts[i], end)));
}

/** A deterministic generator, so a failure reproduces. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const base64Lines = (count: number) =>
  Array.from({ length: count }, (_, i) => `TWFu${String(i).padStart(6, "0")}aXMgZGlz\r\n`).join("");

const dotted = "first line\r\n.leading dot\r\n..two dots\r\nmiddle\r\n.\r\n" +
  "x.\r\n.\r\nlast\r\n";

Deno.test("data scan: dotted and plain messages split into two at every position", async () => {
  for (const body of [dotted, base64Lines(4), ".starts with a dot\r\n" + base64Lines(2)]) {
    const wire = onTheWire(body);
    for (let at = 1; at < wire.length; at++) {
      const result = await parse(splitAt(wire, at));
      assert.equal(result.data, body, `split at ${at}`);
      assert.deepEqual(result.commands, ["QUIT"], `split at ${at}`);
    }
  }
});

Deno.test("data scan: three-way splits around every dot of a dotted message", async () => {
  const wire = onTheWire(dotted);
  for (let a = 1; a < wire.length - 1; a++) {
    for (let b = a + 1; b < wire.length; b++) {
      const result = await parse(splitAt(wire, a, b));
      assert.equal(result.data, dotted, `split at ${a}, ${b}`);
      assert.deepEqual(result.commands, ["QUIT"]);
    }
  }
});

Deno.test("data scan: an empty message and a first line that is a single dot", async () => {
  for (const [body, at] of [["", 1], ["", 2], [".\r\n", 1], [".\r\n", 2], [".\r\n", 3]] as const) {
    const wire = onTheWire(body);
    const result = await parse(splitAt(wire, at));
    assert.equal(result.data, body);
    assert.deepEqual(result.commands, ["QUIT"]);
  }
});

Deno.test("data scan: random messages in random chunks come out as written", async () => {
  const next = random(7513);
  const pieces = ["TWFuIGlz", ".", "..", "\r\n", "\r\n.", "\r\n.\r", "x", "\n"];
  for (let round = 0; round < 300; round++) {
    let body = "";
    const length = 1 + Math.floor(next() * 80);
    for (let i = 0; i < length; i++) body += pieces[Math.floor(next() * pieces.length)];
    // A message is lines: no bare CR before the end, and it ends with CRLF.
    body = body.replace(/\r(?!\n)/g, "").replace(/\r?\n/g, "\r\n").replace(/(\r\n)?$/, "\r\n");
    const wire = onTheWire(body);
    const cuts = new Set<number>();
    const count = Math.floor(next() * 6);
    for (let i = 0; i < count; i++) cuts.add(1 + Math.floor(next() * (wire.length - 1)));
    const result = await parse(splitAt(wire, ...[...cuts].sort((x, y) => x - y)));
    assert.equal(result.data, body, `round ${round}`);
    assert.deepEqual(result.commands, ["QUIT"], `round ${round}`);
  }
});

Deno.test("data scan: a 4 MB dot-free message is passed on without smtp-server's byte loop", async () => {
  const body = base64Lines(200_000);
  const wire = bytes(onTheWire(body));
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < wire.length; at += 65_536) chunks.push(wire.subarray(at, at + 65_536));
  slowCalls = 0;
  const result = await parse(chunks);
  assert.equal(result.data.length, body.length);
  assert.equal(result.data, body);
  assert.deepEqual(result.commands, ["QUIT"]);
  // The first chunk (start of the message) and the one with the terminator.
  assert.equal(slowCalls, 2, `${chunks.length} chunks`);
});

Deno.test("data scan: pipelined commands after the terminator in the same chunk", async () => {
  const body = base64Lines(3);
  const result = await parse([
    bytes(body.slice(0, 20)),
    bytes(body.slice(20) + ".\r\nRSET\r\nQUIT\r\n"),
  ]);
  assert.equal(result.data, body);
  assert.deepEqual(result.commands, ["RSET", "QUIT"]);
});
