/**
 * `deno task test`: installs the test peers that are missing, runs every test under tests/, and
 * ends with one line `N passed, N failed` (plus `, N skipped` when any were skipped).
 * Extra arguments are passed to `deno test` (e.g. a single test file or `--filter`).
 */
import { ensureSystemPackages } from "./system_packages.ts";

const say = (line: string) => console.log(`[test] ${line}`);
await ensureSystemPackages(say);

const args = Deno.args.length > 0 ? Deno.args : ["tests/"];
const child = new Deno.Command(Deno.execPath(), {
  args: ["test", "-A", "--no-prompt", ...args],
  env: { NO_COLOR: "1" },
  stdout: "piped",
  stderr: "inherit",
}).spawn();

let summary = "";
const decoder = new TextDecoder();
let pending = "";
for await (const chunk of child.stdout) {
  await Deno.stdout.write(chunk);
  pending += decoder.decode(chunk, { stream: true });
  const lines = pending.split("\n");
  pending = lines.pop() ?? "";
  for (const line of lines) if (/^(ok|FAILED) \| /.test(line)) summary = line;
}
const status = await child.status;

// Deno's summary: "ok | 12 passed (3 steps) | 0 failed | 2 ignored (1s)"
const count = (label: string) => Number(summary.match(new RegExp(`(\\d+) ${label}`))?.[1] ?? 0);
let passed = count("passed");
let failed = count("failed");
const skipped = count("ignored");
if (!summary) {
  passed = 0;
  failed = Math.max(failed, 1); // deno test did not run (type error, bad argument)
}
if (!status.success && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
Deno.exit(status.success ? 0 : 1);
