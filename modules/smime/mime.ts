/**
 * The little MIME (RFC 2045/2046) that S/MIME needs. It never rewrites bytes: a signed part is
 * returned exactly as received, because the signature covers those bytes (RFC 8551 §3.1.1,
 * RFC 1847 §2.1) and a parser that normalises line endings breaks verification.
 */
import type { Encoded } from "./ber.ts";
import { SmimeFormatError } from "./errors.ts";

/** A parsed entity: header fields (names lowercased, values unfolded) and where the body starts. */
export interface Entity {
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Uint8Array;
}

const maxHeaderBytes = 256 * 1024;

/** Splits an entity into its header fields and body (RFC 5322 §2.1: header, empty line, body). */
export function parseEntity(bytes: Uint8Array): Entity {
  const headers = new Map<string, string>();
  let p = 0;
  let current: string | null = null;
  for (;;) {
    if (p >= bytes.length) return { headers: finish(headers, current), body: bytes.subarray(p) };
    if (p > maxHeaderBytes) throw new SmimeFormatError("MIME header section too large");
    let end = bytes.indexOf(0x0a, p);
    if (end === -1) end = bytes.length;
    let lineEnd = end;
    if (lineEnd > p && bytes[lineEnd - 1] === 0x0d) lineEnd--;
    const line = latin1(bytes.subarray(p, lineEnd));
    p = end + 1;
    if (line.length === 0) {
      return { headers: finish(headers, current), body: bytes.subarray(Math.min(p, bytes.length)) };
    }
    if (line[0] === " " || line[0] === "\t") {
      if (current === null) {
        throw new SmimeFormatError("MIME header starts with a continuation line");
      }
      current += " " + line.trim();
      continue;
    }
    finish(headers, current);
    if (!/^[!-9;-~]+:/.test(line)) throw new SmimeFormatError("not a MIME header line");
    current = line;
  }
}

function finish(headers: Map<string, string>, field: string | null): Map<string, string> {
  if (field !== null) {
    const colon = field.indexOf(":");
    const name = field.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, field.slice(colon + 1).trim());
  }
  return headers;
}

function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return s;
}

/** A media type with lowercased type/subtype and parameter names (RFC 2045 §5.1). */
export interface ContentType {
  readonly type: string;
  readonly params: Readonly<Record<string, string>>;
}

/** Parses a Content-Type value; absent means text/plain (RFC 2045 §5.2). */
export function parseContentType(value: string | undefined): ContentType {
  if (!value) return { type: "text/plain", params: {} };
  const semicolon = value.indexOf(";");
  const type = (semicolon === -1 ? value : value.slice(0, semicolon)).trim().toLowerCase();
  const params: Record<string, string> = {};
  const pattern = /;\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;]*))/g;
  for (const m of value.slice(semicolon === -1 ? value.length : semicolon).matchAll(pattern)) {
    params[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : m[3];
  }
  return { type, params };
}

/**
 * The body parts of a multipart body, each exactly as sent: from after the delimiter line to
 * before the line break that precedes the next delimiter (RFC 2046 §5.1.1; that CRLF belongs to
 * the delimiter). Bare-LF line breaks are accepted, as openssl writes them.
 */
export function splitMultipart(body: Uint8Array, boundary: string): Uint8Array[] {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const dash = Buffer.from("--" + boundary, "latin1");
  const starts: { at: number; close: boolean; next: number }[] = [];
  let from = 0;
  for (;;) {
    const at = buf.indexOf(dash, from);
    if (at === -1) break;
    from = at + dash.length;
    if (at !== 0 && buf[at - 1] !== 0x0a) continue; // must begin a line
    const close = buf[from] === 0x2d && buf[from + 1] === 0x2d;
    // Rest of the delimiter line (transport padding) up to and including its line break.
    let next = buf.indexOf(0x0a, from);
    next = next === -1 ? buf.length : next + 1;
    starts.push({ at, close, next });
    if (close) break;
  }
  if (starts.length < 2 || !starts[starts.length - 1].close) {
    throw new SmimeFormatError("multipart body has no closing delimiter");
  }
  const parts: Uint8Array[] = [];
  for (let i = 0; i + 1 < starts.length; i++) {
    let end = starts[i + 1].at;
    if (end > 0 && body[end - 1] === 0x0a) end--;
    if (end > 0 && body[end - 1] === 0x0d) end--;
    parts.push(body.subarray(starts[i].next, Math.max(end, starts[i].next)));
  }
  return parts;
}

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const decodeTable = new Int16Array(256).fill(-1);
for (let i = 0; i < alphabet.length; i++) decodeTable[alphabet.charCodeAt(i)] = i;

/**
 * Decodes a base64 body (RFC 2045 §6.8), skipping line breaks and blanks. Any other character
 * outside the alphabet is an error rather than silently dropped, so corruption is noticed here.
 */
export function decodeBase64(text: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.floor((text.length * 3) / 4) + 3);
  let acc = 0, bits = 0, n = 0, padding = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const v = decodeTable[c];
    if (v >= 0) {
      if (padding > 0) throw new SmimeFormatError("base64 data after padding");
      acc = (acc << 6) | v;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out[n++] = (acc >> bits) & 0xff;
      }
    } else if (c === 0x3d) padding++;
    else if (c !== 0x0d && c !== 0x0a && c !== 0x20 && c !== 0x09) {
      throw new SmimeFormatError("invalid character in base64 body");
    }
  }
  return out.subarray(0, n);
}

/**
 * Base64 with CRLF after every 76 characters (RFC 2045 §6.8), written straight from the segments
 * of an encoding so a large DER structure is never joined first. `prefix` (the header section) is
 * written in front, into the same buffer.
 */
export function encodeBase64Lines(e: Encoded, prefix: Uint8Array = new Uint8Array(0)): Uint8Array {
  const chars = Math.ceil(e.length / 3) * 4;
  const lines = Math.ceil(chars / 76);
  const out = new Uint8Array(prefix.length + chars + lines * 2);
  out.set(prefix);
  const slabSize = 57 * 16384; // 57 bytes make one 76-character line
  const slab = new Uint8Array(slabSize);
  let filled = 0, pos = prefix.length;
  const flush = (length: number) => {
    const text = Buffer.from(slab.buffer, 0, length).toString("base64");
    for (let i = 0; i < text.length; i += 76) {
      const line = text.slice(i, i + 76);
      for (let k = 0; k < line.length; k++) out[pos++] = line.charCodeAt(k);
      out[pos++] = 0x0d;
      out[pos++] = 0x0a;
    }
  };
  for (const chunk of e.chunks) {
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(slabSize - filled, chunk.length - offset);
      slab.set(chunk.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      if (filled === slabSize) {
        flush(filled);
        filled = 0;
      }
    }
  }
  if (filled > 0) flush(filled);
  return out.subarray(0, pos);
}

/**
 * Refuses header values that could inject further header lines, or that are not plain ASCII
 * (those need RFC 2047 encoded-words, which the caller must apply).
 */
export function headerValue(value: string): string {
  if (/[\r\n]/.test(value)) throw new SmimeFormatError("header value contains a line break");
  if (/[^\t\x20-\x7e]/.test(value)) {
    throw new SmimeFormatError("header value is not printable ASCII; encode it per RFC 2047");
  }
  return value;
}
