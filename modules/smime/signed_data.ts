/**
 * CMS SignedData (RFC 5652 §5) for S/MIME: a detached signature with the signed attributes RFC 8551
 * §2.5 asks for, and verification of what peers send (attached or detached, DER or BER).
 */
import { constants, createHash, sign as nodeSign } from "node:crypto";
import {
  bytesEqual,
  children,
  content,
  CONTEXT,
  derNull,
  type Encoded,
  expect,
  integer,
  is,
  objectIdentifier,
  octets,
  octetString,
  oid,
  raw,
  readTime,
  readTlv,
  sequence,
  set,
  setOf,
  time,
  type Tlv,
  tlv,
  toBytes,
  UNIVERSAL,
} from "./ber.ts";
import { algorithmOf, Certificate } from "./certificate.ts";
import { SmimeFormatError, SmimeSignatureInvalid, SmimeUnsupported } from "./errors.ts";
import type { PrivateKey } from "./keys.ts";
import { digestNames, oids } from "./oids.ts";
import { verifySignature } from "./signature.ts";

/** Options for a detached signature over `content`. */
export interface SignOptions {
  /** The signed bytes, whole or in pieces (as they came, without joining them first). */
  readonly content: Uint8Array | readonly Uint8Array[];
  readonly certificate: Certificate;
  readonly key: PrivateKey;
  /** Intermediates to include so the receiver can build the path (RFC 8551 §2.4). */
  readonly chain?: readonly Certificate[];
  readonly signingTime: Date;
}

/** Content given whole or in pieces, as pieces. */
export function pieces(content: Uint8Array | readonly Uint8Array[]): readonly Uint8Array[] {
  return content instanceof Uint8Array ? [content] : content;
}

/** Builds a DER ContentInfo holding a detached SignedData (no eContent) over `content`. */
export function signDetached(options: SignOptions): Uint8Array {
  return toBytes(signedData(options, false));
}

/**
 * A DER ContentInfo holding a SignedData with `content` inside it (opaque signing), as segments:
 * the content's pieces are referenced, not copied.
 */
export function signEncapsulated(options: SignOptions): Encoded {
  return signedData(options, true);
}

function signedData(options: SignOptions, encapsulate: boolean): Encoded {
  const { certificate, key } = options;
  const hash = createHash("sha256");
  for (const piece of pieces(options.content)) hash.update(piece);
  const digest = hash.digest();
  const sha256 = sequence(objectIdentifier(oids.sha256)); // RFC 5754 §2: parameters absent
  const attribute = (type: string, value: Encoded) => sequence(objectIdentifier(type), set(value));
  // RFC 8551 §2.5.2: capabilities in order of preference; AES-GCM first, then CBC, then OAEP.
  const capabilities = sequence(
    sequence(objectIdentifier(oids.aes256Gcm)),
    sequence(objectIdentifier(oids.aes256Cbc)),
    sequence(objectIdentifier(oids.rsaesOaep)),
  );
  const attributes = setOf([
    attribute(oids.contentType, objectIdentifier(oids.data)),
    attribute(oids.signingTime, time(options.signingTime)),
    attribute(oids.messageDigest, octetString(new Uint8Array(digest))),
    attribute(oids.smimeCapabilities, capabilities),
  ]);
  // RFC 5652 §5.4: the signature covers the DER of the SET OF attributes (tag 0x31)...
  const signedAttrs = toBytes(attributes);
  let signatureAlgorithm: Encoded;
  let signature: Uint8Array;
  if (key.asymmetricKeyType === "rsa") {
    signatureAlgorithm = sequence(objectIdentifier(oids.rsaEncryption), derNull()); // RFC 3370 §3.2
    signature = nodeSign("sha256", signedAttrs, { key, padding: constants.RSA_PKCS1_PADDING });
  } else if (key.asymmetricKeyType === "ec") {
    signatureAlgorithm = sequence(objectIdentifier(oids.ecdsaWithSha256));
    signature = nodeSign("sha256", signedAttrs, { key, dsaEncoding: "der" });
  } else {
    throw new SmimeUnsupported(`signing with a ${key.asymmetricKeyType} key is not supported`);
  }
  // ...but is carried with the IMPLICIT [0] tag.
  const signedAttrsField = Uint8Array.from(signedAttrs);
  signedAttrsField[0] = 0xa0;
  const signerInfo = sequence(
    integer(1),
    sequence(certificate.issuerDer, tlv(0x02, certificate.serialBytes)),
    sha256,
    signedAttrsField,
    signatureAlgorithm,
    octetString(new Uint8Array(signature)),
  );
  const certs = [certificate, ...(options.chain ?? [])].map((c) => c.der);
  const encapsulated = encapsulate
    ? sequence(objectIdentifier(oids.data), tlv(0xa0, tlv(0x04, ...pieces(options.content))))
    : sequence(objectIdentifier(oids.data));
  const signedData = sequence(
    integer(1),
    set(sha256),
    encapsulated,
    tlv(0xa0, ...certs),
    set(signerInfo),
  );
  return sequence(objectIdentifier(oids.signedData), tlv(0xa0, signedData));
}

/** The outcome of a signature check, before any trust decision. */
export interface VerifiedSignature {
  readonly content: Uint8Array;
  readonly signer: Certificate;
  /** Certificates carried in the message, for path building. */
  readonly certificates: readonly Certificate[];
  readonly signingTime?: Date;
}

