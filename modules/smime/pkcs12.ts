/**
 * PKCS#12 (RFC 7292) reading with node:crypto only: password-integrity MAC, PBES2 (PBKDF2 +
 * AES-CBC, OpenSSL 3 and modern Windows exports) and the legacy pbeWithSHAAnd3-KeyTripleDES-CBC
 * (older Windows exports). RC2-40 certificate bags (`openssl pkcs12 -legacy`) are refused: node and
 * WebCrypto offer no RC2. pkijs' PFX class is not used because it can only decrypt through
 * WebCrypto, which has no 3DES.
 */
import { concatBytes } from "../core/mod.ts";
import {
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  pbkdf2Sync,
  timingSafeEqual,
} from "node:crypto";
import {
  children,
  CONTEXT,
  expect,
  is,
  octets,
  oid,
  raw,
  readTlv,
  smallInteger,
  type Tlv,
  UNIVERSAL,
} from "./ber.ts";
import { Certificate } from "./certificate.ts";
import { SmimeDecryptError, SmimeFormatError, SmimeUnsupported } from "./errors.ts";
import { keyMatchesCertificate, type PrivateKey } from "./keys.ts";
import { oids } from "./oids.ts";

/**
 * What a PKCS#12 file holds for us: the key, its certificate, and the other certificates.
 *
 * @example
 * ```ts
 * const { key, certificate, chain }: Pkcs12Contents = await loadPkcs12("gateway.p12", password);
 * ```
 */
export interface Pkcs12Contents {
  /** The private key. */
  readonly key: PrivateKey;
  /** The certificate whose public key matches `key`. */
  readonly certificate: Certificate;
  /** Every other certificate in the file (intermediates, CA). */
  readonly chain: readonly Certificate[];
}

const p12 = {
  keyBag: "1.2.840.113549.1.12.10.1.1",
  shroudedKeyBag: "1.2.840.113549.1.12.10.1.2",
  certBag: "1.2.840.113549.1.12.10.1.3",
  x509Certificate: "1.2.840.113549.1.9.22.1",
  encryptedData: "1.2.840.113549.1.7.6",
  pbes2: "1.2.840.113549.1.5.13",
  pbkdf2: "1.2.840.113549.1.5.12",
  pbeSha3Des: "1.2.840.113549.1.12.1.3",
  pbeSha2Des: "1.2.840.113549.1.12.1.4",
  pbeShaRc2_128: "1.2.840.113549.1.12.1.5",
  pbeShaRc2_40: "1.2.840.113549.1.12.1.6",
};

const hmacPrfs: Record<string, string> = {
  "1.2.840.113549.2.7": "sha1",
  "1.2.840.113549.2.9": "sha256",
  "1.2.840.113549.2.10": "sha384",
  "1.2.840.113549.2.11": "sha512",
};
const macDigests: Record<string, { name: string; u: number; v: number }> = {
  [oids.sha1]: { name: "sha1", u: 20, v: 64 },
  [oids.sha256]: { name: "sha256", u: 32, v: 64 },
  [oids.sha384]: { name: "sha384", u: 48, v: 128 },
  [oids.sha512]: { name: "sha512", u: 64, v: 128 },
};
const cbcCiphers: Record<string, string> = {
  [oids.aes128Cbc]: "aes-128-cbc",
  [oids.aes192Cbc]: "aes-192-cbc",
  [oids.aes256Cbc]: "aes-256-cbc",
  "1.2.840.113549.3.7": "des-ede3-cbc",
};

/**
 * Reads the key and certificates from PKCS#12 bytes. A wrong password (MAC mismatch or failed
 * decryption) raises SmimeDecryptError; a broken file SmimeFormatError; RC2 SmimeUnsupported.
 *
 * @example
 * ```ts
 * const { key, certificate } = parsePkcs12(await Deno.readFile("gateway.p12"), "secret");
 * ```
 */
