/**
 * PS3.8 9.3: the upper-layer PDUs, encoded and decoded. All PDU header fields are big-endian.
 * Decoding takes the variable field of one PDU (after the 6-byte header, which the reader checked)
 * and throws `DicomProtocolError` on anything malformed.
 */
import { concatBytes } from "../core/mod.ts";
import { AbortReason, applicationContextUid, PduType } from "./constants.ts";
import { DicomProtocolError } from "./errors.ts";

/** One proposed presentation context (PS3.8 9.3.2.2). */
export interface PresentationContextProposal {
  /** Odd, 1-255. */
  id: number;
  abstractSyntax: string;
  transferSyntaxes: string[];
}

/** The answer to one proposed context (PS3.8 9.3.3.2). */
export interface PresentationContextResult {
  id: number;
  /** 0 acceptance, 1 user rejection, 2 no reason, 3 abstract syntax, 4 transfer syntaxes. */
  result: number;
  /** The one accepted transfer syntax, when `result` is 0. */
  transferSyntax?: string;
}

/** SCP/SCU role selection sub-item (PS3.7 D.3.3.4); tolerated, never required. */
export interface RoleSelection {
  sopClassUid: string;
  scuRole: boolean;
  scpRole: boolean;
}

/** User information item (PS3.8 9.3.2.3, PS3.7 Annex D.3.3). */
export interface UserInformation {
  /** Largest P-DATA-TF variable field the sender of this item can receive; 0 means no limit. */
  maxPduLength: number;
  implementationClassUid?: string;
  implementationVersionName?: string;
  /** Asynchronous operations window (0x53): read, then ignored; we work one operation at a time. */
  asyncOps?: { invoked: number; performed: number };
  roles: RoleSelection[];
}

/** A-ASSOCIATE-RQ (PS3.8 9.3.2) and A-ASSOCIATE-AC (9.3.3) share this shape. */
export interface AssociateRq {
  protocolVersion: number;
  calledAe: string;
  callingAe: string;
  applicationContext: string;
  contexts: PresentationContextProposal[];
  userInfo: UserInformation;
}

/** A-ASSOCIATE-AC (PS3.8 9.3.3). */
export interface AssociateAc {
  protocolVersion: number;
  calledAe: string;
  callingAe: string;
  applicationContext: string;
  contexts: PresentationContextResult[];
  userInfo: UserInformation;
}

/** A-ASSOCIATE-RJ (PS3.8 9.3.4). */
export interface AssociateRj {
  result: number;
  source: number;
  reason: number;
}

/** One presentation data value (PS3.8 9.3.5.1, E.2). */
export interface Pdv {
  contextId: number;
  /** Message control header bit 0. */
  isCommand: boolean;
  /** Message control header bit 1. */
  isLast: boolean;
  /** A view into the PDU's buffer. */
  data: Uint8Array;
  /** Whether other PDVs of the same PDU are views into that buffer too. */
  sharesBuffer: boolean;
}

/** A decoded PDU. */
export type Pdu =
  | { type: typeof PduType.associateRq; rq: AssociateRq }
  | { type: typeof PduType.associateAc; ac: AssociateAc }
  | { type: typeof PduType.associateRj; rj: AssociateRj }
  | { type: typeof PduType.pData; pdvs: Pdv[] }
  | { type: typeof PduType.releaseRq }
  | { type: typeof PduType.releaseRp }
  | { type: typeof PduType.abort; source: number; reason: number };

const latin1 = new TextDecoder("latin1");
const ascii = new TextEncoder();

function malformed(what: string, reason: number = AbortReason.invalidPduParameterValue): never {
  throw new DicomProtocolError(`malformed PDU: ${what}`, reason);
}

/** UIDs in items may be padded with NUL or space by some implementations; neither is significant. */
function readUid(bytes: Uint8Array): string {
  return latin1.decode(bytes).replace(/[\0 ]+$/, "");
}

