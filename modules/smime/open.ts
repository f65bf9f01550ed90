/**
 * Decrypt, then verify (RFC 8551 §3.7 in reverse): the outer layer must be encrypted, the inner
 * layer must be signed (clear multipart/signed or opaque signed-data), the signer must chain to a
 * configured anchor, be valid now, be allowed to sign e-mail, and be the sender we expect.
 */
import { releaseBytes } from "../core/mod.ts";
import { Certificate } from "./certificate.ts";
import { validateSigner } from "./chain.ts";
import type { RevocationList } from "./crl.ts";
import { decryptContent } from "./enveloped.ts";
import { SmimeFormatError, SmimeSignatureInvalid, SmimeSignerMismatch } from "./errors.ts";
import type { PrivateKey } from "./keys.ts";
import { decodeBase64, parseContentType, parseEntity, splitMultipart } from "./mime.ts";
import { type VerifiedSignature, verifySignedData } from "./signed_data.ts";

/**
 * Who must have signed: that exact certificate, or any trusted certificate for that address.
 *
 * @example
 * ```ts
 * const expected: ExpectedSigner = entry.certificate ?? { email: entry.email };
 * ```
 */
export type ExpectedSigner = Certificate | { readonly email?: string };

/**
 * The message and the keys, anchors and expectations to open it with.
 *
 * @example
 * ```ts
 * const options: OpenOptions = { message, recipientKey, recipientCert, trustAnchors: [uziCa] };
 * ```
 */
export interface OpenOptions {
  /** The received message: MIME (headers + body), or bare DER/BER or PEM CMS. */
  readonly message: Uint8Array;
  /** Our private key. */
  readonly recipientKey: PrivateKey;
  /** Our certificate; selects the RecipientInfo addressed to us. */
  readonly recipientCert: Certificate;
  /** The anchors a signer must chain to (pin the peer's CA, not a whole root store). */
  readonly trustAnchors: readonly Certificate[];
  /** When given, a valid signature by anyone else is refused with SmimeSignerMismatch. */
  readonly expectedSigner?: ExpectedSigner;
  /** The time at which certificates must be valid; defaults to now. */
  readonly now?: Date;
  /** CRLs of the CAs in the signer's path; a certificate on one its issuer signed is refused. */
  readonly revocationLists?: readonly RevocationList[];
}

/**
 * The verified content and what was learned on the way.
 *
 * @example
 * ```ts
 * const { content, signer } = await open(options);
 * audit("received", { from: signer.email, fingerprint: signer.certificate.fingerprint });
 * ```
 */
export interface OpenedMessage {
  /** The signed MIME entity, byte for byte as signed. */
  readonly content: Uint8Array;
  /** The verified signer: certificate, subject (`CN=…, O=…`) and first e-mail address. */
  readonly signer: {
    readonly certificate: Certificate;
    readonly subject: string;
    readonly email?: string;
  };
  /** Content encryption, e.g. "aes-256-gcm". */
  readonly algorithm: string;
  /** Key transport, e.g. "rsa-oaep-sha256" or "rsa-pkcs1-v1_5". */
  readonly keyTransport: string;
  /** Clear-signed or opaque. */
  readonly signedAs: "multipart/signed" | "signed-data";
  /** The signer's claimed signing time (signed attribute), if present. */
  readonly signingTime?: Date;
}

const pkcs7Mime = new Set(["application/pkcs7-mime", "application/x-pkcs7-mime"]);
const pkcs7Signature = new Set(["application/pkcs7-signature", "application/x-pkcs7-signature"]);

/**
 * Decrypts and verifies a message; every refusal is a named SmimeError subclass. Accepts MIME
 * (application/pkcs7-mime), bare DER/BER and PEM; GCM or CBC; OAEP or PKCS#1 v1.5 key transport;
 * clear (multipart/signed) or opaque (signed-data) signatures.
 *
 * @example
 * ```ts
 * const opened = await open({
 *   message, recipientKey: ourKey, recipientCert: ours,
 *   trustAnchors: [uziCa], expectedSigner: { email: "gateway@zkh-a.example" },
 * });
 * await Deno.writeFile("part.eml", opened.content);
 * ```
 */
// The work is synchronous now (core cipher), but failures stay rejections: callers handle them so.
// deno-lint-ignore require-await
export async function open(options: OpenOptions): Promise<OpenedMessage> {
  const envelope = outerCms(options.message);
  const decrypted = decryptContent(
    envelope.der,
    options.recipientCert,
    options.recipientKey,
    {
      scratch: envelope.decoded,
    },
  );
  // Ours and read: free it now, unless the content was decrypted in place inside it.
  if (envelope.decoded && decrypted.content.buffer !== envelope.der.buffer) {
    releaseBytes(envelope.der);
  }
  const extra = options.expectedSigner instanceof Certificate ? [options.expectedSigner] : [];
  const { verified, signedAs } = verifyInner(decrypted.content, extra);
  validateSigner(
    verified.signer,
    verified.certificates,
    options.trustAnchors,
    options.now ?? new Date(),
    options.revocationLists,
  );
  checkExpected(verified.signer, options.expectedSigner);
  return {
    content: verified.content,
    signer: {
      certificate: verified.signer,
      subject: verified.signer.subject,
      email: verified.signer.emailAddresses[0],
    },
    algorithm: decrypted.algorithm,
    keyTransport: decrypted.keyTransport,
    signedAs,
    signingTime: verified.signingTime,
  };
}

