import assert from "node:assert/strict";
import { createCollectionTrigger } from "../../appliance/memory_governor.ts";
import { v8FlagsArgument } from "../../appliance/runtime_flags.ts";

const MB = 1024 * 1024;
const sample = (heap: number, external: number) => ({
  heapUsed: heap * MB,
  external: external * MB,
});

Deno.test("memory trigger: collects once the total is more than the headroom above its lowest point", () => {
  const trigger = createCollectionTrigger({ headroomBytes: 32 * MB, minIntervalMs: 250 });
  assert.equal(trigger.observe(sample(40, 30), 0), false);
  assert.equal(trigger.observe(sample(40, 60), 100), false, "30 MB above: within the headroom");
  // V8 collected by itself: the lowest point follows it down.
  assert.equal(trigger.observe(sample(35, 10), 200), false);
  assert.equal(trigger.observe(sample(40, 40), 300), true, "45 MB above the new low point");
});

Deno.test("memory trigger: collections are at least minIntervalMs apart, then measured from the new floor", () => {
  const trigger = createCollectionTrigger({ headroomBytes: 32 * MB, minIntervalMs: 250 });
  trigger.observe(sample(30, 10), 0);
  assert.equal(trigger.observe(sample(30, 60), 100), true);
  // The live set grew by 40 MB: the collection leaves 80 MB, which becomes the floor.
  trigger.collected(sample(40, 40), 120);
  assert.equal(trigger.observe(sample(40, 60), 220), false, "20 MB above the new floor");
  assert.equal(trigger.observe(sample(40, 90), 300), false, "too soon after the last one");
  assert.equal(trigger.observe(sample(40, 90), 370), true);
});

Deno.test("memory governor: in a process with the appliance's V8 flags it collects when memory rises past the headroom", async () => {
  // 40 MB held, dropped, then 40 MB more: an 80 MB rise over the floor.
  const script = `
    import { startMemoryGovernor } from ${
    JSON.stringify(new URL("../../appliance/memory_governor.ts", import.meta.url).href)
  };
    const log = { info() {}, warn() {}, error() {}, debug() {}, child() { return log; } };
    const governor = startMemoryGovernor(log);
    const tick = () => new Promise((r) => setTimeout(r, 150));
    await tick();
    let held = Array.from({ length: 80 }, () => new Uint8Array(512 * 1024).fill(7));
    const peak = Deno.memoryUsage().external;
    held = Array.from({ length: 80 }, () => new Uint8Array(512 * 1024).fill(9));
    for (let i = 0; i < 6; i++) await tick();
    console.log(JSON.stringify({ gc: typeof globalThis.gc, peak, held: held.length, stats: governor.stop() }));
  `;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", v8FlagsArgument(), script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const result = JSON.parse(new TextDecoder().decode(output.stdout).trim().split("\n").at(-1)!);
  assert.equal(result.gc, "function", "--expose-gc is among the appliance's V8 flags");
  assert.ok(result.stats.collections >= 1, JSON.stringify(result.stats));
  assert.ok(result.peak >= 40 * MB, JSON.stringify(result));
});
