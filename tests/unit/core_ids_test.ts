import assert from "node:assert/strict";
import { newId } from "../../modules/core/mod.ts";

Deno.test("ids are strictly increasing, also many within one millisecond", () => {
  const ids = Array.from({ length: 1000 }, () => newId(1_700_000_000_000));
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, 1000);
  assert.ok(newId() > ids[999]);
});
