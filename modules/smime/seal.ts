/**
 * Sign, then encrypt (RFC 8551 §3.7). The signed layer is a clear-signed multipart/signed entity
 * (RFC 8551 §3.5.3, RFC 1847) rather than opaque signed-data: a receiver that can decrypt but not
 * verify still gets the content as an ordinary MIME part, and whoever debugs a refused message can
 * read the signed bytes directly. Inside the encryption no MTA can alter those bytes, which was the
 * argument for opaque signing.
 */
import { randomBytes } from "node:crypto";
import { bareLineBreak, concatBytes, releaseBytes } from "../core/mod.ts";
import type { Certificate } from "./certificate.ts";
import { type ContentAlgorithm, encryptContent } from "./enveloped.ts";
import { SmimeFormatError, SmimeSignatureInvalid } from "./errors.ts";
import { keyMatchesCertificate, type PrivateKey } from "./keys.ts";
import { encodeBase64Lines, headerValue } from "./mime.ts";
import { pieces, signDetached, signEncapsulated, type SignOptions } from "./signed_data.ts";

/**
 * What to protect, with whose key, for whom.
 *
 * @example
 * ```ts
 * const options: SealOptions = { content, signerCert, signerKey, recipients: [peer], includeSigner: true };
 * ```
 */
export interface SealOptions {
  /**
   * A complete MIME entity (headers, empty line, body) in canonical form: CRLF line breaks and a
   * 7-bit transfer encoding (base64 for binary). Anything else is refused with SmimeFormatError.
   * May come in pieces: they are joined once, for the encryption, instead of by the caller too.
   */
  readonly content: Uint8Array | readonly Uint8Array[];
  /**
   * The entity has bodies that are not transfer-encoded (Content-Transfer-Encoding binary). RFC
   * 8551 §3.1.2 prefers that inside the encryption for recipients known to take it: the message
   * is a quarter smaller. Its line breaks are then not checked, and it is signed opaquely
   * (signed-data, its DER sent as binary): a multipart/signed parser may rewrite the line ends
   * of a binary body (openssl's does, `-binary` or not), which breaks the signature.
   */
  readonly binaryContent?: boolean;
  /** Our signing certificate; included in the signature. */
  readonly signerCert: Certificate;
  /** Its private key (RSA: PKCS#1 v1.5 SHA-256; EC: ECDSA SHA-256). */
  readonly signerKey: PrivateKey;
  /** Intermediate CA certificates to include in the signature. */
  readonly signerChain?: readonly Certificate[];
  /** Certificates to encrypt to (RSA keys; RSA-OAEP SHA-256 key transport). */
  readonly recipients: readonly Certificate[];
  /** Also encrypt to `signerCert`, so our own copy (sent items, spool) stays readable. */
  readonly includeSigner?: boolean;
  /** Default "aes-256-gcm" (AuthEnvelopedData); "aes-256-cbc" for peers without it. */
  readonly algorithm?: ContentAlgorithm;
  /** Extra outer header fields (From, To, Subject, Message-ID, Date); no patient data here. */
  readonly headers?: Readonly<Record<string, string>>;
  /** The signing-time attribute; defaults to now. */
  readonly signingTime?: Date;
}

const crlf = "\r\n";
const encoder = new TextEncoder();

/**
 * Signs `content` and encrypts the signed entity; returns the complete application/pkcs7-mime
 * message (headers, empty line, base64 body with CRLF line breaks). Everything happens in memory:
 * about five times the part size at peak, so parts must stay bounded (10 MB by default).
 *
 * @example
 * ```ts
 * const mail = await seal({
 *   content: partEntity, // CRLF MIME entity, e.g. a base64 zip part
 *   signerCert: ours, signerKey: ourKey,
 *   recipients: [peerCert], includeSigner: true,
 *   algorithm: "aes-256-cbc", // when the peer does not advertise AES-GCM
 *   headers: { From: "gateway@zkh-a.example", To: "gateway@zkh-b.example" },
 * });
 * ```
 */
