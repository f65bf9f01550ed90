/**
 * Trust decisions about a signer (RFC 5280 §6, simplified to what a gateway with pinned anchors
 * needs): a path to a configured anchor, validity at the checking time, and e-mail key usage
 * (RFC 8550 §4.4), and revocation by the CRLs given (crl.ts; OCSP is not asked).
 */
import { bytesEqual } from "./ber.ts";
import type { Certificate } from "./certificate.ts";
import { type RevocationList, revocationOf } from "./crl.ts";
import {
  SmimeCertificateExpired,
  SmimeCertificateRevoked,
  SmimeKeyUsageInvalid,
  SmimeUnsupported,
  SmimeUntrustedSigner,
} from "./errors.ts";
import { oids } from "./oids.ts";
import { verifySignature } from "./signature.ts";

const maxPathLength = 8;

/**
 * Returns the path signer → … → anchor, or throws SmimeUntrustedSigner, SmimeCertificateExpired,
 * SmimeCertificateRevoked or SmimeKeyUsageInvalid. Untrusted is decided first: the dates of a
 * certificate nobody vouches for do not matter.
 */
export function validateSigner(
  signer: Certificate,
  intermediates: readonly Certificate[],
  anchors: readonly Certificate[],
  now: Date,
  revocationLists: readonly RevocationList[] = [],
): Certificate[] {
  const path = build(signer, [signer], intermediates, anchors);
  if (!path) {
    throw new SmimeUntrustedSigner(`signer "${signer.subject}" does not chain to a trusted anchor`);
  }
  for (const cert of path) {
    if (!cert.validAt(now)) {
      const when = now < cert.notBefore ? "is not yet valid" : "has expired";
      throw new SmimeCertificateExpired(
        `certificate "${cert.subject}" ${when} (valid ${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()})`,
      );
    }
  }
  // Each certificate below the anchor against the lists its issuer (next in the path) signed.
  for (let i = 0; i + 1 < path.length; i++) {
    const revoked = revocationOf(path[i], path[i + 1], revocationLists, now);
    if (revoked) {
      throw new SmimeCertificateRevoked(
        `certificate "${path[i].subject}" was revoked on ${revoked.date.toISOString()} (CRL of "${
          path[i + 1].subject
        }")`,
      );
    }
  }
  const usage = signer.keyUsage;
  if (usage && !usage.digitalSignature && !usage.nonRepudiation) {
    throw new SmimeKeyUsageInvalid(
      `signer "${signer.subject}" key usage does not allow signatures`,
    );
  }
  const purposes = signer.extendedKeyUsage;
  if (
    purposes && !purposes.includes(oids.emailProtection) &&
    !purposes.includes(oids.anyExtendedKeyUsage)
  ) {
    throw new SmimeKeyUsageInvalid(
      `signer "${signer.subject}" is not issued for e-mail protection`,
    );
  }
  return path;
}

function build(
  cert: Certificate,
  path: Certificate[],
  intermediates: readonly Certificate[],
  anchors: readonly Certificate[],
): Certificate[] | null {
  if (anchors.some((a) => a.equals(cert))) return path;
  for (const anchor of anchors) {
    if (bytesEqual(anchor.subjectDer, cert.issuerDer) && issuedBy(cert, anchor)) {
      return [...path, anchor];
    }
  }
  if (path.length >= maxPathLength) return null;
  for (const ca of intermediates) {
    if (path.some((p) => p.equals(ca)) || !ca.isCa) continue;
    if (ca.keyUsage && !ca.keyUsage.keyCertSign) continue;
    if (!bytesEqual(ca.subjectDer, cert.issuerDer) || !issuedBy(cert, ca)) continue;
    const found = build(ca, [...path, ca], intermediates, anchors);
    if (found) return found;
  }
  return null;
}

function issuedBy(cert: Certificate, issuer: Certificate): boolean {
  try {
    return verifySignature(cert.signatureAlgorithm, cert.tbs, cert.signatureValue, issuer.spki);
  } catch (error) {
    if (error instanceof SmimeUnsupported) return false;
    throw error;
  }
}
