/**
 * The parsing seams that decide interop without any crypto: BER as openssl streams it, multipart
 * bodies split on the exact bytes, strict base64.
 */
import assert from "node:assert/strict";
import { children, octets, readTlv } from "../../modules/smime/ber.ts";
import {
  decodeBase64,
  encodeBase64Lines,
  parseContentType,
  parseEntity,
  splitMultipart,
} from "../../modules/smime/mime.ts";
import { SmimeFormatError } from "../../modules/smime/mod.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("smime ber: indefinite-length constructed OCTET STRING is joined in order", () => {
  // SEQUENCE (indefinite) { OCTET STRING (constructed, indefinite) { "abc", "de" }, INTEGER 5 }
  const ber = Uint8Array.of(
    0x30,
    0x80,
    0x24,
    0x80,
    0x04,
    0x03,
    0x61,
    0x62,
    0x63,
    0x04,
    0x02,
    0x64,
    0x65,
    0x00,
    0x00,
    0x02,
    0x01,
    0x05,
    0x00,
    0x00,
  );
  const seq = readTlv(ber, 0);
  assert.equal(seq.end, ber.length);
  const [str, int] = children(ber, seq);
  assert.deepStrictEqual(octets(ber, str), bytes("abcde"));
  assert.equal(int.tag, 2);
});

Deno.test("smime ber: a length running past its container is a format error", () => {
  assert.throws(() => readTlv(Uint8Array.of(0x30, 0x05, 0x02, 0x01), 0), SmimeFormatError);
  assert.throws(() => readTlv(Uint8Array.of(0x30, 0x80, 0x02, 0x01, 0x05), 0), SmimeFormatError);
});

Deno.test("smime mime: multipart parts keep their exact bytes, CRLF and bare LF", () => {
  const part1 = "Content-Type: text/plain\r\n\r\nline one\r\nline two\r\n";
  const crlf = bytes(`--b1\r\n${part1}\r\n--b1\r\nContent-Type: x/y\r\n\r\nsig\r\n--b1--\r\n`);
  const [a, b] = splitMultipart(crlf, "b1");
  assert.equal(new TextDecoder().decode(a), part1);
  assert.equal(new TextDecoder().decode(b), "Content-Type: x/y\r\n\r\nsig");
  // openssl writes its delimiters with bare LF around a CRLF-canonical part.
  const mixed = bytes(`preamble\n--b1\n${part1}\n--b1\nContent-Type: x/y\n\nsig\n--b1--\n`);
  assert.equal(new TextDecoder().decode(splitMultipart(mixed, "b1")[0]), part1);
  // A boundary string inside a line is not a delimiter.
  const inner = bytes(`--b1\r\nx --b1 y\r\n--b1--\r\n`);
  assert.equal(new TextDecoder().decode(splitMultipart(inner, "b1")[0]), "x --b1 y");
  assert.throws(() => splitMultipart(bytes("--b1\r\nno end\r\n"), "b1"), SmimeFormatError);
});

Deno.test("smime mime: headers unfold and parameters parse", () => {
  const e = parseEntity(
    bytes(
      'Content-Type: multipart/signed;\r\n protocol="application/pkcs7-signature";\r\n\tmicalg=sha-256; boundary="a b"\r\n\r\nBODY',
    ),
  );
  const ct = parseContentType(e.headers.get("content-type"));
  assert.equal(ct.type, "multipart/signed");
  assert.deepStrictEqual({ ...ct.params }, {
    protocol: "application/pkcs7-signature",
    micalg: "sha-256",
    boundary: "a b",
  });
  assert.equal(new TextDecoder().decode(e.body), "BODY");
});

Deno.test("smime mime: base64 with 76-character CRLF lines round-trips; junk is refused", () => {
  const data = new Uint8Array(1000).map((_, i) => (i * 37) & 0xff);
  const encoded = encodeBase64Lines({
    chunks: [data.subarray(0, 10), data.subarray(10)],
    length: data.length,
  });
  const lines = new TextDecoder().decode(encoded).split("\r\n");
  assert.equal(lines[0].length, 76);
  assert.equal(lines.at(-1), "");
  assert.deepStrictEqual(decodeBase64(encoded), data);
  assert.throws(() => decodeBase64(bytes("QUJD*RA==")), SmimeFormatError);
});
