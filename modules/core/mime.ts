/**
 * The few MIME (RFC 5322, RFC 2045/2046) readers that S/MIME and the relay share. They never
 * rewrite bytes: a body or body part is returned exactly as received (a view, not a copy), because
 * a signature covers those bytes (RFC 8551 §3.1.1) and normalising line endings would break it.
 * Bare-LF line breaks are accepted, as openssl writes them. Failures are MimeFormatError; each
 * module turns it into its own error.
 * @module
 */
import { indexOfBytes } from "./bytes.ts";
import { BeeldpoortError } from "./errors.ts";

/** The bytes are not the MIME structure they claim to be. */
export class MimeFormatError extends BeeldpoortError {
  readonly code = "MIME_FORMAT";
}

/** A parsed entity: header fields (names lowercased, values unfolded, first wins) and the body. */
export interface MimeEntity {
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Uint8Array;
}

/** A media type with lowercased type/subtype and parameter names (RFC 2045 §5.1). */
export interface MediaType {
  readonly type: string;
  readonly params: Readonly<Record<string, string>>;
}

const defaultMaxHeaderBytes = 256 * 1024;

/**
 * Splits an entity into its header fields and body (RFC 5322 §2.1: header, empty line, body).
 * Continuation lines are unfolded (§2.2.3); white space before the colon is allowed, as the
 * obsolete syntax of §4.5.3 does.
 */
export function parseEntity(bytes: Uint8Array, maxHeaderBytes = defaultMaxHeaderBytes): MimeEntity {
  const headers = new Map<string, string>();
  let p = 0;
  let current: string | null = null;
  for (;;) {
    if (p >= bytes.length) return { headers: finish(headers, current), body: bytes.subarray(p) };
    if (p > maxHeaderBytes) throw new MimeFormatError("MIME header section too large");
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
        throw new MimeFormatError("MIME header starts with a continuation line");
      }
      current += " " + line.trim();
      continue;
    }
    finish(headers, current);
    if (!/^[!-9;-~]+[ \t]*:/.test(line)) {
      throw new MimeFormatError("a MIME header line without a field name");
    }
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

/** Header bytes as a string, one character per byte. */
function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return s;
}

/** Parses a Content-Type (or Content-Disposition) value; absent means text/plain (§5.2). */
export function parseMediaType(value: string | undefined): MediaType {
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
 * before the line break that precedes the next delimiter (RFC 2046 §5.1.1: that line break belongs
 * to the delimiter). Preamble and epilogue are dropped.
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
    throw new MimeFormatError("multipart body without its closing delimiter");
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
