import assert from "node:assert/strict";
import { WriteGate } from "../../modules/spool/write_gate.ts";

function gateAt(start = 1000) {
  const clock = { now: start };
  return { clock, gate: new WriteGate(() => clock.now) };
}

Deno.test("write gate: page-cache-speed writes stay synchronous", () => {
  const { gate } = gateAt();
  gate.note(128 * 1024, 0.2); // 128 KiB in 0.2 ms: 640 MB/s
  gate.note(1024 * 1024, 3.5); // 1 MiB in 3.5 ms: 300 MB/s, still above the line
  gate.note(64, 0.9); // tiny and under a millisecond: scheduling noise, not the disk
  assert.equal(gate.throttled, false);
});

Deno.test("write gate: a slow write sends writes to the pool for two seconds, then tries again", () => {
  const { clock, gate } = gateAt();
  gate.note(128 * 1024, 40); // held back by the kernel
  assert.equal(gate.throttled, true);
  clock.now += 1999;
  assert.equal(gate.throttled, true);
  clock.now += 1;
  assert.equal(gate.throttled, false);
});

Deno.test("write gate: each slow write starts the hold again", () => {
  const { clock, gate } = gateAt();
  gate.note(1024 * 1024, 9); // 1 MiB in 9 ms: 116 MB/s
  clock.now += 1500;
  gate.note(1024 * 1024, 12);
  clock.now += 1500;
  assert.equal(gate.throttled, true, "held from the second slow write, not the first");
  clock.now += 500;
  assert.equal(gate.throttled, false);
});