function readAe(bytes: Uint8Array): string {
  return latin1.decode(bytes).trim();
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Splits a run of items: type (1), reserved (1), length (2, big-endian), value. PS3.8 9.3.2. */
function* items(bytes: Uint8Array, where: string): Generator<{ type: number; value: Uint8Array }> {
  const v = view(bytes);
  let at = 0;
  while (at < bytes.length) {
    if (at + 4 > bytes.length) malformed(`truncated item header in ${where}`);
    const type = bytes[at];
    const length = v.getUint16(at + 2);
    if (at + 4 + length > bytes.length) malformed(`item 0x${type.toString(16)} overruns ${where}`);
    yield { type, value: bytes.subarray(at + 4, at + 4 + length) };
    at += 4 + length;
  }
}

function decodeUserInfo(bytes: Uint8Array): UserInformation {
  const info: UserInformation = { maxPduLength: 0, roles: [] };
  for (const item of items(bytes, "user information")) {
    const v = view(item.value);
    switch (item.type) {
      case 0x51:
        if (item.value.length !== 4) malformed("maximum length sub-item is not 4 bytes");
        info.maxPduLength = v.getUint32(0);
        break;
      case 0x52:
        info.implementationClassUid = readUid(item.value);
        break;
      case 0x55:
        info.implementationVersionName = readAe(item.value);
        break;
      case 0x53:
        if (item.value.length !== 4) malformed("asynchronous operations sub-item is not 4 bytes");
        info.asyncOps = { invoked: v.getUint16(0), performed: v.getUint16(2) };
        break;
      case 0x54: {
        if (item.value.length < 2) malformed("role selection sub-item too short");
        const uidLength = v.getUint16(0);
        if (2 + uidLength + 2 > item.value.length) malformed("role selection sub-item overruns");
        info.roles.push({
          sopClassUid: readUid(item.value.subarray(2, 2 + uidLength)),
          scuRole: item.value[2 + uidLength] === 1,
          scpRole: item.value[3 + uidLength] === 1,
        });
        break;
      }
      default:
        // 0x56-0x59 (extended negotiation, user identity) and unknown sub-items: not negotiated,
        // which PS3.7 D.3.3 allows; the peer then works without them.
        break;
    }
  }
  return info;
}

function decodeAssociate(body: Uint8Array, type: 1 | 2): AssociateRq | AssociateAc {
  if (body.length < 68) malformed("A-ASSOCIATE shorter than its fixed fields");
  const v = view(body);
  const result = {
    protocolVersion: v.getUint16(0),
    calledAe: readAe(body.subarray(4, 20)),
    callingAe: readAe(body.subarray(20, 36)),
    applicationContext: "",
    contexts: [] as (PresentationContextProposal | PresentationContextResult)[],
    userInfo: undefined as UserInformation | undefined,
  };
  for (const item of items(body.subarray(68), "A-ASSOCIATE")) {
    if (item.type === 0x10) {
      result.applicationContext = readUid(item.value);
    } else if (item.type === 0x20 && type === 1) {
      if (item.value.length < 4) malformed("presentation context item too short");
      const proposal: PresentationContextProposal = {
        id: item.value[0],
        abstractSyntax: "",
        transferSyntaxes: [],
      };
      for (const sub of items(item.value.subarray(4), "presentation context")) {
        if (sub.type === 0x30) proposal.abstractSyntax = readUid(sub.value);
        else if (sub.type === 0x40) proposal.transferSyntaxes.push(readUid(sub.value));
        else malformed(`sub-item 0x${sub.type.toString(16)} in presentation context`, 4);
      }
      if (proposal.id % 2 === 0) malformed(`even presentation context id ${proposal.id}`);
      if (!proposal.abstractSyntax || proposal.transferSyntaxes.length === 0) {
        malformed(`presentation context ${proposal.id} without abstract or transfer syntax`);
      }
      result.contexts.push(proposal);
    } else if (item.type === 0x21 && type === 2) {
      if (item.value.length < 4) malformed("presentation context result item too short");
      const answer: PresentationContextResult = { id: item.value[0], result: item.value[2] };
      for (const sub of items(item.value.subarray(4), "presentation context result")) {
        if (sub.type === 0x40) answer.transferSyntax = readUid(sub.value);
      }
      result.contexts.push(answer);
    } else if (item.type === 0x50) {
      result.userInfo = decodeUserInfo(item.value);
    } else {
      malformed(`unexpected item 0x${item.type.toString(16)} in A-ASSOCIATE`, 4);
    }
  }
  if (!result.applicationContext) malformed("A-ASSOCIATE without application context item");
  if (!result.userInfo) malformed("A-ASSOCIATE without user information item");
  if (type === 1 && result.contexts.length === 0) malformed("A-ASSOCIATE-RQ without contexts");
  return result as AssociateRq | AssociateAc;
}

function decodePdvs(body: Uint8Array): Pdv[] {
  const v = view(body);
  const pdvs: Pdv[] = [];
  let at = 0;
  if (body.length === 0) malformed("P-DATA-TF without PDV items");
  while (at < body.length) {
    if (at + 6 > body.length) malformed("truncated PDV item header");
    const length = v.getUint32(at);
    // PS3.8 9.3.5.1: the item length counts the context id and control header, so at least 2.
    if (length < 2 || at + 4 + length > body.length) malformed("PDV item length out of bounds");
    const control = body[at + 5];
    if (control & 0xfc) malformed("PDV message control header has reserved bits set");
    pdvs.push({
      contextId: body[at + 4],
      isCommand: (control & 1) === 1,
      isLast: (control & 2) === 2,
      data: body.subarray(at + 6, at + 4 + length),
      sharesBuffer: false,
    });
    at += 4 + length;
  }
  if (pdvs.length > 1) { for (const pdv of pdvs) pdv.sharesBuffer = true; }
  return pdvs;
}

/** Decodes the variable field of a PDU of `type` (the reader has checked type and length). */
export function decodePdu(type: number, body: Uint8Array): Pdu {
  switch (type) {
    case PduType.associateRq:
      return { type, rq: decodeAssociate(body, 1) as AssociateRq };
    case PduType.associateAc:
      return { type, ac: decodeAssociate(body, 2) as AssociateAc };
    case PduType.associateRj:
      if (body.length !== 4) malformed("A-ASSOCIATE-RJ length is not 4");
      return { type, rj: { result: body[1], source: body[2], reason: body[3] } };
    case PduType.pData:
      return { type, pdvs: decodePdvs(body) };
    case PduType.releaseRq:
    case PduType.releaseRp:
      if (body.length !== 4) malformed("A-RELEASE length is not 4");
      return { type };
    case PduType.abort:
      if (body.length !== 4) malformed("A-ABORT length is not 4");
      return { type, source: body[2], reason: body[3] };
    default:
      throw new DicomProtocolError(
        `unrecognized PDU type 0x${type.toString(16)}`,
        AbortReason.unrecognizedPdu,
      );
  }
}

// ---- encoding ----

function item(type: number, value: Uint8Array): Uint8Array {
  if (value.length > 0xffff) throw new RangeError(`item 0x${type.toString(16)} too long`);
  const out = new Uint8Array(4 + value.length);
  out[0] = type;
  view(out).setUint16(2, value.length);
  out.set(value, 4);
  return out;
}

function pdu(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(6 + body.length);
  out[0] = type;
  view(out).setUint32(2, body.length);
  out.set(body, 6);
  return out;
}

function aeField(ae: string): Uint8Array {
  return ascii.encode(ae.padEnd(16, " ").slice(0, 16));
}

function u32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  view(out).setUint32(0, value);
  return out;
}

