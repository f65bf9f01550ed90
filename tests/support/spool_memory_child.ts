/**
 * Child process for the spool memory test: puts and then verifies one large object and prints
 * {"baselineMb","putPeakMb","verifyPeakMb"} from VmRSS/VmHWM (Linux /proc).
 * Usage: deno run -A spool_memory_child.ts <dir> <megabytes>
 */
import { createSpool } from "../../modules/spool/mod.ts";

const status = (field: string) =>
  Number(Deno.readTextFileSync("/proc/self/status").match(new RegExp(`${field}:\\s+(\\d+)`))![1]) /
  1024;
const resetPeak = () => Deno.writeTextFileSync("/proc/self/clear_refs", "5");

const spool = await createSpool({
  dir: Deno.args[0],
  masterKey: new Uint8Array(32).fill(3),
  durability: "os",
});
const total = Number(Deno.args[1]) * 1024 * 1024;
const piece = crypto.getRandomValues(new Uint8Array(65536));
let sent = 0;
const source = new ReadableStream<Uint8Array>({
  pull(controller) {
    if (sent >= total) return controller.close();
    controller.enqueue(piece);
    sent += piece.length;
  },
}, { highWaterMark: 0 });
resetPeak();
const baselineMb = status("VmRSS");
const { id } = await spool.put(source);
const putPeakMb = status("VmHWM");
resetPeak();
await spool.verify(id);
const verifyPeakMb = status("VmHWM");
console.log(JSON.stringify({ baselineMb, putPeakMb, verifyPeakMb }));
