import { type Kysely, sql, type Transaction } from "kysely";
import type { DatabaseSchema } from "../db/mod.ts";
import type { NormalEndpoint, NormalEntry } from "./normalise.ts";
import type { CertificateUse, SyncRun } from "./types.ts";

type Db = Kysely<DatabaseSchema>;

/** An entry as stored: the checked content plus which source it came from and when it changed. */
export interface StoredEntry extends NormalEntry {
  source: string;
  updatedAt: string;
}

/** What applying one fetch changed. */
export interface ApplyCounts {
  added: number;
  changed: number;
  removed: number;
}

async function insertEntry(
  tx: Transaction<DatabaseSchema>,
  source: string,
  entry: NormalEntry,
  now: string,
): Promise<void> {
  await tx.insertInto("addressbook_entries").values({
    source,
    ura: entry.ura,
    name: entry.name,
    agb: entry.agb ?? null,
    city: entry.city ?? null,
    address: entry.address ?? null,
    departments: JSON.stringify(entry.departments),
    hash: entry.hash,
    updated_at: now,
  }).execute();
  for (const [position, endpoint] of entry.endpoints.entries()) {
    await tx.insertInto("addressbook_endpoints").values({
      source,
      ura: entry.ura,
      address: endpoint.address,
      position,
      formats: JSON.stringify(endpoint.formats),
      max_message_bytes: endpoint.maxMessageBytes ?? null,
      content_encryption: JSON.stringify(endpoint.contentEncryption),
      binary_content: endpoint.binaryContent ? 1 : 0,
      department: endpoint.department ?? null,
      refused_certificates: JSON.stringify(endpoint.refusedCertificates),
    }).execute();
    for (const cert of endpoint.certificates) {
      await tx.insertInto("addressbook_certificates").values({
        source,
        ura: entry.ura,
        endpoint_address: endpoint.address,
        use: cert.use,
        fingerprint: cert.fingerprint,
        der: cert.der,
        subject: cert.subject,
        issuer: cert.issuer,
        serial_number: cert.serialNumber,
        not_before: cert.notBefore.toISOString(),
        not_after: cert.notAfter.toISOString(),
        cert_ura: cert.ura ?? null,
        emails: JSON.stringify(cert.emails),
      }).execute();
    }
  }
}

/**
 * Writes one fetch of `source` in a single transaction: new entries are added, entries whose
 * content hash differs are replaced, and - for a complete fetch - entries the source no longer
 * lists are removed. Nothing is written when the fetch failed, so the last good copy stays.
 */
export async function applyFetch(
  db: Db,
  source: string,
  entries: NormalEntry[],
  options: { complete: boolean; removed: string[]; now: string },
): Promise<ApplyCounts> {
  return await db.transaction().execute(async (tx) => {
    const existing = new Map(
      (await tx.selectFrom("addressbook_entries").select(["ura", "hash"])
        .where("source", "=", source).execute()).map((r) => [r.ura, r.hash]),
    );
    const counts: ApplyCounts = { added: 0, changed: 0, removed: 0 };
    const delivered = new Set<string>();
    for (const entry of entries) {
      delivered.add(entry.ura);
      const hash = existing.get(entry.ura);
      if (hash === entry.hash) continue;
      if (hash !== undefined) {
        await tx.deleteFrom("addressbook_entries").where("source", "=", source)
          .where("ura", "=", entry.ura).execute();
        counts.changed++;
      } else {
        counts.added++;
      }
      existing.set(entry.ura, entry.hash);
      await insertEntry(tx, source, entry, options.now);
    }
    const gone = new Set(options.removed.filter((ura) => !delivered.has(ura)));
    if (options.complete) {
      for (const ura of existing.keys()) if (!delivered.has(ura)) gone.add(ura);
    }
    for (const ura of gone) {
      if (!existing.has(ura)) continue;
      await tx.deleteFrom("addressbook_entries").where("source", "=", source)
        .where("ura", "=", ura).execute();
      counts.removed++;
    }
    return counts;
  });
}

