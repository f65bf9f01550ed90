/**
 * Child process for the spool crash test: starts a put whose source never ends, prints "writing"
 * once some chunks reached the temporary file, and waits to be killed.
 * Usage: deno run -A spool_crash_child.ts <dir>
 */
import { createSpool } from "../../modules/spool/mod.ts";

const spool = await createSpool({
  dir: Deno.args[0],
  masterKey: new Uint8Array(32).fill(7),
  durability: "fsync",
  chunkSize: 4096,
});
let pulls = 0;
const source = new ReadableStream<Uint8Array>({
  pull(controller) {
    pulls++;
    if (pulls <= 8) return controller.enqueue(new Uint8Array(4096).fill(pulls));
    console.log("writing"); // chunks 1..7 are sealed and written by now
    return new Promise(() => {}); // the sender stalls; the process is killed here
  },
}, { highWaterMark: 0 });
await spool.put(source);
