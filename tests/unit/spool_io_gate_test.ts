import assert from "node:assert/strict";
import { IoGate } from "../../modules/spool/io_gate.ts";
import { readFull } from "../../modules/spool/reader.ts";

function gateAt(start = 1000) {
  const clock = { now: start };
  return { clock, gate: new IoGate(() => clock.now) };
}

Deno.test("io gate: page-cache-speed writes stay synchronous", () => {
  const { gate } = gateAt();
  gate.note(128 * 1024, 0.2); // 128 KiB in 0.2 ms: 640 MB/s
  gate.note(1024 * 1024, 3.5); // 1 MiB in 3.5 ms: 300 MB/s, still above the line
  gate.note(64, 0.9); // tiny and under a millisecond: scheduling noise, not the disk
  assert.equal(gate.throttled, false);
});

Deno.test("io gate: a slow write sends writes to the pool for two seconds, then tries again", () => {
  const { clock, gate } = gateAt();
  gate.note(128 * 1024, 40); // held back by the kernel
  assert.equal(gate.throttled, true);
  clock.now += 1999;
  assert.equal(gate.throttled, true);
  clock.now += 1;
  assert.equal(gate.throttled, false);
});

Deno.test("io gate: each slow write starts the hold again", () => {
  const { clock, gate } = gateAt();
  gate.note(1024 * 1024, 9); // 1 MiB in 9 ms: 116 MB/s
  clock.now += 1500;
  gate.note(1024 * 1024, 12);
  clock.now += 1500;
  assert.equal(gate.throttled, true, "held from the second slow write, not the first");
  clock.now += 500;
  assert.equal(gate.throttled, false);
});

Deno.test("io gate: a read gives the same bytes synchronously and through the pool", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/object`;
    const bytes = new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff);
    await Deno.writeFile(path, bytes);
    const { clock, gate } = gateAt();
    gate.note(128 * 1024, 40); // throttled: the first read goes through the pool
    for (const expectThrottled of [true, false]) {
      assert.equal(gate.throttled, expectThrottled);
      const file = await Deno.open(path);
      try {
        const into = new Uint8Array(bytes.length + 10); // longer than the file: stops at its end
        assert.equal(await readFull(file, into, gate), bytes.length);
        assert.deepEqual(into.subarray(0, bytes.length), bytes);
      } finally {
        file.close();
      }
      clock.now += 2000;
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
