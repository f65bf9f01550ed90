import { X509Certificate } from "node:crypto";
import { cipherBackend } from "../modules/core/mod.ts";
import { openDatabase, pendingMigrations } from "../modules/db/mod.ts";
import type { Config } from "./config/schema.ts";
import { masterKeyLength } from "./init.ts";
import { dataPaths } from "./paths.ts";
import { crlPaths } from "./revocation_files.ts";
import { checkSpoolFilesystem } from "./spool_filesystem.ts";
import { parseRevocationLists, type RevocationList } from "../modules/smime/mod.ts";

/** The outcome of one doctor check. `warn` is reported but does not fail the doctor. */
export interface Finding {
  check: string;
  status: "ok" | "warn" | "fail";
  detail: string;
}

function stat(path: string): Deno.FileInfo | null {
  try {
    return Deno.statSync(path);
  } catch {
    return null;
  }
}

function checkDataDir(dir: string): Finding {
  const info = stat(dir);
  if (!info) {
    return {
      check: "data directory",
      status: "fail",
      detail: `${dir} does not exist (run \`beeldpoort init\`)`,
    };
  }
  if (!info.isDirectory) {
    return { check: "data directory", status: "fail", detail: `${dir} is not a directory` };
  }
  const mode = (info.mode ?? 0) & 0o777;
  if (mode & 0o022) {
    return {
      check: "data directory",
      status: "fail",
      detail: `${dir} is writable by group or others (mode ${mode.toString(8)}); use chmod 700`,
    };
  }
  try {
    const probe = `${dir}/.doctor-${Deno.pid}`;
    Deno.writeTextFileSync(probe, "");
    Deno.removeSync(probe);
  } catch (error) {
    return { check: "data directory", status: "fail", detail: `${dir} is not writable: ${error}` };
  }
  return { check: "data directory", status: "ok", detail: `${dir} (mode ${mode.toString(8)})` };
}

function checkMasterKey(path: string): Finding {
  const info = stat(path);
  if (!info) {
    return { check: "spool master key", status: "fail", detail: `missing key file ${path}` };
  }
  const mode = (info.mode ?? 0) & 0o777;
  if (mode & 0o077) {
    return {
      check: "spool master key",
      status: "fail",
      detail: `${path} has mode ${mode.toString(8)}; must be 600`,
    };
  }
  if (info.size !== masterKeyLength) {
    return {
      check: "spool master key",
      status: "fail",
      detail: `${path} is ${info.size} bytes; expected ${masterKeyLength}`,
    };
  }
  return { check: "spool master key", status: "ok", detail: path };
}

async function checkDatabase(path: string): Promise<Finding> {
  if (!stat(path)) return { check: "database", status: "fail", detail: `missing database ${path}` };
  const database = openDatabase({ kind: "sqlite", path });
  try {
    if (!(await database.ping())) {
      return { check: "database", status: "fail", detail: `${path} does not answer` };
    }
    const pending = await pendingMigrations(database);
    if (pending.length > 0) {
      return {
        check: "database",
        status: "warn",
        detail: `migrations pending (applied at start): ${pending.join(", ")}`,
      };
    }
    return { check: "database", status: "ok", detail: `${path}, schema current` };
  } catch (error) {
    return { check: "database", status: "fail", detail: `${path}: ${(error as Error).message}` };
  } finally {
    await database.close();
  }
}

function checkCertificate(certPath: string, keyPath: string, now: Date): Finding {
  const check = "web TLS certificate";
  if (!stat(certPath)) {
    return { check, status: "fail", detail: `missing certificate file ${certPath}` };
  }
  if (!stat(keyPath)) return { check, status: "fail", detail: `missing key file ${keyPath}` };
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(Deno.readFileSync(certPath));
  } catch (error) {
    return {
      check,
      status: "fail",
      detail: `${certPath} is not a PEM certificate: ${(error as Error).message}`,
    };
  }
  const notAfter = new Date(cert.validTo);
  if (notAfter <= now) {
    return { check, status: "fail", detail: `${certPath} expired on ${notAfter.toISOString()}` };
  }
  const days = Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000);
  if (days < 30) return { check, status: "warn", detail: `${certPath} expires in ${days} days` };
  return {
    check,
    status: "ok",
    detail: `${certPath}, valid until ${notAfter.toISOString().slice(0, 10)}`,
  };
}

