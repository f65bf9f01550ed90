import { createHash, X509Certificate } from "node:crypto";
import * as asn1js from "asn1js";
import { BeeldpoortError } from "../core/mod.ts";
import { CertificateUraMismatch } from "./errors.ts";
import type { CertificateUse } from "./types.ts";

/**
 * The bytes are not an X.509 certificate we can read.
 *
 * @example
 * ```ts
 * try { parseCertificate(bytes); } catch (e) { if (e instanceof CertificateUnreadable) skip(); }
 * ```
 */
export class CertificateUnreadable extends BeeldpoortError {
  readonly code = "ADDRESSBOOK_CERT_UNREADABLE";
}

/** The identity fields of a UZI certificate's otherName 2.5.5.5 (UZI-register CPS, pUZI). */
export interface UziIdentity {
  oidCa: string;
  version: string;
  uziNumber: string;
  cardType: string;
  /** The subscriber number: the URA of the organisation. */
  ura: string;
  role: string;
  agb: string;
}

/** What the address book reads from one certificate. */
export interface ParsedCertificate {
  fingerprint: string;
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  /** URA from the UZI otherName or from permanentIdentifier with the URA assigner. */
  ura?: string;
  uzi?: UziIdentity;
  emails: string[];
  /** Uses the keyUsage extension allows; both when the extension is absent (RFC 5280 4.2.1.3). */
  allowedUses: CertificateUse[];
}

// UZI-register: otherName type-id 2.5.5.5 carries "<OID-CA>-<version>-<UZI>-<card>-<URA>-<role>-<AGB>"
// (standards.md 5.1). Server certificates have CA OID 2.16.528.1.1003.1.3.5.5.5.
const uziOtherNameOid = "2.5.5.5";
const uziCaPrefix = "2.16.528.1.1003.1.3.5.5.";
// RFC 4043 permanentIdentifier; UZI server certificates since 8 Nov 2023 carry the URA here too,
// with the URA register as assigner (OID 2.16.528.1.1007.3.3).
const permanentIdentifierOid = "1.3.6.1.5.5.7.8.3";
const uraAssignerOid = "2.16.528.1.1007.3.3";

/** One DER element: tag byte and where its contents are. */
interface Tlv {
  tag: number;
  start: number;
  end: number;
}

// X.690 8.1: a minimal DER reader, enough to find the extensions of a certificate. Reading the
// whole certificate with pkijs costs about 0.8 ms; this and node:crypto take a tenth of that,
// which matters when a directory delivers thousands of certificates.
function readTlv(bytes: Uint8Array, offset: number): Tlv {
  const tag = bytes[offset];
  let length = bytes[offset + 1];
  let start = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) throw new Error("unsupported DER length");
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[start + i];
    start += count;
  }
  const end = start + length;
  if (tag === undefined || end > bytes.length) throw new Error("truncated DER");
  return { tag, start, end };
}

function children(bytes: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let offset = parent.start; offset < parent.end;) {
    const tlv = readTlv(bytes, offset);
    out.push(tlv);
    offset = tlv.end;
  }
  return out;
}

const oidBytes = (oid: string) => {
  const [a, b, ...rest] = oid.split(".").map(Number);
  const out = [a * 40 + b];
  for (const n of rest) {
    const groups = [n & 0x7f];
    for (let v = n >> 7; v > 0; v >>= 7) groups.unshift((v & 0x7f) | 0x80);
    out.push(...groups);
  }
  return out;
};
const subjectAltNameOid = oidBytes("2.5.29.17");
const keyUsageOid = oidBytes("2.5.29.15");

/** The extnValue contents of each extension, by OID bytes (RFC 5280 4.1). */
function extensionValues(der: Uint8Array): { oid: Uint8Array; value: Uint8Array }[] {
  const certificate = readTlv(der, 0);
  const tbs = children(der, certificate)[0];
  const explicit = children(der, tbs).find((t) => t.tag === 0xa3);
  if (!explicit) return [];
  const list = children(der, explicit)[0];
  return children(der, list).map((extension) => {
    const parts = children(der, extension);
    const value = parts[parts.length - 1];
    return {
      oid: der.subarray(parts[0].start, parts[0].end),
      value: der.subarray(value.start, value.end),
    };
  });
}

const sameBytes = (a: Uint8Array, b: number[]) =>
  a.length === b.length && b.every((v, i) => a[i] === v);

/**
 * Reads the UZI identity string; undefined when it is not one.
 *
 * @example
 * ```ts
 * parseUziIdentity("2.16.528.1.1003.1.3.5.5.5-1-12345678-S-90000123-00.000-00000000")?.ura; // "90000123"
 * ```
 */
export function parseUziIdentity(value: string): UziIdentity | undefined {
  const parts = value.split("-");
  if (parts.length !== 7 || !parts[0].startsWith(uziCaPrefix)) return undefined;
  const [oidCa, version, uziNumber, cardType, ura, role, agb] = parts;
  return { oidCa, version, uziNumber, cardType, ura, role, agb };
}

interface SanFacts {
  uzi?: UziIdentity;
  permanentUra?: string;
  emails: string[];
}

