/** What a peer gateway accepts as payload: IHE XDM zip over e-mail, or DICOM e-mail (PS3.15 B.8). */
export type PayloadFormat = "xdm" | "dicom-email";

/** Content encryption a peer can open: AES-CBC in EnvelopedData, AES-GCM in AuthEnvelopedData. */
export type ContentEncryption = "aes-cbc" | "aes-gcm";

/** What a certificate is recorded for. PKIoverheid often issues separate ones (standards.md 5.1). */
export type CertificateUse = "encryption" | "signing";

/** A certificate as a source delivers it: DER bytes, with the use when the source states it. */
export interface CertificateInput {
  der: Uint8Array;
  /** When absent, derived from keyUsage (keyEncipherment: encryption; digitalSignature: signing). */
  use?: CertificateUse;
}

/** A mailbox of a peer gateway and what it accepts. */
export interface EndpointInput {
  /** The mail address of the peer gateway (without "mailto:"). */
  address: string;
  formats: PayloadFormat[];
  /** Largest message the peer's MTA accepts, in bytes, as transmitted (after base64). */
  maxMessageBytes?: number;
  /** Empty means "unknown": senders fall back to AES-CBC, which every peer must open. */
  contentEncryption: ContentEncryption[];
  /**
   * The peer opens signed content whose parts are not transfer-encoded (Content-Transfer-Encoding
   * binary inside the encryption, RFC 8551 §3.1.2). Unknown means no: such peers get base64.
   */
  binaryContent?: boolean;
  /** The department or service this mailbox serves, when it is not the whole organisation. */
  department?: string;
  certificates: CertificateInput[];
}

/** A department or service of an organisation (mCSD HealthcareService, LDAP ou). */
export interface DepartmentInput {
  name: string;
  /** Mail addresses of the endpoints of this department. */
  endpointAddresses?: string[];
}

/**
 * One care organisation as a source delivers it. The URA (UZI-register subscriber number,
 * OID 2.16.528.1.1007.3.3) is the key of the address book (standards.md 5.2).
 */
export interface EntryInput {
  ura: string;
  name: string;
  agb?: string;
  city?: string;
  /** One line, e.g. "Koekoekslaan 1, 3435 CM Nieuwegein". */
  address?: string;
  departments: DepartmentInput[];
  endpoints: EndpointInput[];
}

/** What one fetch from a source yields. */
export interface SourceResult {
  entries: EntryInput[];
  /**
   * True when `entries` is the whole directory: entries of this source that are not in it are
   * removed. False for an incremental fetch, which only adds and changes.
   */
  complete: boolean;
  /** URAs the source says are gone (e.g. an mCSD Organization turned `active: false`). */
  removed?: string[];
  /**
   * The directory's own time of the newest change seen; the next incremental fetch asks for
   * changes after it. Server time avoids trouble with our clock being skewed.
   */
  watermark?: Date;
  /** Problems with single records that did not stop the fetch; recorded in the sync run. */
  problems?: SyncProblem[];
}

/**
 * A directory the address book synchronises from. Adapters: FHIR mCSD, LDAP, signed bundle file.
 *
 * @example
 * ```ts
 * const source: AddressBookSource = {
 *   name: "static",
 *   fetch: () => Promise.resolve({ entries: [], complete: true }),
 * };
 * ```
 */
export interface AddressBookSource {
  /** Stable name; rows in the database are kept per source under this name. */
  readonly name: string;
  /** `since` is absent for a full fetch. A source that cannot do incremental fetches ignores it. */
  fetch(since?: Date): Promise<SourceResult>;
}

/** A parsed certificate with the facts the address book needs. */
export interface CertificateInfo {
  use: CertificateUse;
  der: Uint8Array;
  /** SHA-256 of the DER, hex, lower case. */
  fingerprint: string;
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  /** The URA read from the certificate (UZI otherName 2.5.5.5, or permanentIdentifier). */
  ura?: string;
  /** Mail addresses in subjectAltName rfc822Name. */
  emails: string[];
}

/** Why an entry or endpoint cannot be chosen as a recipient. Codes are stable. */
export type UnusableCode =
  | "NO_ENDPOINT"
  | "NO_ENCRYPTION_CERTIFICATE"
  | "CERT_EXPIRED"
  | "CERT_NOT_YET_VALID"
  | "CERT_URA_MISMATCH";

/** Warnings that do not stop sending. */
export type WarningCode = "CERT_EXPIRING_SOON";

/** Whether something can be used now, and in words why not. */
export interface Usability {
  usable: boolean;
  reasonCode?: UnusableCode;
  reason?: string;
  warnings: { code: WarningCode; message: string }[];
}

/** An endpoint as stored, with its parsed certificates and whether it can be sent to now. */
export interface Endpoint {
  address: string;
  formats: PayloadFormat[];
  maxMessageBytes?: number;
  contentEncryption: ContentEncryption[];
  /** See EndpointInput.binaryContent. */
  binaryContent: boolean;
  department?: string;
  certificates: CertificateInfo[];
  /** Certificates refused at sync (unparseable, URA mismatch), with the reason. */
  refusedCertificates: { fingerprint: string; code: string; reason: string }[];
  usability: Usability;
}

/** An organisation in the address book. */
export interface AddressBookEntry {
  ura: string;
  name: string;
  agb?: string;
  city?: string;
  address?: string;
  departments: DepartmentInput[];
  endpoints: Endpoint[];
  /** The source this copy came from ("manual" for entries an admin added). */
  source: string;
  /** When this copy last changed in our database (ISO 8601). */
  updatedAt: string;
  /** Usable when at least one endpoint is. Reason is that of the best endpoint. */
  usability: Usability;
}

/** A usable recipient: the endpoint to send to and the certificate to encrypt for. */
export interface Recipient {
  ura: string;
  name: string;
  city?: string;
  endpoint: Endpoint;
  encryptionCertificate: CertificateInfo;
}

/** One problem met during a sync, about the source or a single entry. */
export interface SyncProblem {
  code: string;
  message: string;
  ura?: string;
}

/** The record of one sync of one source. */
export interface SyncRun {
  id: string;
  source: string;
  mode: "full" | "incremental";
  status: "ok" | "failed";
  startedAt: string;
  durationMs: number;
  added: number;
  changed: number;
  removed: number;
  /** Entries the source delivered that were refused (invalid URA, ...). */
  rejected: number;
  problems: SyncProblem[];
}
