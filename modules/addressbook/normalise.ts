import { createHash } from "node:crypto";
import { parseCertificate } from "./certificates.ts";
import { InvalidEntry } from "./errors.ts";
import type {
  CertificateInfo,
  CertificateUse,
  ContentEncryption,
  DepartmentInput,
  EntryInput,
  PayloadFormat,
  SyncProblem,
} from "./types.ts";

/** An endpoint after checks: certificates parsed, refused ones set aside with a reason. */
export interface NormalEndpoint {
  address: string;
  formats: PayloadFormat[];
  maxMessageBytes?: number;
  contentEncryption: ContentEncryption[];
  binaryContent: boolean;
  department?: string;
  certificates: CertificateInfo[];
  refusedCertificates: { fingerprint: string; code: string; reason: string }[];
}

/** An entry after checks, ready to store. `hash` tells whether a later copy changed. */
export interface NormalEntry {
  ura: string;
  name: string;
  agb?: string;
  city?: string;
  address?: string;
  departments: DepartmentInput[];
  endpoints: NormalEndpoint[];
  hash: string;
}

const uraPattern = /^\d{8}$/;
const formats = new Set<PayloadFormat>(["xdm", "dicom-email"]);
const encryptions = new Set<ContentEncryption>(["aes-cbc", "aes-gcm"]);

function toBase64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

function clean(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/**
 * Checks one entry from a source and parses its certificates. Throws InvalidEntry when the entry
 * itself is unusable as a key (URA not 8 digits, no name); certificate problems are recorded on the
 * endpoint and in `problems` so an admin sees them, and never abort the sync.
 */
export function normaliseEntry(input: EntryInput, problems: SyncProblem[]): NormalEntry {
  const ura = (input.ura ?? "").trim();
  if (!uraPattern.test(ura)) {
    throw new InvalidEntry(ura, `URA "${ura}" is not 8 digits (organisation "${input.name}")`);
  }
  const name = clean(input.name);
  if (!name) throw new InvalidEntry(ura, `entry ${ura} has no name`);
  const endpoints: NormalEndpoint[] = [];
  const seen = new Set<string>();
  for (const endpoint of input.endpoints ?? []) {
    const address = endpoint.address?.trim().replace(/^mailto:/i, "").toLowerCase();
    if (!address || !address.includes("@") || seen.has(address)) continue;
    seen.add(address);
    const certificates: CertificateInfo[] = [];
    const refusedCertificates: NormalEndpoint["refusedCertificates"] = [];
    for (const input of endpoint.certificates ?? []) {
      let parsed;
      try {
        parsed = parseCertificate(input.der);
      } catch (error) {
        const fingerprint = createHash("sha256").update(input.der).digest("hex");
        const reason = `unreadable certificate: ${(error as Error).message}`;
        refusedCertificates.push({ fingerprint, code: "CERT_UNREADABLE", reason });
        problems.push({ code: "CERT_UNREADABLE", message: reason, ura });
        continue;
      }
      // UZI server certificates name their organisation; one that names another organisation
      // must never be used to encrypt for, or accept signatures from, this entry (standards.md 5.1).
      if (parsed.ura !== undefined && parsed.ura !== ura) {
        const reason =
          `certificate ${parsed.subject} carries URA ${parsed.ura}, entry has URA ${ura}`;
        refusedCertificates.push({
          fingerprint: parsed.fingerprint,
          code: "CERT_URA_MISMATCH",
          reason,
        });
        problems.push({ code: "CERT_URA_MISMATCH", message: reason, ura });
        continue;
      }
      const uses: CertificateUse[] = input.use
        ? parsed.allowedUses.includes(input.use) ? [input.use] : []
        : parsed.allowedUses;
      if (uses.length === 0) {
        const reason = `certificate ${parsed.subject} key usage does not allow ${input.use}`;
        refusedCertificates.push({
          fingerprint: parsed.fingerprint,
          code: "CERT_KEY_USAGE",
          reason,
        });
        problems.push({ code: "CERT_KEY_USAGE", message: reason, ura });
        continue;
      }
      for (const use of uses) {
        if (certificates.some((c) => c.fingerprint === parsed.fingerprint && c.use === use)) {
          continue;
        }
        certificates.push({
          use,
          der: input.der,
          fingerprint: parsed.fingerprint,
          subject: parsed.subject,
          issuer: parsed.issuer,
          serialNumber: parsed.serialNumber,
          notBefore: parsed.notBefore,
          notAfter: parsed.notAfter,
          ura: parsed.ura,
          emails: parsed.emails,
        });
      }
    }
    const maxBytes = endpoint.maxMessageBytes;
    endpoints.push({
      address,
      formats: [...new Set(endpoint.formats ?? [])].filter((f) => formats.has(f)).sort(),
      maxMessageBytes: Number.isSafeInteger(maxBytes) && maxBytes! > 0 ? maxBytes : undefined,
      contentEncryption: [...new Set(endpoint.contentEncryption ?? [])]
        .filter((e) => encryptions.has(e)).sort(),
      binaryContent: endpoint.binaryContent === true,
      department: clean(endpoint.department),
      certificates,
      refusedCertificates,
    });
  }
  const departments = (input.departments ?? [])
    .map((d) => ({
      name: d.name?.trim() ?? "",
      endpointAddresses: (d.endpointAddresses ?? []).map((a) =>
        a.replace(/^mailto:/i, "").toLowerCase()
      )
        .sort(),
    }))
    .filter((d) => d.name !== "")
    .sort((a, b) => a.name.localeCompare(b.name));
  const entry = {
    ura,
    name,
    agb: clean(input.agb),
    city: clean(input.city),
    address: clean(input.address),
    departments,
    endpoints,
  };
  return { ...entry, hash: contentHash(entry) };
}

function contentHash(entry: Omit<NormalEntry, "hash">): string {
  const canonical = JSON.stringify(entry, (_key, value) => {
    if (value instanceof Uint8Array) return toBase64(value);
    if (value instanceof Date) return value.toISOString();
    return value;
  });
  return createHash("sha256").update(canonical).digest("hex");
}

export { toBase64 };
