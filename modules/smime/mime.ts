/**
 * The little MIME (RFC 2045/2046) that S/MIME needs. It never rewrites bytes: a signed part is
 * returned exactly as received, because the signature covers those bytes (RFC 8551 §3.1.1,
 * RFC 1847 §2.1) and a parser that normalises line endings breaks verification.
 */
import {
  BASE64_LINE_BYTES,
  base64LinesLength,
  decodeBase64Lines,
  type MediaType,
  type MimeEntity,
  MimeFormatError,
  parseEntity as coreParseEntity,
  parseMediaType,
  splitMultipart as coreSplitMultipart,
  writeBase64Lines,
} from "../core/mod.ts";
import type { Encoded } from "./ber.ts";
import { SmimeFormatError } from "./errors.ts";

/** A parsed entity: header fields (names lowercased, values unfolded) and where the body starts. */
export type Entity = MimeEntity;

/** A media type with lowercased type/subtype and parameter names (RFC 2045 §5.1). */
export type ContentType = MediaType;

/** core's MIME readers, failing with SmimeFormatError. */
function asSmime<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof MimeFormatError) {
      throw new SmimeFormatError(error.message, { cause: error });
    }
    throw error;
  }
}

/** Splits an entity into its header fields and body (RFC 5322 §2.1). */
export function parseEntity(bytes: Uint8Array): Entity {
  return asSmime(() => coreParseEntity(bytes));
}

/** Parses a Content-Type value; absent means text/plain (RFC 2045 §5.2). */
export const parseContentType = parseMediaType;

/** The body parts of a multipart body, each exactly as sent (RFC 2046 §5.1.1). */
export function splitMultipart(body: Uint8Array, boundary: string): Uint8Array[] {
  return asSmime(() => coreSplitMultipart(body, boundary));
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
