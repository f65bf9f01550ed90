import assert from "node:assert/strict";
import { forEachConcurrently } from "../../modules/core/mod.ts";

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

Deno.test("forEachConcurrently runs every item once, never more than the limit at a time", async () => {
  let running = 0;
  let most = 0;
  const seen: number[] = [];
  await forEachConcurrently([...Array(10).keys()], 3, async (item, index) => {
    assert.equal(item, index);
    running++;
    most = Math.max(most, running);
    await tick();
    seen.push(item);
    running--;
  });
  assert.equal(most, 3);
  assert.deepEqual(seen.sort((a, b) => a - b), [...Array(10).keys()]);
  await forEachConcurrently([], 3, () => Promise.reject(new Error("never called")));
});

Deno.test("forEachConcurrently rejects with the first error after the calls in flight settle", async () => {
  const settled: number[] = [];
  const started: number[] = [];
  await assert.rejects(
    forEachConcurrently([0, 1, 2, 3, 4, 5], 2, async (item) => {
      started.push(item);
      await tick();
      if (item === 1) throw new RangeError("item 1 failed");
      await tick();
      settled.push(item);
    }),
    { name: "RangeError", message: "item 1 failed" },
  );
  assert.deepEqual(started, [0, 1], "no new call after the failure");
  assert.deepEqual(settled, [0], "the call in flight ran to its end");
});
