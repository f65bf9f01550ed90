import { Buffer } from "node:buffer";
import {
  type AddressBookSource,
  fhirSource,
  ldapSource,
  signedBundleSource,
} from "../modules/addressbook/mod.ts";
import type { Config } from "./config/schema.ts";

/** DER bytes of every certificate in a PEM file. */
function pemCertificates(path: string): Uint8Array[] {
  const text = Deno.readTextFileSync(path);
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/g)]
    .map((m) => new Uint8Array(Buffer.from(m[1].replace(/\s+/g, ""), "base64")));
}

/** The address-book sources the configuration names, in priority order (FHIR, LDAP, bundle). */
export function addressBookSources(config: Config): AddressBookSource[] {
  const c = config.addressbook;
  const sources: AddressBookSource[] = [];
  if (c.fhirUrl) sources.push(fhirSource({ baseUrl: c.fhirUrl }));
  if (c.ldapUrl) {
    sources.push(ldapSource({
      url: c.ldapUrl,
      searchBase: c.ldapSearchBase,
      filter: c.ldapFilter,
      bindDn: c.ldapBindDn || undefined,
      password: c.ldapPassword || undefined,
    }));
  }
  if (c.bundleFile) {
    sources.push(signedBundleSource({
      path: c.bundleFile,
      trustAnchors: c.bundleTrustFile ? pemCertificates(c.bundleTrustFile) : [],
    }));
  }
  return sources;
}
