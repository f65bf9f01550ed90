/** Object identifiers used by this module, with the section that defines each. */
export const oids = {
  // RFC 5652 §4, §5.1, §6.1; RFC 5083 §1.
  data: "1.2.840.113549.1.7.1",
  signedData: "1.2.840.113549.1.7.2",
  envelopedData: "1.2.840.113549.1.7.3",
  authEnvelopedData: "1.2.840.113549.1.9.16.1.23",
  // RFC 5652 §11 attributes; RFC 8551 §2.5.2 SMIMECapabilities.
  contentType: "1.2.840.113549.1.9.3",
  messageDigest: "1.2.840.113549.1.9.4",
  signingTime: "1.2.840.113549.1.9.5",
  smimeCapabilities: "1.2.840.113549.1.9.15",
  // RFC 3565, RFC 5084.
  aes128Cbc: "2.16.840.1.101.3.4.1.2",
  aes192Cbc: "2.16.840.1.101.3.4.1.22",
  aes256Cbc: "2.16.840.1.101.3.4.1.42",
  aes128Gcm: "2.16.840.1.101.3.4.1.6",
  aes192Gcm: "2.16.840.1.101.3.4.1.26",
  aes256Gcm: "2.16.840.1.101.3.4.1.46",
  // RFC 8017 / RFC 4055.
  rsaEncryption: "1.2.840.113549.1.1.1",
  rsaesOaep: "1.2.840.113549.1.1.7",
  mgf1: "1.2.840.113549.1.1.8",
  pSpecified: "1.2.840.113549.1.1.9",
  rsassaPss: "1.2.840.113549.1.1.10",
  sha1WithRsa: "1.2.840.113549.1.1.5",
  sha256WithRsa: "1.2.840.113549.1.1.11",
  sha384WithRsa: "1.2.840.113549.1.1.12",
  sha512WithRsa: "1.2.840.113549.1.1.13",
  // RFC 5758.
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  ecdsaWithSha384: "1.2.840.10045.4.3.3",
  ecdsaWithSha512: "1.2.840.10045.4.3.4",
  ecPublicKey: "1.2.840.10045.2.1",
  // Digests (RFC 5754).
  sha1: "1.3.14.3.2.26",
  sha256: "2.16.840.1.101.3.4.2.1",
  sha384: "2.16.840.1.101.3.4.2.2",
  sha512: "2.16.840.1.101.3.4.2.3",
  // RFC 5280 extensions and key purposes.
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  extKeyUsage: "2.5.29.37",
  subjectKeyIdentifier: "2.5.29.14",
  anyExtendedKeyUsage: "2.5.29.37.0",
  emailProtection: "1.3.6.1.5.5.7.3.4",
  emailAddress: "1.2.840.113549.1.9.1",
} as const;

/** Digest OIDs to node:crypto hash names. SHA-1 is deliberately absent (RFC 8551 §2.1). */
export const digestNames: Record<string, string> = {
  [oids.sha256]: "sha256",
  [oids.sha384]: "sha384",
  [oids.sha512]: "sha512",
};

/** Digest OIDs accepted inside RSAES-OAEP parameters, where SHA-1 is still the default. */
export const oaepDigestNames: Record<string, string> = { ...digestNames, [oids.sha1]: "sha1" };

/** Content-encryption algorithms we open: OID to node:crypto cipher name and key length. */
export const contentCiphers: Record<string, { name: string; keyLength: number; aead: boolean }> = {
  [oids.aes128Cbc]: { name: "aes-128-cbc", keyLength: 16, aead: false },
  [oids.aes192Cbc]: { name: "aes-192-cbc", keyLength: 24, aead: false },
  [oids.aes256Cbc]: { name: "aes-256-cbc", keyLength: 32, aead: false },
  [oids.aes128Gcm]: { name: "aes-128-gcm", keyLength: 16, aead: true },
  [oids.aes192Gcm]: { name: "aes-192-gcm", keyLength: 24, aead: true },
  [oids.aes256Gcm]: { name: "aes-256-gcm", keyLength: 32, aead: true },
};