function readSubjectAltName(extnValue: Uint8Array): SanFacts {
  const facts: SanFacts = { emails: [] };
  const parsed = asn1js.fromBER(extnValue);
  if (parsed.offset === -1) return facts;
  const names = (parsed.result as asn1js.Sequence).valueBlock.value ?? [];
  for (const name of names) {
    const { tagClass, tagNumber } = name.idBlock;
    if (tagClass !== 3) continue;
    if (tagNumber === 1) {
      // rfc822Name [1] IA5String, implicitly tagged: the bytes are the address.
      const raw = (name.valueBlock as unknown as { valueHexView: Uint8Array }).valueHexView;
      facts.emails.push(new TextDecoder().decode(raw).toLowerCase());
    } else if (tagNumber === 0) {
      // otherName [0] { type-id OID, value [0] EXPLICIT ANY } (RFC 5280 4.2.1.6)
      const inner = (name as asn1js.Constructed).valueBlock.value;
      const typeId = inner[0] instanceof asn1js.ObjectIdentifier
        ? inner[0].valueBlock.toString()
        : "";
      const wrapped = (inner[1] as asn1js.Constructed | undefined)?.valueBlock.value?.[0];
      if (!wrapped) continue;
      if (typeId === uziOtherNameOid) {
        const text = stringValue(wrapped);
        const uzi = text ? parseUziIdentity(text) : undefined;
        if (uzi) facts.uzi = uzi;
      } else if (typeId === permanentIdentifierOid && wrapped instanceof asn1js.Sequence) {
        let value: string | undefined;
        let assigner: string | undefined;
        for (const item of wrapped.valueBlock.value) {
          if (item instanceof asn1js.ObjectIdentifier) assigner = item.valueBlock.toString();
          else value = stringValue(item);
        }
        if (assigner === uraAssignerOid && value) facts.permanentUra = value;
      }
    }
  }
  return facts;
}

function stringValue(block: asn1js.AsnType): string | undefined {
  const value = (block as { valueBlock?: { value?: unknown } }).valueBlock?.value;
  return typeof value === "string" ? value : undefined;
}

function readKeyUsage(extnValue: Uint8Array): CertificateUse[] {
  // RFC 5280 4.2.1.3: bit 0 digitalSignature, 1 nonRepudiation, 2 keyEncipherment, 4 keyAgreement
  const parsed = asn1js.fromBER(extnValue);
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.BitString)) {
    return ["encryption", "signing"];
  }
  const bytes = parsed.result.valueBlock.valueHexView;
  const bit = (n: number) => ((bytes[n >> 3] ?? 0) & (0x80 >> (n & 7))) !== 0;
  const uses: CertificateUse[] = [];
  if (bit(2) || bit(4)) uses.push("encryption");
  if (bit(0) || bit(1)) uses.push("signing");
  return uses;
}

/**
 * Reads an X.509 certificate (DER). Throws CertificateUnreadable for anything else.
 *
 * @example
 * ```ts
 * const cert = parseCertificate(der);
 * console.log(cert.ura, cert.notAfter.toISOString());
 * ```
 */
export function parseCertificate(der: Uint8Array): ParsedCertificate {
  let x509: X509Certificate;
  let extensions: { oid: Uint8Array; value: Uint8Array }[];
  try {
    x509 = new X509Certificate(der);
    extensions = extensionValues(der);
  } catch (error) {
    throw new CertificateUnreadable(`not an X.509 certificate: ${String(error)}`, { cause: error });
  }
  let san: SanFacts = { emails: [] };
  let allowedUses: CertificateUse[] = ["encryption", "signing"];
  for (const extension of extensions) {
    if (sameBytes(extension.oid, subjectAltNameOid)) san = readSubjectAltName(extension.value);
    if (sameBytes(extension.oid, keyUsageOid)) allowedUses = readKeyUsage(extension.value);
  }
  return {
    fingerprint: createHash("sha256").update(der).digest("hex"),
    subject: x509.subject.split("\n").join(", "),
    issuer: x509.issuer.split("\n").join(", "),
    serialNumber: x509.serialNumber.toLowerCase(),
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
    ura: san.uzi?.ura ?? san.permanentUra,
    uzi: san.uzi,
    emails: san.emails,
    allowedUses,
  };
}

/** Decodes base64 DER, or PEM with a CERTIFICATE block, to DER bytes. */
export function decodeCertificateText(text: string): Uint8Array {
  const body = text.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, "");
  return Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
}

/**
 * Checks that a certificate belongs to the organisation with `ura`; for the inbound side, where
 * the signer of a message must be the sender's address-book entry. A certificate without a URA
 * (not an UZI certificate) passes: the pinned certificate in the entry is then what binds it.
 *
 * @example
 * ```ts
 * assertCertificateUra(signerDer, "00012345"); // throws CertificateUraMismatch
 * ```
 */
export function assertCertificateUra(der: Uint8Array, ura: string): ParsedCertificate {
  const parsed = parseCertificate(der);
  if (parsed.ura !== undefined && parsed.ura !== ura) {
    throw new CertificateUraMismatch(ura, parsed.ura);
  }
  return parsed;
}
