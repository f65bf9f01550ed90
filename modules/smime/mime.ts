/**
 * The little MIME (RFC 2045/2046) that S/MIME needs. It never rewrites bytes: a signed part is
 * returned exactly as received, because the signature covers those bytes (RFC 8551 §3.1.1,
 * RFC 1847 §2.1) and a parser that normalises line endings breaks verification.
 */
import {
  BASE64_LINE_BYTES,
  base64LinesLength,
  decodeBase64Lines,
  indexOfBytes,
  writeBase64Lines,
} from "../core/mod.ts";
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
  const dash = new TextEncoder().encode("--" + boundary);
  const starts: { at: number; close: boolean; next: number }[] = [];
  let from = 0;
  for (;;) {
    const at = indexOfBytes(body, dash, from);
    if (at === -1) break;
    from = at + dash.length;
    if (at !== 0 && body[at - 1] !== 0x0a) continue; // must begin a line
    const close = body[from] === 0x2d && body[from + 1] === 0x2d;
    // Rest of the delimiter line (transport padding) up to and including its line break.
    let next = body.indexOf(0x0a, from);
    next = next === -1 ? body.length : next + 1;
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

/**
 * Decodes a base64 body (RFC 2045 §6.8), skipping line breaks and blanks. Any other character
 * outside the alphabet is an error rather than silently dropped, so corruption is noticed here.
 */
export function decodeBase64(text: Uint8Array): Uint8Array {
  try {
    return decodeBase64Lines(text);
  } catch (error) {
    throw new SmimeFormatError("invalid character in base64 body", { cause: error });
  }
}

/** 57 bytes make one 76-character line; a slab is many lines, encoded by the runtime at once. */
const slabSize = BASE64_LINE_BYTES * 16384;

/**
 * Base64 with CRLF after every 76 characters (RFC 2045 §6.8), written straight from the segments
 * of an encoding so a large DER structure is never joined first. `prefix` (the header section) is
 * written in front, into the same buffer.
 */
export function encodeBase64Lines(e: Encoded, prefix: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(prefix.length + base64LinesLength(e.length));
  out.set(prefix);
  let pos = prefix.length;
  for (const slab of base64Slabs(e)) pos = writeBase64Lines(slab, out, pos);
  return out.subarray(0, pos);
}

/**
 * The same lines as a stream of about 1.2 MB chunks, so a sealed message goes into the spool or
 * onto the wire without its whole base64 text ever being held.
 */
export function base64LinesStream(
  e: Encoded,
  prefix: Uint8Array = new Uint8Array(0),
): ReadableStream<Uint8Array> {
  const slabs = base64Slabs(e);
  let first = prefix.length > 0;
  return new ReadableStream({
    pull(controller) {
      if (first) {
        first = false;
        controller.enqueue(prefix);
        return;
      }
      const { done, value } = slabs.next();
      if (done) {
        controller.close();
        return;
      }
      const out = new Uint8Array(base64LinesLength(value.length));
      controller.enqueue(out.subarray(0, writeBase64Lines(value, out, 0)));
    },
  }, { highWaterMark: 0 });
}

/** The bytes of an encoding in slabs of whole lines (views where a chunk holds one, else copies). */
function* base64Slabs(e: Encoded): Generator<Uint8Array> {
  const slab = new Uint8Array(slabSize);
  let filled = 0;
  for (const chunk of e.chunks) {
    let offset = 0;
    while (offset < chunk.length) {
      if (filled === 0 && chunk.length - offset >= slabSize) {
        yield chunk.subarray(offset, offset + slabSize);
        offset += slabSize;
        continue;
      }
      const take = Math.min(slabSize - filled, chunk.length - offset);
      slab.set(chunk.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      if (filled === slabSize) {
        yield slab;
        filled = 0;
      }
    }
  }
  if (filled > 0) yield slab.subarray(0, filled);
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
