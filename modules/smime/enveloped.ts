/**
 * Content encryption: AuthEnvelopedData with AES-GCM (RFC 5083, RFC 5084) and EnvelopedData with
 * AES-CBC (RFC 5652 §6, RFC 3565), key transport by RSA (RFC 3560 OAEP, PKCS#1 v1.5 on receipt).
 * Built and read with our own DER code rather than pkijs: pkijs has no AuthEnvelopedData, cannot
 * unwrap PKCS#1 v1.5 keys through WebCrypto, and holds about ten copies of a large payload.
 */
import {
  constants,
  createPublicKey,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
} from "node:crypto";
import {
  bytesEqual,
  children,
  content,
  CONTEXT,
  type Encoded,
  expect,
  integer,
  is,
  lengthOctets,
  objectIdentifier,
  octets,
  octetString,
  oid,
  raw,
  readTlv,
  sequence,
  smallInteger,
  type Tlv,
  tlv,
  UNIVERSAL,
} from "./ber.ts";
import { type CipherName, type DecryptOptions, decryptor, encryptor } from "../core/mod.ts";
import type { Certificate } from "./certificate.ts";
import {
  SmimeDecryptError,
  SmimeFormatError,
  SmimeIntegrityError,
  SmimeUnsupported,
} from "./errors.ts";
import { keyMatchesCertificate, type PrivateKey } from "./keys.ts";
import { contentCiphers, oaepDigestNames, oids } from "./oids.ts";

/**
 * Content encryption we emit. GCM is the RFC 8551 §2.7 MUST; CBC for peers without AuthEnvelopedData.
 *
 * @example
 * ```ts
 * const algorithm: ContentAlgorithm = peer.supportsGcm ? "aes-256-gcm" : "aes-256-cbc";
 * ```
 */
export type ContentAlgorithm = "aes-256-gcm" | "aes-256-cbc";

/** An encrypted ContentInfo, and its ciphertext buffer for the caller to free once encoded. */
export interface EncryptedContent {
  readonly der: Encoded;
  readonly ciphertext: Uint8Array;
}

/**
 * Encrypts `parts` (joined, they are the content) for every recipient and returns the DER
 * ContentInfo as segments, so the ciphertext is not copied again before base64. The parts are
 * fed to core's cipher one after another (OpenSSL, ~4 GB/s), so they are never joined.
 */
export function encryptContent(
  parts: readonly Uint8Array[],
  recipients: readonly Certificate[],
  algorithm: ContentAlgorithm,
): EncryptedContent {
  if (recipients.length === 0) throw new SmimeFormatError("at least one recipient is needed");
  const cek = crypto.getRandomValues(new Uint8Array(32));
  const recipientInfos = recipients.map((r) => keyTransRecipientInfo(r, cek));
  let total = 0;
  for (const p of parts) total += p.length;
  const gcm = algorithm === "aes-256-gcm";
  // RFC 5084 §3.2: 12-octet nonce, 16-octet ICV; a fresh key per message makes a random nonce
  // safe. CBC: a random 16-octet IV, PKCS#7 padding as RFC 5652 §6.3 asks (up to a block more).
  const iv = crypto.getRandomValues(new Uint8Array(gcm ? 12 : 16));
  const out = new Uint8Array(total + 16);
  let at = 0;
  using cipher = encryptor(algorithm, cek, iv);
  for (const part of parts) at += cipher.update(part, out.subarray(at)).length;
  const last = cipher.final();
  out.set(last, at);
  const ciphertext = out.subarray(0, at + last.length);
  if (gcm) {
    const eci = encryptedContentInfo(
      sequence(objectIdentifier(oids.aes256Gcm), sequence(octetString(iv), integer(16))),
      ciphertext,
    );
    // RFC 5083 §2.1: version 0, no authAttrs (content type is id-data), mac.
    const authEnveloped = sequence(
      integer(0),
      tlv(0x31, ...recipientInfos),
      eci,
      octetString(cipher.tag()),
    );
    return {
      der: sequence(objectIdentifier(oids.authEnvelopedData), tlv(0xa0, authEnveloped)),
      ciphertext: out,
    };
  }
  const eci = encryptedContentInfo(
    sequence(objectIdentifier(oids.aes256Cbc), octetString(iv)),
    ciphertext,
  );
  // RFC 5652 §6.1: version 0 when only version-0 KeyTransRecipientInfos and no originator info.
  const enveloped = sequence(integer(0), tlv(0x31, ...recipientInfos), eci);
  return {
    der: sequence(objectIdentifier(oids.envelopedData), tlv(0xa0, enveloped)),
    ciphertext: out,
  };
}