/**
 * The CMS bytes of the outer layer, whatever wrapping they arrived in; `decoded` when they are a
 * fresh buffer of ours (not the caller's message) that decryption may overwrite.
 */
function outerCms(message: Uint8Array): { der: Uint8Array; decoded: boolean } {
  let start = 0;
  while (
    start < message.length &&
    (message[start] === 0x0d || message[start] === 0x0a || message[start] === 0x20)
  ) start++;
  if (message[start] === 0x30) return { der: message.subarray(start), decoded: false };
  const pem = pemBody(message.subarray(start));
  if (pem) return { der: pem, decoded: true };
  const entity = parseEntity(message);
  const type = parseContentType(entity.headers.get("content-type"));
  if (!pkcs7Mime.has(type.type)) {
    throw new SmimeFormatError(`not an S/MIME encrypted message (Content-Type ${type.type})`);
  }
  const encoding = entity.headers.get("content-transfer-encoding");
  const der = transferDecode(encoding, entity.body);
  return { der, decoded: der !== entity.body };
}

function pemBody(bytes: Uint8Array): Uint8Array | null {
  const head = new TextDecoder().decode(bytes.subarray(0, 40));
  if (!/^-----BEGIN (PKCS7|CMS)-----/.test(head)) return null;
  const text = new TextDecoder().decode(bytes);
  const m = /-----BEGIN (PKCS7|CMS)-----([\s\S]*?)-----END \1-----/.exec(text);
  if (!m) throw new SmimeFormatError("PEM block is not terminated");
  return decodeBase64(new TextEncoder().encode(m[2]));
}

function transferDecode(encoding: string | undefined, body: Uint8Array): Uint8Array {
  const cte = (encoding ?? "7bit").trim().toLowerCase();
  if (cte === "base64") return decodeBase64(body);
  if (cte === "binary" || cte === "8bit" || cte === "7bit") return body;
  throw new SmimeFormatError(`unsupported Content-Transfer-Encoding "${cte}" for CMS data`);
}

function verifyInner(
  inner: Uint8Array,
  extra: readonly Certificate[],
): { verified: VerifiedSignature; signedAs: OpenedMessage["signedAs"] } {
  if (inner[0] === 0x30) {
    // Some senders put bare signed-data inside the envelope instead of a MIME entity.
    return { verified: verifySignedData(inner, undefined, extra), signedAs: "signed-data" };
  }
  const entity = parseEntity(inner);
  const type = parseContentType(entity.headers.get("content-type"));
  if (type.type === "multipart/signed") {
    const boundary = type.params.boundary;
    if (!boundary) throw new SmimeFormatError("multipart/signed without a boundary");
    const parts = splitMultipart(entity.body, boundary);
    if (parts.length < 2) throw new SmimeFormatError("multipart/signed needs two body parts");
    const signaturePart = parseEntity(parts[1]);
    const sigType = parseContentType(signaturePart.headers.get("content-type"));
    if (!pkcs7Signature.has(sigType.type)) {
      throw new SmimeSignatureInvalid(
        `multipart/signed carries ${sigType.type}, not a CMS signature`,
      );
    }
    const der = transferDecode(
      signaturePart.headers.get("content-transfer-encoding"),
      signaturePart.body,
    );
    return { verified: verifySignedData(der, parts[0], extra), signedAs: "multipart/signed" };
  }
  if (pkcs7Mime.has(type.type)) {
    const smimeType = type.params["smime-type"]?.toLowerCase();
    if (smimeType !== undefined && smimeType !== "signed-data") {
      throw new SmimeSignatureInvalid(`inner layer is ${smimeType}, not signed-data`);
    }
    const der = transferDecode(entity.headers.get("content-transfer-encoding"), entity.body);
    return { verified: verifySignedData(der, undefined, extra), signedAs: "signed-data" };
  }
  throw new SmimeSignatureInvalid(`decrypted content is not signed (Content-Type ${type.type})`);
}

function checkExpected(signer: Certificate, expected: ExpectedSigner | undefined): void {
  if (!expected) return;
  if (expected instanceof Certificate) {
    if (!signer.equals(expected)) {
      throw new SmimeSignerMismatch(
        `signed by "${signer.subject}", expected "${expected.subject}"`,
      );
    }
    return;
  }
  if (expected.email !== undefined) {
    const wanted = expected.email.trim().toLowerCase();
    if (!signer.emailAddresses.some((e) => e.toLowerCase() === wanted)) {
      throw new SmimeSignerMismatch(`signed by "${signer.subject}", not by ${expected.email}`);
    }
  }
}
