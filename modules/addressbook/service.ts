import type { Kysely } from "kysely";
import { type Clock, type Logger, newId, NotFoundError, systemClock } from "../core/mod.ts";
import type { DatabaseSchema } from "../db/mod.ts";
import { InvalidEntry, RecipientNotUsable } from "./errors.ts";
import { type NormalEntry, normaliseEntry } from "./normalise.ts";
import { createSearchIndex, type SearchIndex } from "./search.ts";
import {
  applyFetch,
  deleteEntry,
  listRuns,
  loadEntries,
  recordRun,
  saveSourceState,
  sourceState,
  type StoredEntry,
} from "./store.ts";
import { chooseEncryptionCertificate, endpointUsability, entryUsability } from "./usability.ts";
import type {
  AddressBookEntry,
  AddressBookSource,
  EntryInput,
  PayloadFormat,
  Recipient,
  SourceResult,
  SyncProblem,
  SyncRun,
} from "./types.ts";

/** Timers the schedule uses; tests pass fakes. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * The default schedule: hourly.
 *
 * @example
 * ```ts
 * book.startSchedule(defaultSyncIntervalMs);
 * ```
 */
export const defaultSyncIntervalMs = 60 * 60 * 1000;

/** What the address book needs. */
export interface AddressBookOptions {
  db: Kysely<DatabaseSchema>;
  /** In priority order: when two sources list the same URA, the earlier one is shown. */
  sources: AddressBookSource[];
  log: Logger;
  clock?: Clock;
  /** Alternative to `clock`. */
  now?: () => Date;
  timers?: Timers;
  /**
   * Incremental sources get a full sync at least this often (default 24 h): deletions in a FHIR
   * directory do not show up in a `_lastUpdated` search.
   */
  fullSyncIntervalMs?: number;
}

/** The address book service. */
export interface AddressBook {
  /** Syncs every source (or one); a failing source is recorded and leaves its cached copy. */
  sync(options?: { full?: boolean; source?: string }): Promise<SyncRun[]>;
  /** Syncs now, then every `intervalMs` (default hourly), until `stop()`. */
  startSchedule(intervalMs?: number): void;
  /** Stops the schedule and waits for a running sync. */
  stop(): Promise<void>;
  /** Fuzzy search on name, city, department; exact on URA and AGB. */
  search(
    text: string,
    options?: { limit?: number; usableOnly?: boolean },
  ): Promise<AddressBookEntry[]>;
  get(ura: string): Promise<AddressBookEntry | undefined>;
  /** The entry with an endpoint at this mail address (to check an inbound sender). */
  findByAddress(address: string): Promise<AddressBookEntry | undefined>;
  /** Every endpoint that can be sent to now, with its encryption certificate. */
  usableRecipients(): Promise<Recipient[]>;
  /**
   * The endpoint to send to for `ura`. Throws NotFoundError when the URA is unknown and
   * RecipientNotUsable (with reasonCode) when it cannot be sent to.
   */
  recipient(
    ura: string,
    options?: { department?: string; format?: PayloadFormat },
  ): Promise<Recipient>;
  /** Adds or replaces an entry by hand (source "manual"); it outranks every directory. */
  addManualEntry(entry: EntryInput): Promise<SyncRun>;
  removeManualEntry(ura: string): Promise<boolean>;
  /** Replaces all entries of `source` (default "import") with these, e.g. from `importFhirBundle`. */
  importEntries(entries: EntryInput[], options?: { source?: string }): Promise<SyncRun>;
  /** Recent sync runs, newest first. */
  syncRuns(limit?: number): Promise<SyncRun[]>;
}

interface Cache {
  entries: StoredEntry[];
  byUra: Map<string, StoredEntry>;
  index: SearchIndex<StoredEntry>;
}

/**
 * Creates the address book over the database.
 *
 * @example
 * ```ts
 * const book = createAddressBook({ db: database.db, sources: [fhirSource({ baseUrl })], log });
 * await book.sync();
 * book.startSchedule();
 * const [hit] = await book.search("Sint Antonius");
 * ```
 */
