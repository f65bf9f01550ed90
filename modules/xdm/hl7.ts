/** Value encodings of ITI TF-3 §4.2.3.1 (DTM, CX, XON, XTN) and small helpers around them. */
import { randomUUID } from "node:crypto";

/** DTM in UTC without separators or zone (ITI TF-3 §4.2.3.1.4), to the second. */
export function dtm(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

/** CX: `id^^^&oid&ISO`. */
export function cx(id: string, oid: string): string {
  return `${hl7Escape(id)}^^^&${oid}&ISO`;
}

/** XON: `Name^^^^^&oid&ISO^^^^orgId`, here with the URA as organisation identifier. */
export function xon(name: string, assigningOid: string, orgId: string): string {
  return `${hl7Escape(name)}^^^^^&${assigningOid}&ISO^^^^${orgId}`;
}

/** XTN for an e-mail address. */
export function xtnEmail(address: string): string {
  return `^^Internet^${address}`;
}

/** Escape HL7 v2 delimiters inside a component (HL7 v2 §2.7). */
export function hl7Escape(text: string): string {
  return text.replace(/\\/g, "\\E\\").replace(/\^/g, "\\S\\").replace(/&/g, "\\T\\")
    .replace(/\|/g, "\\F\\").replace(/~/g, "\\R\\");
}

/** XML text/attribute escape. */
export function xmlEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

/** A fresh `urn:uuid:` identifier for ebRIM object ids. */
export function urnUuid(): string {
  return `urn:uuid:${randomUUID()}`;
}

/** A fresh OID under the UUID arc `2.25` (ISO/IEC 9834-8), at most 44 characters. */
export function newUid(): string {
  const hex = randomUUID().replace(/-/g, "");
  return `2.25.${BigInt("0x" + hex).toString()}`;
}

/** DICOM DA (YYYYMMDD) to XDS DTM day precision; tolerant of `YYYY-MM-DD`. */
export function dicomDateToDtm(date: string | undefined): string | undefined {
  if (!date) return undefined;
  const digits = date.replace(/[^0-9]/g, "");
  return /^\d{8}$/.test(digits) ? digits : undefined;
}

/** An OID arc must not have leading zeros (ITU-T X.660); URAs are written with them. */
export function oidArc(value: string): string {
  const digits = value.replace(/[^0-9]/g, "");
  return digits.replace(/^0+(?=\d)/, "") || "0";
}
