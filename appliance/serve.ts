import { tuneAllocator } from "./allocator.ts";
import { startMemoryGovernor } from "./memory_governor.ts";
import { cipherBackend, systemClock } from "../modules/core/mod.ts";
import type { Logger } from "../modules/core/mod.ts";
import { createDicomServer, listenDicomTls } from "../modules/dicom/mod.ts";
import { receiveAuditor } from "./audit_hooks.ts";
import type { Config } from "./config/schema.ts";
import { startDelivery } from "./delivery.ts";
import { createDicomIntake } from "./dicom_intake.ts";
import { facesDeps } from "./faces.ts";
import { createHttpApp } from "./http.ts";
import { initDataDirectory } from "./init.ts";
import { startRelay } from "./relay.ts";
import { createStudyRetention } from "./study_retention.ts";
import { listenOn } from "./port_in_use.ts";
import { openServices, type Services } from "./services.ts";
import { version } from "./version.ts";

/** A running appliance; `stop` is what SIGINT/SIGTERM call. */
export interface RunningAppliance {
  httpPort: number;
  dicomPort: number;
  /** The DICOM TLS port, or null when `dicom.tlsPort` is 0. */
  dicomTlsPort: number | null;
  /** The SMTP port for mail from other gateways, or null when the listener is off. */
  mailPort: number | null;
  setupUrl: string | null;
  /** The services it runs on (tests and the screenshot script seed and inspect through them). */
  services: Services;
  stop(): Promise<void>;
  /** Resolves once the appliance has stopped. */
  finished: Promise<void>;
}

function urlHost(host: string): string {
  if (host === "0.0.0.0" || host === "::") return "localhost";
  return host.includes(":") ? `[${host}]` : host;
}

/**
 * Starts the appliance: prepares the data directory, migrates the database, opens the spool and
 * index, and serves the web UI over HTTPS and DICOM. When no admin exists it issues a one-time
 * setup token and returns its URL.
 */
export async function startAppliance(config: Config, log: Logger): Promise<RunningAppliance> {
  tuneAllocator(log);
  const governor = startMemoryGovernor(log);
  const cipher = cipherBackend();
  if (cipher.name === "openssl") log.info("encryption by OpenSSL", { library: cipher.detail });
  else log.warn("encryption by the slower node:crypto fallback", { reason: cipher.detail });
  const startedAt = new Date();
  const { paths, database } = await initDataDirectory(config, log);
  const services = await openServices(config, log, database);
  const { auth } = services;

  const { audit } = services;
  // Registers the "peer" and "inbound" handlers before the queue starts claiming jobs.
  const relay = await startRelay({ config, services, audit, log });
  const app = createHttpApp({
    database,
    auth,
    audit,
    studies: services.studies,
    log,
    startedAt,
    ...facesDeps(services, config, log),
    relay: relay?.relay,
  });
  const server = await listenOn("http.port", config.http.host, config.http.port, () =>
    Deno.serve({
      hostname: config.http.host,
      port: config.http.port,
      cert: Deno.readTextFileSync(paths.tlsCert),
      key: Deno.readTextFileSync(paths.tlsKey),
      onListen: () => {},
    }, app.fetch));
  const httpPort = server.addr.port;
  log.info("web UI listening", { host: config.http.host, port: httpPort, version });

  const dicomOptions = {
    host: config.dicom.host,
    port: config.dicom.port,
    aeTitle: config.dicom.aeTitle,
    allowedSenders: config.dicom.allowedSenders,
    maxAssociations: config.dicom.maxAssociations,
    maxPduLength: config.dicom.maxPduLength,
    log: log.child({ module: "dicom" }),
    store: createDicomIntake({ ...services, log, afterStore: receiveAuditor(audit) }),
  };
  const dicom = await listenOn(
    "dicom.port",
    config.dicom.host,
    config.dicom.port,
    () => createDicomServer(dicomOptions),
  );
  // PS3.15 B.9: the same SCP on a second port over TLS, optionally only for known modalities.
  const dicomTls = config.dicom.tlsPort
    ? createDicomServer({
      ...dicomOptions,
      port: config.dicom.tlsPort,
      listener: await listenOn("dicom.tlsPort", config.dicom.host, config.dicom.tlsPort, () =>
        listenDicomTls({
          host: config.dicom.host,
          port: config.dicom.tlsPort,
          cert: Deno.readTextFileSync(config.dicom.tlsCertFile || paths.tlsCert),
          key: Deno.readTextFileSync(config.dicom.tlsKeyFile || paths.tlsKey),
          clientCaCerts: config.dicom.tlsClientCaFile
            ? [Deno.readTextFileSync(config.dicom.tlsClientCaFile)]
            : undefined,
          log: log.child({ module: "dicom" }),
        })),
    })
    : null;
  if (dicomTls) {
    log.info("DICOM TLS listening", {
      host: config.dicom.host,
      port: dicomTls.port,
      clientCertificates: config.dicom.tlsClientCaFile ? "required" : "not requested",
    });
  }
  audit.startForwarding();
  const pruneAudit = () =>
    audit.prune().catch((error) => log.error("audit retention failed", { error }));
  void pruneAudit();
  const pruneTimer = setInterval(pruneAudit, 24 * 3600_000);
  const retention = createStudyRetention({
    db: database.db,
    spool: services.spool,
    audit,
    clock: systemClock,
    log: log.child({ module: "retention" }),
    retentionDays: config.studies.retentionDays,
  });
  const sweepStudies = () =>
    retention.sweep().catch((error) => log.error("study retention failed", { error }));
  void sweepStudies();
  const retentionTimer = setInterval(sweepStudies, 3600_000);
  log.info("DICOM listening", {
    host: config.dicom.host,
    port: dicom.port,
    aeTitle: config.dicom.aeTitle,
    allowedSenders: config.dicom.allowedSenders,
  });
  if (config.dicom.allowedSenders.length === 0) {
    log.warn(
      "dicom.allowedSenders is empty: every association will be rejected until senders are configured",
    );
  }

  const delivery = startDelivery({
    db: database.db,
    studies: services.studies,
    spool: services.spool,
    queue: services.transfer,
    router: services.router,
    config,
    log,
  });

  services.addressBook.startSchedule(config.addressbook.syncIntervalMinutes * 60_000);

  let setupUrl: string | null = null;
  if (!(await auth.hasAdmin())) {
    const token = await auth.issueSetupToken();
    setupUrl = `https://${urlHost(config.http.host)}:${httpPort}/setup?token=${token}`;
    log.info("first-run setup pending: open the setup URL printed on stdout");
  }

  let stopping: Promise<void> | null = null;
  let markFinished: () => void = () => {};
  const finished = new Promise<void>((resolve) => (markFinished = resolve));
  const stop = () => {
    stopping ??= (async () => {
      log.info("stopping: no new connections, finishing work in flight");
      clearInterval(pruneTimer);
      clearInterval(retentionTimer);
      await Promise.all([server.shutdown(), dicom.close(), dicomTls?.close(), relay?.stop()]);
      await delivery.stop();
      await services.close();
      log.info("stopped", { memoryCollections: governor.stop() });
      markFinished();
    })();
    return stopping;
  };
  return {
    httpPort,
    dicomPort: dicom.port,
    dicomTlsPort: dicomTls?.port ?? null,
    mailPort: relay?.mailPort ?? null,
    setupUrl,
    services,
    stop,
    finished,
  };
}
