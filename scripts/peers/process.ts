/** Small helpers for running peer programs (dcmtk, Orthanc, our own appliance) in tests and benchmarks. */
import { v8FlagsArgument } from "../../appliance/runtime_flags.ts";

/** A child process started by a test or benchmark. */
export interface PeerProcess {
  pid: number;
  /** Peak resident memory so far in bytes (VmHWM from /proc), or null once it has exited. */
  peakRss(): number | null;
  /** CPU time used so far (user + system) in seconds, or null once it has exited. */
  cpuSeconds(): number | null;
  /** Output collected so far: stdout and stderr together, and each on its own. */
  output(): string;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited. */
  status: Promise<Deno.CommandStatus>;
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/** Reads VmHWM (peak RSS) of a live process, in bytes. */
export function peakRssOf(pid: number): number | null {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = status.match(/^VmHWM:\s+(\d+) kB/m)?.[1];
    return kb ? Number(kb) * 1024 : null;
  } catch {
    return null;
  }
}

/** The clock ticks /proc counts CPU time in (USER_HZ on Linux). */
const ticksPerSecond = 100;

/** CPU time (utime + stime from /proc/PID/stat) of a live process, in seconds. */
export function cpuSecondsOf(pid: number): number | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return null;
  }
}

/**
 * CPU time the hypervisor gave to other guests while this machine's processes wanted to run
 * (steal, from /proc/stat, summed over all cores), in seconds, or null where it cannot be read.
 * A benchmark run with much of it measured a busy host, not our program.
 */
export function machineStealSeconds(): number | null {
  try {
    const cpu = Deno.readTextFileSync("/proc/stat").split("\n")[0].split(/\s+/);
    // cpu user nice system idle iowait irq softirq steal ...
    return Number(cpu[8]) / ticksPerSecond;
  } catch {
    return null;
  }
}

/**
 * Deno flags for an appliance started by a test or benchmark, from BP_DEV_RUN_FLAGS, e.g. for
 * profiling: BP_DEV_RUN_FLAGS="--v8-flags=--prof,--logfile=/tmp/prof-%p.log" (read with
 * `node --prof-process`).
 */
export function devRunFlags(): string[] {
  return (Deno.env.get("BP_DEV_RUN_FLAGS") ?? "").split(" ").filter(Boolean);
}

/**
 * The `deno run` flags of an appliance started by a test or benchmark: the V8 settings it runs
 * with in production (appliance/runtime_flags.ts) and BP_DEV_RUN_FLAGS, their V8 flags merged
 * into one `--v8-flags=` (deno takes only one).
 */
export function applianceRunFlags(): string[] {
  const dev = devRunFlags();
  const v8 = dev.filter((f) => f.startsWith("--v8-flags="))
    .flatMap((f) => f.slice("--v8-flags=".length).split(",").filter(Boolean));
  return [...dev.filter((f) => !f.startsWith("--v8-flags=")), v8FlagsArgument(v8)];
}

/** Starts a program with stdout and stderr collected. */
export function startPeer(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): PeerProcess {
  const child = new Deno.Command(command, {
    args,
    env: options.env,
    cwd: options.cwd,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const text = { all: "", stdout: "", stderr: "" };
  const pump = async (stream: ReadableStream<Uint8Array>, name: "stdout" | "stderr") => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      const piece = decoder.decode(chunk, { stream: true });
      text.all += piece;
      text[name] += piece;
    }
  };
  const pumps = Promise.all([pump(child.stdout, "stdout"), pump(child.stderr, "stderr")]);
  return {
    pid: child.pid,
    peakRss: () => peakRssOf(child.pid),
    cpuSeconds: () => cpuSecondsOf(child.pid),
    output: () => text.all,
    stdout: () => text.stdout,
    stderr: () => text.stderr,
    status: child.status,
    async stop(signal: Deno.Signal = "SIGTERM") {
      try {
        child.kill(signal);
      } catch {
        // already exited
      }
      const status = await child.status;
      await pumps;
      return status;
    },
  };
}

/** Waits until `probe` resolves true, or throws after `timeoutMs` with `what` in the message. */
export async function waitFor(
  what: string,
  probe: () => Promise<boolean> | boolean,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (await probe()) return;
    } catch {
      // not ready yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Whether something accepts TCP connections on host:port. */
export async function isListening(port: number, hostname = "127.0.0.1"): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname, port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

/** Ports freePort returned in this process (see there). */
const handedOut = new Set<number>();

/**
 * A port that was free a moment ago. Picked below Linux's ephemeral range (32768-60999): a port
 * the kernel hands out for "port 0" listeners and outgoing connections could otherwise be taken
 * again between this check and the peer's bind (seen once in CI as AddrInUse). Nor is a port
 * handed out twice: two callers picking the same one before either binds was seen in CI too.
 */
export function freePort(): number {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    // Free now but not yet bound by whoever asked for it: never hand the same port out twice.
    if (handedOut.has(port)) continue;
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
      handedOut.add(port);
      return port;
    } catch {
      // taken: try another
    }
  }
  throw new Error("no free port found between 20000 and 32000");
}
