import { createHash } from "node:crypto";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { BeeldpoortError } from "../core/mod.ts";
import { CertificateUraMismatch } from "./errors.ts";
import type { CertificateUse } from "./types.ts";

/** The bytes are not an X.509 certificate we can read. */
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

const attributeNames: Record<string, string> = {
  "2.5.4.3": "CN",
  "2.5.4.5": "serialNumber",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.97": "organizationIdentifier",
  "1.2.840.113549.1.9.1": "emailAddress",
};

function nameToString(name: pkijs.RelativeDistinguishedNames): string {
  return name.typesAndValues.map((tv) => {
    const key = attributeNames[tv.type] ?? tv.type;
    const value = (tv.value.valueBlock as { value?: unknown }).value;
    return `${key}=${typeof value === "string" ? value : "?"}`;
  }).join(", ");
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Reads the UZI identity string; undefined when it is not one. */
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
  let cert: pkijs.Certificate;
  try {
    cert = pkijs.Certificate.fromBER(new Uint8Array(der));
  } catch (error) {
    throw new CertificateUnreadable(`not an X.509 certificate: ${String(error)}`, { cause: error });
  }
  let san: SanFacts = { emails: [] };
  let allowedUses: CertificateUse[] = ["encryption", "signing"];
  for (const extension of cert.extensions ?? []) {
    const value = extension.extnValue.valueBlock.valueHexView;
    if (extension.extnID === "2.5.29.17") san = readSubjectAltName(value);
    if (extension.extnID === "2.5.29.15") allowedUses = readKeyUsage(value);
  }
  return {
    fingerprint: createHash("sha256").update(der).digest("hex"),
    subject: nameToString(cert.subject),
    issuer: nameToString(cert.issuer),
    serialNumber: hex(cert.serialNumber.valueBlock.valueHexView),
    notBefore: cert.notBefore.value,
    notAfter: cert.notAfter.value,
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