/** Removes one entry of one source; whether there was one. */
export async function deleteEntry(db: Db, source: string, ura: string): Promise<boolean> {
  const result = await db.deleteFrom("addressbook_entries").where("source", "=", source)
    .where("ura", "=", ura).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Reads every stored entry with endpoints and certificates (three queries, grouped here). */
export async function loadEntries(db: Db, filter?: { ura?: string }): Promise<StoredEntry[]> {
  let entriesQuery = db.selectFrom("addressbook_entries").selectAll();
  let endpointsQuery = db.selectFrom("addressbook_endpoints").selectAll();
  let certsQuery = db.selectFrom("addressbook_certificates").selectAll();
  if (filter?.ura) {
    entriesQuery = entriesQuery.where("ura", "=", filter.ura);
    endpointsQuery = endpointsQuery.where("ura", "=", filter.ura);
    certsQuery = certsQuery.where("ura", "=", filter.ura);
  }
  const [entries, endpoints, certs] = await Promise.all([
    entriesQuery.execute(),
    endpointsQuery.orderBy("position").execute(),
    certsQuery.execute(),
  ]);
  const key = (source: string, ura: string, address = "") =>
    `${source}\u0000${ura}\u0000${address}`;
  const certsByEndpoint = new Map<string, NormalEndpoint["certificates"]>();
  for (const c of certs) {
    const k = key(c.source, c.ura, c.endpoint_address);
    const list = certsByEndpoint.get(k) ?? [];
    list.push({
      use: c.use as CertificateUse,
      der: c.der instanceof Uint8Array ? c.der : new Uint8Array(c.der as ArrayBuffer),
      fingerprint: c.fingerprint,
      subject: c.subject,
      issuer: c.issuer,
      serialNumber: c.serial_number,
      notBefore: new Date(c.not_before),
      notAfter: new Date(c.not_after),
      ura: c.cert_ura ?? undefined,
      emails: JSON.parse(c.emails),
    });
    certsByEndpoint.set(k, list);
  }
  const endpointsByEntry = new Map<string, NormalEndpoint[]>();
  for (const e of endpoints) {
    const k = key(e.source, e.ura);
    const list = endpointsByEntry.get(k) ?? [];
    list.push({
      address: e.address,
      formats: JSON.parse(e.formats),
      maxMessageBytes: e.max_message_bytes ?? undefined,
      contentEncryption: JSON.parse(e.content_encryption),
      binaryContent: e.binary_content === 1,
      department: e.department ?? undefined,
      certificates: certsByEndpoint.get(key(e.source, e.ura, e.address)) ?? [],
      refusedCertificates: JSON.parse(e.refused_certificates),
    });
    endpointsByEntry.set(k, list);
  }
  return entries.map((r) => ({
    source: r.source,
    ura: r.ura,
    name: r.name,
    agb: r.agb ?? undefined,
    city: r.city ?? undefined,
    address: r.address ?? undefined,
    departments: JSON.parse(r.departments),
    endpoints: endpointsByEntry.get(key(r.source, r.ura)) ?? [],
    hash: r.hash,
    updatedAt: r.updated_at,
  }));
}

/** Where the next incremental sync of `source` starts; undefined before the first success. */
export async function sourceState(
  db: Db,
  source: string,
): Promise<{ watermark?: string; lastSuccessAt?: string; lastFullAt?: string }> {
  const row = await db.selectFrom("addressbook_source_state").selectAll()
    .where("source", "=", source).executeTakeFirst();
  return {
    watermark: row?.watermark ?? undefined,
    lastSuccessAt: row?.last_success_at ?? undefined,
    lastFullAt: row?.last_full_at ?? undefined,
  };
}

/** Records a successful sync of `source`. */
export async function saveSourceState(
  db: Db,
  source: string,
  state: { watermark: string | null; lastSuccessAt: string; full: boolean },
): Promise<void> {
  const previous = await sourceState(db, source);
  const row = {
    source,
    watermark: state.watermark,
    last_success_at: state.lastSuccessAt,
    last_full_at: state.full ? state.lastSuccessAt : previous.lastFullAt ?? null,
  };
  await db.insertInto("addressbook_source_state").values(row)
    .onConflict((oc) => oc.column("source").doUpdateSet(row)).execute();
}

/** Writes the record of one sync run. */
export async function recordRun(db: Db, run: SyncRun): Promise<void> {
  await db.insertInto("addressbook_sync_runs").values({
    id: run.id,
    source: run.source,
    mode: run.mode,
    status: run.status,
    started_at: run.startedAt,
    duration_ms: run.durationMs,
    added: run.added,
    changed: run.changed,
    removed: run.removed,
    rejected: run.rejected,
    problems: JSON.stringify(run.problems),
  }).execute();
}

/** The most recent sync runs, newest first. */
export async function listRuns(db: Db, limit: number): Promise<SyncRun[]> {
  const rows = await db.selectFrom("addressbook_sync_runs").selectAll()
    .orderBy("started_at", "desc").orderBy(sql`rowid`, "desc").limit(limit).execute();
  return rows.map((r) => ({
    id: r.id,
    source: r.source,
    mode: r.mode as SyncRun["mode"],
    status: r.status as SyncRun["status"],
    startedAt: r.started_at,
    durationMs: r.duration_ms,
    added: r.added,
    changed: r.changed,
    removed: r.removed,
    rejected: r.rejected,
    problems: JSON.parse(r.problems),
  }));
}
