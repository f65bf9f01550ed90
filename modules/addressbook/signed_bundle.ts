import { readFile } from "node:fs/promises";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { BundleSignatureInvalid, SourceFormatError, SourceUnavailable } from "./errors.ts";
import { bundleResources, mapMcsdResources } from "./fhir_mapping.ts";
import type { AddressBookSource, SourceResult } from "./types.ts";

const signedDataOid = "1.2.840.113549.1.7.2";

function pemToDer(bytes: Uint8Array): Uint8Array {
  const head = new TextDecoder().decode(bytes.subarray(0, 64));
  if (!head.includes("-----BEGIN")) return bytes;
  const text = new TextDecoder().decode(bytes);
  const body = text.replace(/-----(BEGIN|END) [A-Z0-9 ]+-----/g, "").replace(/\s+/g, "");
  return Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
}

function octets(block: asn1js.OctetString): Uint8Array {
  // Encapsulated content may be a constructed OCTET STRING (BER, as openssl streams it).
  if (!block.idBlock.isConstructed) return block.valueBlock.valueHexView;
  const parts = block.valueBlock.value.map((p) => octets(p as asn1js.OctetString));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * Verifies a CMS SignedData (RFC 5652 5) with encapsulated content and returns that content. The
 * signer's certificate must chain to one of `trustAnchors` (DER) and be valid at `now`.
 *
 * @example
 * ```ts
 * const json = await verifySignedContent(await Deno.readFile("book.p7m"), [anchorDer]);
 * ```
 */
export async function verifySignedContent(
  signed: Uint8Array,
  trustAnchors: Uint8Array[],
  now: Date = new Date(),
): Promise<Uint8Array> {
  const der = pemToDer(signed);
  const parsed = asn1js.fromBER(der);
  if (parsed.offset === -1) throw new BundleSignatureInvalid("not a DER or PEM CMS message");
  let signedData: pkijs.SignedData;
  try {
    const info = new pkijs.ContentInfo({ schema: parsed.result });
    if (info.contentType !== signedDataOid) {
      throw new Error(`content type ${info.contentType} is not signedData`);
    }
    signedData = new pkijs.SignedData({ schema: info.content });
  } catch (error) {
    throw new BundleSignatureInvalid(`not a CMS SignedData: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const content = signedData.encapContentInfo.eContent;
  if (!content) {
    throw new BundleSignatureInvalid("signature is detached; the bundle must be inside");
  }
  if (signedData.signerInfos.length !== 1) {
    throw new BundleSignatureInvalid(`expected one signer, found ${signedData.signerInfos.length}`);
  }
  let ok = false;
  try {
    ok = await signedData.verify({
      signer: 0,
      checkChain: true,
      trustedCerts: trustAnchors.map((a) => pkijs.Certificate.fromBER(new Uint8Array(a))),
      checkDate: now,
    });
  } catch (error) {
    const message = (error as { message?: string }).message ?? String(error);
    throw new BundleSignatureInvalid(`signature does not verify: ${message}`, { cause: error });
  }
  if (!ok) throw new BundleSignatureInvalid("signature does not verify");
  return octets(content);
}

/** Where a signed address-book bundle is and who may sign it. */
export interface SignedBundleSourceOptions {
  /** Source name for rows and sync runs; default "bundle". */
  name?: string;
  /** A CMS SignedData file (DER or PEM) whose content is an mCSD FHIR Bundle in JSON. */
  path: string;
  /** Certificates (DER) the signer must chain to; the distributor's CA, not a public root. */
  trustAnchors: Uint8Array[];
  /** For checking the signer's validity; default the wall clock. */
  now?: () => Date;
}

/**
 * An address-book source for sites without a directory connection: a file with an mCSD Bundle
 * signed with CMS by the distributor (e.g. `openssl cms -sign -nodetach -binary -outform DER`).
 * A bundle whose signature fails is refused whole and the cached book stays.
 *
 * @example
 * ```ts
 * const source = signedBundleSource({ path: "/var/lib/beeldpoort/addressbook.p7m", trustAnchors: [ca] });
 * ```
 */
export function signedBundleSource(options: SignedBundleSourceOptions): AddressBookSource {
  const name = options.name ?? "bundle";
  return {
    name,
    async fetch(): Promise<SourceResult> {
      let bytes: Uint8Array;
      try {
        bytes = await readFile(options.path);
      } catch (error) {
        throw new SourceUnavailable(name, `${options.path}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      const content = await verifySignedContent(
        bytes,
        options.trustAnchors,
        options.now?.() ?? new Date(),
      );
      let bundle: unknown;
      try {
        bundle = JSON.parse(new TextDecoder().decode(content));
      } catch (error) {
        throw new SourceFormatError(`${name}: signed content is not JSON`, { cause: error });
      }
      if ((bundle as { resourceType?: string })?.resourceType !== "Bundle") {
        throw new SourceFormatError(`${name}: signed content is not a FHIR Bundle`);
      }
      const mapped = mapMcsdResources(bundleResources(bundle));
      return {
        entries: mapped.entries,
        removed: mapped.removed,
        complete: true,
        problems: mapped.problems,
      };
    },
  };
}
