/**
 * A small FHIR mCSD directory for tests and the benchmark: Organization, HealthcareService and
 * Endpoint held in memory, served on loopback with hono. Supports the searches the address book's
 * FHIR source makes: `_lastUpdated` (gt/ge/lt/le), `_id`, `organization`, `partof`, `endpoint`,
 * `_count`, and paging with `next` links.
 */
import { Hono } from "hono";

/** A FHIR resource as the server holds it. */
export type Resource = { resourceType: string; id: string; [key: string]: unknown };

/** A running test directory. */
export interface FhirTestServer {
  baseUrl: string;
  /** Adds or replaces a resource, stamping meta.lastUpdated (default: now). */
  put(resource: Resource, lastUpdated?: Date): void;
  /** Deletes a resource outright (as a directory admin would; not visible to `_lastUpdated`). */
  remove(resourceType: string, id: string): void;
  /** Paths and queries of every request, in order. */
  requests: string[];
  /** Makes every request fail with this HTTP status (e.g. 503); null to answer normally. */
  failWith: number | null;
  close(): Promise<void>;
}

const ref = (value: unknown): string[] => {
  const list = Array.isArray(value) ? value : value ? [value] : [];
  return list.map((r) => String((r as { reference?: string }).reference ?? ""));
};

function matches(resource: Resource, params: URLSearchParams): boolean {
  for (const [name, value] of params) {
    if (name === "_count" || name === "_offset") continue;
    if (name === "_lastUpdated") {
      const prefix = value.slice(0, 2);
      const when = Date.parse(value.slice(2));
      const t = Date.parse((resource.meta as { lastUpdated: string }).lastUpdated);
      const ok = prefix === "gt"
        ? t > when
        : prefix === "ge"
        ? t >= when
        : prefix === "lt"
        ? t < when
        : prefix === "le"
        ? t <= when
        : t === Date.parse(value);
      if (!ok) return false;
      continue;
    }
    const wanted = value.split(",");
    let refs: string[];
    if (name === "_id") {
      if (!wanted.includes(resource.id)) return false;
      continue;
    } else if (name === "organization") {
      refs = ref(
        resource.resourceType === "Endpoint" ? resource.managingOrganization : resource.providedBy,
      );
    } else if (name === "partof") {
      refs = ref(resource.partOf);
    } else if (name === "endpoint") {
      refs = ref(resource.endpoint);
    } else {
      return false; // unknown parameter: match nothing rather than everything
    }
    const ids = refs.map((r) => r.split("/").pop()!);
    if (!wanted.some((w) => ids.includes(w.split("/").pop()!))) return false;
  }
  return true;
}

/**
 * Starts the directory on 127.0.0.1:`port` with `resources`.
 *
 * @example
 * ```ts
 * const server = startFhirTestServer({ port: 12301, resources: organisation({ ... }) });
 * await server.close();
 * ```
 */
export function startFhirTestServer(
  options: { port: number; resources?: Resource[]; lastUpdated?: Date },
): FhirTestServer {
  const store = new Map<string, Resource>();
  const requests: string[] = [];
  const app = new Hono();
  const state = { failWith: null as number | null };
  const put = (resource: Resource, lastUpdated = new Date()) => {
    store.set(`${resource.resourceType}/${resource.id}`, {
      ...resource,
      meta: { lastUpdated: lastUpdated.toISOString() },
    });
  };
  for (const r of options.resources ?? []) put(r, options.lastUpdated);

  app.get("/fhir/:type", (c) => {
    const url = new URL(c.req.url);
    requests.push(url.pathname + url.search);
    if (state.failWith) return c.json({ resourceType: "OperationOutcome" }, state.failWith as 503);
    const type = c.req.param("type");
    const params = url.searchParams;
    const all = [...store.values()]
      .filter((r) => r.resourceType === type && matches(r, params))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const count = Number(params.get("_count") ?? 50);
    const offset = Number(params.get("_offset") ?? 0);
    const page = all.slice(offset, offset + count);
    const link = [{ relation: "self", url: url.toString() }];
    if (offset + count < all.length) {
      const next = new URLSearchParams(params);
      next.set("_offset", String(offset + count));
      // Relative to the base, as some servers send it; the client must resolve it.
      link.push({ relation: "next", url: `${type}?${next}` });
    }
    return c.json(
      {
        resourceType: "Bundle",
        type: "searchset",
        total: all.length,
        link,
        entry: page.map((resource) => ({
          fullUrl: `${url.origin}/fhir/${resource.resourceType}/${resource.id}`,
          resource,
          search: { mode: "match" },
        })),
      },
      200,
      { "content-type": "application/fhir+json" },
    );
  });

  const server = Deno.serve(
    { port: options.port, hostname: "127.0.0.1", onListen: () => {} },
    app.fetch,
  );
  return {
    baseUrl: `http://127.0.0.1:${options.port}/fhir`,
    put,
    remove: (type, id) => store.delete(`${type}/${id}`),
    requests,
    get failWith() {
      return state.failWith;
    },
    set failWith(value) {
      state.failWith = value;
    },
    close: () => server.shutdown(),
  };
}

