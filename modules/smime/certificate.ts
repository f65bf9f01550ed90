/**
 * X.509 certificates (RFC 5280) as this module needs them: the exact DER pieces CMS refers to
 * (issuer, serial, public key), the identity shown to people, and the extensions that decide
 * whether a certificate may sign e-mail. Parsing of names and extensions is pkijs'; the raw
 * pieces come from our own reader so they are byte-exact.
 */
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { createHash } from "node:crypto";
import {
  bytesEqual,
  children,
  content,
  CONTEXT,
  expect,
  is,
  oid,
  raw,
  readTlv,
  type Tlv,
  UNIVERSAL,
} from "./ber.ts";
import { SmimeFormatError } from "./errors.ts";
import { oids } from "./oids.ts";
import type { AlgorithmId } from "./signature.ts";

const shortNames: Record<string, string> = {
  "2.5.4.3": "CN",
  "2.5.4.5": "serialNumber",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  [oids.emailAddress]: "emailAddress",
};

/**
 * Key usage bits that matter here (RFC 5280 §4.2.1.3).
 *
 * @example
 * ```ts
 * const canSign = cert.keyUsage?.digitalSignature ?? true; // absent extension: any usage
 * ```
 */
export interface KeyUsage {
  /** Bit 0. */
  readonly digitalSignature: boolean;
  /** Bit 1 (contentCommitment). */
  readonly nonRepudiation: boolean;
  /** Bit 2. */
  readonly keyEncipherment: boolean;
  /** Bit 5. */
  readonly keyCertSign: boolean;
  /** Bit 6: may sign revocation lists. */
  readonly cRLSign: boolean;
}

/**
 * A parsed X.509 certificate. Immutable; compare with `equals` (same DER).
 *
 * @example
 * ```ts
 * const cert = new Certificate(der);
 * console.log(cert.subject, cert.emailAddresses, cert.notAfter, cert.fingerprint);
 * ```
 */
export class Certificate {
  /** The certificate's exact DER encoding. */
  readonly der: Uint8Array;
  /** Subject as `CN=…, O=…, C=…` (most significant last is not attempted; order as encoded). */
  readonly subject: string;
  /** Issuer, in the same form as `subject`. */
  readonly issuer: string;
  /** Serial number, lowercase hex as encoded. */
  readonly serialNumber: string;
  /** Start of validity. */
  readonly notBefore: Date;
  /** End of validity. */
  readonly notAfter: Date;
  /** rfc822Name entries of subjectAltName, then emailAddress attributes of the subject (RFC 8550 §3). */
  readonly emailAddresses: readonly string[];
  /** Undefined when the extension is absent (then every usage is allowed). */
  readonly keyUsage?: KeyUsage;
  /** Key purpose OIDs; undefined when the extension is absent. */
  readonly extendedKeyUsage?: readonly string[];
  /** basicConstraints cA (RFC 5280 §4.2.1.9). */
  readonly isCa: boolean;
  /** The subjectKeyIdentifier extension value, if present. */
  readonly subjectKeyIdentifier?: Uint8Array;
  /** @internal DER of the issuer Name, subject Name, serial INTEGER contents, SPKI and TBS. */
  readonly issuerDer: Uint8Array;
  /** @internal */
  readonly subjectDer: Uint8Array;
  /** @internal */
  readonly serialBytes: Uint8Array;
  /** @internal */
  readonly spki: Uint8Array;
  /** @internal */
  readonly tbs: Uint8Array;
  /** @internal */
  readonly signatureAlgorithm: AlgorithmId;
  /** @internal */
  readonly signatureValue: Uint8Array;
  /** @internal the SPKI algorithm OID (rsaEncryption, ecPublicKey, …). */
  readonly keyAlgorithm: string;

