/**
 * Ingest benchmark of the dicom SCP against dcmtk storescp on the same data:
 * `deno run -A tests/support/dicom_bench.ts [runs=3] [bigMiB=1024]`.
 * 500 CT-like instances (512x512x16-bit) sent with `TCP_NODELAY=1 storescu +sd +r`; wall time,
 * files/s and peak RSS (VmHWM) of the receiver. Then one instance of `bigMiB` MiB to our SCP only,
 * for its peak RSS. Ports 12150/12151.
 */
import { writeSyntheticCt, writeSyntheticStudy } from "./dicom_fixtures.ts";
import { newUid } from "./dicom_fixtures.ts";

const runs = Number(Deno.args[0] ?? 3);
const bigMiB = Number(Deno.args[1] ?? 1024);
const root = Deno.makeTempDirSync({ prefix: "bp-dicom-bench-" });
const env = { TCP_NODELAY: "1" };
const scpScript = new URL("./dicom_bench_scp.ts", import.meta.url).pathname;

function peakRssMiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(status.match(/VmHWM:\s+(\d+) kB/)![1]) / 1024;
}

async function run(cmd: string, args: string[]) {
  const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
  return { code: out.code, text: new TextDecoder().decode(out.stderr) };
}

function startReceiver(kind: "beeldpoort" | "storescp", port: number, out: string) {
  return kind === "beeldpoort"
    ? new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", scpScript, String(port), out],
      env,
      stdout: "null",
    }).spawn()
    : new Deno.Command("storescp", {
      args: ["-aet", "BEELDPOORT", "+xa", "-od", out, "-fe", ".dcm", String(port)],
      env,
      stdout: "null",
      stderr: "null",
    }).spawn();
}

async function waitReady(port: number) {
  for (let i = 0; i < 100; i++) {
    const echo = await run("echoscu", ["-aec", "BEELDPOORT", "127.0.0.1", String(port)]);
    if (echo.code === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`receiver on ${port} never answered C-ECHO`);
}

async function measure(kind: "beeldpoort" | "storescp", port: number, input: string[]) {
  const out = Deno.makeTempDirSync({ dir: root, prefix: `${kind}-` });
  const child = startReceiver(kind, port, out);
  try {
    await waitReady(port);
    const start = performance.now();
    const send = await run("storescu", [
      "-aet",
      "BENCH",
      "-aec",
      "BEELDPOORT",
      "+sd",
      "+r",
      "127.0.0.1",
      String(port),
      ...input,
    ]);
    const seconds = (performance.now() - start) / 1000;
    if (send.code !== 0) throw new Error(`storescu failed: ${send.text}`);
    const files = [...Deno.readDirSync(out)].filter((e) => e.name.endsWith(".dcm")).length;
    return { seconds, files, rss: peakRssMiB(child.pid) };
  } finally {
    child.kill("SIGTERM");
    await child.status;
    Deno.removeSync(out, { recursive: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(`generating 500 CT instances in ${root}/ct ...`);
writeSyntheticStudy(`${root}/ct`, { instances: 500 });
const results: Record<string, { seconds: number; files: number; rss: number }[]> = {
  beeldpoort: [],
  storescp: [],
};
for (let i = 0; i <= runs; i++) {
  for (const [kind, port] of [["beeldpoort", 12150], ["storescp", 12151]] as const) {
    const r = await measure(kind, port, [`${root}/ct`]);
    if (i > 0) results[kind].push(r); // run 0 warms the page cache
    console.log(
      `${i === 0 ? "warm-up" : `run ${i}`} ${kind}: ${r.files} files in ${
        r.seconds.toFixed(2)
      } s, peak RSS ${r.rss.toFixed(0)} MiB`,
    );
  }
}
for (const [kind, rs] of Object.entries(results)) {
  const s = median(rs.map((r) => r.seconds));
  console.log(
    `${kind}: median ${s.toFixed(2)} s = ${(500 / s).toFixed(0)} files/s, peak RSS median ${
      median(rs.map((r) => r.rss)).toFixed(0)
    } MiB (${rs.length} runs)`,
  );
}
Deno.removeSync(`${root}/ct`, { recursive: true });

if (bigMiB > 0) {
  const cols = 16384;
  const rows = Math.floor((bigMiB * 1024 * 1024) / (cols * 2));
  Deno.mkdirSync(`${root}/big`);
  console.log(`generating one ${rows}x${cols} 16-bit instance (${bigMiB} MiB) ...`);
  writeSyntheticCt(`${root}/big/big.dcm`, {
    studyUid: newUid(),
    seriesUid: newUid(),
    sopUid: newUid(),
    rows,
    cols,
  });
  const r = await measure("beeldpoort", 12150, [`${root}/big/big.dcm`]);
  console.log(
    `beeldpoort, one ${bigMiB} MiB instance: ${r.files} file in ${
      r.seconds.toFixed(2)
    } s, peak RSS ${r.rss.toFixed(0)} MiB`,
  );
}
Deno.removeSync(root, { recursive: true });
