/**
 * `deno task bench forward`: how much time Beeldpoort adds when it forwards a study, against a
 * direct send. The same reproducible 500-instance CT study (512x512, 16-bit, seed 1) goes
 *
 *   direct:  storescu -> Orthanc                      time: storescu start -> Orthanc has all
 *   gateway: storescu -> Beeldpoort -> (rule) Orthanc time: storescu exit (last instance received)
 *                                                     -> Orthanc has all, minus the quiet period
 *
 * with a fresh Orthanc each run, and prints the median of BENCH_RUNS runs and their ratio
 * (reference/forward-anchors.md: Orthanc's own Lua forward measures 1.22x). Last line: one JSON
 * object with directSeconds, gatewaySeconds and ratio.
 *
 * Options (environment): BENCH_INSTANCES (500), BENCH_RUNS (3), BENCH_ASSOCIATIONS (2, the
 * destination's parallel associations), BENCH_DIR (/tmp/bp-bench-forward).
 */
import { writeSyntheticStudy } from "../../tests/support/dicom_fixtures.ts";
import { freePort, tempDir } from "../../tests/support/appliance.ts";
import { applianceWithRule } from "../../tests/support/routing_peers.ts";
import { startOrthanc } from "../peers/orthanc.ts";

const instances = Number(Deno.env.get("BENCH_INSTANCES") ?? 500);
const runs = Number(Deno.env.get("BENCH_RUNS") ?? 3);
const associations = Number(Deno.env.get("BENCH_ASSOCIATIONS") ?? 2);
const root = Deno.env.get("BENCH_DIR") ?? "/tmp/bp-bench-forward";
const quietSeconds = 1;

function prepare(): string {
  const dir = `${root}/study-${instances}`;
  try {
    if ([...Deno.readDirSync(dir)].length === instances) return dir;
  } catch {
    // not generated yet
  }
  Deno.mkdirSync(dir, { recursive: true });
  writeSyntheticStudy(dir, { instances, rows: 512, cols: 512, seed: 1 });
  return dir;
}

async function storescu(port: number, aeTitle: string, dir: string): Promise<void> {
  const out = await new Deno.Command("storescu", {
    args: ["-aec", aeTitle, "-aet", "CT1", "+sd", "+r", "127.0.0.1", String(port), dir],
    env: { TCP_NODELAY: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`storescu failed: ${new TextDecoder().decode(out.stderr)}`);
}

async function untilStored(httpUrl: string, count: number, timeoutMs = 300_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const stats = await (await fetch(`${httpUrl}/statistics`)).json();
    if (stats.CountInstances >= count) return performance.now();
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`Orthanc did not get ${count} instances in time`);
}

async function withOrthanc<T>(work: (o: Awaited<ReturnType<typeof startOrthanc>>) => Promise<T>) {
  using dir = tempDir("bp-bench-orthanc-");
  const orthanc = await startOrthanc({
    dir: dir.path,
    httpPort: freePort(),
    dicomPort: freePort(),
  });
  try {
    return await work(orthanc);
  } finally {
    await orthanc.stop();
  }
}

async function direct(study: string): Promise<number> {
  return await withOrthanc(async (orthanc) => {
    const start = performance.now();
    await storescu(orthanc.dicomPort, orthanc.aeTitle, study);
    return (await untilStored(orthanc.httpUrl, instances) - start) / 1000;
  });
}

async function gateway(study: string): Promise<{ seconds: number; receiveSeconds: number }> {
  return await withOrthanc(async (orthanc) => {
    using dir = tempDir("bp-bench-gw-");
    const { app, dicomPort } = await applianceWithRule(dir.path, {
      destination: { aeTitle: orthanc.aeTitle, port: orthanc.dicomPort, associations },
      rule: { name: "forward everything", actions: [{ type: "forward", destination: "DEST" }] },
      env: {
        BEELDPOORT_SPOOL__DURABILITY: "fsync",
        BEELDPOORT_STUDIES__QUIETPERIODSECONDS: String(quietSeconds),
        BEELDPOORT_STUDIES__CHECKINTERVALMS: "50",
      },
    });
    try {
      const start = performance.now();
      await storescu(dicomPort, "BEELDPOORT", study);
      const lastReceived = performance.now();
      const stored = await untilStored(orthanc.httpUrl, instances);
      return {
        seconds: (stored - lastReceived) / 1000 - quietSeconds,
        receiveSeconds: (lastReceived - start) / 1000,
      };
    } finally {
      await app.stop();
    }
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x: number) => Math.round(x * 1000) / 1000;

const study = prepare();
const directRuns: number[] = [];
const gatewayRuns: number[] = [];
for (let run = 1; run <= runs; run++) {
  const d = await direct(study);
  const g = await gateway(study);
  directRuns.push(round(d));
  gatewayRuns.push(round(g.seconds));
  console.log(
    `run ${run}: direct ${d.toFixed(2)} s; gateway ${
      g.seconds.toFixed(2)
    } s after the last instance (minus ${quietSeconds} s quiet period; receiving took ${
      g.receiveSeconds.toFixed(2)
    } s)`,
  );
}
const directSeconds = median(directRuns);
const gatewaySeconds = median(gatewayRuns);
const ratio = round(gatewaySeconds / directSeconds);
console.log(
  `${instances} instances, ${associations} association(s): direct ${directSeconds} s, gateway ${gatewaySeconds} s, ratio ${ratio}x (target <= 1.5x; Orthanc's Lua forward 1.22x)`,
);
console.log(JSON.stringify({
  instances,
  associations,
  quietSeconds,
  directSeconds,
  gatewaySeconds,
  ratio,
  directRuns,
  gatewayRuns,
}));
