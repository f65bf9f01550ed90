import { type CompiledQuery, Kysely, sql } from "kysely";
import { Migrator } from "kysely/migration";
import { BeeldpoortError } from "../core/mod.ts";
import { nodeSqliteDialect } from "./sqlite_dialect.ts";
import { migrations } from "./migrations/mod.ts";
import type { DatabaseSchema } from "./schema.ts";

/**
 * Where the database lives. Only SQLite today; the union is the seam for PostgreSQL. `durable`
 * (default true): every commit is on disk when it returns (SQLite `synchronous = FULL`), as the
 * spool's fsync durability promises for the objects the rows point at. False trades the last
 * commits before a power cut for speed (`NORMAL`), like the spool's `os` durability.
 */
export type DatabaseOptions = { kind: "sqlite"; path: string; durable?: boolean };

/** An open database: the Kysely handle plus lifecycle. */
export interface Database {
  readonly db: Kysely<DatabaseSchema>;
  /**
   * Runs `queries` in one transaction whose commit is not flushed to disk: for marks that may be
   * redone, such as an item's progress, where a flush per mark would stall the program (SQLite
   * holds the one JavaScript thread for the fsync: 1-2 ms per commit under load). A crash of the
   * process loses nothing (the commit is in the operating system's cache); a power cut may lose
   * what came after the last flushed commit, as with `durable: false`.
   */
  commitUnflushed(queries: readonly CompiledQuery[]): Promise<void>;
  /** Whether a trivial query succeeds. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** A migration failed; the database is left at the last migration that succeeded. */
export class MigrationError extends BeeldpoortError {
  readonly code = "DB_MIGRATION_FAILED";
}

/**
 * Opens the database.
 *
 * @example
 * ```ts
 * const database = openDatabase({ kind: "sqlite", path: "data/beeldpoort.db" });
 * await migrateToLatest(database);
 * ```
 */
export function openDatabase(options: DatabaseOptions): Database {
  const { dialect, commitUnflushed: dialectCommitUnflushed } = nodeSqliteDialect(
    options.path,
    options.durable ?? true,
  );
  const db = new Kysely<DatabaseSchema>({ dialect });
  let closed = false;
  return {
    db,
    async commitUnflushed(queries) {
      // While a Kysely transaction is open on the connection, ours waits for it and is flushed.
      if (!dialectCommitUnflushed(queries)) await executeInTransaction(db, queries);
    },
    async ping() {
      try {
        const result = await sql<{ one: number }>`select 1 as one`.execute(db);
        return result.rows[0]?.one === 1;
      } catch {
        return false;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}

/** Runs compiled `queries` in one ordinary (flushed) transaction. */
export async function executeInTransaction(
  db: Kysely<DatabaseSchema>,
  queries: readonly CompiledQuery[],
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    for (const query of queries) await tx.executeQuery(query);
  });
}

/** Names of the migrations this program knows, in order. */
export function knownMigrations(): string[] {
  return Object.keys(migrations).sort();
}

function migrator(database: Database): Migrator {
  return new Migrator({
    db: database.db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    // Each migration creates its own module's tables, so a database that already has a later one
    // (from a build that merged it first) may still take an earlier-numbered one.
    allowUnorderedMigrations: true,
  });
}

/**
 * Brings the schema to the latest migration. Idempotent: running it again does nothing.
 * Returns the names of the migrations applied by this call.
 */
export async function migrateToLatest(database: Database): Promise<string[]> {
  const { error, results } = await migrator(database).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
    throw new MigrationError(`migration ${failed} failed: ${String(error)}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}

/** Migrations known to this program that have not been applied to the database yet. */
export async function pendingMigrations(database: Database): Promise<string[]> {
  const infos = await migrator(database).getMigrations();
  return infos.filter((m) => !m.executedAt).map((m) => m.name);
}
