/** The relay's MIME helpers and RFC 8098 notifications, byte for byte. */
import assert from "node:assert/strict";
import {
  buildDispositionReport,
  buildPart,
  decodedBody,
  isDispositionReport,
  mailAddress,
  mediaType,
  parsePart,
  partSizeFor,
  readDispositionReport,
  RelayMalformed,
  splitParts,
  WIRE_GROWTH,
  WIRE_HEADROOM,
} from "../../modules/relay/mod.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

Deno.test("relay mime: header fields are unfolded, lowercased, first occurrence wins", () => {
  const part = parsePart(
    bytes("Subject: one\r\n two\r\nX-A: 1\r\nx-a: 2\r\nContent-Type: text/plain\r\n\r\nbody\r\n"),
  );
  assert.equal(part.headers.get("subject"), "one two");
  assert.equal(part.headers.get("x-a"), "1");
  assert.equal(text(part.body), "body\r\n");
  const lf = parsePart(bytes("A: b\n\nrest"));
  assert.equal(lf.headers.get("a"), "b");
  assert.equal(text(lf.body), "rest");
  assert.throws(() => parsePart(bytes("no colon here\r\n\r\n")), RelayMalformed);
});

Deno.test("relay mime: media type parameters, quoted and bare", () => {
  const type = mediaType(
    'Multipart/Report; report-type=disposition-notification;\tboundary="a\\"b; c"',
  );
  assert.equal(type.type, "multipart/report");
  assert.deepEqual(type.params, { "report-type": "disposition-notification", boundary: 'a"b; c' });
  assert.deepEqual(mediaType(undefined), { type: "text/plain", params: {} });
});

Deno.test("relay mime: multipart parts come back exactly, without the CRLF before a delimiter", () => {
  const body = bytes(
    "preamble\r\n--xx\r\nA: 1\r\n\r\nfirst\r\n\r\n--xx\r\n\r\nsecond\r\n--xx--\r\nepilogue",
  );
  const parts = splitParts(body, "xx");
  assert.deepEqual(parts.map(text), ["A: 1\r\n\r\nfirst\r\n", "\r\nsecond"]);
  assert.deepEqual(splitParts(bytes("--b\nx\n--b--\n"), "b").map(text), ["x"]);
  assert.throws(() => splitParts(bytes("--b\r\nx\r\n"), "b"), RelayMalformed);
});

Deno.test("relay mime: base64 bodies decode across line breaks; unknown encodings are refused", () => {
  const part = parsePart(bytes("Content-Transfer-Encoding: BASE64\r\n\r\nAAEC\r\nA/8=\r\n"));
  assert.deepEqual([...decodedBody(part)], [0, 1, 2, 3, 255]);
  const qp = parsePart(bytes("Content-Transfer-Encoding: x-uuencode\r\n\r\nx"));
  assert.throws(() => decodedBody(qp), RelayMalformed);
});

Deno.test("relay mime: entities are CRLF and refuse non-ASCII header values", () => {
  assert.equal(text(buildPart([["A", "1"], ["B", "2"]], "x")), "A: 1\r\nB: 2\r\n\r\nx");
  assert.throws(() => buildPart([["Subject", "Ziekenhuis Ä"]], ""), RelayMalformed);
  assert.equal(mailAddress('"Gateway A" <GW@Zkh-A.example>'), "gw@zkh-a.example");
  assert.equal(mailAddress("mailto:gw@b.example"), "gw@b.example");
  assert.equal(mailAddress(undefined), "");
});

Deno.test("relay mdn: processed, imported and refused notices read back as built", () => {
  const reporter = { address: "gw@zkh-b.example", product: "Beeldpoort 0.1" };
  const processed = parsePart(buildDispositionReport({
    originalMessageId: "<t1.1.x@zkh-a.example>",
    stage: "processed",
    transferId: "T1",
    partNumber: 2,
    partCount: 3,
  }, reporter));
  assert.equal(isDispositionReport(processed), true);
  assert.deepEqual(readDispositionReport(processed), {
    originalMessageId: "<t1.1.x@zkh-a.example>",
    stage: "processed",
    transferId: "T1",
    partNumber: 2,
    partCount: 3,
    code: undefined,
    reason: undefined,
  });
  const refused = parsePart(buildDispositionReport({
    originalMessageId: "<m@a>",
    stage: "refused",
    code: "RELAY_UNSIGNED",
    reason: "the message is not signed",
  }, reporter));
  const notice = readDispositionReport(refused);
  assert.equal(notice.stage, "refused");
  assert.equal(notice.code, "RELAY_UNSIGNED");
  assert.equal(notice.reason, "the message is not signed");
  const raw = text(
    buildDispositionReport({ originalMessageId: "<m@a>", stage: "imported" }, reporter),
  );
  assert.match(raw, /^Disposition: automatic-action\/MDN-sent-automatically; processed\r$/m);
  assert.match(raw, /^Beeldpoort-Stage: imported\r$/m);
  assert.match(raw, /^Final-Recipient: rfc822;gw@zkh-b\.example\r$/m);
});

Deno.test("relay mdn: another importer's ITI-32 style failure and success are understood", () => {
  const mdn = (disposition: string, extra = "") =>
    parsePart(bytes(
      'Content-Type: multipart/report; report-type="disposition-notification"; boundary=b\r\n\r\n' +
        "--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n" +
        "--b\r\nContent-Type: message/disposition-notification\r\n\r\n" +
        `Reporting-UA: gw.y; X\r\nOriginal-Message-ID: <1@x>\r\nDisposition: ${disposition}\r\n${extra}` +
        "--b--\r\n",
    ));
  const failed = readDispositionReport(
    mdn("automatic-action/MDN-sent-automatically; deleted/error", "Error: hash mismatch\r\n"),
  );
  assert.equal(failed.stage, "refused");
  assert.equal(failed.reason, "hash mismatch");
  assert.equal(
    readDispositionReport(mdn("automatic-action/MDN-sent-automatically; displayed")).stage,
    "imported",
  );
  assert.equal(
    readDispositionReport(mdn("automatic-action/MDN-sent-automatically; failed")).stage,
    "refused",
  );
  assert.equal(
    readDispositionReport(mdn("automatic-action/MDN-sent-automatically; processed")).stage,
    "processed",
  );
});

Deno.test("relay: part size leaves room for two base64 layers under the recipient's limit", () => {
  assert.equal(partSizeFor(20_000_000), 20_000_000);
  const limit = 10_485_760;
  const size = partSizeFor(20_000_000, limit);
  assert.equal(size, Math.floor((limit - WIRE_HEADROOM) / WIRE_GROWTH));
  assert.ok(size * WIRE_GROWTH + WIRE_HEADROOM <= limit);
  assert.equal(partSizeFor(1_000_000, 50_000_000), 1_000_000);
});
