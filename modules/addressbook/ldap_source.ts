import { Client } from "ldapts";
import { SourceUnavailable } from "./errors.ts";
import type { ContentEncryption, EntryInput, PayloadFormat, SyncProblem } from "./types.ts";
import type { AddressBookSource, SourceResult } from "./types.ts";

/** Which LDAP attribute holds which fact. Directories differ; the defaults suit inetOrgPerson. */
export interface LdapAttributeMap {
  ura: string;
  name: string;
  mail: string;
  certificate: string;
  city?: string;
  address?: string;
  department?: string;
  agb?: string;
  /** Values "xdm" / "dicom-email"; when absent or empty the endpoint is taken to accept XDM. */
  formats?: string;
  /** Bytes, as a decimal string. */
  maxMessageBytes?: string;
  /** Values "aes-cbc" / "aes-gcm". */
  contentEncryption?: string;
  /** LDAP Boolean ("TRUE"): the peer takes binary parts inside the encryption. */
  binaryContent?: string;
}

/**
 * Defaults: one inetOrgPerson per gateway mailbox (RFC 2798), URA in `uid`.
 *
 * @example
 * ```ts
 * ldapSource({ url, searchBase, attributes: { ...defaultLdapAttributes, ura: "employeeNumber" } });
 * ```
 */
export const defaultLdapAttributes: LdapAttributeMap = {
  ura: "uid",
  name: "o",
  mail: "mail",
  // RFC 4523: certificates are transferred with the ;binary option.
  certificate: "userCertificate;binary",
  city: "l",
  address: "postalAddress",
  department: "ou",
  formats: "businessCategory",
};

/** How to reach an LDAP directory. */
export interface LdapSourceOptions {
  /** Source name for rows and sync runs; default "ldap". */
  name?: string;
  /** "ldap://host:389" or "ldaps://host:636". */
  url: string;
  bindDn?: string;
  password?: string;
  searchBase: string;
  /** Default "(&(objectClass=inetOrgPerson)(mail=*))". */
  filter?: string;
  attributes?: Partial<LdapAttributeMap>;
  /** Passed to node:tls for ldaps (CA, client certificate). */
  tlsOptions?: Record<string, unknown>;
  /** Connect and operation timeout; default 10 s. */
  timeoutMs?: number;
  /** Simple paged results control page size (RFC 2696); default 500. */
  pageSize?: number;
}

function values(entry: Record<string, unknown>, attribute: string | undefined): unknown[] {
  if (!attribute) return [];
  const value = entry[attribute];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function text(entry: Record<string, unknown>, attribute: string | undefined): string | undefined {
  const first = values(entry, attribute)[0];
  if (first === undefined) return undefined;
  return typeof first === "string" ? first : new TextDecoder().decode(first as Uint8Array);
}

/**
 * An address-book source reading an LDAP directory. Each matching LDAP entry is one mailbox of a
 * peer gateway; entries with the same URA make one organisation. LDAP offers no portable change
 * feed, so every fetch is complete (directories of this kind hold a few thousand entries).
 *
 * @example
 * ```ts
 * const source = ldapSource({ url: "ldap://directory:389", searchBase: "ou=zorg,dc=example,dc=nl" });
 * const { entries } = await source.fetch();
 * ```
 */
export function ldapSource(options: LdapSourceOptions): AddressBookSource {
  const name = options.name ?? "ldap";
  const map = { ...defaultLdapAttributes, ...options.attributes };
  const filter = options.filter ?? "(&(objectClass=inetOrgPerson)(mail=*))";
  return {
    name,
    async fetch(): Promise<SourceResult> {
      const client = new Client({
        url: options.url,
        timeout: options.timeoutMs ?? 10_000,
        connectTimeout: options.timeoutMs ?? 10_000,
        tlsOptions: options.tlsOptions,
      });
      let found: Record<string, unknown>[];
      try {
        if (options.bindDn) await client.bind(options.bindDn, options.password ?? "");
        const attributes = [...new Set(Object.values(map).filter((a): a is string => !!a))];
        const result = await client.search(options.searchBase, {
          scope: "sub",
          filter,
          attributes,
          explicitBufferAttributes: [map.certificate],
          paged: { pageSize: options.pageSize ?? 500 },
        });
        found = result.searchEntries as Record<string, unknown>[];
      } catch (error) {
        throw new SourceUnavailable(name, `${options.url}: ${(error as Error).message}`, {
          cause: error,
        });
      } finally {
        await client.unbind().catch(() => {});
      }
      const problems: SyncProblem[] = [];
      return { entries: groupEntries(found, map, problems), complete: true, problems };
    },
  };
}

/** Groups LDAP entries (one per mailbox) into organisations by URA. */
export function groupEntries(
  found: Record<string, unknown>[],
  map: LdapAttributeMap,
  problems: SyncProblem[],
): EntryInput[] {
  const byUra = new Map<string, EntryInput>();
  for (const item of found) {
    const ura = text(item, map.ura)?.trim();
    const mail = text(item, map.mail)?.trim();
    if (!ura || !mail) {
      problems.push({ code: "LDAP_ENTRY_INCOMPLETE", message: `${item.dn}: no URA or mail` });
      continue;
    }
    let entry = byUra.get(ura);
    if (!entry) {
      entry = {
        ura,
        name: text(item, map.name) ?? "",
        agb: text(item, map.agb),
        city: text(item, map.city),
        address: text(item, map.address)?.replace(/\$/g, ", "),
        departments: [],
        endpoints: [],
      };
      byUra.set(ura, entry);
    }
    const department = text(item, map.department);
    const formats = values(item, map.formats).map(String)
      .filter((f): f is PayloadFormat => f === "xdm" || f === "dicom-email");
    const maxBytes = Number(text(item, map.maxMessageBytes));
    entry.endpoints.push({
      address: mail,
      formats: formats.length > 0 ? formats : ["xdm"],
      maxMessageBytes: Number.isFinite(maxBytes) && maxBytes > 0 ? maxBytes : undefined,
      contentEncryption: values(item, map.contentEncryption).map(String)
        .filter((e): e is ContentEncryption => e === "aes-cbc" || e === "aes-gcm"),
      binaryContent: text(item, map.binaryContent)?.toUpperCase() === "TRUE",
      department,
      certificates: values(item, map.certificate).map((der) => ({
        der: new Uint8Array(der as Uint8Array),
      })),
    });
    if (department) {
      const existing = entry.departments.find((d) => d.name === department);
      if (existing) existing.endpointAddresses?.push(mail);
      else entry.departments.push({ name: department, endpointAddresses: [mail] });
    }
  }
  return [...byUra.values()];
}