/** What one fixture organisation looks like. */
export interface OrganisationFixture {
  id: string;
  ura: string;
  name: string;
  city?: string;
  agb?: string;
  active?: boolean;
  endpoints?: {
    id: string;
    address: string;
    formats?: ("xdm" | "dicom-email")[];
    maxMessageBytes?: number;
    contentEncryption?: ("aes-cbc" | "aes-gcm")[];
    binaryContent?: boolean;
    certificates?: { der: Uint8Array; use?: "encryption" | "signing" }[];
  }[];
  services?: { id: string; name: string; endpointIds?: string[] }[];
}

const base64 = (bytes: Uint8Array) => {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
};

/** The mCSD resources of one organisation in the representation the address book reads. */
export function organisation(f: OrganisationFixture): Resource[] {
  const sd = "https://beeldpoort.nl/fhir/StructureDefinition/";
  const identifier = [{ system: "http://fhir.nl/fhir/NamingSystem/ura", value: f.ura }];
  if (f.agb) identifier.push({ system: "http://fhir.nl/fhir/NamingSystem/agb-z", value: f.agb });
  const out: Resource[] = [{
    resourceType: "Organization",
    id: f.id,
    active: f.active ?? true,
    identifier,
    name: f.name,
    address: f.city ? [{ line: ["Hoofdstraat 1"], postalCode: "1234 AB", city: f.city }] : [],
  }];
  for (const e of f.endpoints ?? []) {
    const extension: unknown[] = (e.certificates ?? []).map((c) => ({
      url: sd + "smime-certificate",
      extension: [
        ...(c.use ? [{ url: "use", valueCode: c.use }] : []),
        { url: "certificate", valueBase64Binary: base64(c.der) },
      ],
    }));
    if (e.maxMessageBytes) {
      extension.push({ url: sd + "max-message-size", valueInteger: e.maxMessageBytes });
    }
    for (const enc of e.contentEncryption ?? []) {
      extension.push({ url: sd + "content-encryption", valueCode: enc });
    }
    if (e.binaryContent !== undefined) {
      extension.push({ url: sd + "binary-content", valueBoolean: e.binaryContent });
    }
    out.push({
      resourceType: "Endpoint",
      id: e.id,
      status: "active",
      connectionType: {
        system: "http://terminology.hl7.org/CodeSystem/endpoint-connection-type",
        code: "direct-project",
      },
      managingOrganization: { reference: `Organization/${f.id}` },
      payloadType: [{
        coding: (e.formats ?? ["xdm"]).map((code) => ({
          system: "https://beeldpoort.nl/fhir/CodeSystem/payload-format",
          code,
        })),
      }],
      address: `mailto:${e.address}`,
      extension,
    });
  }
  for (const s of f.services ?? []) {
    out.push({
      resourceType: "HealthcareService",
      id: s.id,
      active: true,
      providedBy: { reference: `Organization/${f.id}` },
      name: s.name,
      endpoint: (s.endpointIds ?? []).map((id) => ({ reference: `Endpoint/${id}` })),
    });
  }
  return out;
}
