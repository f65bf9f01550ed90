/**
 * A small BER reader and DER writer that work on offsets into the caller's buffer, so a 20 MB
 * encrypted content is never copied just to look at its structure. asn1js is used only for the
 * small pieces (certificates, attributes) where a full object model helps.
 */
import { concatBytes } from "../core/mod.ts";
import { SmimeFormatError } from "./errors.ts";

/** Tag classes as in X.690 §8.1.2.2. */
export const UNIVERSAL = 0;
export const CONTEXT = 2;

/** One BER element: identifier, where its contents lie, and where it ends. */
export interface Tlv {
  readonly tagClass: number;
  readonly constructed: boolean;
  readonly tag: number;
  readonly start: number;
  readonly contentStart: number;
  /** End of the contents octets; for indefinite length, the offset of the end-of-contents. */
  readonly contentEnd: number;
  /** Offset just past the element (after the end-of-contents octets when indefinite). */
  readonly end: number;
}

const maxDepth = 64;

/** Reads the element starting at `offset`, bounded by `limit`. Throws SmimeFormatError when malformed. */
export function readTlv(buf: Uint8Array, offset: number, limit = buf.length, depth = 0): Tlv {
  if (depth > maxDepth) throw new SmimeFormatError("ASN.1 nesting too deep");
  let p = offset;
  if (p >= limit) throw new SmimeFormatError("ASN.1 element truncated");
  const first = buf[p++];
  const tagClass = first >> 6;
  const constructed = (first & 0x20) !== 0;
  let tag = first & 0x1f;
  if (tag === 0x1f) {
    // X.690 §8.1.2.4: high tag numbers, base 128.
    tag = 0;
    for (let i = 0;; i++) {
      if (p >= limit || i > 4) throw new SmimeFormatError("ASN.1 tag truncated or too large");
      const b = buf[p++];
      tag = tag * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
  }
  if (p >= limit) throw new SmimeFormatError("ASN.1 length truncated");
  const lengthByte = buf[p++];
  if (lengthByte === 0x80) {
    // X.690 §8.1.3.6: indefinite length, only for constructed encodings; ends with 00 00.
    if (!constructed) throw new SmimeFormatError("indefinite length on a primitive ASN.1 element");
    const contentStart = p;
    let q = p;
    for (;;) {
      if (q + 2 > limit) throw new SmimeFormatError("ASN.1 end-of-contents missing");
      if (buf[q] === 0 && buf[q + 1] === 0) {
        return {
          tagClass,
          constructed,
          tag,
          start: offset,
          contentStart,
          contentEnd: q,
          end: q + 2,
        };
      }
      q = readTlv(buf, q, limit, depth + 1).end;
    }
  }
  let length = lengthByte;
  if (lengthByte & 0x80) {
    const n = lengthByte & 0x7f;
    if (n > 6) throw new SmimeFormatError("ASN.1 length too large");
    length = 0;
    for (let i = 0; i < n; i++) {
      if (p >= limit) throw new SmimeFormatError("ASN.1 length truncated");
      length = length * 256 + buf[p++];
    }
  }
  if (p + length > limit) throw new SmimeFormatError("ASN.1 element runs past its container");
  return {
    tagClass,
    constructed,
    tag,
    start: offset,
    contentStart: p,
    contentEnd: p + length,
    end: p + length,
  };
}

/** The direct children of a constructed element. */
export function children(buf: Uint8Array, parent: Tlv, depth = 0): Tlv[] {
  if (!parent.constructed) throw new SmimeFormatError("expected a constructed ASN.1 element");
  const out: Tlv[] = [];
  let p = parent.contentStart;
  while (p < parent.contentEnd) {
    const child = readTlv(buf, p, parent.contentEnd, depth + 1);
    out.push(child);
    p = child.end;
  }
  return out;
}

/** Whether `t` has the given class and tag number. */
export function is(t: Tlv | undefined, tagClass: number, tag: number): t is Tlv {
  return t !== undefined && t.tagClass === tagClass && t.tag === tag;
}

/** Throws SmimeFormatError unless `t` has the given class and tag. */
export function expect(t: Tlv | undefined, tagClass: number, tag: number, what: string): Tlv {
  if (!is(t, tagClass, tag)) throw new SmimeFormatError(`${what}: unexpected ASN.1 structure`);
  return t;
}

/** The exact encoded bytes of an element (a view, not a copy). */
export function raw(buf: Uint8Array, t: Tlv): Uint8Array {
  return buf.subarray(t.start, t.end);
}

/** The contents octets of a primitive element (a view). */
export function content(buf: Uint8Array, t: Tlv): Uint8Array {
  if (t.constructed) throw new SmimeFormatError("expected a primitive ASN.1 element");
  return buf.subarray(t.contentStart, t.contentEnd);
}

/**
 * The value of an OCTET STRING, joining the segments of a constructed one (X.690 §8.7.3), which
 * openssl emits when it streams (`-stream`, indefinite-length BER). A primitive one is a view.
 */
export function octets(buf: Uint8Array, t: Tlv): Uint8Array {
  if (!t.constructed) return content(buf, t);
  const segments: Uint8Array[] = [];
  const collect = (node: Tlv, depth: number) => {
    for (const child of children(buf, node, depth)) {
      if (!is(child, UNIVERSAL, 4)) {
        throw new SmimeFormatError("constructed OCTET STRING holds a non-OCTET STRING");
      }
      if (child.constructed) collect(child, depth + 1);
      else segments.push(content(buf, child));
    }
  };
  collect(t, 0);
  return concatBytes(segments);
}

/** Decodes an OBJECT IDENTIFIER element to dotted form. */
export function oid(buf: Uint8Array, t: Tlv): string {
  expect(t, UNIVERSAL, 6, "OBJECT IDENTIFIER");
  const bytes = content(buf, t);
  const arcs: number[] = [];
  let value = 0;
  for (const b of bytes) {
    value = value * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      if (arcs.length === 0) {
        const firstArc = value < 40 ? 0 : value < 80 ? 1 : 2;
        arcs.push(firstArc, value - firstArc * 40);
      } else arcs.push(value);
      value = 0;
    }
  }
  if (bytes.length === 0 || (bytes[bytes.length - 1] & 0x80) !== 0) {
    throw new SmimeFormatError("malformed OBJECT IDENTIFIER");
  }
  return arcs.join(".");
}