function encryptedContentInfo(algorithm: Encoded, ciphertext: Uint8Array): Encoded {
  // encryptedContent [0] IMPLICIT OCTET STRING, primitive, definite length (DER).
  const header = Uint8Array.of(0x80, ...lengthOctets(ciphertext.length));
  const encryptedContent: Encoded = {
    chunks: [header, ciphertext],
    length: header.length + ciphertext.length,
  };
  return sequence(objectIdentifier(oids.data), algorithm, encryptedContent);
}

/** RFC 5652 §6.2.1 with RSAES-OAEP SHA-256 / MGF1-SHA-256 (RFC 4055 §4.1, RFC 8551 §2.3). */
function keyTransRecipientInfo(recipient: Certificate, cek: Uint8Array): Encoded {
  if (recipient.keyAlgorithm !== oids.rsaEncryption) {
    throw new SmimeUnsupported(
      `recipient ${recipient.subject} has a non-RSA key; only RSA key transport is implemented`,
    );
  }
  const key = createPublicKey({ key: Buffer.from(recipient.spki), format: "der", type: "spki" });
  const encryptedKey = publicEncrypt({
    key,
    padding: constants.RSA_PKCS1_OAEP_PADDING,
    oaepHash: "sha256",
  }, cek);
  const sha256 = sequence(objectIdentifier(oids.sha256)); // parameters absent, as OpenSSL writes them
  const oaepParams = sequence(
    tlv(0xa0, sha256),
    tlv(0xa1, sequence(objectIdentifier(oids.mgf1), sha256)),
  );
  return sequence(
    integer(0),
    sequence(recipient.issuerDer, tlv(0x02, recipient.serialBytes)),
    sequence(objectIdentifier(oids.rsaesOaep), oaepParams),
    octetString(new Uint8Array(encryptedKey)),
  );
}

/** What decryption found. */
export interface Decrypted {
  readonly content: Uint8Array;
  /** e.g. "aes-256-gcm" */
  readonly algorithm: string;
  /** "rsa-oaep-sha256", "rsa-oaep-sha1", "rsa-pkcs1-v1_5" */
  readonly keyTransport: string;
}

/**
 * Decrypts an EnvelopedData or AuthEnvelopedData ContentInfo (DER or BER) with our key.
 * `scratch`: the caller owns `buf` and it may be overwritten, which saves a copy of the whole
 * ciphertext for GCM.
 */
