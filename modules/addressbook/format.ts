import { SourceFormatError } from "./errors.ts";
import { bundleResources, mapMcsdResources } from "./fhir_mapping.ts";
import type { AddressBookEntry, Endpoint, EntryInput, SyncProblem } from "./types.ts";

/** What an mCSD Bundle holds, ready for `AddressBook.importEntries`. */
export interface FhirImport {
  entries: EntryInput[];
  /** URAs of Organizations marked inactive in the bundle. */
  removed: string[];
  problems: SyncProblem[];
}

const importableTypes = new Set(["searchset", "collection", "transaction", "batch"]);

/**
 * Reads an mCSD FHIR Bundle (type searchset, collection or transaction) as an admin gets it from a
 * directory export. Throws SourceFormatError for anything else.
 *
 * @example
 * ```ts
 * const { entries } = importFhirBundle(JSON.parse(await Deno.readTextFile("export.json")));
 * await book.importEntries(entries);
 * ```
 */
export function importFhirBundle(json: unknown): FhirImport {
  const bundle = json as { resourceType?: string; type?: string };
  if (bundle?.resourceType !== "Bundle") {
    throw new SourceFormatError(`not a FHIR Bundle (resourceType ${bundle?.resourceType})`);
  }
  if (!importableTypes.has(bundle.type ?? "")) {
    throw new SourceFormatError(
      `Bundle type "${bundle.type}" cannot be imported; expected searchset, collection or transaction`,
    );
  }
  return mapMcsdResources(bundleResources(json));
}

function preferredEndpoint(entry: AddressBookEntry): Endpoint | undefined {
  return entry.endpoints.find((e) => e.usability.usable) ?? entry.endpoints[0];
}

/** One line of `addressbook search TEXT --json`. */
export interface SearchResultJson {
  name: string;
  ura: string;
  agb?: string;
  city?: string;
  /** Mail address of the peer gateway (the first usable endpoint, else the first one). */
  address: string | null;
  /** Formats that endpoint accepts. */
  formats: string[];
  postalAddress?: string;
  departments: string[];
  usable: boolean;
  reasonCode?: string;
  reason?: string;
  warnings?: string[];
  source: string;
}

/**
 * The JSON object for one search hit; the CLI prints one per line.
 *
 * @example
 * ```ts
 * for (const hit of await book.search("antonius")) console.log(JSON.stringify(formatSearchResultJson(hit)));
 * ```
 */
export function formatSearchResultJson(entry: AddressBookEntry): SearchResultJson {
  const endpoint = preferredEndpoint(entry);
  const out: SearchResultJson = {
    name: entry.name,
    ura: entry.ura,
    agb: entry.agb,
    city: entry.city,
    address: endpoint?.address ?? null,
    formats: endpoint?.formats ?? [],
    postalAddress: entry.address,
    departments: entry.departments.map((d) => d.name),
    usable: entry.usability.usable,
    source: entry.source,
  };
  if (!entry.usability.usable) {
    out.reasonCode = entry.usability.reasonCode;
    out.reason = entry.usability.reason;
  }
  if (entry.usability.warnings.length > 0) {
    out.warnings = entry.usability.warnings.map((w) => w.message);
  }
  return out;
}

function megabytes(bytes: number | undefined): string {
  return bytes === undefined ? "unknown" : `${(bytes / 1_000_000).toFixed(1)} MB`;
}

/**
 * What `addressbook show URA` prints: the entry, each endpoint with its certificates, and in words
 * whether it can be sent to.
 *
 * @example
 * ```ts
 * const entry = await book.get("00012345");
 * if (entry) console.log(formatEntryDetails(entry));
 * ```
 */
export function formatEntryDetails(entry: AddressBookEntry): string {
  const lines = [
    `${entry.name}`,
    `  URA:          ${entry.ura}`,
    `  AGB:          ${entry.agb ?? "-"}`,
    `  City:         ${entry.city ?? "-"}`,
    `  Address:      ${entry.address ?? "-"}`,
    `  Departments:  ${entry.departments.map((d) => d.name).join(", ") || "-"}`,
    `  Source:       ${entry.source} (updated ${entry.updatedAt})`,
    `  Usable:       ${
      entry.usability.usable
        ? "yes"
        : `no - ${entry.usability.reason} [${entry.usability.reasonCode}]`
    }`,
  ];
  for (const w of entry.usability.warnings) lines.push(`  Warning:      ${w.message} [${w.code}]`);
  for (const endpoint of entry.endpoints) {
    lines.push(
      `  Endpoint ${endpoint.address}${endpoint.department ? ` (${endpoint.department})` : ""}`,
      `    formats:    ${endpoint.formats.join(", ") || "-"}`,
      `    max size:   ${megabytes(endpoint.maxMessageBytes)}`,
      `    encryption: ${endpoint.contentEncryption.join(", ") || "aes-cbc (assumed)"}`,
      `    binary:     ${
        endpoint.binaryContent ? "yes (zip unencoded inside the encryption)" : "no"
      }`,
      `    usable:     ${
        endpoint.usability.usable
          ? "yes"
          : `no - ${endpoint.usability.reason} [${endpoint.usability.reasonCode}]`
      }`,
    );
    for (const cert of endpoint.certificates) {
      lines.push(
        `    ${cert.use} certificate: ${cert.subject}`,
        `      issuer ${cert.issuer}, serial ${cert.serialNumber}`,
        `      valid ${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()}` +
          (cert.ura ? `, URA ${cert.ura}` : ""),
        `      sha256 ${cert.fingerprint}`,
      );
    }
    for (const refused of endpoint.refusedCertificates) {
      lines.push(
        `    refused certificate ${refused.fingerprint}: ${refused.reason} [${refused.code}]`,
      );
    }
  }
  return lines.join("\n");
}
