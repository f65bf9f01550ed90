/** Starts the real appliance as a child process (as an operator would) for integration tests. */
import { applianceRunFlags, freePort, startPeer, waitFor } from "../../scripts/peers/process.ts";

export { freePort };

const mainTs = new URL("../../appliance/main.ts", import.meta.url).pathname;

/** Environment for an appliance that takes DICOM on loopback `port` from `senders` (AE titles). */
export function dicomEnv(port: number, senders: string): Record<string, string> {
  return {
    BEELDPOORT_DICOM__HOST: "127.0.0.1",
    BEELDPOORT_DICOM__PORT: String(port),
    BEELDPOORT_DICOM__ALLOWEDSENDERS: senders,
  };
}

/** A fresh temporary directory for one test, removed by the returned cleanup. */
export function tempDir(prefix = "bp-test-"): { path: string; [Symbol.dispose](): void } {
  const path = Deno.makeTempDirSync({ prefix });
  return {
    path,
    [Symbol.dispose]: () => Deno.removeSync(path, { recursive: true }),
  };
}

/** Runs a CLI command to completion. */
export async function runCli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", mainTs, ...args],
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

/** A running appliance child process. */
export interface ApplianceProcess {
  baseUrl: string;
  port: number;
  /** The one-time setup URL printed on first run, or null. */
  setupUrl: string | null;
  /** Everything written to stdout and stderr so far. */
  output(): { stdout: string; stderr: string };
  /** Peak resident memory so far in bytes (VmHWM), or null once it has exited. */
  peakRss(): number | null;
  /** CPU seconds used so far, or null once it has exited. */
  cpuSeconds(): number | null;
  /** Sends a signal and waits for exit. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/**
 * Starts `beeldpoort serve` in `cwd` with a free web port and waits until it listens.
 */
export async function startAppliance(
  cwd: string,
  env: Record<string, string> = {},
): Promise<ApplianceProcess> {
  const port = freePort();
  const child = startPeer(Deno.execPath(), ["run", "-A", ...applianceRunFlags(), mainTs, "serve"], {
    cwd,
    env: {
      NO_COLOR: "1",
      BEELDPOORT_HTTP__PORT: String(port),
      BEELDPOORT_DICOM__PORT: String(freePort()),
      ...env,
    },
  });
  const ready = (): boolean =>
    child.stderr().includes('"web UI listening"') &&
    (child.stdout().includes("/setup?token=") || child.stdout().includes("Beeldpoort is running"));
  let exited = false;
  child.status.then(() => (exited = true));
  try {
    await waitFor("the appliance to listen", () => exited || ready());
    if (!ready()) throw new Error("exited");
  } catch {
    await child.stop("SIGKILL");
    throw new Error(`appliance did not start:\n${child.output()}`);
  }
  return {
    baseUrl: `https://127.0.0.1:${port}`,
    port,
    setupUrl: child.stdout().match(/https:\/\/\S+\/setup\?token=\S+/)?.[0] ?? null,
    output: () => ({ stdout: child.stdout(), stderr: child.stderr() }),
    peakRss: () => child.peakRss(),
    cpuSeconds: () => child.cpuSeconds(),
    stop: (signal: Deno.Signal = "SIGTERM") => child.stop(signal),
  };
}

/** An HTTP client that trusts the self-signed certificate the appliance made in `dataDir`. */
export function clientTrusting(dataDir: string): Deno.HttpClient {
  return Deno.createHttpClient({ caCerts: [Deno.readTextFileSync(`${dataDir}/tls/web.crt`)] });
}
