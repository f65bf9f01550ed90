/** Signature checks shared by certificates (RFC 5280 §4.1.1.2) and SignerInfos (RFC 5652 §5.6). */
import { constants, createPublicKey, verify as nodeVerify } from "node:crypto";
import { children, CONTEXT, is, oid, readTlv, smallInteger } from "./ber.ts";
import { SmimeUnsupported } from "./errors.ts";
import { digestNames, oids } from "./oids.ts";

/** An AlgorithmIdentifier: its OID and the raw DER of its parameters, if any. */
export interface AlgorithmId {
  readonly oid: string;
  readonly params?: Uint8Array;
}

const rsaHashes: Record<string, string> = {
  [oids.sha256WithRsa]: "sha256",
  [oids.sha384WithRsa]: "sha384",
  [oids.sha512WithRsa]: "sha512",
};
const ecdsaHashes: Record<string, string> = {
  [oids.ecdsaWithSha256]: "sha256",
  [oids.ecdsaWithSha384]: "sha384",
  [oids.ecdsaWithSha512]: "sha512",
};

/**
 * Whether `signature` over `data` verifies with the public key `spki` under `algorithm`.
 * `digestOid` is the SignerInfo digestAlgorithm, needed when the signature algorithm is plain
 * rsaEncryption (RFC 3370 §3.2). Throws SmimeUnsupported for algorithms we do not implement.
 */
export function verifySignature(
  algorithm: AlgorithmId,
  data: Uint8Array,
  signature: Uint8Array,
  spki: Uint8Array,
  digestOid?: string,
): boolean {
  const key = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
  const alg = algorithm.oid;
  try {
    if (alg === oids.rsaEncryption) {
      const hash = digestOid ? digestNames[digestOid] : undefined;
      if (!hash) throw new SmimeUnsupported(`digest algorithm ${digestOid} is not accepted`);
      return nodeVerify(hash, data, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
    }
    if (rsaHashes[alg]) {
      return nodeVerify(
        rsaHashes[alg],
        data,
        { key, padding: constants.RSA_PKCS1_PADDING },
        signature,
      );
    }
    if (ecdsaHashes[alg]) {
      return nodeVerify(ecdsaHashes[alg], data, { key, dsaEncoding: "der" }, signature);
    }
    if (alg === oids.rsassaPss) {
      const pss = pssParams(algorithm.params);
      return nodeVerify(pss.hash, data, {
        key,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: pss.saltLength,
      }, signature);
    }
  } catch (error) {
    if (error instanceof SmimeUnsupported) throw error;
    return false; // malformed signature values are simply invalid signatures
  }
  throw new SmimeUnsupported(`signature algorithm ${alg} is not supported`);
}

/** RFC 4055 §3.1 RSASSA-PSS-params; defaults are SHA-1 and salt 20, which we refuse/accept as given. */
function pssParams(params?: Uint8Array): { hash: string; saltLength: number } {
  let hashOid: string = oids.sha1;
  let saltLength = 20;
  if (params && params.length > 0) {
    const seq = readTlv(params, 0);
    for (const field of children(params, seq)) {
      if (is(field, CONTEXT, 0)) {
        const algSeq = children(params, field)[0];
        hashOid = oid(params, children(params, algSeq)[0]);
      } else if (is(field, CONTEXT, 2)) {
        saltLength = smallInteger(params, children(params, field)[0]);
      }
    }
  }
  const hash = digestNames[hashOid];
  if (!hash) throw new SmimeUnsupported(`RSASSA-PSS with digest ${hashOid} is not accepted`);
  return { hash, saltLength };
}
