/** Starts the real appliance as a child process (as an operator would) for integration tests. */

const mainTs = new URL("../../appliance/main.ts", import.meta.url).pathname;

/** A port that was free a moment ago. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
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
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", mainTs, "serve"],
    cwd,
    env: {
      NO_COLOR: "1",
      BEELDPOORT_HTTP__PORT: String(port),
      BEELDPOORT_DICOM__PORT: String(freePort()),
      ...env,
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stdout = "";
  let stderr = "";
  const pump = async (stream: ReadableStream<Uint8Array>, into: (s: string) => void) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) into(decoder.decode(chunk, { stream: true }));
  };
  const pumps = Promise.all([
    pump(child.stdout, (s) => (stdout += s)),
    pump(child.stderr, (s) => (stderr += s)),
  ]);
  const ready = (): boolean =>
    stderr.includes('"web UI listening"') &&
    (stdout.includes("/setup?token=") || stdout.includes("Beeldpoort is running"));
  const deadline = Date.now() + 30_000;
  let exited = false;
  child.status.then(() => (exited = true));
  while (!ready()) {
    if (exited || Date.now() > deadline) {
      await pumps.catch(() => {});
      throw new Error(`appliance did not start:\n${stdout}\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    baseUrl: `https://127.0.0.1:${port}`,
    port,
    setupUrl: stdout.match(/https:\/\/\S+\/setup\?token=\S+/)?.[0] ?? null,
    output: () => ({ stdout, stderr }),
    async stop(signal: Deno.Signal = "SIGTERM") {
      try {
        child.kill(signal);
      } catch {
        // already gone
      }
      const status = await child.status;
      await pumps;
      return status;
    },
  };
}

/** An HTTP client that trusts the self-signed certificate the appliance made in `dataDir`. */
export function clientTrusting(dataDir: string): Deno.HttpClient {
  return Deno.createHttpClient({ caCerts: [Deno.readTextFileSync(`${dataDir}/tls/web.crt`)] });
}
