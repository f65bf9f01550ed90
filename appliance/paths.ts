import { join, resolve } from "node:path";
import type { Config } from "./config/schema.ts";

/** Every file the appliance keeps under its data directory, in one place. */
export interface DataPaths {
  dir: string;
  database: string;
  keysDir: string;
  masterKey: string;
  tlsDir: string;
  tlsCert: string;
  tlsKey: string;
  spoolDir: string;
}

/** Resolves the data layout from the configuration (absolute paths). */
export function dataPaths(config: Config): DataPaths {
  const dir = resolve(config.data.dir);
  return {
    dir,
    database: join(dir, "beeldpoort.db"),
    keysDir: join(dir, "keys"),
    masterKey: join(dir, "keys", "master.key"),
    tlsDir: join(dir, "tls"),
    tlsCert: config.http.tlsCertFile
      ? resolve(config.http.tlsCertFile)
      : join(dir, "tls", "web.crt"),
    tlsKey: config.http.tlsKeyFile ? resolve(config.http.tlsKeyFile) : join(dir, "tls", "web.key"),
    spoolDir: join(dir, "spool"),
  };
}