  /** Parses DER; throws SmimeFormatError when it is not a certificate. */
  constructor(der: Uint8Array) {
    this.der = Uint8Array.from(der);
    const buf = this.der;
    try {
      const top = expect(readTlv(buf, 0), UNIVERSAL, 16, "Certificate");
      if (top.end !== buf.length) throw new SmimeFormatError("trailing bytes after certificate");
      const [tbsTlv, sigAlg, sigValue] = children(buf, top);
      expect(tbsTlv, UNIVERSAL, 16, "TBSCertificate");
      const fields = children(buf, tbsTlv);
      let i = is(fields[0], CONTEXT, 0) ? 1 : 0;
      const serial = expect(fields[i++], UNIVERSAL, 2, "serialNumber");
      i++; // signature AlgorithmIdentifier, repeated outside the TBS
      const issuer = expect(fields[i++], UNIVERSAL, 16, "issuer");
      i++; // validity, taken from pkijs below
      const subject = expect(fields[i++], UNIVERSAL, 16, "subject");
      const spki = expect(fields[i++], UNIVERSAL, 16, "subjectPublicKeyInfo");
      this.issuerDer = raw(buf, issuer);
      this.subjectDer = raw(buf, subject);
      this.serialBytes = content(buf, serial);
      this.spki = raw(buf, spki);
      this.tbs = raw(buf, tbsTlv);
      this.keyAlgorithm = algorithmOf(buf, children(buf, spki)[0]).oid;
      this.signatureAlgorithm = algorithmOf(buf, sigAlg);
      const bits = content(buf, expect(sigValue, UNIVERSAL, 3, "signatureValue"));
      this.signatureValue = bits.subarray(1);
    } catch (error) {
      if (error instanceof SmimeFormatError) throw error;
      throw new SmimeFormatError("not an X.509 certificate", { cause: error });
    }
    const parsed = asn1js.fromBER(buf);
    if (parsed.offset === -1) throw new SmimeFormatError("not an X.509 certificate");
    let cert: pkijs.Certificate;
    try {
      cert = new pkijs.Certificate({ schema: parsed.result });
    } catch (error) {
      throw new SmimeFormatError("not an X.509 certificate", { cause: error });
    }
    this.subject = nameToString(cert.subject);
    this.issuer = nameToString(cert.issuer);
    this.serialNumber = hex(this.serialBytes);
    this.notBefore = cert.notBefore.value;
    this.notAfter = cert.notAfter.value;
    const emails: string[] = [];
    let isCa = false;
    for (const ext of cert.extensions ?? []) {
      const value = ext.parsedValue as unknown;
      if (ext.extnID === oids.keyUsage && value instanceof asn1js.BitString) {
        const bytes = value.valueBlock.valueHexView;
        const bit = (n: number) => ((bytes[n >> 3] ?? 0) & (0x80 >> (n & 7))) !== 0;
        this.keyUsage = {
          digitalSignature: bit(0),
          nonRepudiation: bit(1),
          keyEncipherment: bit(2),
          keyCertSign: bit(5),
          cRLSign: bit(6),
        };
      } else if (ext.extnID === oids.extKeyUsage && value instanceof pkijs.ExtKeyUsage) {
        this.extendedKeyUsage = [...value.keyPurposes];
      } else if (ext.extnID === oids.basicConstraints && value instanceof pkijs.BasicConstraints) {
        isCa = value.cA === true;
      } else if (ext.extnID === oids.subjectAltName && value instanceof pkijs.AltName) {
        for (const name of value.altNames) {
          if (name.type === 1 && typeof name.value === "string") emails.push(name.value);
        }
      } else if (ext.extnID === oids.subjectKeyIdentifier && value instanceof asn1js.OctetString) {
        this.subjectKeyIdentifier = Uint8Array.from(value.valueBlock.valueHexView);
      }
    }
    for (const tv of cert.subject.typesAndValues) {
      if (tv.type === oids.emailAddress) emails.push(String(tv.value.valueBlock.value));
    }
    this.emailAddresses = emails;
    this.isCa = isCa;
  }

  /** Whether both hold the same DER. */
  equals(other: Certificate): boolean {
    return bytesEqual(this.der, other.der);
  }

  /** SHA-256 of the DER, lowercase hex; what operators compare in the address book. */
  get fingerprint(): string {
    return createHash("sha256").update(this.der).digest("hex");
  }

  /** Whether `now` lies within notBefore..notAfter (RFC 5280 §4.1.2.5, both inclusive). */
  validAt(now: Date): boolean {
    return this.notBefore.getTime() <= now.getTime() && now.getTime() <= this.notAfter.getTime();
  }

  /** PEM text (RFC 7468 §5). */
  toPem(): string {
    const b64 = Buffer.from(this.der).toString("base64").replace(/.{64}/g, "$&\n").replace(
      /\n$/,
      "",
    );
    return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
  }
}

/** Reads an AlgorithmIdentifier (RFC 5280 §4.1.1.2). */
export function algorithmOf(buf: Uint8Array, t: Tlv | undefined): AlgorithmId {
  const [algOid, params] = children(buf, expect(t, UNIVERSAL, 16, "AlgorithmIdentifier"));
  const dotted = oid(buf, algOid);
  return params ? { oid: dotted, params: raw(buf, params) } : { oid: dotted };
}

function nameToString(name: pkijs.RelativeDistinguishedNames): string {
  return name.typesAndValues
    .map((tv) => `${shortNames[tv.type] ?? tv.type}=${String(tv.value.valueBlock.value)}`)
    .join(", ");
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

/**
 * Parses one or more certificates from PEM text or DER bytes.
 *
 * @example
 * ```ts
 * const [ca] = parseCertificates(await Deno.readFile("ca.pem"));
 * ```
 */
export function parseCertificates(input: Uint8Array | string): Certificate[] {
  const text = typeof input === "string" ? input : pemText(input);
  if (text === null) return [new Certificate(input as Uint8Array)];
  const out: Certificate[] = [];
  const pattern =
    /-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE-----([\s\S]*?)-----END (?:X509 |TRUSTED )?CERTIFICATE-----/g;
  for (const match of text.matchAll(pattern)) {
    out.push(new Certificate(new Uint8Array(Buffer.from(match[1].replace(/\s+/g, ""), "base64"))));
  }
  if (out.length === 0) throw new SmimeFormatError("no CERTIFICATE block in PEM input");
  return out;
}

/** The text of PEM input, or null when the bytes look like DER. */
function pemText(bytes: Uint8Array): string | null {
  if (bytes.length > 0 && bytes[0] === 0x30) return null;
  return new TextDecoder().decode(bytes);
}
