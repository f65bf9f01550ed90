/**
 * `deno task bench ingest`: DICOM receive throughput and memory, Beeldpoort against its peers.
 *
 * Generates (once, cached under /tmp) a reproducible CT-like study of 500 instances of 512x512
 * 16-bit (about 0.5 MB each) and one large multi-frame instance, then has the same dcmtk
 * `storescu` send them to dcmtk `storescp`, Orthanc and Beeldpoort (encrypted spool, durability
 * fsync and os), one receiver at a time, in one run. Prints files/s, MB/s and peak RSS for each
 * and the ratios; the last line is one JSON object.
 *
 * Options (environment): BENCH_INSTANCES (500), BENCH_LARGE_MB (1024; 0 skips the large
 * instance), BENCH_DIR (/tmp/bp-bench-ingest), BENCH_RECEIVERS (comma-separated subset of
 * storescp,orthanc,beeldpoortFsync,beeldpoortOs), BENCH_ROUNDS (1): run all receivers this many
 * times, interleaved, and report medians (the build machine is shared and noisy: single runs of
 * one receiver varied by up to 1.5x within minutes).
 *
 * Note: dcmtk's storescu sends P-DATA PDUs of at most 131072 bytes (PDVs of 131060 data bytes)
 * whatever larger maximum the receiver advertises; Beeldpoort's default of 262144 is honoured in
 * that it is never exceeded, and raising it changes nothing for dcmtk senders.
 */
import {
  newUid,
  writeSyntheticCt,
  writeSyntheticStudy,
} from "../../tests/support/dicom_fixtures.ts";
import {
  applianceRunFlags,
  freePort,
  isListening,
  type PeerProcess,
  startPeer,
  waitFor,
} from "../peers/process.ts";
import { startOrthanc } from "../peers/orthanc.ts";

const instances = Number(Deno.env.get("BENCH_INSTANCES") ?? 500);
const largeMb = Number(Deno.env.get("BENCH_LARGE_MB") ?? 1024);
const root = Deno.env.get("BENCH_DIR") ?? "/tmp/bp-bench-ingest";
const nodelay = { TCP_NODELAY: "1" };
const receiversWanted = Deno.env.get("BENCH_RECEIVERS")?.split(",");
const rounds = Math.max(1, Number(Deno.env.get("BENCH_ROUNDS") ?? 1));
const mainTs = new URL("../../appliance/main.ts", import.meta.url).pathname;

function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of Deno.readDirSync(dir)) {
    if (entry.isFile) total += Deno.statSync(`${dir}/${entry.name}`).size;
  }
  return total;
}

