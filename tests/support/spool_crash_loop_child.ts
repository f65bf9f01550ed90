/**
 * Child process for the spool kill test: puts objects of varied sizes one after another (several
 * at a time) with durability fsync and prints "stored <id> <sha256>" after each put resolves, until
 * it is killed. Usage: deno run -A spool_crash_loop_child.ts <dir>
 */
import { createSpool } from "../../modules/spool/mod.ts";
import { patternStream } from "./spool_fixtures.ts";

const spool = await createSpool({
  dir: Deno.args[0],
  masterKey: new Uint8Array(32).fill(7),
  durability: "fsync",
});
const sizes = [0, 1, 100_000, 131_072, 525_340, 2_000_003];
const writer = async (lane: number) => {
  for (let n = lane;; n += 3) {
    const size = sizes[n % sizes.length];
    const put = await spool.put(patternStream(n, size, 65_521));
    console.log(`stored ${put.id} ${put.sha256}`);
  }
};
await Promise.all([writer(0), writer(1), writer(2)]);
