import { type AddressBook, createAddressBook } from "../modules/addressbook/mod.ts";
import { type AuditTrail, createAuditTrail, type SyslogOptions } from "../modules/audit/mod.ts";
import { type AuthService, createAuthService } from "../modules/auth/mod.ts";
import { BeeldpoortError, type Logger } from "../modules/core/mod.ts";
import { type Database, migrateToLatest, openDatabase } from "../modules/db/mod.ts";
import { createSpool, type Spool } from "../modules/spool/mod.ts";
import { createStudyIndex, type StudyIndex } from "../modules/studies/mod.ts";
import type { Router } from "../modules/routing/mod.ts";
import type { TransferQueue } from "../modules/transfer/mod.ts";
import type { Portal } from "../modules/portal/mod.ts";
import { openPortal } from "./faces.ts";
import { addressBookSources } from "./addressbook_sources.ts";
import { type JobEventListener, openDelivery } from "./delivery.ts";
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
  audit: AuditTrail;
  spool: Spool;
  studies: StudyIndex;
  addressBook: AddressBook;
  transfer: TransferQueue;
  router: Router;
  portal: Portal;
  /** Adds a listener for every step of every transfer job (e.g. the relay's import links). */
  onJobEvent(listener: JobEventListener): void;
  close(): Promise<void>;
}

/** The syslog collector from `audit.*`, or undefined when forwarding is off. */
export function syslogOptions(config: Config): SyslogOptions | undefined {
  const a = config.audit;
  if (a.syslogTransport === "off" || !a.syslogHost) return undefined;
  const read = (file: string) => (file ? Deno.readTextFileSync(file) : undefined);
  return {
    transport: a.syslogTransport,
    host: a.syslogHost,
    port: a.syslogPort,
    caCerts: a.syslogCaFile ? [Deno.readTextFileSync(a.syslogCaFile)] : undefined,
    clientCert: read(a.syslogClientCertFile),
    clientKey: read(a.syslogClientKeyFile),
    hostname: config.dicom.aeTitle.toLowerCase(),
  };
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
  const db = database ?? openDatabase({
    kind: "sqlite",
    path: paths.database,
    durable: config.spool.durability === "fsync",
  });
  await migrateToLatest(db);
  const spool = await createSpool({
    dir: paths.spoolDir,
    masterKey,
    durability: config.spool.durability,
    log,
  });
  masterKey.fill(0);
  const audit = createAuditTrail({
    db: db.db,
    log,
    source: {
      sourceId: config.dicom.aeTitle,
      enterpriseSiteId: config.organization.ura || undefined,
    },
    syslog: syslogOptions(config),
    retentionDays: config.audit.retentionDays,
  });
  const addressBook = createAddressBook({ db: db.db, sources: addressBookSources(config), log });
  const studies = createStudyIndex({ db: db.db, duplicatePolicy: config.dicom.duplicates, log });
  const delivery = openDelivery({
    db: db.db,
    studies,
    config,
    log,
    commitUnflushed: db.commitUnflushed,
  });
  const portal = openPortal({ database: db, studies, spool }, config);
  return {
    paths,
    database: db,
    auth: createAuthService({
      db: db.db,
      sessionIdleMs: config.auth.sessionIdleMinutes * 60_000,
      sessionMaxMs: config.auth.sessionMaxHours * 3600_000,
      lockout: { threshold: config.auth.lockoutThreshold, baseMs: 60_000, maxMs: 3600_000 },
    }),
    audit,
    spool,
    studies,
    addressBook,
    transfer: delivery.queue,
    router: delivery.router,
    portal,
    onJobEvent: (listener) => void delivery.listeners.add(listener),
    async close() {
      await delivery.queue.stop();
      await addressBook.stop();
      await audit.stop();
      await db.close();
    },
  };
}