export function decryptContent(
  buf: Uint8Array,
  certificate: Certificate,
  key: PrivateKey,
  { scratch = false }: { scratch?: boolean } = {},
): Decrypted {
  const info = expect(readTlv(buf, 0), UNIVERSAL, 16, "ContentInfo");
  const [typeTlv, wrapped] = children(buf, info);
  const type = oid(buf, typeTlv);
  if (type !== oids.envelopedData && type !== oids.authEnvelopedData) {
    throw new SmimeFormatError(
      type === oids.signedData
        ? "message is signed but not encrypted"
        : `content type ${type} is not encrypted data`,
    );
  }
  const authenticated = type === oids.authEnvelopedData;
  const body = expect(
    children(buf, expect(wrapped, CONTEXT, 0, "ContentInfo content"))[0],
    UNIVERSAL,
    16,
    "EnvelopedData",
  );
  const fields = children(buf, body);
  let i = 1; // after version
  if (is(fields[i], CONTEXT, 0)) i++; // originatorInfo
  const recipientInfos = expect(fields[i++], UNIVERSAL, 17, "RecipientInfos");
  const eci = expect(fields[i++], UNIVERSAL, 16, "EncryptedContentInfo");
  let authAttrs: Tlv | undefined;
  let mac: Uint8Array | undefined;
  if (authenticated) {
    if (is(fields[i], CONTEXT, 1)) authAttrs = fields[i++];
    mac = octets(buf, expect(fields[i], UNIVERSAL, 4, "mac"));
  }

  const [, algTlv, encryptedTlv] = children(buf, eci);
  const [cipherOid, paramsTlv] = children(
    buf,
    expect(algTlv, UNIVERSAL, 16, "contentEncryptionAlgorithm"),
  );
  const cipherId = oid(buf, cipherOid);
  const cipher = contentCiphers[cipherId];
  if (!cipher) throw new SmimeUnsupported(`content encryption ${cipherId} is not supported`);
  if (cipher.aead !== authenticated) {
    throw new SmimeFormatError(
      `${cipher.name} does not belong in ${authenticated ? "AuthEnvelopedData" : "EnvelopedData"}`,
    );
  }
  if (!is(encryptedTlv, CONTEXT, 0)) {
    throw new SmimeFormatError("encrypted content is absent (detached content is not supported)");
  }
  if (!keyMatchesCertificate(key, certificate)) {
    throw new SmimeDecryptError("the private key does not belong to the recipient certificate");
  }
  const { cek, keyTransport } = unwrapKey(buf, recipientInfos, certificate, key, cipher.keyLength);
  const segments = segmentsOf(buf, encryptedTlv);

  let total = 0;
  for (const s of segments) total += s.length;
  let options: DecryptOptions = {};
  let iv: Uint8Array;
  if (cipher.aead) {
    // RFC 5084 §3.2 GCMParameters { aes-nonce OCTET STRING, aes-ICVlen INTEGER DEFAULT 12 }.
    const params = children(buf, expect(paramsTlv, UNIVERSAL, 16, "GCMParameters"));
    iv = octets(buf, expect(params[0], UNIVERSAL, 4, "aes-nonce"));
    const icvLength = params[1] ? smallInteger(buf, params[1]) : 12;
    if (![12, 13, 14, 15, 16].includes(icvLength) || mac!.length !== icvLength) {
      throw new SmimeIntegrityError("GCM tag length does not match its parameters");
    }
    if (iv.length === 0) throw new SmimeFormatError("GCM nonce is empty");
    options = { tag: mac };
    if (authAttrs) {
      // RFC 5083 §2.2: the AAD is the DER of authAttrs with an explicit SET OF tag.
      const aad = Uint8Array.from(raw(buf, authAttrs));
      aad[0] = 0x31;
      options.aad = aad;
    }
  } else {
    iv = octets(buf, expect(paramsTlv, UNIVERSAL, 4, "CBC IV"));
    if (iv.length !== 16) throw new SmimeFormatError("AES-CBC IV is not 16 octets");
    if (total % 16 !== 0 || total === 0) {
      throw new SmimeIntegrityError(
        "AES-CBC ciphertext length is not a multiple of the block size",
      );
    }
  }
  // Segment by segment into one buffer, so nothing is joined first. With `scratch`, GCM over a
  // single segment decrypts in place (OpenSSL allows exactly coinciding buffers, not others).
  const content = scratch && cipher.aead && segments.length === 1
    ? segments[0]
    : new Uint8Array(total + 16);
  let at = 0;
  try {
    using decipher = decryptor(cipher.name as CipherName, cek, iv, options);
    for (const segment of segments) at += decipher.update(segment, content.subarray(at)).length;
    const last = decipher.final();
    content.set(last, at);
    at += last.length;
  } catch (error) {
    if (error instanceof SmimeFormatError || error instanceof SmimeIntegrityError) throw error;
    throw new SmimeIntegrityError(
      cipher.aead
        ? "authentication tag does not verify: the message was altered"
        : "decryption failed: padding or content altered",
      { cause: error },
    );
  }
  return { content: content.subarray(0, at), algorithm: cipher.name, keyTransport };
}

/** The segments of an OCTET STRING (primitive, or constructed as openssl streams it), uncopied. */
function segmentsOf(buf: Uint8Array, t: Tlv): Uint8Array[] {
  if (!t.constructed) return [content(buf, t)];
  const out: Uint8Array[] = [];
  for (const child of children(buf, t)) {
    if (!is(child, UNIVERSAL, 4)) {
      throw new SmimeFormatError("encrypted content segment is not an OCTET STRING");
    }
    out.push(...segmentsOf(buf, child));
  }
  return out;
}

