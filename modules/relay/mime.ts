/**
 * The small part of MIME (RFC 5322, RFC 2045/2046) the relay needs around S/MIME: read header
 * fields, split a multipart body, decode a base64 body, and build CRLF entities. Bytes are handled
 * as latin1 strings so every byte maps to one character and back without change.
 */
import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import { decodeBase64Lines, indexOfBytes } from "../core/mod.ts";
import { RelayMalformed } from "./errors.ts";

/** A parsed entity: header fields by lowercased name (unfolded, first occurrence) and the body. */
export interface MimePart {
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Uint8Array;
}

/** A Content-Type value: `type/subtype` lowercased, parameter names lowercased. */
export interface MediaType {
  readonly type: string;
  readonly params: Readonly<Record<string, string>>;
}

const latin1 = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");

/** Where the header section ends: the first empty line (RFC 5322 §2.1), CRLF or bare LF. */
function headerEnd(text: string): { head: string; bodyAt: number } {
  if (text.startsWith("\r\n")) return { head: "", bodyAt: 2 };
  if (text.startsWith("\n")) return { head: "", bodyAt: 1 };
  const crlf = text.indexOf("\r\n\r\n");
  const lf = text.indexOf("\n\n");
  if (crlf !== -1 && (lf === -1 || crlf < lf)) {
    return { head: text.slice(0, crlf), bodyAt: crlf + 4 };
  }
  if (lf !== -1) return { head: text.slice(0, lf), bodyAt: lf + 2 };
  return { head: text, bodyAt: text.length };
}

/** Splits `bytes` into header fields and body. Continuation lines are unfolded (RFC 5322 §2.2.3). */
export function parsePart(bytes: Uint8Array, maxHeaderBytes = 256 * 1024): MimePart {
  const text = latin1(bytes.subarray(0, Math.min(bytes.length, maxHeaderBytes + 4)));
  const { head, bodyAt } = headerEnd(text);
  if (bodyAt >= maxHeaderBytes && bodyAt < bytes.length) {
    throw new RelayMalformed("MIME header section too large");
  }
  const headers = new Map<string, string>();
  for (const field of head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    if (field === "") continue;
    const colon = field.indexOf(":");
    if (colon <= 0) throw new RelayMalformed("a header line without a field name");
    const name = field.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, field.slice(colon + 1).trim());
  }
  return { headers, body: bytes.subarray(bodyAt) };
}

/** Parses a Content-Type; absent means text/plain (RFC 2045 §5.2). */
export function mediaType(value: string | undefined): MediaType {
  if (!value) return { type: "text/plain", params: {} };
  const [type, ...rest] = value.split(";");
  const params: Record<string, string> = {};
  for (
    const m of (";" + rest.join(";")).matchAll(/;\s*([^=\s;]+)\s*=\s*("(?:\\.|[^"\\])*"|[^;\s]*)/g)
  ) {
    const raw = m[2];
    params[m[1].toLowerCase()] = raw.startsWith('"')
      ? raw.slice(1, -1).replace(/\\(.)/g, "$1")
      : raw;
  }
  return { type: type.trim().toLowerCase(), params };
}

/**
 * The body parts of a multipart body, unchanged (RFC 2046 §5.1.1): a delimiter starts a line, and
 * the line break before it belongs to the delimiter. Preamble and epilogue are dropped.
 */
export function splitParts(body: Uint8Array, boundary: string): Uint8Array[] {
  const delimiter = new TextEncoder().encode("--" + boundary);
  const marks: { start: number; end: number; last: boolean }[] = [];
  let from = 0;
  while (true) {
    const at = indexOfBytes(body, delimiter, from);
    if (at === -1) break;
    from = at + delimiter.length;
    if (at > 0 && body[at - 1] !== 0x0a) continue;
    const last = body[from] === 0x2d && body[from + 1] === 0x2d;
    const eol = body.indexOf(0x0a, from);
    let start = at;
    if (start > 0) start -= body[start - 2] === 0x0d ? 2 : 1;
    marks.push({ start, end: eol === -1 ? body.length : eol + 1, last });
    if (last) break;
  }
  if (marks.length < 2 || !marks[marks.length - 1].last) {
    throw new RelayMalformed("multipart body without its closing delimiter");
  }
  return marks.slice(1).map((m, i) => body.subarray(marks[i].end, Math.max(m.start, marks[i].end)));
}

/** The decoded body of a part by its Content-Transfer-Encoding (RFC 2045 §6). */
export function decodedBody(part: MimePart): Uint8Array {
  const encoding = (part.headers.get("content-transfer-encoding") ?? "7bit").toLowerCase();
  if (encoding === "base64") {
    try {
      return decodeBase64Lines(part.body);
    } catch (error) {
      throw new RelayMalformed("the base64 body cannot be decoded", { cause: error });
    }
  }
  if (["7bit", "8bit", "binary"].includes(encoding)) return part.body;
  throw new RelayMalformed(`unsupported Content-Transfer-Encoding "${encoding}"`);
}

/** Base64 in 76-character CRLF lines (RFC 2045 §6.8), for small bodies held in memory. */
export function base64Crlf(bytes: Uint8Array): string {
  const b64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return lines.join("\r\n") + "\r\n";
}

/** A header section plus body as one CRLF entity; header values must be printable ASCII. */
export function buildPart(
  headers: readonly (readonly [string, string])[],
  body: Uint8Array | string,
): Uint8Array {
  let head = "";
  for (const [name, value] of headers) {
    if (/[^\t\x20-\x7e]/.test(value)) {
      throw new RelayMalformed(`header ${name} is not printable ASCII`);
    }
    head += `${name}: ${value}\r\n`;
  }
  const bodyBytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  const headBytes = new TextEncoder().encode(head + "\r\n");
  const out = new Uint8Array(headBytes.length + bodyBytes.length);
  out.set(headBytes);
  out.set(bodyBytes, headBytes.length);
  return out;
}

/** A boundary that cannot occur in base64 or in our text (RFC 2046 §5.1.1 allows "=" and "_"). */
export function newBoundary(): string {
  return "=_bp_" + randomBytes(12).toString("hex");
}

/** The addr-spec of an address header (`Name <a@b>` or `a@b`), lowercased; "" when absent. */
export function mailAddress(value: string | undefined): string {
  if (!value) return "";
  const angle = /<([^<>]*)>/.exec(value);
  return (angle ? angle[1] : value).trim().replace(/^mailto:/i, "").toLowerCase();
}
