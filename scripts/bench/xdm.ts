/**
 * Benchmark: pack and read back a synthetic 1 GB study (2000 x 0.5 MB Part-10 files on disk).
 * Each phase runs in its own process so its peak RSS (VmHWM) is its own.
 *
 *   deno run -A scripts/bench/xdm.ts [--count 2000] [--side 724] [--part-size 20000000]
 *
 * The last line of output is one JSON object with the measurements.
 */
import { inspectXdm, readXdm } from "../../modules/xdm/mod.ts";
import { packStudyDirectory } from "../../appliance/study_directory.ts";
import {
  syntheticInstance,
  testRecipient,
  testSender,
  uid,
} from "../../tests/support/xdm_fixtures.ts";

function arg(name: string, fallback: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Deno.args[i + 1] : fallback;
}

function peakRssMb(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  return Number(/VmHWM:\s+(\d+)/.exec(status)![1]) / 1024;
}

async function phase(name: string, fn: () => Promise<Record<string, unknown>>) {
  const start = performance.now();
  const result = await fn();
  console.log(JSON.stringify({
    phase: name,
    seconds: +((performance.now() - start) / 1000).toFixed(2),
    peakRssMb: +peakRssMb().toFixed(1),
    ...result,
  }));
}

const mode = arg("mode", "all");
const dir = arg("dir", "");

if (mode === "generate") {
  await phase("generate", () => {
    const count = Number(arg("count", "2000"));
    const side = Number(arg("side", "724"));
    const studyUid = uid();
    const series = [uid(), uid(), uid(), uid()];
    let bytes = 0;
    Deno.mkdirSync(`${dir}/study`, { recursive: true });
    // One pixel buffer for all files, varied per file: generation is not what we measure.
    for (let n = 0; n < count; n++) {
      const file = syntheticInstance({
        studyUid,
        seriesUid: series[n % series.length],
        sopInstanceUid: uid(),
        seriesNumber: (n % series.length) + 1,
        instanceNumber: n + 1,
        side,
        fill: (i) => (i * 131 + n * 17 + (i >> 9)) & 0xff,
      });
      bytes += file.length;
      Deno.writeFileSync(`${dir}/study/F${String(n).padStart(6, "0")}`, file);
    }
    return Promise.resolve({ files: count, bytes });
  });
} else if (mode === "pack") {
  await phase("pack", async () => {
    Deno.mkdirSync(`${dir}/out`, { recursive: true });
    const result = await packStudyDirectory(`${dir}/study`, {
      out: `${dir}/out/study.zip`,
      sender: testSender,
      recipient: testRecipient,
      note: "benchmark",
      partSizeBytes: Number(arg("part-size", "20000000")),
    });
    const bytes = result.parts.reduce((n, p) => n + p.bytes, 0);
    return {
      parts: result.parts.length,
      instances: result.instanceCount,
      zipBytes: bytes,
      largestPart: Math.max(...result.parts.map((p) => p.bytes)),
    };
  });
} else if (mode === "read") {
  await phase("read", async () => {
    let documents = 0;
    let bytes = 0;
    const files = [...Deno.readDirSync(`${dir}/out`)].map((e) => `${dir}/out/${e.name}`).sort();
    for (const path of files) {
      const pkg = await readXdm(path);
      const verified = await pkg.verifyAll(); // SHA-1 and size of every document
      documents += verified.documents;
      bytes += verified.bytes;
      pkg.close();
    }
    const inspection = await inspectXdm(files[0]);
    return { parts: files.length, documents, bytes, firstPartInspectOk: inspection.ok };
  });
} else {
  const work = Deno.makeTempDirSync({ prefix: "xdm_bench_" });
  const results: Record<string, unknown>[] = [];
  try {
    for (const m of ["generate", "pack", "read"]) {
      const out = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          new URL(import.meta.url).pathname,
          "--mode",
          m,
          "--dir",
          work,
          ...Deno.args,
        ],
        stdout: "piped",
        stderr: "inherit",
      }).outputSync();
      const text = new TextDecoder().decode(out.stdout).trim();
      if (!out.success) throw new Error(`${m} failed: ${text}`);
      const line = text.split("\n").pop()!;
      console.log(line);
      results.push(JSON.parse(line));
    }
  } finally {
    Deno.removeSync(work, { recursive: true });
  }
  const [gen, pack, read] = results;
  console.log(JSON.stringify({
    bench: "xdm",
    instances: gen.files,
    studyBytes: gen.bytes,
    partSizeBytes: Number(arg("part-size", "20000000")),
    parts: pack.parts,
    packSeconds: pack.seconds,
    packPeakRssMb: pack.peakRssMb,
    packMBps: +((gen.bytes as number) / 1e6 / (pack.seconds as number)).toFixed(1),
    readSeconds: read.seconds,
    readPeakRssMb: read.peakRssMb,
    readMBps: +((read.bytes as number) / 1e6 / (read.seconds as number)).toFixed(1),
    documentsVerified: read.documents,
  }));
}