function encodeUserInfo(info: UserInformation): Uint8Array {
  const subs = [item(0x51, u32(info.maxPduLength))];
  if (info.implementationClassUid) {
    subs.push(item(0x52, ascii.encode(info.implementationClassUid)));
  }
  if (info.asyncOps) {
    const value = new Uint8Array(4);
    view(value).setUint16(0, info.asyncOps.invoked);
    view(value).setUint16(2, info.asyncOps.performed);
    subs.push(item(0x53, value));
  }
  for (const role of info.roles) {
    const uid = ascii.encode(role.sopClassUid);
    const value = new Uint8Array(4 + uid.length);
    view(value).setUint16(0, uid.length);
    value.set(uid, 2);
    value[2 + uid.length] = role.scuRole ? 1 : 0;
    value[3 + uid.length] = role.scpRole ? 1 : 0;
    subs.push(item(0x54, value));
  }
  if (info.implementationVersionName) {
    subs.push(item(0x55, ascii.encode(info.implementationVersionName)));
  }
  return item(0x50, concatBytes(subs));
}

function associateHeader(a: { protocolVersion: number; calledAe: string; callingAe: string }) {
  const fixed = new Uint8Array(68);
  view(fixed).setUint16(0, a.protocolVersion);
  fixed.set(aeField(a.calledAe), 4);
  fixed.set(aeField(a.callingAe), 20);
  return fixed;
}

