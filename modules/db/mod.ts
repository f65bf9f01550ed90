/**
 * The database: Kysely over node:sqlite (WAL, foreign keys, busy timeout) and migrations.
 *
 * @example
 * ```ts
 * const database = openDatabase({ kind: "sqlite", path: ":memory:" });
 * await migrateToLatest(database);
 * const users = await database.db.selectFrom("users").selectAll().execute();
 * ```
 * @module
 */
export {
  executeInTransaction,
  knownMigrations,
  migrateToLatest,
  MigrationError,
  openDatabase,
  pendingMigrations,
} from "./database.ts";
export type { Database, DatabaseOptions } from "./database.ts";
export type {
  AuditEventsTable,
  DatabaseSchema,
  InstancesTable,
  PatientsTable,
  RelayDocumentsTable,
  RelayEventsTable,
  RelayMessagesTable,
  RelayPartsTable,
  RelayTransfersTable,
  SeriesTable,
  SessionsTable,
  SettingsTable,
  StudiesTable,
  UsersTable,
} from "./schema.ts";
