import type { LogLevel } from "../../modules/core/mod.ts";

/** The effective configuration of the appliance, after defaults, file and environment. */
export interface Config {
  data: { dir: string };
  http: { host: string; port: number; tlsCertFile: string; tlsKeyFile: string };
  dicom: {
    host: string;
    port: number;
    aeTitle: string;
    allowedSenders: string[];
    maxAssociations: number;
    maxPduLength: number;
    duplicates: "ignore" | "replace";
    tlsPort: number;
    tlsCertFile: string;
    tlsKeyFile: string;
    tlsClientCaFile: string;
  };
  auth: { sessionIdleMinutes: number; sessionMaxHours: number; lockoutThreshold: number };
  audit: {
    syslogTransport: "off" | "tls" | "udp";
    syslogHost: string;
    syslogPort: number;
    syslogCaFile: string;
    syslogClientCertFile: string;
    syslogClientKeyFile: string;
    retentionDays: number;
  };
  spool: { durability: "fsync" | "os" };
  studies: {
    quietPeriodSeconds: number;
    quietPeriodByAe: string;
    checkIntervalMs: number;
    retentionDays: number;
  };
  transfer: {
    concurrency: number;
    retryBaseSeconds: number;
    retryMaxSeconds: number;
    maxAgeHours: number;
    leaseSeconds: number;
    breakerFailures: number;
    breakerOpenSeconds: number;
  };
  organization: { ura: string; name: string; mailAddress: string };
  xdm: { partSizeBytes: number };
  addressbook: {
    syncIntervalMinutes: number;
    fhirUrl: string;
    ldapUrl: string;
    ldapSearchBase: string;
    ldapFilter: string;
    ldapBindDn: string;
    ldapPassword: string;
    bundleFile: string;
    bundleTrustFile: string;
  };
  mail: {
    host: string;
    port: number;
    tlsCertFile: string;
    tlsKeyFile: string;
    maxMessageBytes: number;
    rateLimitPerMinute: number;
    smarthost: string;
    routes: string;
    keepConnectionsSeconds: number;
    trustedCaFile: string;
    imapUrl: string;
    imapUser: string;
    imapPassword: string;
    imapIntervalSeconds: number;
  };
  relay: {
    certFile: string;
    keyFile: string;
    keystoreFile: string;
    keystorePassword: string;
    trustAnchorsFile: string;
    crlFiles: string;
    importDestination: string;
    importPolicy: "auto" | "bsn" | "hold";
    notificationTimeoutMinutes: number;
  };
  log: { level: LogLevel };
  portal: { importDestination: string; linkDays: number; pinAttempts: number };
}

/** How one configuration key is checked and documented. */
export type FieldSpec =
  & { description: string; secret?: boolean }
  & (
    | { type: "string"; default: string; pattern?: RegExp; patternText?: string }
    | { type: "integer"; default: number; min: number; max: number }
    | { type: "enum"; default: string; values: readonly string[] }
    | { type: "aeTitle"; default: string }
    | { type: "aeTitleList"; default: string[] }
  );

/**
 * Every configuration key, by its dotted path. This is the operator contract: names stay stable,
 * and README.md documents each one (a test checks that).
 */
