/**
 * IHE mCSD resources (Organization, HealthcareService, Endpoint) to address-book entries.
 *
 * Representation (documented in mod.ts):
 * - Organization.identifier with system `http://fhir.nl/fhir/NamingSystem/ura` (or
 *   `urn:oid:2.16.528.1.1007.3.3`) is the URA; `.../agb-z` (or `urn:oid:2.16.840.1.113883.2.4.6.1`)
 *   the AGB. Organization.address[0] gives city and address. `active: false` removes the entry.
 * - An Organization without URA but with `partOf` is a department of the organisation above it.
 * - HealthcareService.providedBy names the organisation; its name is a department, its `endpoint`
 *   references that department's mailboxes.
 * - Endpoint.address is `mailto:` the peer gateway; linked by Endpoint.managingOrganization or from
 *   Organization.endpoint / HealthcareService.endpoint. Only `status: active` endpoints count.
 * - Endpoint.payloadType coding system `https://beeldpoort.nl/fhir/CodeSystem/payload-format`,
 *   codes `xdm` and `dicom-email` (payloadMimeType `application/zip` / `application/dicom` as
 *   fallback).
 * - Endpoint extensions under `https://beeldpoort.nl/fhir/StructureDefinition/`:
 *   `smime-certificate` (complex: `use` valueCode encryption|signing, `certificate`
 *   valueBase64Binary DER), `max-message-size` (valueInteger or valueInteger64, bytes),
 *   `content-encryption` (valueCode aes-cbc|aes-gcm, repeats).
 */
import { decodeCertificateText } from "./certificates.ts";
import type {
  CertificateInput,
  CertificateUse,
  ContentEncryption,
  DepartmentInput,
  EndpointInput,
  EntryInput,
  PayloadFormat,
  SyncProblem,
} from "./types.ts";

/**
 * Where our FHIR extensions live (Endpoint: smime-certificate, max-message-size,
 * content-encryption).
 *
 * @example
 * ```ts
 * const url = fhirExtensionBase + "smime-certificate";
 * ```
 */
export const fhirExtensionBase = "https://beeldpoort.nl/fhir/StructureDefinition/";
/**
 * The code system of Endpoint.payloadType codes `xdm` and `dicom-email`.
 *
 * @example
 * ```ts
 * const coding = { system: payloadFormatSystem, code: "xdm" };
 * ```
 */
export const payloadFormatSystem = "https://beeldpoort.nl/fhir/CodeSystem/payload-format";

const uraSystems = new Set(["http://fhir.nl/fhir/NamingSystem/ura", "urn:oid:2.16.528.1.1007.3.3"]);
const agbSystems = new Set([
  "http://fhir.nl/fhir/NamingSystem/agb-z",
  "urn:oid:2.16.840.1.113883.2.4.6.1",
]);

/** The parts of FHIR resources we read; everything else is ignored. */
export interface FhirResource {
  resourceType: string;
  id?: string;
  meta?: { lastUpdated?: string };
  [key: string]: unknown;
}

interface Reference {
  reference?: string;
}
interface Identifier {
  system?: string;
  value?: string;
}
interface Coding {
  system?: string;
  code?: string;
}
interface Extension {
  url?: string;
  valueCode?: string;
  valueBase64Binary?: string;
  valueInteger?: number;
  valueBoolean?: boolean;
  valueInteger64?: string | number;
  extension?: Extension[];
}

/** A resource with the fullUrl it had in a Bundle, so `urn:uuid:` references resolve. */
export interface LocatedResource {
  resource: FhirResource;
  fullUrl?: string;
}

/** What a set of mCSD resources says. */
export interface McsdMapping {
  entries: EntryInput[];
  /** URAs of Organizations marked inactive. */
  removed: string[];
  problems: SyncProblem[];
}

function refKey(reference: string | undefined): string | undefined {
  if (!reference) return undefined;
  if (reference.startsWith("urn:")) return reference;
  const parts = reference.split("?")[0].split("/").filter(Boolean);
  if (parts.length < 2) return undefined;
  // "…/Organization/1/_history/2" refers to Organization/1 too.
  const history = parts.indexOf("_history");
  const end = history >= 2 ? history : parts.length;
  return `${parts[end - 2]}/${parts[end - 1]}`;
}

