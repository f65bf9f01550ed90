/**
 * DIMSE command sets (PS3.7 Section 9.3, Annex E): group 0000 elements, always Implicit VR Little
 * Endian, led by CommandGroupLength (0000,0000).
 */
import { DicomProtocolError } from "./errors.ts";

/** The command elements we read and write (PS3.7 E.1). */
export interface Command {
  commandField: number;
  affectedSopClassUid?: string;
  messageId?: number;
  messageIdBeingRespondedTo?: number;
  moveDestination?: string;
  priority?: number;
  commandDataSetType: number;
  status?: number;
  errorComment?: string;
  affectedSopInstanceUid?: string;
  moveOriginatorAe?: string;
  moveOriginatorMessageId?: number;
}

type Kind = "UI" | "US" | "AE" | "LO";

/** Tag (element number in group 0000) -> field and VR (PS3.7 E.1 table E.1-1). */
const elements: [number, keyof Command, Kind][] = [
  [0x0002, "affectedSopClassUid", "UI"],
  [0x0100, "commandField", "US"],
  [0x0110, "messageId", "US"],
  [0x0120, "messageIdBeingRespondedTo", "US"],
  [0x0600, "moveDestination", "AE"],
  [0x0700, "priority", "US"],
  [0x0800, "commandDataSetType", "US"],
  [0x0900, "status", "US"],
  [0x0902, "errorComment", "LO"],
  [0x1000, "affectedSopInstanceUid", "UI"],
  [0x1030, "moveOriginatorAe", "AE"],
  [0x1031, "moveOriginatorMessageId", "US"],
];
const byElement = new Map(elements.map(([e, field, kind]) => [e, { field, kind }]));

const latin1 = new TextDecoder("latin1");
const encoder = new TextEncoder();

/** Decodes a complete command set; unknown group 0000 elements are skipped. */
export function decodeCommand(bytes: Uint8Array): Command {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Record<string, string | number> = {};
  let at = 0;
  while (at < bytes.length) {
    if (at + 8 > bytes.length) throw new DicomProtocolError("truncated DIMSE command element");
    const group = v.getUint16(at, true);
    const element = v.getUint16(at + 2, true);
    const length = v.getUint32(at + 4, true);
    at += 8;
    if (group !== 0 || at + length > bytes.length) {
      throw new DicomProtocolError("DIMSE command element outside group 0000 or overrunning");
    }
    const spec = byElement.get(element);
    if (spec) {
      if (spec.kind === "US") {
        if (length !== 2) throw new DicomProtocolError(`command element ${element} is not US`);
        out[spec.field] = v.getUint16(at, true);
      } else {
        out[spec.field] = latin1.decode(bytes.subarray(at, at + length)).replace(/[\0 ]+$/, "")
          .replace(/^ +/, "");
      }
    }
    at += length;
  }
  if (typeof out.commandField !== "number" || typeof out.commandDataSetType !== "number") {
    throw new DicomProtocolError("DIMSE command without CommandField or CommandDataSetType");
  }
  return out as unknown as Command;
}

/** Encodes a command set with its group length, elements in ascending tag order. */
export function encodeCommand(command: Command): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [element, field, kind] of elements) {
    const value = command[field];
    if (value === undefined) continue;
    let data: Uint8Array;
    if (kind === "US") {
      data = new Uint8Array(2);
      new DataView(data.buffer).setUint16(0, value as number, true);
    } else {
      // PS3.5 6.2: UI pads to even length with NUL, the text VRs with a space.
      let text = String(value);
      if (text.length % 2 === 1) text += kind === "UI" ? "\0" : " ";
      data = encoder.encode(text);
    }
    const el = new Uint8Array(8 + data.length);
    const v = new DataView(el.buffer);
    v.setUint16(2, element, true);
    v.setUint32(4, data.length, true);
    el.set(data, 8);
    parts.push(el);
  }
  const bodyLength = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(12 + bodyLength);
  const v = new DataView(out.buffer);
  v.setUint32(4, 4, true);
  v.setUint32(8, bodyLength, true);
  let at = 12;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