export function parsePkcs12(der: Uint8Array, password: string): Pkcs12Contents {
  const pfx = expect(readTlv(der, 0), UNIVERSAL, 16, "PFX");
  const [version, authSafe, macData] = children(der, pfx);
  if (smallInteger(der, version) !== 3) throw new SmimeFormatError("PFX version is not 3");
  const [authType, authWrapped] = children(der, expect(authSafe, UNIVERSAL, 16, "authSafe"));
  if (oid(der, authType) !== oids.data) {
    throw new SmimeUnsupported("public-key integrity mode PKCS#12 is not supported");
  }
  const authContent = octets(
    der,
    children(der, expect(authWrapped, CONTEXT, 0, "authSafe content"))[0],
  );
  if (macData) checkMac(der, macData, authContent, password);

  const keys: PrivateKey[] = [];
  const certs: Certificate[] = [];
  const safe = readTlv(authContent, 0);
  for (const info of children(authContent, expect(safe, UNIVERSAL, 16, "AuthenticatedSafe"))) {
    const [type, wrapped] = children(authContent, info);
    const typeOid = oid(authContent, type);
    const inner = children(authContent, expect(wrapped, CONTEXT, 0, "ContentInfo content"))[0];
    let safeContents: Uint8Array;
    if (typeOid === oids.data) safeContents = octets(authContent, inner);
    else if (typeOid === p12.encryptedData) {
      safeContents = decryptEncryptedData(authContent, inner, password);
    } else throw new SmimeUnsupported(`PKCS#12 content type ${typeOid} is not supported`);
    readBags(safeContents, password, keys, certs);
  }
  if (keys.length === 0) throw new SmimeFormatError("PKCS#12 holds no private key");
  const key = keys[0];
  const certificate = certs.find((c) => keyMatchesCertificate(key, c));
  if (!certificate) throw new SmimeFormatError("PKCS#12 holds no certificate for its private key");
  return { key, certificate, chain: certs.filter((c) => c !== certificate) };
}

function readBags(
  buf: Uint8Array,
  password: string,
  keys: PrivateKey[],
  certs: Certificate[],
): void {
  for (const bag of children(buf, expect(readTlv(buf, 0), UNIVERSAL, 16, "SafeContents"))) {
    const [id, value] = children(buf, bag);
    const bagId = oid(buf, id);
    const inner = children(buf, expect(value, CONTEXT, 0, "bagValue"))[0];
    if (bagId === p12.keyBag) {
      keys.push(pkcs8(raw(buf, inner)));
    } else if (bagId === p12.shroudedKeyBag) {
      const [alg, data] = children(buf, inner);
      keys.push(pkcs8(decrypt(buf, alg, octets(buf, data), password)));
    } else if (bagId === p12.certBag) {
      const [certType, certValue] = children(buf, inner);
      if (oid(buf, certType) !== p12.x509Certificate) continue;
      certs.push(new Certificate(octets(buf, children(buf, certValue)[0])));
    }
  }
}

function pkcs8(der: Uint8Array): PrivateKey {
  try {
    return createPrivateKey({ key: Buffer.from(der), format: "der", type: "pkcs8" });
  } catch (error) {
    throw new SmimeDecryptError("PKCS#12 key could not be read (wrong password?)", {
      cause: error,
    });
  }
}

function decryptEncryptedData(buf: Uint8Array, encryptedData: Tlv, password: string): Uint8Array {
  const [, eci] = children(buf, expect(encryptedData, UNIVERSAL, 16, "EncryptedData"));
  const [, alg, encrypted] = children(buf, eci);
  return decrypt(
    buf,
    alg,
    octets(buf, expect(encrypted, CONTEXT, 0, "encryptedContent")),
    password,
  );
}