function identifierOf(resource: FhirResource, systems: Set<string>): string | undefined {
  const ids = (resource.identifier as Identifier[] | undefined) ?? [];
  return ids.find((i) => i.system && systems.has(i.system) && i.value)?.value?.trim();
}

function refs(value: unknown): string[] {
  const list = Array.isArray(value) ? value : value ? [value] : [];
  return list.map((r) => refKey((r as Reference).reference)).filter((r): r is string => !!r);
}

function extensions(resource: FhirResource, name: string): Extension[] {
  return ((resource.extension as Extension[] | undefined) ?? [])
    .filter((e) => e.url === fhirExtensionBase + name);
}

function addressOf(resource: FhirResource): { city?: string; line?: string } {
  const address = (resource.address as Record<string, unknown>[] | undefined)?.[0];
  if (!address) return {};
  const city = typeof address.city === "string" ? address.city : undefined;
  const street = Array.isArray(address.line) ? address.line.join(" ") : "";
  const place = [address.postalCode, city].filter((p) => typeof p === "string" && p).join(" ");
  const line = typeof address.text === "string" && address.text
    ? address.text
    : [street, place].filter(Boolean).join(", ");
  return { city, line: line || undefined };
}

function endpointInput(resource: FhirResource, problems: SyncProblem[], ura: string) {
  const formats = new Set<PayloadFormat>();
  for (const concept of (resource.payloadType as { coding?: Coding[] }[] | undefined) ?? []) {
    for (const coding of concept.coding ?? []) {
      if (coding.system !== payloadFormatSystem) continue;
      if (coding.code === "xdm" || coding.code === "dicom-email") formats.add(coding.code);
    }
  }
  if (formats.size === 0) {
    for (const mime of (resource.payloadMimeType as string[] | undefined) ?? []) {
      if (mime === "application/zip") formats.add("xdm");
      if (mime === "application/dicom") formats.add("dicom-email");
    }
  }
  const certificates: CertificateInput[] = [];
  for (const ext of extensions(resource, "smime-certificate")) {
    const parts = ext.extension ?? [];
    const use = parts.find((p) => p.url === "use")?.valueCode;
    const data = parts.find((p) => p.url === "certificate")?.valueBase64Binary;
    if (!data) continue;
    try {
      certificates.push({
        der: decodeCertificateText(data),
        use: use === "encryption" || use === "signing" ? use as CertificateUse : undefined,
      });
    } catch {
      problems.push({
        code: "CERT_UNREADABLE",
        message: `Endpoint/${resource.id}: certificate is not base64`,
        ura,
      });
    }
  }
  const size = extensions(resource, "max-message-size")[0];
  const maxMessageBytes = Number(size?.valueInteger ?? size?.valueInteger64 ?? NaN);
  const contentEncryption = extensions(resource, "content-encryption")
    .map((e) => e.valueCode)
    .filter((c): c is ContentEncryption => c === "aes-cbc" || c === "aes-gcm");
  const binaryContent = extensions(resource, "binary-content")[0]?.valueBoolean === true;
  return {
    address: String(resource.address ?? ""),
    formats: [...formats],
    maxMessageBytes: Number.isFinite(maxMessageBytes) ? maxMessageBytes : undefined,
    contentEncryption,
    binaryContent,
    certificates,
  };
}

/**
 * Maps mCSD resources to entries. Resources of other types are ignored; references that point at
 * resources not in the set are skipped (an incremental fetch brings the whole organisation).
 */
