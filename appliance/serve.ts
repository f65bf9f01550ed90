import { createAuthService } from "../modules/auth/mod.ts";
import type { Logger } from "../modules/core/mod.ts";
import type { Config } from "./config/schema.ts";
import { createHttpApp } from "./http.ts";
import { initDataDirectory } from "./init.ts";
import { version } from "./version.ts";

/** A running appliance; `stop` is what SIGINT/SIGTERM call. */
export interface RunningAppliance {
  httpPort: number;
  setupUrl: string | null;
  stop(): Promise<void>;
  /** Resolves once the appliance has stopped. */
  finished: Promise<void>;
}

function urlHost(host: string): string {
  if (host === "0.0.0.0" || host === "::") return "localhost";
  return host.includes(":") ? `[${host}]` : host;
}

/**
 * Starts the appliance: prepares the data directory, migrates the database and serves the web UI
 * over HTTPS. When no admin exists it issues a one-time setup token and returns its URL.
 */
export async function startAppliance(config: Config, log: Logger): Promise<RunningAppliance> {
  const startedAt = new Date();
  const { paths, database } = await initDataDirectory(config, log);
  const auth = createAuthService({ db: database.db });

  let setupUrl: string | null = null;
  const app = createHttpApp({ database, auth, log, startedAt });
  const server = Deno.serve({
    hostname: config.http.host,
    port: config.http.port,
    cert: Deno.readTextFileSync(paths.tlsCert),
    key: Deno.readTextFileSync(paths.tlsKey),
    onListen: () => {},
  }, app.fetch);
  const httpPort = server.addr.port;
  log.info("web UI listening", { host: config.http.host, port: httpPort, version });

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
      log.info("stopping: no new connections, finishing requests in flight");
      await server.shutdown();
      await database.close();
      log.info("stopped");
      markFinished();
    })();
    return stopping;
  };
  return { httpPort, setupUrl, stop, finished };
}
