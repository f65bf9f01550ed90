import { SourceFormatError, SourceUnavailable } from "./errors.ts";
import { type FhirResource, type LocatedResource, mapMcsdResources } from "./fhir_mapping.ts";
import type { AddressBookSource, SourceResult } from "./types.ts";

/** How to reach an mCSD directory (IHE ITI-90 Find Matching Care Services). */
export interface FhirSourceOptions {
  /** Source name for rows and sync runs; default "fhir". */
  name?: string;
  /** The FHIR base, e.g. "https://directory.example/fhir". */
  baseUrl: string;
  /** Extra request headers, e.g. Authorization. */
  headers?: Record<string, string>;
  /** A fetch with its own TLS client (mTLS with an UZI server certificate), or a test double. */
  fetch?: typeof fetch;
  /** Resources per page (`_count`); default 200. */
  pageSize?: number;
  /** Per request; default 30 s. */
  timeoutMs?: number;
  /** Stop following `next` links after this many pages of one search; default 1,000. */
  maxPages?: number;
}

const chunk = <T>(list: T[], size: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
};

const idOf = (reference: unknown): string | undefined => {
  const ref = (reference as { reference?: string } | undefined)?.reference;
  const parts = ref?.split("/") ?? [];
  return parts.length >= 2 ? parts[parts.length - 1] : undefined;
};

/**
 * An address-book source reading an mCSD FHIR directory. A full fetch reads every Organization,
 * HealthcareService and Endpoint. An incremental fetch asks each type for `_lastUpdated=gt…`, then
 * reads the whole of every organisation touched, so an entry is always replaced as a unit.
 *
 * @example
 * ```ts
 * const source = fhirSource({ baseUrl: "https://directory.example/fhir" });
 * const { entries } = await source.fetch();
 * ```
 */