export function mapMcsdResources(items: LocatedResource[]): McsdMapping {
  const byKey = new Map<string, FhirResource>();
  for (const { resource, fullUrl } of items) {
    if (resource.id) byKey.set(`${resource.resourceType}/${resource.id}`, resource);
    if (fullUrl) byKey.set(refKey(fullUrl) ?? fullUrl, resource);
  }
  const problems: SyncProblem[] = [];
  const removed: string[] = [];
  const resources = items.map((i) => i.resource);
  const organisations = resources.filter((r) => r.resourceType === "Organization");
  const keyOf = new Map<FhirResource, string>();
  for (const [key, resource] of byKey) if (!keyOf.has(resource)) keyOf.set(resource, key);

  // The organisation with a URA that a resource belongs to, following partOf (mCSD hierarchy).
  const rootOf = (org: FhirResource | undefined): FhirResource | undefined => {
    for (let depth = 0; org && depth < 8; depth++) {
      if (identifierOf(org, uraSystems)) return org;
      const parent = refs(org.partOf)[0];
      org = parent ? byKey.get(parent) : undefined;
    }
    return undefined;
  };

  interface Draft {
    entry: EntryInput;
    endpoints: Map<FhirResource, string | undefined>;
  }
  const drafts = new Map<FhirResource, Draft>();
  for (const org of organisations) {
    const ura = identifierOf(org, uraSystems);
    if (!ura) continue;
    if (org.active === false) {
      removed.push(ura);
      continue;
    }
    const { city, line } = addressOf(org);
    drafts.set(org, {
      entry: {
        ura,
        name: String(org.name ?? ""),
        agb: identifierOf(org, agbSystems),
        city,
        address: line,
        departments: [],
        endpoints: [],
      },
      endpoints: new Map(),
    });
  }
  const draftFor = (orgKey: string | undefined) => {
    const root = rootOf(orgKey ? byKey.get(orgKey) : undefined);
    return root ? drafts.get(root) : undefined;
  };
  const addEndpoint = (draft: Draft, key: string, department?: string) => {
    const endpoint = byKey.get(key);
    if (!endpoint || endpoint.resourceType !== "Endpoint") return;
    if (endpoint.status !== undefined && endpoint.status !== "active") return;
    if (!draft.endpoints.has(endpoint) || (department && !draft.endpoints.get(endpoint))) {
      draft.endpoints.set(endpoint, department);
    }
  };
  for (const org of organisations) {
    const draft = draftFor(keyOf.get(org));
    if (!draft) continue;
    const isDepartment = drafts.get(org) !== draft;
    const department = isDepartment ? String(org.name ?? "") || undefined : undefined;
    if (isDepartment && department) {
      draft.entry.departments.push({ name: department, endpointAddresses: [] });
    }
    for (const key of refs(org.endpoint)) addEndpoint(draft, key, department);
  }
  for (const resource of resources) {
    if (resource.resourceType === "Endpoint") {
      const draft = draftFor(refs(resource.managingOrganization)[0]);
      const key = keyOf.get(resource);
      if (draft && key) addEndpoint(draft, key);
    }
  }
  for (const service of resources.filter((r) => r.resourceType === "HealthcareService")) {
    if (service.active === false) continue;
    const draft = draftFor(refs(service.providedBy)[0]);
    const name = String(service.name ?? "");
    if (!draft || !name) continue;
    draft.entry.departments.push({ name, endpointAddresses: [] });
    for (const key of refs(service.endpoint)) addEndpoint(draft, key, name);
  }
  const entries: EntryInput[] = [];
  for (const draft of drafts.values()) {
    const departments = new Map<string, DepartmentInput>();
    for (const d of draft.entry.departments) departments.set(d.name, d);
    for (const [resource, department] of draft.endpoints) {
      const endpoint: EndpointInput = {
        ...endpointInput(resource, problems, draft.entry.ura),
        department,
      };
      endpoint.address = endpoint.address.replace(/^mailto:/i, "");
      draft.entry.endpoints.push(endpoint);
      if (department) departments.get(department)?.endpointAddresses?.push(endpoint.address);
    }
    draft.entry.departments = [...departments.values()];
    entries.push(draft.entry);
  }
  return { entries, removed, problems };
}

/** The resources of a Bundle, with their fullUrls. */
export function bundleResources(bundle: unknown): LocatedResource[] {
  const entries = (bundle as { entry?: { resource?: FhirResource; fullUrl?: string }[] }).entry;
  return (entries ?? []).filter((e) => e.resource?.resourceType)
    .map((e) => ({ resource: e.resource!, fullUrl: e.fullUrl }));
}
