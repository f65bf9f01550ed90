/**
 * V8 settings the appliance runs with, given on the command line (`deno task start`, the compiled
 * binary, and the appliances tests and benchmarks start), since V8 fixes its heap layout before any
 * of our code runs.
 *
 * `--max-semi-space-size=2` (MB; V8's default here is 16): the young generation is where the relay's
 * short-lived objects live, and V8 keeps its semi-spaces at their grown size. Measured with
 * `BENCH_INSTANCES=1000 deno task bench relay`: peak RSS of gateway A 260 against 300-310 MB and of
 * B 326 against 351-379 MB, at the same CPU; receiving 500 instances (scripts/bench/ingest.ts)
 * ran alike with either.
 *
 * `--expose-gc`: the memory governor (appliance/memory_governor.ts) starts full collections itself,
 * instead of letting dead buffers pile up to V8's own thresholds.
 */
export const applianceV8Flags = ["--max-semi-space-size=2", "--expose-gc"];

/** The `--v8-flags=` argument of `deno run` or `deno compile`, with `extra` V8 flags first. */
export function v8FlagsArgument(extra: string[] = []): string {
  return `--v8-flags=${[...extra, ...applianceV8Flags].join(",")}`;
}
