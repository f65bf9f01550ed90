/**
 * The small part of MIME (RFC 5322, RFC 2045/2046) the relay needs around S/MIME: read header
 * fields, split a multipart body (both core's), decode a base64 body, and build CRLF entities.
 */
import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import {
  decodeBase64Lines,
  type MediaType,
  type MimeEntity,
  MimeFormatError,
  parseEntity,
  parseMediaType,
  splitMultipart,
} from "../core/mod.ts";
import { RelayMalformed } from "./errors.ts";

/** A parsed entity: header fields by lowercased name (unfolded, first occurrence) and the body. */
export type MimePart = MimeEntity;

export type { MediaType };

/** core's MIME readers, failing with RelayMalformed. */
function asRelay<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof MimeFormatError) throw new RelayMalformed(error.message, { cause: error });
    throw error;
  }
}

/** Splits `bytes` into header fields and body. Continuation lines are unfolded (RFC 5322 §2.2.3). */
export function parsePart(bytes: Uint8Array, maxHeaderBytes?: number): MimePart {
  return asRelay(() => parseEntity(bytes, maxHeaderBytes));
}

/** Parses a Content-Type; absent means text/plain (RFC 2045 §5.2). */
export const mediaType = parseMediaType;

/**
 * The body parts of a multipart body, unchanged (RFC 2046 §5.1.1): a delimiter starts a line, and
 * the line break before it belongs to the delimiter. Preamble and epilogue are dropped.
 */
export function splitParts(body: Uint8Array, boundary: string): Uint8Array[] {
  return asRelay(() => splitMultipart(body, boundary));
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
