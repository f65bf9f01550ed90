/**
 * Sign, then encrypt (RFC 8551 §3.7). The signed layer is a clear-signed multipart/signed entity
 * (RFC 8551 §3.5.3, RFC 1847) rather than opaque signed-data: a receiver that can decrypt but not
 * verify still gets the content as an ordinary MIME part, and whoever debugs a refused message can
 * read the signed bytes directly. Inside the encryption no MTA can alter those bytes, which was the
 * argument for opaque signing.
 */
import { randomBytes } from "node:crypto";
import { concat } from "./ber.ts";
import type { Certificate } from "./certificate.ts";
import { type ContentAlgorithm, encryptContent } from "./enveloped.ts";
import { SmimeFormatError, SmimeSignatureInvalid } from "./errors.ts";
import { keyMatchesCertificate, type PrivateKey } from "./keys.ts";
import { encodeBase64Lines, headerValue } from "./mime.ts";
import { signDetached } from "./signed_data.ts";

/** What to protect, with whose key, for whom. */
export interface SealOptions {
  /** A complete MIME entity (headers, empty line, body) in canonical form: CRLF line breaks. */
  readonly content: Uint8Array;
  readonly signerCert: Certificate;
  readonly signerKey: PrivateKey;
  /** Intermediate CA certificates to include in the signature. */
  readonly signerChain?: readonly Certificate[];
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
 * message (headers, empty line, base64 body with CRLF line breaks).
 */
export function seal(options: SealOptions): Promise<Uint8Array> {
  return Promise.resolve().then(() => sealNow(options));
}

function sealNow(options: SealOptions): Uint8Array {
  const algorithm = options.algorithm ?? "aes-256-gcm";
  if (algorithm !== "aes-256-gcm" && algorithm !== "aes-256-cbc") {
    throw new SmimeFormatError(`unknown content encryption "${algorithm}"`);
  }
  if (!keyMatchesCertificate(options.signerKey, options.signerCert)) {
    throw new SmimeSignatureInvalid("the signer key does not belong to the signer certificate");
  }
  const signature = signDetached({
    content: options.content,
    certificate: options.signerCert,
    key: options.signerKey,
    chain: options.signerChain,
    signingTime: options.signingTime ?? new Date(),
  });
  const boundary = freshBoundary(options.content);
  // RFC 8551 §3.5.3: micalg names the digest actually used; protocol is the signature type.
  const head = encoder.encode(
    "MIME-Version: 1.0" + crlf +
      `Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256;${crlf}` +
      ` boundary="${boundary}"${crlf}${crlf}` +
      `--${boundary}${crlf}`,
  );
  const signaturePart = concat([
    encoder.encode(
      `${crlf}--${boundary}${crlf}` +
        `Content-Type: application/pkcs7-signature; name="smime.p7s"${crlf}` +
        `Content-Transfer-Encoding: base64${crlf}` +
        `Content-Disposition: attachment; filename="smime.p7s"${crlf}${crlf}`,
    ),
    encodeBase64Lines({ chunks: [signature], length: signature.length }),
    encoder.encode(`--${boundary}--${crlf}`),
  ]);

  const recipients = [...options.recipients];
  if (options.includeSigner && !recipients.some((r) => r.equals(options.signerCert))) {
    recipients.push(options.signerCert);
  }
  const envelope = encryptContent([head, options.content, signaturePart], recipients, algorithm);
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
  return encodeBase64Lines(envelope, encoder.encode(headers));
}

/** A boundary that does not occur in the content (RFC 2046 §5.1.1). */
function freshBoundary(content: Uint8Array): string {
  const view = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  for (;;) {
    const boundary = `----=_bp_${randomBytes(16).toString("hex")}`;
    if (view.indexOf(boundary, 0, "latin1") === -1) return boundary;
  }
}