export const configSchema: Record<string, FieldSpec> = {
  "data.dir": {
    type: "string",
    default: "./data",
    description: "Data directory: database, encrypted spool, keys, certificates.",
    pattern: /\S/,
    patternText: "a non-empty path",
  },
  "http.host": {
    type: "string",
    default: "127.0.0.1",
    description: "Address the web UI (HTTPS) listens on.",
    pattern: /^[0-9A-Za-z.:\-\[\]]+$/,
    patternText: "a host name or IP address",
  },
  "http.port": {
    type: "integer",
    default: 8443,
    min: 0,
    max: 65535,
    description: "Port of the web UI (HTTPS). 0 picks a free port.",
  },
  "http.tlsCertFile": {
    type: "string",
    default: "",
    description: "PEM certificate for the web UI. Empty: a self-signed one in DATA/tls/.",
  },
  "http.tlsKeyFile": {
    type: "string",
    default: "",
    description: "PEM private key for http.tlsCertFile. Empty: generated with the certificate.",
  },
  "dicom.host": {
    type: "string",
    default: "0.0.0.0",
    description: "Address the DICOM listener binds to.",
    pattern: /^[0-9A-Za-z.:\-\[\]]+$/,
    patternText: "a host name or IP address",
  },
  "dicom.port": {
    type: "integer",
    default: 11112,
    min: 0,
    max: 65535,
    description: "DICOM port (C-ECHO, C-STORE).",
  },
  "dicom.aeTitle": {
    type: "aeTitle",
    default: "BEELDPOORT",
    description: "Our AE title; associations calling another title are rejected.",
  },
  "dicom.allowedSenders": {
    type: "aeTitleList",
    default: [],
    description: "Calling AE titles allowed to send to us; `*` allows any. Empty: none.",
  },
  "dicom.maxAssociations": {
    type: "integer",
    default: 16,
    min: 1,
    max: 1000,
    description: "Concurrent DICOM associations accepted.",
  },
  "dicom.maxPduLength": {
    type: "integer",
    default: 262144,
    min: 4096,
    max: 16777216,
    description: "Largest PDU we accept, advertised in A-ASSOCIATE-AC (bytes).",
  },
  "dicom.duplicates": {
    type: "enum",
    default: "ignore",
    values: ["ignore", "replace"],
    description:
      "A second copy of a known SOP Instance UID with other bytes: `ignore` keeps the first, `replace` keeps the newest.",
  },
  "dicom.tlsPort": {
    type: "integer",
    default: 0,
    min: 0,
    max: 65535,
    description: "Second DICOM port, over TLS 1.2+ (PS3.15 BCP 195 profile). 0: no TLS port.",
  },
  "dicom.tlsCertFile": {
    type: "string",
    default: "",
    description: "PEM certificate for DICOM TLS. Empty: the web UI's certificate.",
  },
  "dicom.tlsKeyFile": {
    type: "string",
    default: "",
    description: "PEM private key for dicom.tlsCertFile. Empty: the web UI's key.",
  },
  "dicom.tlsClientCaFile": {
    type: "string",
    default: "",
    description:
      "PEM CA certificate(s): when set, a modality on the TLS port must present a client certificate issued by one of them.",
  },
  "auth.sessionIdleMinutes": {
    type: "integer",
    default: 30,
    min: 1,
    max: 1440,
    description: "A web session ends after this many minutes without a request.",
  },
  "auth.sessionMaxHours": {
    type: "integer",
    default: 12,
    min: 1,
    max: 168,
    description: "A web session ends this many hours after sign-in, however busy.",
  },
  "auth.lockoutThreshold": {
    type: "integer",
    default: 5,
    min: 1,
    max: 100,
    description:
      "Failed sign-ins in a row before an account locks: 1 minute, doubling per further failure up to an hour.",
  },
  "audit.syslogTransport": {
    type: "enum",
    default: "off",
    values: ["off", "tls", "udp"],
    description:
      "Forward audit events as DICOM audit messages over syslog: `tls` (RFC 5425), `udp` (RFC 5426) or `off`.",
  },
  "audit.syslogHost": {
    type: "string",
    default: "",
    description: "Audit record repository (syslog collector) host.",
    pattern: /^[0-9A-Za-z.:\-\[\]]*$/,
    patternText: "a host name or IP address (or empty)",
  },
  "audit.syslogPort": {
    type: "integer",
    default: 6514,
    min: 1,
    max: 65535,
    description: "Port of the collector (6514 for TLS, usually 514 for UDP).",
  },
  "audit.syslogCaFile": {
    type: "string",
    default: "",
    description: "PEM CA certificate(s) the collector's TLS certificate must chain to.",
  },
  "audit.syslogClientCertFile": {
    type: "string",
    default: "",
    description: "PEM client certificate for collectors that require one (ATNA mutual TLS).",
  },
  "audit.syslogClientKeyFile": {
    type: "string",
    default: "",
    description: "PEM private key for audit.syslogClientCertFile.",
  },
  "audit.retentionDays": {
    type: "integer",
    default: 0,
    min: 0,
    max: 36500,
    description:
      "Audit events older than this many days are removed (daily; the chain stays verifiable). 0: keep all.",
  },
  "spool.durability": {
    type: "enum",
    default: "fsync",
    values: ["fsync", "os"],
    description:
      "`fsync`: an object is on disk before it is acknowledged. `os`: faster, trusts the OS.",
  },
  "studies.quietPeriodSeconds": {
    type: "integer",
    default: 30,
    min: 0,
    max: 86400,
    description:
      "Seconds without a new instance before a study counts as arrived (stable/complete) and is routed.",
  },
  "studies.quietPeriodByAe": {
    type: "string",
    default: "",
    description:
      "Quiet periods per calling AE overriding studies.quietPeriodSeconds, e.g. `CT1=60,MR2=10`.",
    pattern: /^([^,=\\]{1,16}=\d{1,5}(,[^,=\\]{1,16}=\d{1,5})*)?$/,
    patternText: "AE=SECONDS pairs separated by commas (or empty)",
  },
  "studies.checkIntervalMs": {
    type: "integer",
    default: 1000,
    min: 50,
    max: 60000,
    description: "How often studies are checked for the end of their quiet period (ms).",
  },
  "studies.retentionDays": {
    type: "integer",
    default: 30,
    min: 0,
    max: 36500,
    description:
      "A study is removed (images from the spool, the study from the index; audited) after this many days without activity, once no job or valid patient link needs it. 0: keep all.",
  },
  "transfer.concurrency": {
    type: "integer",
    default: 2,
    min: 1,
    max: 32,
    description: "Delivery jobs running at the same time.",
  },
  "transfer.retryBaseSeconds": {
    type: "integer",
    default: 10,
    min: 1,
    max: 86400,
    description:
      "Wait before the first retry of a failed delivery; doubles per attempt (+-20% jitter).",
  },
  "transfer.retryMaxSeconds": {
    type: "integer",
    default: 3600,
    min: 1,
    max: 604800,
    description: "Longest wait between two attempts of a delivery.",
  },
  "transfer.maxAgeHours": {
    type: "integer",
    default: 72,
    min: 1,
    max: 8760,
    description:
      "A delivery still failing after this many hours is given up (dead) for an operator.",
  },
  "transfer.leaseSeconds": {
    type: "integer",
    default: 60,
    min: 2,
    max: 3600,
    description:
      "How long a running delivery's claim lasts without renewal; after a crash it resumes after this.",
  },
  "transfer.breakerFailures": {
    type: "integer",
    default: 5,
    min: 1,
    max: 1000,
    description: "Consecutive failed attempts to one destination that open its circuit breaker.",
  },
  "transfer.breakerOpenSeconds": {
    type: "integer",
    default: 60,
    min: 1,
    max: 86400,
    description: "How long an open circuit breaker holds a destination's deliveries back.",
  },
  "organization.ura": {
    type: "string",
    default: "",
    description: "URA of this hospital (8 digits), the sender in every package. Empty: not set up.",
    pattern: /^(\d{8})?$/,
    patternText: "an URA of 8 digits (or empty)",
  },
  "organization.name": {
    type: "string",
    default: "",
    description: "Name of this hospital as receivers see it.",
  },
  "organization.mailAddress": {
    type: "string",
    default: "",
    description: "Mail address of this gateway; packages are sent from it.",
    pattern: /^([^@\s]+@[^@\s]+)?$/,
    patternText: "a mail address (or empty)",
  },
  "xdm.partSizeBytes": {
    type: "integer",
    default: 10_000_000,
    min: 1_000_000,
    max: 3_900_000_000,
    description: "Largest XDM package (one mail part) in bytes before base64.",
  },
  "addressbook.syncIntervalMinutes": {
    type: "integer",
    default: 60,
    min: 1,
    max: 10080,
    description: "Minutes between address-book syncs (and one at start).",
  },
  "addressbook.fhirUrl": {
    type: "string",
    default: "",
    description: "FHIR base URL of an mCSD care-provider directory. Empty: not used.",
    pattern: /^(https?:\/\/\S+)?$/,
    patternText: "an http(s) URL (or empty)",
  },
  "addressbook.ldapUrl": {
    type: "string",
    default: "",
    description: "LDAP directory, ldap://host:389 or ldaps://host:636. Empty: not used.",
    pattern: /^(ldaps?:\/\/\S+)?$/,
    patternText: "an ldap:// or ldaps:// URL (or empty)",
  },
  "addressbook.ldapSearchBase": {
    type: "string",
    default: "",
    description: "Search base of the LDAP directory, e.g. ou=zorgaanbieders,dc=example,dc=nl.",
  },
  "addressbook.ldapFilter": {
    type: "string",
    default: "(&(objectClass=inetOrgPerson)(mail=*))",
    description: "LDAP search filter for gateway entries.",
  },
  "addressbook.ldapBindDn": {
    type: "string",
    default: "",
    description: "DN to bind as; empty binds anonymously.",
  },
  "addressbook.ldapPassword": {
    type: "string",
    default: "",
    description: "Password for addressbook.ldapBindDn.",
    secret: true,
  },
  "addressbook.bundleFile": {
    type: "string",
    default: "",
    description: "A CMS-signed mCSD bundle file, for sites without a directory connection.",
  },
  "addressbook.bundleTrustFile": {
    type: "string",
    default: "",
    description: "PEM certificate(s) the bundle's signer must chain to.",
  },
  "mail.host": {
    type: "string",
    default: "0.0.0.0",
    description: "Address the SMTP listener (mail from other gateways) binds to.",
    pattern: /^[0-9A-Za-z.:\-\[\]]+$/,
    patternText: "a host name or IP address",
  },
  "mail.port": {
    type: "integer",
    default: 0,
    min: 0,
    max: 65535,
    description: "SMTP port for mail from other gateways (25 in production). 0: no listener.",
  },
  "mail.tlsCertFile": {
    type: "string",
    default: "",
    description: "PEM certificate offered with STARTTLS. Empty: the web UI's certificate.",
  },
  "mail.tlsKeyFile": {
    type: "string",
    default: "",
    description: "PEM private key for mail.tlsCertFile. Empty: the web UI's key.",
  },
  "mail.maxMessageBytes": {
    type: "integer",
    default: 50_000_000,
    min: 100_000,
    max: 4_000_000_000,
    description:
      "Largest message the SMTP listener accepts (announced with SIZE); larger ones get 552.",
  },
  "mail.rateLimitPerMinute": {
    type: "integer",
    default: 600,
    min: 0,
    max: 1_000_000,
    description: "Messages one client address may send per minute (then 450). 0: no limit.",
  },
  "mail.smarthost": {
    type: "string",
    default: "",
    description:
      "Send all gateway mail through this relay, `host:port` (`/name`: the name its certificate carries, when not the host). Empty: straight to the recipient domain's MX hosts.",
    pattern: /^([0-9A-Za-z.\-]+(:\d{1,5})?(\/[0-9A-Za-z.\-]+)?)?$/,
    patternText: "host, host:port or host:port/certificate-name (or empty)",
  },
  "mail.routes": {
    type: "string",
    default: "",
    description:
      "Fixed next hops by recipient domain, `domain=host:port[/name]` separated by commas (peers without MX records, tests).",
    pattern: /^([0-9A-Za-z.\-]+=[0-9A-Za-z.\-:\/]+(,[0-9A-Za-z.\-]+=[0-9A-Za-z.\-:\/]+)*)?$/,
    patternText: "domain=host:port pairs separated by commas (or empty)",
  },
  "mail.keepConnectionsSeconds": {
    type: "integer",
    default: 2,
    min: 0,
    max: 300,
    description:
      "Keep an SMTP connection to a peer open this long after a message, for the next one (as an MTA's connection cache does). 0: a new connection for every message.",
  },
  "mail.trustedCaFile": {
    type: "string",
    default: "",
    description:
      "PEM CA certificate(s) a peer's or smarthost's STARTTLS certificate must chain to (verified, required).",
  },
  "mail.imapUrl": {
    type: "string",
    default: "",
    description:
      "Also fetch gateway mail from this mailbox, for a hospital whose own mail server receives it: `imaps://host[:port]/mailbox` (TLS) or `imap://host[:port]/mailbox` (STARTTLS required). The server's certificate is checked against mail.trustedCaFile (empty: the system's CAs). Empty: no polling.",
    pattern: /^(imaps?:\/\/[0-9A-Za-z.\-\[\]:]+(:\d{1,5})?(\/\S*)?)?$/,
    patternText: "imaps://host[:port]/mailbox or imap://host[:port]/mailbox (or empty)",
  },
  "mail.imapUser": {
    type: "string",
    default: "",
    description: "Login for mail.imapUrl. Empty: organization.mailAddress.",
  },
  "mail.imapPassword": {
    type: "string",
    default: "",
    description: "Password for mail.imapUser.",
    secret: true,
  },
  "mail.imapIntervalSeconds": {
    type: "integer",
    default: 60,
    min: 5,
    max: 3600,
    description: "Seconds between the end of one mailbox poll and the start of the next.",
  },
  "relay.certFile": {
    type: "string",
    default: "",
    description:
      "PEM S/MIME certificate of this gateway (signing, and peers encrypt to it). Empty: relay.keystoreFile.",
  },
  "relay.keyFile": {
    type: "string",
    default: "",
    description: "PEM private key for relay.certFile.",
  },
  "relay.keystoreFile": {
    type: "string",
    default: "",
    description:
      "PKCS#12 file with the S/MIME certificate and key (instead of relay.certFile and relay.keyFile).",
  },
  "relay.keystorePassword": {
    type: "string",
    default: "",
    description: "Password of relay.keystoreFile.",
    secret: true,
  },
  "relay.trustAnchorsFile": {
    type: "string",
    default: "",
    description:
      "PEM CA certificate(s) a peer's S/MIME signer must chain to (besides being listed in the address book).",
  },
  "relay.crlFiles": {
    type: "string",
    default: "",
    description:
      "Revocation lists (PEM or DER files, comma-separated) of the CAs in relay.trustAnchorsFile: a peer signing with a revoked certificate is refused. Read again when a file changes.",
  },
  "relay.importDestination": {
    type: "string",
    default: "",
    description:
      "Routing destination (see `destinations add`) that received studies are imported into: the local PACS. Empty: none, studies are held.",
  },
  "relay.importPolicy": {
    type: "enum",
    default: "bsn",
    values: ["auto", "bsn", "hold"],
    description:
      "Received studies: `auto` imports every one; `bsn` imports when the BSN matches a local patient, else holds it for the portal; `hold` holds all.",
  },
  "relay.notificationTimeoutMinutes": {
    type: "integer",
    default: 60,
    min: 1,
    max: 10080,
    description:
      "No processed notification for a sent transfer within this many minutes: alert (log, audit) and resend only the missing parts.",
  },
  "log.level": {
    type: "enum",
    default: "info",
    values: ["debug", "info", "warn", "error"],
    description: "Least severe log level written (JSON lines on stderr).",
  },
  "portal.importDestination": {
    type: "string",
    default: "",
    description:
      "DICOM destination (routing) the caregiver portal imports received studies into. Empty: no import button.",
  },
  "portal.linkDays": {
    type: "integer",
    default: 14,
    min: 1,
    max: 90,
    description: "Days a patient download link stays valid unless staff choose otherwise.",
  },
  "portal.pinAttempts": {
    type: "integer",
    default: 5,
    min: 1,
    max: 20,
    description: "Wrong PINs after which a patient download link locks.",
  },
};

/** The environment variable that overrides a key: `http.port` -> `BEELDPOORT_HTTP__PORT`. */
export function envNameFor(key: string): string {
  return "BEELDPOORT_" + key.split(".").map((part) => part.toUpperCase()).join("__");
}
