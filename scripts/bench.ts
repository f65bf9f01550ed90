/**
 * `deno task bench [NAME...]`: runs the benchmarks in scripts/bench/ (all when no name is given).
 * Each benchmark runs our program and its peer on the same data in one run and prints the ratio
 * and peak memory; its last line is one JSON object. The peers (dcmtk, Orthanc) are installed first,
 * as the test command does, so a fresh machine can run it.
 */
import { ensureSystemPackages } from "./system_packages.ts";

const dir = new URL("./bench/", import.meta.url);
const available = [...Deno.readDirSync(dir)]
  .filter((e) => e.isFile && e.name.endsWith(".ts"))
  .map((e) => e.name.replace(/\.ts$/, ""))
  .sort();
const chosen = Deno.args.length > 0 ? Deno.args : available;
if (chosen.length === 0) {
  console.log("no benchmarks yet");
  Deno.exit(0);
}
const missing = await ensureSystemPackages((line) => console.log(`[bench] ${line}`));
if (missing.length > 0) console.log(`[bench] still missing: ${missing.join(" ")}`);
let failed = 0;
for (const name of chosen) {
  if (!available.includes(name)) {
    console.error(`bench: unknown benchmark "${name}"; available: ${available.join(", ")}`);
    Deno.exit(2);
  }
  console.log(`== bench ${name}`);
  const status = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(`${name}.ts`, dir).pathname],
    stdout: "inherit",
    stderr: "inherit",
  }).spawn().status;
  if (!status.success) failed++;
}
Deno.exit(failed ? 1 : 0);