function unwrapKey(
  buf: Uint8Array,
  recipientInfos: Tlv,
  certificate: Certificate,
  key: PrivateKey,
  keyLength: number,
): { cek: Uint8Array; keyTransport: string } {
  for (const ri of children(buf, recipientInfos)) {
    if (!is(ri, UNIVERSAL, 16)) continue; // kari [1], kekri [2], pwri [3], ori [4]: not for us
    const [, rid, algTlv, encryptedKeyTlv] = children(buf, ri);
    if (!ridMatches(buf, rid, certificate)) continue;
    const [algOid, params] = children(buf, expect(algTlv, UNIVERSAL, 16, "keyEncryptionAlgorithm"));
    const alg = oid(buf, algOid);
    const encryptedKey = octets(buf, expect(encryptedKeyTlv, UNIVERSAL, 4, "encryptedKey"));
    if (alg === oids.rsaesOaep) {
      const hash = oaepHash(buf, params);
      let cek: Uint8Array;
      try {
        cek = new Uint8Array(
          privateDecrypt(
            { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash },
            encryptedKey,
          ),
        );
      } catch (error) {
        throw new SmimeDecryptError("content key could not be unwrapped (RSA-OAEP)", {
          cause: error,
        });
      }
      if (cek.length !== keyLength) throw new SmimeDecryptError("content key has the wrong length");
      return { cek, keyTransport: `rsa-oaep-${hash}` };
    }
    if (alg === oids.rsaEncryption) {
      // RFC 3218 §2.3: on a PKCS#1 v1.5 failure continue with a random key, so a tampered key
      // looks exactly like tampered content (no padding oracle, Bleichenbacher 1998).
      let cek: Uint8Array;
      try {
        cek = new Uint8Array(
          privateDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, encryptedKey),
        );
      } catch {
        cek = new Uint8Array(randomBytes(keyLength));
      }
      if (cek.length !== keyLength) cek = new Uint8Array(randomBytes(keyLength));
      return { cek, keyTransport: "rsa-pkcs1-v1_5" };
    }
    throw new SmimeUnsupported(`key transport ${alg} is not supported`);
  }
  throw new SmimeDecryptError(`message is not encrypted for ${certificate.subject}`);
}

function ridMatches(buf: Uint8Array, rid: Tlv, certificate: Certificate): boolean {
  if (is(rid, UNIVERSAL, 16)) {
    const [issuer, serial] = children(buf, rid);
    return bytesEqual(raw(buf, issuer), certificate.issuerDer) &&
      bytesEqual(content(buf, serial), certificate.serialBytes);
  }
  if (is(rid, CONTEXT, 0) && certificate.subjectKeyIdentifier) {
    return bytesEqual(content(buf, rid), certificate.subjectKeyIdentifier);
  }
  return false;
}

/** RFC 4055 §4.1 RSAES-OAEP-params: hash defaults to SHA-1; MGF1 must use the same hash here. */
function oaepHash(buf: Uint8Array, params: Tlv | undefined): string {
  let hashOid: string = oids.sha1;
  let mgfHashOid: string = oids.sha1;
  if (params && is(params, UNIVERSAL, 16)) {
    for (const field of children(buf, params)) {
      if (is(field, CONTEXT, 0)) {
        hashOid = oid(buf, children(buf, children(buf, field)[0])[0]);
      } else if (is(field, CONTEXT, 1)) {
        const [mgfOid, mgfParams] = children(buf, children(buf, field)[0]);
        if (oid(buf, mgfOid) !== oids.mgf1) {
          throw new SmimeUnsupported("OAEP mask generation is not MGF1");
        }
        mgfHashOid = oid(buf, children(buf, mgfParams)[0]);
      } else if (is(field, CONTEXT, 2)) {
        const [, label] = children(buf, children(buf, field)[0]);
        if (label && octets(buf, label).length > 0) {
          throw new SmimeUnsupported("OAEP with a label is not supported");
        }
      }
    }
  }
  const hash = oaepDigestNames[hashOid];
  if (!hash || hashOid !== mgfHashOid) {
    throw new SmimeUnsupported("OAEP hash/MGF1 combination is not supported");
  }
  return hash;
}