/** Decodes a small non-negative INTEGER (versions, ICV lengths). */
export function smallInteger(buf: Uint8Array, t: Tlv): number {
  expect(t, UNIVERSAL, 2, "INTEGER");
  const bytes = content(buf, t);
  if (bytes.length === 0 || bytes.length > 6 || (bytes[0] & 0x80) !== 0) {
    throw new SmimeFormatError("INTEGER out of range");
  }
  let n = 0;
  for (const b of bytes) n = n * 256 + b;
  return n;
}

/** Whether two byte arrays hold the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// ---- DER writer -------------------------------------------------------------------------------

/**
 * An encoding kept as a list of segments, so a large content is placed into the output without
 * being copied into intermediate buffers first.
 */
export interface Encoded {
  readonly chunks: readonly Uint8Array[];
  readonly length: number;
}

/** Wraps bytes that are already encoded. */
export function encoded(bytes: Uint8Array): Encoded {
  return { chunks: [bytes], length: bytes.length };
}

/** DER length octets (X.690 §10.1: definite form, minimum octets). */
export function lengthOctets(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

/** An element with identifier octet `tagByte` around the given encoded parts. */
export function tlv(tagByte: number, ...parts: (Encoded | Uint8Array)[]): Encoded {
  const items = parts.map((p) => (p instanceof Uint8Array ? encoded(p) : p));
  let length = 0;
  for (const item of items) length += item.length;
  const header = concatBytes([Uint8Array.of(tagByte), lengthOctets(length)]);
  return { chunks: [header, ...items.flatMap((i) => i.chunks)], length: header.length + length };
}

/** Flattens an encoding into one array. */
export function toBytes(e: Encoded): Uint8Array {
  return e.chunks.length === 1 ? e.chunks[0] : concatBytes(e.chunks);
}

export const sequence = (...parts: (Encoded | Uint8Array)[]) => tlv(0x30, ...parts);
export const set = (...parts: (Encoded | Uint8Array)[]) => tlv(0x31, ...parts);
export const octetString = (bytes: Uint8Array) => tlv(0x04, bytes);
export const derNull = (): Encoded => encoded(Uint8Array.of(0x05, 0x00));

/** DER INTEGER for a small non-negative number. */
export function integer(n: number): Encoded {
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  if (bytes.length === 0 || bytes[0] & 0x80) bytes.unshift(0);
  return tlv(0x02, Uint8Array.from(bytes));
}

/** DER OBJECT IDENTIFIER from dotted form (X.690 §8.19). */
export function objectIdentifier(dotted: string): Encoded {
  const arcs = dotted.split(".").map(Number);
  const out: number[] = [];
  const push = (value: number) => {
    const groups = [value % 128];
    for (let v = Math.floor(value / 128); v > 0; v = Math.floor(v / 128)) {
      groups.unshift(0x80 | (v % 128));
    }
    out.push(...groups);
  };
  push(arcs[0] * 40 + arcs[1]);
  for (const arc of arcs.slice(2)) push(arc);
  return tlv(0x06, Uint8Array.from(out));
}

/**
 * A DER SET OF: elements sorted by their encodings (X.690 §11.6). Verifiers such as OpenSSL
 * re-encode signed attributes in DER before checking the signature, so the order matters.
 */
export function setOf(items: Encoded[]): Encoded {
  const encodings = items.map(toBytes).sort(compareBytes);
  return set(...encodings);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** RFC 5652 §11.3: UTCTime for 1950..2049, GeneralizedTime otherwise, always in UTC with seconds. */
export function time(date: Date): Encoded {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, "") + "Z";
  const year = date.getUTCFullYear();
  if (year >= 1950 && year < 2050) return tlv(0x17, new TextEncoder().encode(digits.slice(2)));
  return tlv(0x18, new TextEncoder().encode(digits));
}

/** UTCTime (X.680 §47, years 1950..2049) or GeneralizedTime, in the restricted DER forms. */
export function readTime(buf: Uint8Array, t: Tlv): Date | undefined {
  const text = new TextDecoder().decode(content(buf, t));
  const m = /^(\d{2}|\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:\.\d+)?Z$/.exec(text);
  if (!m) return undefined;
  let year = Number(m[1]);
  if (m[1].length === 2) year += year < 50 ? 2000 : 1900;
  return new Date(
    Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)),
  );
}