function decrypt(buf: Uint8Array, algTlv: Tlv, data: Uint8Array, password: string): Uint8Array {
  const [algOid, params] = children(buf, algTlv);
  const alg = oid(buf, algOid);
  let cipher: string, key: Uint8Array, iv: Uint8Array;
  if (alg === p12.pbes2) {
    // RFC 8018 §6.2 / A.4: PBKDF2 then a CBC cipher; the password is used as UTF-8 bytes.
    const [kdf, scheme] = children(buf, params);
    const [kdfOid, kdfParams] = children(buf, kdf);
    if (oid(buf, kdfOid) !== p12.pbkdf2) {
      throw new SmimeUnsupported("PBES2 key derivation is not PBKDF2");
    }
    const [salt, iterations, ...rest] = children(buf, kdfParams);
    let prf = "sha1";
    for (const field of rest) {
      if (is(field, UNIVERSAL, 16)) {
        const name = hmacPrfs[oid(buf, children(buf, field)[0])];
        if (!name) throw new SmimeUnsupported("PBKDF2 pseudo-random function is not supported");
        prf = name;
      }
    }
    const [schemeOid, ivTlv] = children(buf, scheme);
    const schemeName = cbcCiphers[oid(buf, schemeOid)];
    if (!schemeName) throw new SmimeUnsupported("PBES2 encryption scheme is not supported");
    cipher = schemeName;
    iv = octets(buf, ivTlv);
    const keyLength = schemeName === "des-ede3-cbc" ? 24 : Number(schemeName.slice(4, 7)) / 8;
    key = new Uint8Array(
      pbkdf2Sync(
        Buffer.from(password, "utf8"),
        octets(buf, salt),
        smallInteger(buf, iterations),
        keyLength,
        prf,
      ),
    );
  } else if (alg === p12.pbeSha3Des || alg === p12.pbeSha2Des) {
    // RFC 7292 Appendix B.2 key derivation with SHA-1: ID 1 for the key, ID 2 for the IV.
    const [salt, iterations] = children(buf, params);
    const s = octets(buf, salt);
    const n = smallInteger(buf, iterations);
    const sha1 = macDigests[oids.sha1];
    cipher = "des-ede3-cbc";
    key = pkcs12Kdf(sha1, password, s, n, 1, 24);
    if (alg === p12.pbeSha2Des) key = concatBytes([key.subarray(0, 16), key.subarray(0, 8)]);
    iv = pkcs12Kdf(sha1, password, s, n, 2, 8);
  } else if (alg === p12.pbeShaRc2_40 || alg === p12.pbeShaRc2_128) {
    throw new SmimeUnsupported(
      "PKCS#12 uses RC2 (legacy export); re-export it with AES, e.g. openssl pkcs12 -export without -legacy",
    );
  } else {
    throw new SmimeUnsupported(`PKCS#12 encryption ${alg} is not supported`);
  }
  try {
    const decipher = createDecipheriv(cipher, key, iv);
    return new Uint8Array(Buffer.concat([decipher.update(data), decipher.final()]));
  } catch (error) {
    throw new SmimeDecryptError("PKCS#12 content could not be decrypted (wrong password?)", {
      cause: error,
    });
  }
}

function checkMac(buf: Uint8Array, macData: Tlv, authContent: Uint8Array, password: string): void {
  const [digestInfo, saltTlv, iterTlv] = children(buf, macData);
  const [algTlv, digestTlv] = children(buf, digestInfo);
  const digestOid = oid(buf, children(buf, algTlv)[0]);
  const digest = macDigests[digestOid];
  if (!digest) throw new SmimeUnsupported(`PKCS#12 MAC digest ${digestOid} is not supported`);
  const iterations = iterTlv ? smallInteger(buf, iterTlv) : 1;
  // RFC 7292 §5 / Appendix B: HMAC key derived with ID 3 from the BMPString password.
  const key = pkcs12Kdf(digest, password, octets(buf, saltTlv), iterations, 3, digest.u);
  const mac = createHmac(digest.name, key).update(authContent).digest();
  const expected = octets(buf, digestTlv);
  if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) {
    throw new SmimeDecryptError("PKCS#12 MAC does not verify: wrong password or altered file");
  }
}

/** RFC 7292 Appendix B.2. */
function pkcs12Kdf(
  digest: { name: string; u: number; v: number },
  password: string,
  salt: Uint8Array,
  iterations: number,
  id: number,
  n: number,
): Uint8Array {
  const { u, v } = digest;
  const bmp = new Uint8Array(password.length * 2 + 2); // BMPString with a trailing NUL (B.1)
  for (let i = 0; i < password.length; i++) {
    const c = password.charCodeAt(i);
    bmp[2 * i] = c >> 8;
    bmp[2 * i + 1] = c & 0xff;
  }
  const fill = (src: Uint8Array) => {
    const out = new Uint8Array(src.length === 0 ? 0 : v * Math.ceil(src.length / v));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length];
    return out;
  };
  const d = new Uint8Array(v).fill(id);
  const i = concatBytes([fill(salt), fill(bmp)]);
  const out = new Uint8Array(Math.ceil(n / u) * u);
  for (let block = 0; block * u < n; block++) {
    let a: Uint8Array = new Uint8Array(createHash(digest.name).update(d).update(i).digest());
    for (let r = 1; r < iterations; r++) {
      a = new Uint8Array(createHash(digest.name).update(a).digest());
    }
    out.set(a, block * u);
    const b = new Uint8Array(v);
    for (let k = 0; k < v; k++) b[k] = a[k % u];
    for (let j = 0; j < i.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = i[j + k] + b[k] + carry;
        i[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return out.subarray(0, n);
}