export function createAddressBook(options: AddressBookOptions): AddressBook {
  const { db } = options;
  const log = options.log.child({ module: "addressbook" });
  const now = options.now ?? (options.clock ?? systemClock).now;
  const timers: Timers = options.timers ?? {
    setTimeout: (callback, ms) => setTimeout(callback, ms),
    clearTimeout: (handle) => clearTimeout(handle as number),
  };
  const fullSyncIntervalMs = options.fullSyncIntervalMs ?? 24 * 60 * 60 * 1000;
  const priority = new Map<string, number>([["manual", 0], ["import", 1]]);
  options.sources.forEach((s, i) => priority.set(s.name, 2 + i));
  const rank = (source: string) => priority.get(source) ?? 1000;

  let cache: Cache | undefined;
  let running: Promise<SyncRun[]> | undefined;
  let timer: unknown;
  let scheduled = false;

  async function loadCache(): Promise<Cache> {
    if (cache) return cache;
    const entries = await loadEntries(db);
    entries.sort((a, b) => rank(a.source) - rank(b.source));
    const byUra = new Map<string, StoredEntry>();
    for (const entry of entries) if (!byUra.has(entry.ura)) byUra.set(entry.ura, entry);
    const visible = [...byUra.values()];
    const index = createSearchIndex(visible.map((e) => ({
      value: e,
      ura: e.ura,
      agb: e.agb,
      name: e.name,
      city: e.city,
      departments: e.departments.map((d) => d.name),
    })));
    cache = { entries: visible, byUra, index };
    return cache;
  }

  function present(entry: StoredEntry, at: Date): AddressBookEntry {
    const endpoints = entry.endpoints.map((e) => ({ ...e, usability: endpointUsability(e, at) }));
    return {
      ura: entry.ura,
      name: entry.name,
      agb: entry.agb,
      city: entry.city,
      address: entry.address,
      departments: entry.departments,
      endpoints,
      source: entry.source,
      updatedAt: entry.updatedAt,
      usability: entryUsability(endpoints.map((e) => e.usability)),
    };
  }

  function normaliseAll(inputs: EntryInput[], problems: SyncProblem[]) {
    const entries: NormalEntry[] = [];
    let rejected = 0;
    const seen = new Set<string>();
    for (const input of inputs) {
      try {
        const entry = normaliseEntry(input, problems);
        if (seen.has(entry.ura)) {
          problems.push({
            code: "DUPLICATE_URA",
            message: `URA ${entry.ura} listed twice`,
            ura: entry.ura,
          });
          rejected++;
          continue;
        }
        seen.add(entry.ura);
        entries.push(entry);
      } catch (error) {
        if (!(error instanceof InvalidEntry)) throw error;
        problems.push({ code: error.code, message: error.message, ura: error.ura || undefined });
        rejected++;
      }
    }
    return { entries, rejected };
  }

  /** Applies one fetch result and records the run. */
  async function apply(
    source: string,
    mode: SyncRun["mode"],
    started: Date,
    result: SourceResult,
  ): Promise<SyncRun> {
    const problems: SyncProblem[] = [...(result.problems ?? [])];
    const { entries, rejected } = normaliseAll(result.entries, problems);
    const counts = await applyFetch(db, source, entries, {
      complete: result.complete,
      removed: result.removed ?? [],
      now: now().toISOString(),
    });
    cache = undefined;
    const run: SyncRun = {
      id: newId(started.getTime()),
      source,
      mode,
      status: "ok",
      startedAt: started.toISOString(),
      durationMs: Math.max(0, now().getTime() - started.getTime()),
      ...counts,
      rejected,
      problems,
    };
    await recordRun(db, run);
    return run;
  }

  async function syncSource(source: AddressBookSource, forceFull: boolean): Promise<SyncRun> {
    const state = await sourceState(db, source.name);
    const fullDue = !state.lastFullAt ||
      now().getTime() - Date.parse(state.lastFullAt) >= fullSyncIntervalMs;
    const since = forceFull || fullDue ? undefined : state.watermark ?? state.lastSuccessAt;
    const mode: SyncRun["mode"] = since ? "incremental" : "full";
    const started = now();
    const clockStart = performance.now();
    let run: SyncRun;
    try {
      const result = await source.fetch(since ? new Date(since) : undefined);
      run = await apply(source.name, mode, started, result);
      run.durationMs = Math.round(performance.now() - clockStart);
      await db.updateTable("addressbook_sync_runs").set({ duration_ms: run.durationMs })
        .where("id", "=", run.id).execute();
      await saveSourceState(db, source.name, {
        watermark: result.watermark?.toISOString() ?? state.watermark ??
          (result.complete ? null : since ?? null),
        lastSuccessAt: started.toISOString(),
        full: mode === "full",
      });
      log.info("address book synced", {
        source: source.name,
        mode,
        added: run.added,
        changed: run.changed,
        removed: run.removed,
        rejected: run.rejected,
        problems: run.problems.length,
        durationMs: run.durationMs,
      });
    } catch (error) {
      const err = error as Error & { code?: string };
      run = {
        id: newId(started.getTime()),
        source: source.name,
        mode,
        status: "failed",
        startedAt: started.toISOString(),
        durationMs: Math.round(performance.now() - clockStart),
        added: 0,
        changed: 0,
        removed: 0,
        rejected: 0,
        problems: [{ code: err.code ?? "SOURCE_FAILED", message: err.message }],
      };
      await recordRun(db, run);
      log.warn("address book source failed; keeping the cached copy", {
        source: source.name,
        mode,
        error: err,
      });
    }
    return run;
  }

  async function runSync(full: boolean, only?: string): Promise<SyncRun[]> {
    const runs: SyncRun[] = [];
    for (const source of options.sources) {
      if (only && source.name !== only) continue;
      runs.push(await syncSource(source, full));
    }
    if (only && runs.length === 0) throw new NotFoundError(`no address book source "${only}"`);
    return runs;
  }

  const book: AddressBook = {
    sync(syncOptions = {}) {
      // One sync at a time: a scheduled run and an admin's "sync now" share the same work.
      if (running) return running;
      running = runSync(syncOptions.full ?? false, syncOptions.source)
        .finally(() => (running = undefined));
      return running;
    },

    startSchedule(intervalMs = defaultSyncIntervalMs) {
      if (scheduled) return;
      scheduled = true;
      const tick = () => {
        timer = undefined;
        book.sync().catch((error) => log.error("address book sync failed", { error }))
          .finally(() => {
            if (scheduled) timer = timers.setTimeout(tick, intervalMs);
          });
      };
      timer = timers.setTimeout(tick, 0);
    },

    async stop() {
      scheduled = false;
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = undefined;
      await running?.catch(() => {});
    },

    async search(text, searchOptions = {}) {
      const { index } = await loadCache();
      const at = now();
      const limit = searchOptions.limit ?? 20;
      const hits = index.search(text, searchOptions.usableOnly ? index.size : limit)
        .map((e) => present(e, at));
      return (searchOptions.usableOnly ? hits.filter((h) => h.usability.usable) : hits)
        .slice(0, limit);
    },

    async get(ura) {
      const entry = (await loadCache()).byUra.get(ura.trim());
      return entry ? present(entry, now()) : undefined;
    },

    async findByAddress(address) {
      const wanted = address.trim().replace(/^mailto:/i, "").toLowerCase();
      const entry = (await loadCache()).entries
        .find((e) => e.endpoints.some((p) => p.address === wanted));
      return entry ? present(entry, now()) : undefined;
    },

    async usableRecipients() {
      const at = now();
      const out: Recipient[] = [];
      for (const entry of (await loadCache()).entries) {
        for (const endpoint of present(entry, at).endpoints) {
          const certificate = chooseEncryptionCertificate(endpoint.certificates, at);
          if (!endpoint.usability.usable || !certificate) continue;
          out.push({
            ura: entry.ura,
            name: entry.name,
            city: entry.city,
            endpoint,
            encryptionCertificate: certificate,
          });
        }
      }
      return out;
    },

    async recipient(ura, recipientOptions = {}) {
      const entry = await book.get(ura);
      if (!entry) throw new NotFoundError(`URA ${ura} is not in the address book`);
      const at = now();
      let candidates = entry.endpoints;
      if (recipientOptions.department) {
        const wanted = recipientOptions.department.toLowerCase();
        const forDepartment = candidates.filter((e) => e.department?.toLowerCase() === wanted);
        if (forDepartment.length > 0) candidates = forDepartment;
      }
      if (recipientOptions.format) {
        candidates = candidates.filter((e) => e.formats.includes(recipientOptions.format!));
        if (candidates.length === 0) {
          throw new RecipientNotUsable(
            ura,
            "FORMAT_NOT_ACCEPTED",
            `no endpoint accepts ${recipientOptions.format}`,
          );
        }
      }
      for (const endpoint of candidates) {
        const certificate = chooseEncryptionCertificate(endpoint.certificates, at);
        if (endpoint.usability.usable && certificate) {
          return {
            ura,
            name: entry.name,
            city: entry.city,
            endpoint,
            encryptionCertificate: certificate,
          };
        }
      }
      const usability = candidates[0]?.usability ?? entry.usability;
      throw new RecipientNotUsable(
        ura,
        usability.reasonCode ?? "NO_ENDPOINT",
        usability.reason ?? "no usable endpoint",
      );
    },

    async addManualEntry(entry) {
      normaliseEntry(entry, []); // throws InvalidEntry: an admin's typo must not pass silently
      const started = now();
      return await apply("manual", "incremental", started, { entries: [entry], complete: false });
    },

    async removeManualEntry(ura) {
      const removed = await deleteEntry(db, "manual", ura);
      cache = undefined;
      return removed;
    },

    async importEntries(entries, importOptions = {}) {
      const started = now();
      return await apply(importOptions.source ?? "import", "full", started, {
        entries,
        complete: true,
      });
    },

    syncRuns: (limit = 20) => listRuns(db, limit),
  };
  return book;
}
