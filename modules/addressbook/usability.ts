import type { CertificateInfo, Usability } from "./types.ts";
import type { NormalEndpoint } from "./normalise.ts";

/**
 * Certificates that expire within this many days are flagged, so an admin can chase the peer.
 *
 * @example
 * ```ts
 * const soon = cert.notAfter.getTime() - Date.now() < expiryWarningDays * 86_400_000;
 * ```
 */
export const expiryWarningDays = 30;

const day = 24 * 60 * 60 * 1000;

function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** The encryption certificate a sender should use now: valid, the one that lasts longest. */
export function chooseEncryptionCertificate(
  certificates: CertificateInfo[],
  now: Date,
): CertificateInfo | undefined {
  return certificates
    .filter((c) => c.use === "encryption" && c.notBefore <= now && now < c.notAfter)
    .sort((a, b) => b.notAfter.getTime() - a.notAfter.getTime())[0];
}

/**
 * Whether an endpoint can be sent to at `now`. An endpoint without a valid encryption certificate
 * cannot: a message we cannot encrypt for the peer must not leave (PS3.15 B.8, ITI-32 3.32.5).
 */
export function endpointUsability(endpoint: NormalEndpoint, now: Date): Usability {
  const chosen = chooseEncryptionCertificate(endpoint.certificates, now);
  if (chosen) {
    const warnings: Usability["warnings"] = [];
    const daysLeft = Math.floor((chosen.notAfter.getTime() - now.getTime()) / day);
    if (daysLeft < expiryWarningDays) {
      warnings.push({
        code: "CERT_EXPIRING_SOON",
        message: `encryption certificate for ${endpoint.address} expires on ${
          isoDate(chosen.notAfter)
        } (${daysLeft} days)`,
      });
    }
    return { usable: true, warnings };
  }
  const encryption = endpoint.certificates.filter((c) => c.use === "encryption");
  const expired = encryption.filter((c) => c.notAfter <= now)
    .sort((a, b) => b.notAfter.getTime() - a.notAfter.getTime())[0];
  if (expired) {
    return {
      usable: false,
      reasonCode: "CERT_EXPIRED",
      reason: `encryption certificate for ${endpoint.address} expired on ${
        isoDate(expired.notAfter)
      }`,
      warnings: [],
    };
  }
  const early = encryption.find((c) => c.notBefore > now);
  if (early) {
    return {
      usable: false,
      reasonCode: "CERT_NOT_YET_VALID",
      reason: `encryption certificate for ${endpoint.address} is valid only from ${
        isoDate(early.notBefore)
      }`,
      warnings: [],
    };
  }
  const mismatch = endpoint.refusedCertificates.find((r) => r.code === "CERT_URA_MISMATCH");
  if (mismatch) {
    return {
      usable: false,
      reasonCode: "CERT_URA_MISMATCH",
      reason: `encryption certificate for ${endpoint.address} refused: ${mismatch.reason}`,
      warnings: [],
    };
  }
  return {
    usable: false,
    reasonCode: "NO_ENCRYPTION_CERTIFICATE",
    reason: `no encryption certificate for ${endpoint.address}`,
    warnings: [],
  };
}

/** An entry is usable when one of its endpoints is; otherwise it carries the first reason. */
export function entryUsability(endpoints: Usability[]): Usability {
  if (endpoints.length === 0) {
    return {
      usable: false,
      reasonCode: "NO_ENDPOINT",
      reason: "no mail endpoint of a peer gateway",
      warnings: [],
    };
  }
  const usable = endpoints.filter((u) => u.usable);
  if (usable.length > 0) return { usable: true, warnings: usable.flatMap((u) => u.warnings) };
  return endpoints[0];
}
