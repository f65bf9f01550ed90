/**
 * The care-provider address book: organisations (URA, AGB, name, city), their departments, the
 * mail endpoints of their gateways with accepted formats, size limit and CBC/GCM capability, and
 * the peers' S/MIME certificates. Synchronised from directories behind one `AddressBookSource`
 * interface (FHIR mCSD, LDAP, a CMS-signed bundle file) plus manual entries, cached in SQLite so it
 * keeps working while a directory is down.
 *
 * Certificates: the URA in a UZI certificate (subjectAltName otherName 2.5.5.5, field 5, or
 * otherName permanentIdentifier with assigner 2.16.528.1.1007.3.3) must equal the entry's URA, or
 * the certificate is refused. An endpoint without a valid encryption certificate cannot be chosen;
 * certificates expiring within 30 days are flagged.
 *
 * FHIR representation of the endpoint details: see `fhir_mapping.ts` (payloadType system
 * `https://beeldpoort.nl/fhir/CodeSystem/payload-format`, extensions `smime-certificate`,
 * `max-message-size`, `content-encryption` under `https://beeldpoort.nl/fhir/StructureDefinition/`).
 *
 * @example
 * ```ts
 * const book = createAddressBook({
 *   db: database.db,
 *   sources: [fhirSource({ baseUrl: "https://directory.example/fhir" })],
 *   log,
 * });
 * await book.sync();
 * const recipient = await book.recipient("00012345");
 * ```
 * @module
 */
export { createAddressBook, defaultSyncIntervalMs } from "./service.ts";
export type { AddressBook, AddressBookOptions, Timers } from "./service.ts";
export { fhirSource } from "./fhir_source.ts";
export type { FhirSourceOptions } from "./fhir_source.ts";
export { fhirExtensionBase, payloadFormatSystem } from "./fhir_mapping.ts";
export { defaultLdapAttributes, ldapSource } from "./ldap_source.ts";
export type { LdapAttributeMap, LdapSourceOptions } from "./ldap_source.ts";
export { signedBundleSource, verifySignedContent } from "./signed_bundle.ts";
export type { SignedBundleSourceOptions } from "./signed_bundle.ts";
export { formatEntryDetails, formatSearchResultJson, importFhirBundle } from "./format.ts";
export type { FhirImport, SearchResultJson } from "./format.ts";
export {
  assertCertificateUra,
  CertificateUnreadable,
  parseCertificate,
  parseUziIdentity,
} from "./certificates.ts";
export type { ParsedCertificate, UziIdentity } from "./certificates.ts";
export { foldTokens } from "./search.ts";
export { expiryWarningDays } from "./usability.ts";
export {
  BundleSignatureInvalid,
  CertificateUraMismatch,
  InvalidEntry,
  RecipientNotUsable,
  SourceFormatError,
  SourceUnavailable,
} from "./errors.ts";
export type {
  AddressBookEntry,
  AddressBookSource,
  CertificateInfo,
  CertificateInput,
  CertificateUse,
  ContentEncryption,
  DepartmentInput,
  Endpoint,
  EndpointInput,
  EntryInput,
  PayloadFormat,
  Recipient,
  SourceResult,
  SyncProblem,
  SyncRun,
  UnusableCode,
  Usability,
  WarningCode,
} from "./types.ts";