/**
 * Checks every SignerInfo of a SignedData ContentInfo over its eContent or `detached` content.
 * Trust in the signer's certificate is decided elsewhere (chain.ts).
 */
export function verifySignedData(
  buf: Uint8Array,
  detached: Uint8Array | undefined,
  extraCertificates: readonly Certificate[] = [],
): VerifiedSignature {
  const info = expect(readTlv(buf, 0), UNIVERSAL, 16, "ContentInfo");
  const [typeTlv, wrapped] = children(buf, info);
  if (oid(buf, typeTlv) !== oids.signedData) {
    throw new SmimeFormatError("content is not CMS SignedData");
  }
  const sd = expect(
    children(buf, expect(wrapped, CONTEXT, 0, "ContentInfo content"))[0],
    UNIVERSAL,
    16,
    "SignedData",
  );
  const fields = children(buf, sd);
  const encap = expect(fields[2], UNIVERSAL, 16, "EncapsulatedContentInfo");
  const [eTypeTlv, eContentWrapper] = children(buf, encap);
  const eContentType = oid(buf, eTypeTlv);
  let data: Uint8Array;
  if (eContentWrapper) {
    data = octets(
      buf,
      expect(
        children(buf, expect(eContentWrapper, CONTEXT, 0, "eContent"))[0],
        UNIVERSAL,
        4,
        "eContent",
      ),
    );
  } else if (detached) {
    data = detached;
  } else {
    throw new SmimeSignatureInvalid("signed data carries no content and none was given");
  }
  const certificates: Certificate[] = [];
  let signerInfosTlv: Tlv | undefined;
  for (const field of fields.slice(3)) {
    if (is(field, CONTEXT, 0)) {
      for (const c of children(buf, field)) {
        if (is(c, UNIVERSAL, 16)) certificates.push(new Certificate(raw(buf, c)));
      }
    } else if (is(field, UNIVERSAL, 17)) signerInfosTlv = field;
  }
  const signerInfos = signerInfosTlv ? children(buf, signerInfosTlv) : [];
  if (signerInfos.length === 0) throw new SmimeSignatureInvalid("signed data has no signer");
  const candidates = [...certificates, ...extraCertificates];
  let first: { signer: Certificate; signingTime?: Date } | undefined;
  for (const si of signerInfos) {
    const result = verifySignerInfo(buf, si, data, eContentType, candidates);
    first ??= result;
  }
  return { content: data, signer: first!.signer, certificates, signingTime: first!.signingTime };
}

function verifySignerInfo(
  buf: Uint8Array,
  si: Tlv,
  data: Uint8Array,
  eContentType: string,
  candidates: readonly Certificate[],
): { signer: Certificate; signingTime?: Date } {
  const f = children(buf, expect(si, UNIVERSAL, 16, "SignerInfo"));
  const sid = f[1];
  let signer: Certificate | undefined;
  if (is(sid, UNIVERSAL, 16)) {
    const [issuer, serial] = children(buf, sid);
    const issuerDer = raw(buf, issuer);
    const serialBytes = content(buf, expect(serial, UNIVERSAL, 2, "serialNumber"));
    signer = candidates.find((c) =>
      bytesEqual(c.issuerDer, issuerDer) && bytesEqual(c.serialBytes, serialBytes)
    );
  } else if (is(sid, CONTEXT, 0)) {
    const ski = content(buf, sid);
    signer = candidates.find((c) =>
      c.subjectKeyIdentifier && bytesEqual(c.subjectKeyIdentifier, ski)
    );
  }
  if (!signer) throw new SmimeSignatureInvalid("the signer's certificate is not in the message");
  const digestOid = algorithmOf(buf, f[2]).oid;
  const hash = digestNames[digestOid];
  if (!hash) {
    throw new SmimeUnsupported(`digest algorithm ${digestOid} is not accepted (RFC 8551 §2.1)`);
  }
  let i = 3;
  let signedBytes = data;
  let signingTime: Date | undefined;
  if (is(f[i], CONTEXT, 0)) {
    const attrsTlv = f[i++];
    const attrs = new Map<string, Tlv[]>();
    for (const attr of children(buf, attrsTlv)) {
      const [type, values] = children(buf, attr);
      attrs.set(oid(buf, type), children(buf, values));
    }
    const digest = createHash(hash).update(data).digest();
    const md = attrs.get(oids.messageDigest)?.[0];
    if (!md || !bytesEqual(octets(buf, md), new Uint8Array(digest))) {
      throw new SmimeSignatureInvalid("message digest does not match the content");
    }
    const ct = attrs.get(oids.contentType)?.[0];
    if (!ct || oid(buf, ct) !== eContentType) {
      throw new SmimeSignatureInvalid("content-type attribute does not match the content");
    }
    const st = attrs.get(oids.signingTime)?.[0];
    if (st) signingTime = readTime(buf, st);
    // RFC 5652 §5.4: verify over the attributes with an explicit SET OF tag.
    signedBytes = Uint8Array.from(raw(buf, attrsTlv));
    signedBytes[0] = 0x31;
  }
  const algorithm = algorithmOf(buf, f[i++]);
  const signature = octets(buf, expect(f[i], UNIVERSAL, 4, "signature"));
  if (!verifySignature(algorithm, signedBytes, signature, signer.spki, digestOid)) {
    throw new SmimeSignatureInvalid("signature does not verify");
  }
  return { signer, signingTime };
}
