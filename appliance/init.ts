import { randomBytes } from "node:crypto";
import { type Database, migrateToLatest, openDatabase } from "../modules/db/mod.ts";
import type { Logger } from "../modules/core/mod.ts";
import type { Config } from "./config/schema.ts";
import { type DataPaths, dataPaths } from "./paths.ts";
import { generateSelfSignedCertificate } from "./self_signed.ts";

/** Length of the spool master key in bytes (AES-256). */
export const masterKeyLength = 32;

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Writes a new file readable only by its owner; never overwrites an existing one. */
function writeSecretFile(path: string, data: Uint8Array | string): void {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const file = Deno.openSync(path, { write: true, createNew: true, mode: 0o600 });
  try {
    file.writeSync(bytes);
    file.syncSync();
  } finally {
    file.close();
  }
}

/**
 * Prepares the data directory: creates it (mode 0700) and its subfolders, the spool master key
 * (0600), the self-signed web certificate when none is configured, and the migrated database.
 * Safe to run any number of times: existing keys and certificates are kept as they are.
 * Returns the open database and what it created, for the log.
 */
export async function initDataDirectory(
  config: Config,
  log: Logger,
): Promise<{ paths: DataPaths; database: Database; created: string[] }> {
  const paths = dataPaths(config);
  const created: string[] = [];
  for (const dir of [paths.dir, paths.keysDir, paths.tlsDir, paths.spoolDir]) {
    if (!exists(dir)) {
      Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
      created.push(dir);
    }
  }
  if (!exists(paths.masterKey)) {
    writeSecretFile(paths.masterKey, randomBytes(masterKeyLength));
    created.push(paths.masterKey);
  }
  if (!config.http.tlsCertFile && !exists(paths.tlsCert)) {
    const { certPem, keyPem } = await generateSelfSignedCertificate({
      commonName: "Beeldpoort",
      altNames: ["localhost", "127.0.0.1", Deno.hostname()],
      days: 825,
    });
    writeSecretFile(paths.tlsKey, keyPem);
    Deno.writeTextFileSync(paths.tlsCert, certPem);
    created.push(paths.tlsCert, paths.tlsKey);
  }
  for (const path of created) log.info("created", { path });
  const database = openDatabase({
    kind: "sqlite",
    path: paths.database,
    durable: config.spool.durability === "fsync",
  });
  const applied = await migrateToLatest(database);
  if (applied.length > 0) log.info("database migrated", { migrations: applied });
  return { paths, database, created };
}