/** Encodes an A-ASSOCIATE-RQ (PS3.8 9.3.2). */
export function encodeAssociateRq(rq: AssociateRq): Uint8Array {
  const parts = [associateHeader(rq), item(0x10, ascii.encode(rq.applicationContext))];
  for (const ctx of rq.contexts) {
    const subs = [item(0x30, ascii.encode(ctx.abstractSyntax))];
    for (const ts of ctx.transferSyntaxes) subs.push(item(0x40, ascii.encode(ts)));
    parts.push(item(0x20, concatBytes([new Uint8Array([ctx.id, 0, 0, 0]), ...subs])));
  }
  parts.push(encodeUserInfo(rq.userInfo));
  return pdu(PduType.associateRq, concatBytes(parts));
}

/** Encodes an A-ASSOCIATE-AC (PS3.8 9.3.3). */
export function encodeAssociateAc(ac: AssociateAc): Uint8Array {
  const parts = [associateHeader(ac), item(0x10, ascii.encode(ac.applicationContext))];
  for (const ctx of ac.contexts) {
    // PS3.8 9.3.3.2: a transfer syntax sub-item is always present; its value is not significant
    // when the context is not accepted.
    const ts = item(0x40, ascii.encode(ctx.transferSyntax ?? ""));
    parts.push(item(0x21, concatBytes([new Uint8Array([ctx.id, 0, ctx.result, 0]), ts])));
  }
  parts.push(encodeUserInfo(ac.userInfo));
  return pdu(PduType.associateAc, concatBytes(parts));
}

/** Encodes an A-ASSOCIATE-RJ (PS3.8 9.3.4). */
export function encodeAssociateRj(rj: AssociateRj): Uint8Array {
  return pdu(PduType.associateRj, new Uint8Array([0, rj.result, rj.source, rj.reason]));
}

/** Encodes an A-RELEASE-RQ (PS3.8 9.3.6). */
export function encodeReleaseRq(): Uint8Array {
  return pdu(PduType.releaseRq, new Uint8Array(4));
}

/** Encodes an A-RELEASE-RP (PS3.8 9.3.7). */
export function encodeReleaseRp(): Uint8Array {
  return pdu(PduType.releaseRp, new Uint8Array(4));
}

/** Encodes an A-ABORT (PS3.8 9.3.8); source 0 = service user, 2 = service provider. */
export function encodeAbort(source: number, reason: number): Uint8Array {
  return pdu(PduType.abort, new Uint8Array([0, 0, source, source === 0 ? 0 : reason]));
}

/**
 * Encodes a P-DATA-TF with one PDV (PS3.8 9.3.5, E.2), into `scratch` when it is large enough (the
 * caller may refill it once the returned bytes are written).
 */
export function encodePData(
  contextId: number,
  isCommand: boolean,
  isLast: boolean,
  data: Uint8Array,
  scratch?: Uint8Array,
) {
  const length = 12 + data.length;
  const out = scratch && scratch.length >= length
    ? scratch.subarray(0, length)
    : new Uint8Array(length);
  const v = view(out);
  out[0] = PduType.pData;
  v.setUint32(2, 6 + data.length);
  v.setUint32(6, 2 + data.length);
  out[10] = contextId;
  out[11] = (isCommand ? 1 : 0) | (isLast ? 2 : 0);
  out.set(data, 12);
  return out;
}

/** A-ASSOCIATE-RQ defaults for our own SCU. */
export function newAssociateRq(
  options: {
    calledAe: string;
    callingAe: string;
    contexts: PresentationContextProposal[];
    userInfo: UserInformation;
  },
): AssociateRq {
  return { protocolVersion: 1, applicationContext: applicationContextUid, ...options };
}
