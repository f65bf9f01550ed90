/**
 * PS3.10 7.1 Part-10 file meta information: built for what we receive (the dataset bytes follow
 * unchanged), and read from files we send.
 */
import {
  defaultImplementationClassUid,
  defaultImplementationVersionName,
  longVrs,
} from "./constants.ts";
import { Part10FormatError } from "./errors.ts";

/** What goes into the meta header of a received instance. */
export interface Part10MetaOptions {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  /** Source Application Entity Title (0002,0016): the calling AE of the association. */
  sourceAe?: string;
  implementationClassUid?: string;
  implementationVersionName?: string;
}

const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");

function element(tag: number, vr: string, value: Uint8Array): Uint8Array {
  const long = longVrs.has(vr);
  const out = new Uint8Array((long ? 12 : 8) + value.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, 0x0002, true);
  v.setUint16(2, tag, true);
  out.set(encoder.encode(vr), 4);
  if (long) v.setUint32(8, value.length, true);
  else v.setUint16(6, value.length, true);
  out.set(value, long ? 12 : 8);
  return out;
}

function text(value: string, pad: "\0" | " "): Uint8Array {
  return encoder.encode(value.length % 2 === 1 ? value + pad : value);
}

/**
 * The 128-byte preamble, "DICM" and group 0002 (with a correct (0002,0000) group length) for an
 * instance whose dataset bytes will follow as received.
 *
 * @example
 * ```ts
 * const meta = buildPart10Header({ sopClassUid, sopInstanceUid, transferSyntaxUid, sourceAe: "CT1" });
 * ```
 */
export function buildPart10Header(options: Part10MetaOptions): Uint8Array {
  const elements = [
    element(0x0001, "OB", new Uint8Array([0, 1])),
    element(0x0002, "UI", text(options.sopClassUid, "\0")),
    element(0x0003, "UI", text(options.sopInstanceUid, "\0")),
    element(0x0010, "UI", text(options.transferSyntaxUid, "\0")),
    element(
      0x0012,
      "UI",
      text(options.implementationClassUid ?? defaultImplementationClassUid, "\0"),
    ),
    element(
      0x0013,
      "SH",
      text(options.implementationVersionName ?? defaultImplementationVersionName, " "),
    ),
  ];
  if (options.sourceAe) elements.push(element(0x0016, "AE", text(options.sourceAe, " ")));
  const groupLength = elements.reduce((n, e) => n + e.length, 0);
  const lengthValue = new Uint8Array(4);
  new DataView(lengthValue.buffer).setUint32(0, groupLength, true);
  const all = [element(0x0000, "UL", lengthValue), ...elements];
  const out = new Uint8Array(132 + all.reduce((n, e) => n + e.length, 0));
  out.set(encoder.encode("DICM"), 128);
  let at = 132;
  for (const e of all) {
    out.set(e, at);
    at += e.length;
  }
  return out;
}

/** What we need to know of a Part-10 file to send it. */
export interface Part10Header {
  /** Offset of the first dataset byte: everything before it is preamble and meta header. */
  datasetOffset: number;
  transferSyntaxUid: string;
  sopClassUid: string;
  sopInstanceUid: string;
}

/**
 * Reads the meta header at the start of a Part-10 file. `bytes` must hold at least the whole meta
 * header (the first 64 KiB of a file always do in practice).
 *
 * @example
 * ```ts
 * const { datasetOffset, transferSyntaxUid } = readPart10Header(firstBytes);
 * ```
 */
export function readPart10Header(bytes: Uint8Array): Part10Header {
  if (bytes.length < 132 || latin1.decode(bytes.subarray(128, 132)) !== "DICM") {
    throw new Part10FormatError("no DICM prefix at offset 128");
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Map<number, string>();
  let at = 132;
  while (at + 8 <= bytes.length && v.getUint16(at, true) === 0x0002) {
    const tag = v.getUint16(at + 2, true);
    const vr = latin1.decode(bytes.subarray(at + 4, at + 6));
    let length: number;
    let valueAt: number;
    if (longVrs.has(vr)) {
      if (at + 12 > bytes.length) break;
      length = v.getUint32(at + 8, true);
      valueAt = at + 12;
    } else {
      length = v.getUint16(at + 6, true);
      valueAt = at + 8;
    }
    if (valueAt + length > bytes.length) {
      throw new Part10FormatError("meta header element overruns the bytes read");
    }
    values.set(
      tag,
      latin1.decode(bytes.subarray(valueAt, valueAt + length)).replace(/[\0 ]+$/, ""),
    );
    at = valueAt + length;
  }
  const transferSyntaxUid = values.get(0x0010);
  const sopClassUid = values.get(0x0002);
  const sopInstanceUid = values.get(0x0003);
  if (!transferSyntaxUid || !sopClassUid || !sopInstanceUid) {
    throw new Part10FormatError("meta header lacks (0002,0002), (0002,0003) or (0002,0010)");
  }
  return { datasetOffset: at, transferSyntaxUid, sopClassUid, sopInstanceUid };
}