export function fhirSource(options: FhirSourceOptions): AddressBookSource {
  const name = options.name ?? "fhir";
  const doFetch = options.fetch ?? fetch;
  const base = options.baseUrl.replace(/\/+$/, "") + "/";
  const pageSize = options.pageSize ?? 200;
  const maxPages = options.maxPages ?? 1000;

  async function getBundle(url: string): Promise<Record<string, unknown>> {
    let response: Response;
    try {
      response = await doFetch(url, {
        headers: { accept: "application/fhir+json", ...options.headers },
        signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      throw new SourceUnavailable(name, `${url}: ${(error as Error).message}`, { cause: error });
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new SourceUnavailable(name, `${url}: HTTP ${response.status}`);
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch (error) {
      throw new SourceFormatError(`${name}: ${url} did not return JSON`, { cause: error });
    }
    if ((body as FhirResource)?.resourceType !== "Bundle") {
      throw new SourceFormatError(`${name}: ${url} did not return a FHIR Bundle`);
    }
    return body as Record<string, unknown>;
  }

  /** Runs one search and follows `next` links (FHIR R4 3.1.1.3.4 paging). */
  async function search(type: string, params: Record<string, string>): Promise<LocatedResource[]> {
    const query = new URLSearchParams({ ...params, _count: String(pageSize) });
    let url: string | undefined = `${base}${type}?${query}`;
    const out: LocatedResource[] = [];
    for (let page = 0; url && page < maxPages; page++) {
      const bundle = await getBundle(url);
      for (const e of (bundle.entry as { resource?: FhirResource; fullUrl?: string }[]) ?? []) {
        // Only matches: `_include`d resources are fetched by their own searches.
        const mode = (e as { search?: { mode?: string } }).search?.mode;
        if (e.resource?.resourceType === type && mode !== "include") {
          out.push({ resource: e.resource, fullUrl: e.fullUrl });
        }
      }
      const next = (bundle.link as { relation?: string; url?: string }[] | undefined)
        ?.find((l) => l.relation === "next")?.url;
      url = next ? new URL(next, base).toString() : undefined;
    }
    return out;
  }

  async function searchByIds(
    type: string,
    param: string,
    ids: Iterable<string>,
  ): Promise<LocatedResource[]> {
    const out: LocatedResource[] = [];
    for (const part of chunk([...new Set(ids)], 50)) {
      out.push(...await search(type, { [param]: part.join(",") }));
    }
    return out;
  }

  function watermarkOf(resources: LocatedResource[]): Date | undefined {
    let max = 0;
    for (const { resource } of resources) {
      const t = Date.parse(resource.meta?.lastUpdated ?? "");
      if (t > max) max = t;
    }
    return max > 0 ? new Date(max) : undefined;
  }

  /** Every resource of the organisations with these logical ids, and of their departments. */
  async function organisationGraphs(orgIds: Set<string>): Promise<LocatedResource[]> {
    const orgs = new Map<string, LocatedResource>();
    let wanted = [...orgIds];
    // Walk up partOf so a department's change brings its organisation with the URA.
    for (let depth = 0; wanted.length > 0 && depth < 8; depth++) {
      const found = await searchByIds("Organization", "_id", wanted);
      wanted = [];
      for (const item of found) {
        orgs.set(item.resource.id!, item);
        const parent = idOf(item.resource.partOf);
        if (parent && !orgs.has(parent)) wanted.push(parent);
      }
    }
    // And down: departments modelled as Organizations with partOf.
    let parents = [...orgs.keys()];
    for (let depth = 0; parents.length > 0 && depth < 8; depth++) {
      const children = await searchByIds("Organization", "partof", parents);
      parents = [];
      for (const child of children) {
        if (orgs.has(child.resource.id!)) continue;
        orgs.set(child.resource.id!, child);
        parents.push(child.resource.id!);
      }
    }
    const ids = [...orgs.keys()];
    const services = await searchByIds("HealthcareService", "organization", ids);
    const endpoints = await searchByIds("Endpoint", "organization", ids);
    const have = new Set(endpoints.map((e) => e.resource.id));
    const referenced = [...orgs.values(), ...services]
      .flatMap((r) => (r.resource.endpoint as unknown[] | undefined) ?? [])
      .map(idOf).filter((id): id is string => !!id && !have.has(id));
    const extra = referenced.length ? await searchByIds("Endpoint", "_id", referenced) : [];
    return [...orgs.values(), ...services, ...endpoints, ...extra];
  }

  return {
    name,
    async fetch(since?: Date): Promise<SourceResult> {
      if (!since) {
        const resources = [
          ...await search("Organization", {}),
          ...await search("HealthcareService", {}),
          ...await search("Endpoint", {}),
        ];
        const mapped = mapMcsdResources(resources);
        return {
          entries: mapped.entries,
          removed: mapped.removed,
          complete: true,
          watermark: watermarkOf(resources),
          problems: mapped.problems,
        };
      }
      const filter = { _lastUpdated: `gt${since.toISOString()}` };
      const changed = [
        ...await search("Organization", filter),
        ...await search("HealthcareService", filter),
        ...await search("Endpoint", filter),
      ];
      if (changed.length === 0) return { entries: [], complete: false };
      const affected = new Set<string>();
      const changedEndpoints: string[] = [];
      for (const { resource } of changed) {
        if (resource.resourceType === "Organization") affected.add(resource.id!);
        if (resource.resourceType === "HealthcareService") {
          const org = idOf(resource.providedBy);
          if (org) affected.add(org);
        }
        if (resource.resourceType === "Endpoint") {
          const org = idOf(resource.managingOrganization);
          if (org) affected.add(org);
          changedEndpoints.push(`Endpoint/${resource.id}`);
        }
      }
      if (changedEndpoints.length > 0) {
        // An endpoint may be linked only from the organisation or service that lists it.
        for (const org of await searchByIds("Organization", "endpoint", changedEndpoints)) {
          affected.add(org.resource.id!);
        }
        for (
          const service of await searchByIds("HealthcareService", "endpoint", changedEndpoints)
        ) {
          const org = idOf(service.resource.providedBy);
          if (org) affected.add(org);
        }
      }
      const mapped = mapMcsdResources(await organisationGraphs(affected));
      return {
        entries: mapped.entries,
        removed: mapped.removed,
        complete: false,
        watermark: watermarkOf(changed),
        problems: mapped.problems,
      };
    },
  };
}
