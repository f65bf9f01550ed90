/**
 * Spool benchmark: puts and gets many small objects and one large one, with durability "fsync"
 * and "os", and prints throughput and peak memory. The last line is one JSON object.
 *
 *     deno run -A scripts/bench/spool.ts [--dir=PATH] [--chunk-size=BYTES] [--small-count=500]
 *         [--small-bytes=500000] [--large-mb=1024]
 *
 * Each group (durability x small/large) runs in a fresh child process of this script.
 * Gets read right after the puts, so they mostly come from the page cache: they measure
 * decryption, not the disk. Peak RSS per phase is VmHWM from /proc/self/status, reset between
 * phases by writing 5 to /proc/self/clear_refs (Linux); a phase's peak therefore includes
 * whatever the process already held.
 */
import { parseArgs } from "node:util";
import { createSpool, type SpoolDurability } from "../../modules/spool/mod.ts";

/** Options of `runSpoolBench`; the defaults are 500 x 500 kB and one 1 GiB object. */
export interface SpoolBenchOptions {
  /** Where the spools go (removed afterwards only when the bench made it). Use a real disk. */
  dir?: string;
  chunkSize?: number;
  smallCount?: number;
  smallBytes?: number;
  largeBytes?: number;
  say?: (line: string) => void;
}

export interface SpoolBenchPhase {
  phase: string;
  durability: SpoolDurability;
  objects: number;
  bytes: number;
  seconds: number;
  mbPerSecond: number;
  objectsPerSecond: number;
  peakRssMb: number | null;
}

export interface SpoolBenchResult {
  bench: "spool";
  chunkSize: number;
  phases: SpoolBenchPhase[];
  peakRssMb: number | null;
}

function peakRssMb(): number | null {
  try {
    const kb = Deno.readTextFileSync("/proc/self/status").match(/VmHWM:\s+(\d+) kB/)?.[1];
    return kb ? Math.round(Number(kb) / 1024) : null;
  } catch {
    return null;
  }
}

function resetPeakRss(): void {
  try {
    Deno.writeTextFileSync("/proc/self/clear_refs", "5");
  } catch { /* not Linux: phases then report the running maximum */ }
}

const block = new Uint8Array(1024 * 1024);
for (let i = 0; i < block.length; i += 65536) {
  crypto.getRandomValues(block.subarray(i, i + 65536));
}

/** `total` bytes in 1 MiB pieces of one random block (the spool copies what it is given). */
function source(total: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) return controller.close();
      const n = Math.min(block.length, total - sent);
      controller.enqueue(block.subarray(0, n));
      sent += n;
    },
  }, { highWaterMark: 0 });
}

async function drain(stream: ReadableStream<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const chunk of stream) n += chunk.length;
  return n;
}

/** What one child process measures: one durability, small objects or the large one. */
interface GroupOptions {
  group: "small" | "large";
  durability: SpoolDurability;
  dir: string;
  chunkSize: number;
  smallCount: number;
  smallBytes: number;
  largeBytes: number;
}

async function runGroup(options: GroupOptions): Promise<SpoolBenchPhase[]> {
  const { durability, chunkSize } = options;
  const masterKey = crypto.getRandomValues(new Uint8Array(32));
  const spool = await createSpool({ dir: options.dir, masterKey, durability, chunkSize });
  const phases: SpoolBenchPhase[] = [];
  const measure = async (
    phase: string,
    objects: number,
    bytes: number,
    run: () => Promise<void>,
  ) => {
    resetPeakRss();
    const started = performance.now();
    await run();
    const seconds = (performance.now() - started) / 1000;
    phases.push({
      phase,
      durability,
      objects,
      bytes,
      seconds: Math.round(seconds * 1000) / 1000,
      mbPerSecond: Math.round(bytes / 1e6 / seconds),
      objectsPerSecond: Math.round((objects / seconds) * 10) / 10,
      peakRssMb: peakRssMb(),
    });
  };
  const count = options.group === "small" ? options.smallCount : 1;
  const size = options.group === "small" ? options.smallBytes : options.largeBytes;
  const ids: string[] = [];
  await measure(`${options.group} put`, count, count * size, async () => {
    for (let i = 0; i < count; i++) ids.push((await spool.put(source(size))).id);
  });
  await measure(`${options.group} get`, count, count * size, async () => {
    for (const id of ids) if (await drain(await spool.get(id)) !== size) throw new Error("short");
  });
  for (const id of ids) await spool.delete(id);
  return phases;
}

/**
 * Runs the benchmark and returns its figures (also printed through `say`). Each group of phases
 * runs in its own process so that one group's leftovers do not inflate the next one's peak RSS.
 */
export async function runSpoolBench(options: SpoolBenchOptions = {}): Promise<SpoolBenchResult> {
  const say = options.say ?? console.log;
  const chunkSize = options.chunkSize ?? 1024 * 1024;
  const root = options.dir ?? await Deno.makeTempDir({ prefix: "beeldpoort-spool-bench-" });
  const phases: SpoolBenchPhase[] = [];
  try {
    for (const durability of ["fsync", "os"] as SpoolDurability[]) {
      for (const group of ["small", "large"] as const) {
        const spec: GroupOptions = {
          group,
          durability,
          dir: `${root}/${durability}-${group}`,
          chunkSize,
          smallCount: options.smallCount ?? 500,
          smallBytes: options.smallBytes ?? 500_000,
          largeBytes: options.largeBytes ?? 1024 * 1024 * 1024,
        };
        const child = await new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", new URL(import.meta.url).pathname, `--group=${JSON.stringify(spec)}`],
          stdout: "piped",
          stderr: "inherit",
        }).output();
        if (!child.success) throw new Error(`spool bench group ${group} ${durability} failed`);
        const lines = new TextDecoder().decode(child.stdout).trim().split("\n");
        for (const phase of JSON.parse(lines[lines.length - 1]) as SpoolBenchPhase[]) {
          phases.push(phase);
          say(
            `${phase.phase.padEnd(10)} ${durability.padEnd(5)} ${phase.objects} x ` +
              `${phase.bytes / phase.objects} B: ${phase.seconds} s, ${phase.mbPerSecond} MB/s, ` +
              `${phase.objectsPerSecond} objects/s, peak RSS ${phase.peakRssMb ?? "?"} MB`,
          );
        }
      }
    }
  } finally {
    if (!options.dir) await Deno.remove(root, { recursive: true });
  }
  return {
    bench: "spool",
    chunkSize,
    phases,
    peakRssMb: Math.max(...phases.map((p) => p.peakRssMb ?? 0)) || null,
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      group: { type: "string" },
      dir: { type: "string" },
      "chunk-size": { type: "string" },
      "small-count": { type: "string" },
      "small-bytes": { type: "string" },
      "large-mb": { type: "string" },
    },
  });
  if (values.group) {
    console.log(JSON.stringify(await runGroup(JSON.parse(values.group) as GroupOptions)));
  } else {
    const number = (v: string | undefined) => (v === undefined ? undefined : Number(v));
    const result = await runSpoolBench({
      dir: values.dir,
      chunkSize: number(values["chunk-size"]),
      smallCount: number(values["small-count"]),
      smallBytes: number(values["small-bytes"]),
      largeBytes: values["large-mb"] === undefined
        ? undefined
        : Number(values["large-mb"]) * 1024 * 1024,
    });
    console.log(JSON.stringify(result));
  }
}