// The work is synchronous now (core cipher), but failures stay rejections: callers handle them so.
// deno-lint-ignore require-await
export async function seal(options: SealOptions): Promise<Uint8Array> {
  const algorithm = options.algorithm ?? "aes-256-gcm";
  if (algorithm !== "aes-256-gcm" && algorithm !== "aes-256-cbc") {
    throw new SmimeFormatError(`unknown content encryption "${algorithm}"`);
  }
  if (!options.binaryContent) assertCanonical(options.content);
  if (!keyMatchesCertificate(options.signerKey, options.signerCert)) {
    throw new SmimeSignatureInvalid("the signer key does not belong to the signer certificate");
  }
  const signed = options.binaryContent ? signedOpaquely(options) : signedInClear(options);
  const recipients = [...options.recipients];
  if (options.includeSigner && !recipients.some((r) => r.equals(options.signerCert))) {
    recipients.push(options.signerCert);
  }
  const { der, ciphertext } = encryptContent(signed, recipients, algorithm);
  const smimeType = algorithm === "aes-256-gcm" ? "authEnveloped-data" : "enveloped-data";
  let headers = "";
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (!/^[!-9;-~]+$/.test(name) || /^(content-|mime-version$)/i.test(name)) {
      throw new SmimeFormatError(`header "${name}" cannot be set on the sealed message`);
    }
    headers += `${name}: ${headerValue(value)}${crlf}`;
  }
  headers += "MIME-Version: 1.0" + crlf +
    `Content-Type: application/pkcs7-mime; smime-type=${smimeType}; name="smime.p7m"${crlf}` +
    `Content-Transfer-Encoding: base64${crlf}` +
    `Content-Disposition: attachment; filename="smime.p7m"${crlf}${crlf}`;
  const message = encodeBase64Lines(der, encoder.encode(headers));
  releaseBytes(ciphertext); // as large as the content, and encoded now
  return message;
}

function signOptionsOf(options: SealOptions): SignOptions {
  return {
    content: options.content,
    certificate: options.signerCert,
    key: options.signerKey,
    chain: options.signerChain,
    signingTime: options.signingTime ?? new Date(),
  };
}

/** multipart/signed (RFC 8551 §3.5.3): the entity as it is, then a detached signature. */
function signedInClear(options: SealOptions): Uint8Array[] {
  const signature = signDetached(signOptionsOf(options));
  const boundary = freshBoundary();
  // RFC 8551 §3.5.3: micalg names the digest actually used; protocol is the signature type.
  const head = encoder.encode(
    "MIME-Version: 1.0" + crlf +
      `Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256;${crlf}` +
      ` boundary="${boundary}"${crlf}${crlf}` +
      `--${boundary}${crlf}`,
  );
  const signaturePart = concatBytes([
    encoder.encode(
      `${crlf}--${boundary}${crlf}` +
        `Content-Type: application/pkcs7-signature; name="smime.p7s"${crlf}` +
        `Content-Transfer-Encoding: base64${crlf}` +
        `Content-Disposition: attachment; filename="smime.p7s"${crlf}${crlf}`,
    ),
    encodeBase64Lines({ chunks: [signature], length: signature.length }),
    encoder.encode(`--${boundary}--${crlf}`),
  ]);
  return [head, ...pieces(options.content), signaturePart];
}

/** application/pkcs7-mime signed-data (RFC 8551 §3.5.2): the entity inside the signature. */
function signedOpaquely(options: SealOptions): Uint8Array[] {
  const signedData = signEncapsulated(signOptionsOf(options));
  const head = encoder.encode(
    "MIME-Version: 1.0" + crlf +
      `Content-Type: application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"${crlf}` +
      `Content-Transfer-Encoding: binary${crlf}` +
      `Content-Disposition: attachment; filename="smime.p7m"${crlf}${crlf}`,
  );
  return [head, ...signedData.chunks];
}

/**
 * RFC 8551 §3.1.1/§3.1.3: the clear-signed entity must be canonical, CRLF line breaks and 7-bit
 * safe transfer encodings. Peers canonicalise before verifying (measured: openssl cms -verify
 * fails on bare-LF content), so non-canonical content is refused rather than silently rewritten.
 */
function assertCanonical(content: Uint8Array | readonly Uint8Array[]): void {
  const refuse = (kind: string, at: number) => {
    throw new SmimeFormatError(
      `content has a bare ${kind} at byte ${at}: use CRLF line breaks (RFC 8551 §3.1.1)`,
    );
  };
  let offset = 0;
  let last = -1;
  for (const piece of pieces(content)) {
    const bare = bareLineBreak(piece, last);
    if (bare) refuse(bare.kind, offset + bare.at);
    if (piece.length > 0) last = piece[piece.length - 1];
    offset += piece.length;
  }
  if (last === 0x0d) refuse("CR", offset - 1);
}

/**
 * A boundary for the clear-signed entity (RFC 2046 §5.1.1). 128 random bits cannot be expected to
 * occur in the content, so the content is not searched for it (that search cost 45 ms per 27 MB
 * part).
 */
function freshBoundary(): string {
  return `----=_bp_${randomBytes(16).toString("hex")}`;
}
