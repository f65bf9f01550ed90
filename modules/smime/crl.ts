/**
 * Certificate revocation lists (RFC 5280 §5): parsed from PEM or DER, and asked whether a
 * certificate its issuer signed has been revoked. A CRL counts only when its signature verifies
 * with the key of the certificate's issuer (one in the validated path), so a forged or foreign
 * list neither revokes nor clears anything. A list past its nextUpdate still counts: a revocation
 * does not expire.
 */
import {
  bytesEqual,
  children,
  content,
  CONTEXT,
  expect,
  is,
  raw,
  readTime,
  readTlv,
  type Tlv,
  UNIVERSAL,
} from "./ber.ts";
import type { AlgorithmId } from "./signature.ts";
import { verifySignature } from "./signature.ts";
import { algorithmOf, type Certificate } from "./certificate.ts";
import { SmimeFormatError, SmimeUnsupported } from "./errors.ts";

/** One CRL. */
export interface RevocationList {
  /** DER of the issuer Name, to match a certificate's issuer. */
  readonly issuerDer: Uint8Array;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
  /** Revocation date by serial number (lowercase hex of the INTEGER's content octets). */
  readonly revoked: ReadonlyMap<string, Date>;
  /** @internal */
  readonly tbs: Uint8Array;
  /** @internal */
  readonly signatureAlgorithm: AlgorithmId;
  /** @internal */
  readonly signatureValue: Uint8Array;
}

const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const isTime = (t: Tlv | undefined) => is(t, UNIVERSAL, 23) || is(t, UNIVERSAL, 24);

/** Parses one DER CertificateList; throws SmimeFormatError when it is not one. */
export function parseRevocationList(der: Uint8Array): RevocationList {
  const buf = Uint8Array.from(der);
  try {
    const top = expect(readTlv(buf, 0), UNIVERSAL, 16, "CertificateList");
    const [tbsTlv, sigAlg, sigValue] = children(buf, top);
    const fields = children(buf, expect(tbsTlv, UNIVERSAL, 16, "TBSCertList"));
    let i = is(fields[0], UNIVERSAL, 2) ? 1 : 0; // version (v2)
    i++; // signature, repeated outside the TBS
    const issuer = expect(fields[i++], UNIVERSAL, 16, "issuer");
    const thisUpdate = readTime(buf, fields[i++]);
    if (!thisUpdate) throw new SmimeFormatError("CRL thisUpdate is not a time");
    const nextUpdate = isTime(fields[i]) ? readTime(buf, fields[i++]) : undefined;
    const revoked = new Map<string, Date>();
    if (is(fields[i], UNIVERSAL, 16)) {
      for (const entry of children(buf, fields[i++])) {
        const [serial, date] = children(buf, expect(entry, UNIVERSAL, 16, "revokedCertificate"));
        const when = readTime(buf, date);
        if (!when) throw new SmimeFormatError("CRL revocationDate is not a time");
        revoked.set(hex(content(buf, expect(serial, UNIVERSAL, 2, "userCertificate"))), when);
      }
    }
    if (fields[i] && !is(fields[i], CONTEXT, 0)) throw new SmimeFormatError("CRL has extra fields");
    const bits = content(buf, expect(sigValue, UNIVERSAL, 3, "signatureValue"));
    return {
      issuerDer: raw(buf, issuer),
      thisUpdate,
      nextUpdate,
      revoked,
      tbs: raw(buf, tbsTlv),
      signatureAlgorithm: algorithmOf(buf, sigAlg),
      signatureValue: bits.subarray(1),
    };
  } catch (error) {
    if (error instanceof SmimeFormatError) throw error;
    throw new SmimeFormatError("not a certificate revocation list", { cause: error });
  }
}

/** Every X509 CRL in PEM text, or the one DER list. */
export function parseRevocationLists(input: Uint8Array | string): RevocationList[] {
  const text = typeof input === "string"
    ? input
    : input[0] === 0x30
    ? null
    : new TextDecoder().decode(input);
  if (text === null) return [parseRevocationList(input as Uint8Array)];
  const pattern = /-----BEGIN X509 CRL-----([\s\S]*?)-----END X509 CRL-----/g;
  const lists = [...text.matchAll(pattern)].map((m) =>
    parseRevocationList(new Uint8Array(Buffer.from(m[1].replace(/\s+/g, ""), "base64")))
  );
  if (lists.length === 0) throw new SmimeFormatError("no X509 CRL block in PEM input");
  return lists;
}

/**
 * When `cert` was revoked according to a list in `lists` that `issuer` signed, or undefined.
 * Revocations dated after `now` do not count yet.
 */
export function revocationOf(
  cert: Certificate,
  issuer: Certificate,
  lists: readonly RevocationList[],
  now: Date,
): { date: Date } | undefined {
  if (issuer.keyUsage && !issuer.keyUsage.cRLSign) return undefined;
  const serial = hex(cert.serialBytes);
  for (const list of lists) {
    const date = list.revoked.get(serial);
    if (!date || date > now) continue;
    if (!bytesEqual(list.issuerDer, cert.issuerDer) || !signedBy(list, issuer)) continue;
    return { date };
  }
  return undefined;
}

/**
 * `revocationOf` with the issuer looked up by name among `issuers` (e.g. the trust anchors), for a
 * certificate that comes without its path, such as a peer's encryption certificate.
 */
export function revocationAmong(
  cert: Certificate,
  issuers: readonly Certificate[],
  lists: readonly RevocationList[],
  now: Date,
): { date: Date } | undefined {
  for (const issuer of issuers) {
    if (!bytesEqual(issuer.subjectDer, cert.issuerDer)) continue;
    const revoked = revocationOf(cert, issuer, lists, now);
    if (revoked) return revoked;
  }
  return undefined;
}

function signedBy(list: RevocationList, issuer: Certificate): boolean {
  try {
    return verifySignature(list.signatureAlgorithm, list.tbs, list.signatureValue, issuer.spki);
  } catch (error) {
    if (error instanceof SmimeUnsupported) return false;
    throw error;
  }
}
