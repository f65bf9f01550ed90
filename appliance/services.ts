import { type AddressBook, createAddressBook } from "../modules/addressbook/mod.ts";
import { type AuthService, createAuthService } from "../modules/auth/mod.ts";
import { BeeldpoortError, type Logger } from "../modules/core/mod.ts";
import { type Database, migrateToLatest, openDatabase } from "../modules/db/mod.ts";
import { createSpool, type Spool } from "../modules/spool/mod.ts";
import { createStudyIndex, type StudyIndex } from "../modules/studies/mod.ts";
import type { Router } from "../modules/routing/mod.ts";
import type { TransferQueue } from "../modules/transfer/mod.ts";
import { addressBookSources } from "./addressbook_sources.ts";
import { openDelivery } from "./delivery.ts";
import type { Config } from "./config/schema.ts";
import { type DataPaths, dataPaths } from "./paths.ts";

/** The data directory is missing or incomplete; `beeldpoort init` (or `serve`) creates it. */
export class DataDirectoryMissing extends BeeldpoortError {
  readonly code = "DATA_DIRECTORY_MISSING";
}

/** The long-lived services every command and the server share. */
export interface Services {
  paths: DataPaths;
  database: Database;
  auth: AuthService;
  spool: Spool;
  studies: StudyIndex;
  addressBook: AddressBook;
  transfer: TransferQueue;
  router: Router;
  close(): Promise<void>;
}

/**
 * Opens the services over an initialised data directory: database (migrated), spool with the
 * master key, study index, auth. Never creates a data directory (that is `init`'s job).
 */
export async function openServices(
  config: Config,
  log: Logger,
  database?: Database,
): Promise<Services> {
  const paths = dataPaths(config);
  let masterKey: Uint8Array;
  try {
    masterKey = Deno.readFileSync(paths.masterKey);
    Deno.statSync(paths.database);
  } catch {
    throw new DataDirectoryMissing(
      `no initialised data directory at ${paths.dir} (missing ${paths.masterKey} or ${paths.database}); run \`beeldpoort init\``,
    );
  }
  const db = database ?? openDatabase({ kind: "sqlite", path: paths.database });
  await migrateToLatest(db);
  const spool = await createSpool({
    dir: paths.spoolDir,
    masterKey,
    durability: config.spool.durability,
    log,
  });
  masterKey.fill(0);
  const addressBook = createAddressBook({ db: db.db, sources: addressBookSources(config), log });
  const studies = createStudyIndex({ db: db.db, duplicatePolicy: config.dicom.duplicates, log });
  const delivery = openDelivery({ db: db.db, studies, config, log });
  return {
    paths,
    database: db,
    auth: createAuthService({ db: db.db }),
    spool,
    studies,
    addressBook,
    transfer: delivery.queue,
    router: delivery.router,
    async close() {
      await delivery.queue.stop();
      await addressBook.stop();
      await db.close();
    },
  };
}