function prepareData(): { studyDir: string; largeDir: string } {
  const studyDir = `${root}/study-${instances}`;
  const largeDir = `${root}/large-${largeMb}`;
  const ready = (dir: string, count: number) => {
    try {
      return [...Deno.readDirSync(dir)].length === count;
    } catch {
      return false;
    }
  };
  if (!ready(studyDir, instances)) {
    Deno.mkdirSync(studyDir, { recursive: true });
    const t = performance.now();
    writeSyntheticStudy(studyDir, { instances, rows: 512, cols: 512, seed: 1 });
    console.log(
      `generated ${instances} instances in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
  }
  if (largeMb > 0 && !ready(largeDir, 1)) {
    Deno.mkdirSync(largeDir, { recursive: true });
    // one frame of 16384 columns and as many rows as the size asks: the same bytes every run
    const cols = 16384;
    writeSyntheticCt(`${largeDir}/large.dcm`, {
      studyUid: newUid(2, "study"),
      seriesUid: newUid(2, "series"),
      sopUid: newUid(2, "sop"),
      rows: Math.floor((largeMb * 1024 * 1024) / (cols * 2)),
      cols,
    });
  }
  return { studyDir, largeDir };
}

async function storescu(ae: string, port: number, dir: string): Promise<number> {
  const t = performance.now();
  const out = await new Deno.Command("storescu", {
    args: ["-aec", ae, "-aet", "BENCH", "+sd", "+r", "127.0.0.1", String(port), dir],
    env: nodelay,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - t) / 1000;
  if (!out.success) {
    throw new Error(
      `storescu to ${ae} failed: ${new TextDecoder().decode(out.stderr).slice(-1000)}`,
    );
  }
  return seconds;
}

interface Receiver {
  name: string;
  ae: string;
  port: number;
  process: PeerProcess;
  stop(): Promise<void>;
}

interface Result {
  filesPerSecond: number;
  megabytesPerSecond: number;
  largeMegabytesPerSecond: number;
  peakRssMb: number;
}

/**
 * Writes every dirty page to disk first, so no receiver's run competes with the writeback of the
 * gigabyte the one before it received (which slowed the fsyncs of whoever came next).
 */
async function settleDisk(): Promise<void> {
  await new Deno.Command("sync").output();
}

async function measure(receiver: Receiver, studyDir: string, largeDir: string): Promise<Result> {
  try {
    const studyBytes = dirBytes(studyDir);
    await settleDisk();
    const seconds = await storescu(receiver.ae, receiver.port, studyDir);
    if (largeMb > 0) await settleDisk();
    const largeSeconds = largeMb > 0 ? await storescu(receiver.ae, receiver.port, largeDir) : NaN;
    const rss = receiver.process.peakRss() ?? 0;
    return {
      filesPerSecond: round(instances / seconds),
      megabytesPerSecond: round(studyBytes / 1e6 / seconds),
      largeMegabytesPerSecond: largeMb > 0 ? round(dirBytes(largeDir) / 1e6 / largeSeconds) : 0,
      peakRssMb: round(rss / 1048576),
    };
  } finally {
    await receiver.stop();
  }
}

const round = (n: number) => Math.round(n * 10) / 10;

async function startStorescp(out: string): Promise<Receiver> {
  Deno.mkdirSync(out, { recursive: true });
  const port = freePort();
  const process = startPeer("storescp", ["-aet", "STORESCP", "+xa", "-od", out, String(port)], {
    env: nodelay,
  });
  await waitFor("storescp", () => isListening(port));
  return {
    name: "storescp",
    ae: "STORESCP",
    port,
    process,
    stop: async () => void (await process.stop()),
  };
}

async function startOrthancReceiver(dir: string): Promise<Receiver> {
  const orthanc = await startOrthanc({ dir, httpPort: freePort(), dicomPort: freePort() });
  return {
    name: "orthanc",
    ae: orthanc.aeTitle,
    port: orthanc.dicomPort,
    process: orthanc.process,
    stop: orthanc.stop,
  };
}

async function startBeeldpoort(dir: string, durability: "fsync" | "os"): Promise<Receiver> {
  const port = freePort();
  const process = startPeer(
    Deno.execPath(),
    ["run", "-A", ...applianceRunFlags(), mainTs, "serve"],
    {
      env: {
        NO_COLOR: "1",
        BEELDPOORT_DATA__DIR: dir,
        BEELDPOORT_HTTP__PORT: String(freePort()),
        BEELDPOORT_DICOM__HOST: "127.0.0.1",
        BEELDPOORT_DICOM__PORT: String(port),
        BEELDPOORT_DICOM__AETITLE: "BEELDPOORT",
        BEELDPOORT_DICOM__ALLOWEDSENDERS: "*",
        BEELDPOORT_SPOOL__DURABILITY: durability,
        BEELDPOORT_LOG__LEVEL: "warn",
      },
    },
  );
  await waitFor("Beeldpoort DICOM port", () => isListening(port), 60_000);
  return {
    name: `beeldpoort-${durability}`,
    ae: "BEELDPOORT",
    port,
    process,
    stop: async () => void (await process.stop("SIGTERM")),
  };
}

const { studyDir, largeDir } = prepareData();
const work = Deno.makeTempDirSync({ prefix: "bp-bench-run-" });
const runs: Record<string, Result[]> = {};
try {
  for (let pass = 1; pass <= rounds; pass++) {
    const dir = `${work}/round-${pass}`;
    const starters: [string, () => Promise<Receiver>][] = [
      ["storescp", () => startStorescp(`${dir}/storescp`)],
      ["orthanc", () => startOrthancReceiver(`${dir}/orthanc`)],
      ["beeldpoortFsync", () => startBeeldpoort(`${dir}/bp-fsync`, "fsync")],
      ["beeldpoortOs", () => startBeeldpoort(`${dir}/bp-os`, "os")],
    ];
    for (const [key, start] of starters) {
      if (receiversWanted && !receiversWanted.includes(key)) continue;
      const r = await measure(await start(), studyDir, largeDir);
      (runs[key] ??= []).push(r);
      console.log(
        `${rounds > 1 ? `round ${pass} ` : ""}${key.padEnd(16)} ${
          String(r.filesPerSecond).padStart(7)
        } files/s ${String(r.megabytesPerSecond).padStart(7)} MB/s` +
          `  large ${
            String(r.largeMegabytesPerSecond).padStart(7)
          } MB/s  peak RSS ${r.peakRssMb} MB`,
      );
    }
  }
} finally {
  Deno.removeSync(work, { recursive: true });
}
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : round((sorted[mid - 1] + sorted[mid]) / 2);
};
// Per receiver: the median of each rate over the rounds, and the highest peak RSS.
const results: Record<string, Result> = Object.fromEntries(
  Object.entries(runs).map(([key, list]) => [key, {
    filesPerSecond: median(list.map((r) => r.filesPerSecond)),
    megabytesPerSecond: median(list.map((r) => r.megabytesPerSecond)),
    largeMegabytesPerSecond: median(list.map((r) => r.largeMegabytesPerSecond)),
    peakRssMb: Math.max(...list.map((r) => r.peakRssMb)),
  }]),
);
if (rounds > 1) {
  for (const [key, r] of Object.entries(results)) {
    console.log(
      `median ${key.padEnd(16)} ${String(r.filesPerSecond).padStart(7)} files/s  large ${
        String(r.largeMegabytesPerSecond).padStart(7)
      } MB/s  max peak RSS ${r.peakRssMb} MB`,
    );
  }
}
const ratio = (a?: Result, b?: Result) =>
  a && b ? Math.round((a.filesPerSecond / b.filesPerSecond) * 100) / 100 : null;
const ratioToOrthanc = ratio(results.beeldpoortFsync, results.orthanc);
const ratioToStorescp = ratio(results.beeldpoortFsync, results.storescp);
console.log(
  `Beeldpoort (encrypted, fsync) vs Orthanc: ${ratioToOrthanc}x files/s; vs storescp: ${ratioToStorescp}x`,
);
console.log(JSON.stringify({ instances, largeMb, ...results, ratioToOrthanc, ratioToStorescp }));