function checkPort(name: string, host: string, port: number): Finding {
  const check = `${name} port`;
  if (port === 0) return { check, status: "ok", detail: "0 (a free port is chosen at start)" };
  try {
    const listener = Deno.listen({ hostname: host, port });
    listener.close();
    return { check, status: "ok", detail: `${host}:${port} is free` };
  } catch (error) {
    const reason = error instanceof Deno.errors.AddrInUse
      ? "is in use (is Beeldpoort already running?)"
      : `cannot be opened: ${(error as Error).message}`;
    return { check, status: "fail", detail: `${host}:${port} ${reason}` };
  }
}

/**
 * Which AES implementation encrypts the spool and the mail: OpenSSL's libcrypto (about 4 GB/s
 * here), or the node:crypto fallback, which works but is some twenty times slower.
 */
function checkCipher(): Finding {
  const { name, detail } = cipherBackend();
  return name === "openssl"
    ? { check: "encryption", status: "ok", detail: `OpenSSL (${detail})` }
    : {
      check: "encryption",
      status: "warn",
      detail: `node:crypto fallback, much slower (${detail}); install libssl3 for OpenSSL`,
    };
}

/**
 * Each file of `relay.crlFiles`: readable, a revocation list, and not past its nextUpdate (the job
 * that fetches it has stopped, so revocations since then are not known here).
 */
export function checkRevocationLists(paths: readonly string[], now: Date): Finding[] {
  return paths.map((path): Finding => {
    const check = `revocation list ${path}`;
    let lists: RevocationList[];
    try {
      lists = parseRevocationLists(Deno.readFileSync(path));
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      return { check, status: "fail", detail: `cannot be used: ${why}` };
    }
    const stale = lists.filter((l) => l.nextUpdate && l.nextUpdate < now);
    const revoked = lists.reduce((n, l) => n + l.revoked.size, 0);
    if (stale.length > 0) {
      return {
        check,
        status: "warn",
        detail: `out of date since ${stale[0].nextUpdate!.toISOString()}: fetch it again`,
      };
    }
    const next = lists.map((l) => l.nextUpdate?.toISOString()).filter(Boolean).sort()[0];
    return {
      check,
      status: "ok",
      detail: `${revoked} revoked${next ? `, next update ${next}` : ""}`,
    };
  });
}

/** `studies.retentionDays` 0 keeps every image for good: the spool only grows. */
export function checkRetention(days: number): Finding {
  return days > 0
    ? {
      check: "study retention",
      status: "ok",
      detail: `${days} days after a study's last activity`,
    }
    : {
      check: "study retention",
      status: "warn",
      detail: "studies.retentionDays is 0: no study is ever removed and the spool only grows",
    };
}

/** Checks the installation without changing it. */
export async function runDoctor(config: Config, now = new Date()): Promise<Finding[]> {
  const paths = dataPaths(config);
  return [
    checkDataDir(paths.dir),
    { check: "data filesystem", ...checkSpoolFilesystem(paths.dir) },
    checkMasterKey(paths.masterKey),
    checkCipher(),
    await checkDatabase(paths.database),
    checkCertificate(paths.tlsCert, paths.tlsKey, now),
    checkPort("web UI", config.http.host, config.http.port),
    checkPort("DICOM", config.dicom.host, config.dicom.port),
    checkRetention(config.studies.retentionDays),
    ...checkRevocationLists(crlPaths(config.relay.crlFiles), now),
  ];
}
