/**
 * Mail benchmark: our sender delivers N messages of M MB over STARTTLS to our receiver, which
 * runs in its own process and stores each message in an fsync'd encrypted spool before it answers
 * 250. Prints throughput and the receiver's peak RSS; checks every message arrived byte-identical.
 * The last line is one JSON object.
 *
 *     deno run -A scripts/bench/mail.ts [--count=10] [--mb=20] [--parallel=1]
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createLogger } from "../../modules/core/mod.ts";
import { createMailReceiver } from "../../modules/mail/mod.ts";
import { createSpool } from "../../modules/spool/mod.ts";
import {
  createMailBench,
  ourAddress,
  syntheticMessage,
} from "../../tests/support/mail_fixtures.ts";
import { startPeer, waitFor } from "../peers/process.ts";

interface ReceiverSpec {
  dir: string;
  cert: string;
  key: string;
  maxMessageBytes: number;
}

function rssMb(field: "VmRSS" | "VmHWM"): number | null {
  const kb = Deno.readTextFileSync("/proc/self/status").match(new RegExp(`${field}:\\s+(\\d+)`));
  return kb ? Math.round(Number(kb[1]) / 1024) : null;
}

/** The receiving side, in a child process: one line per stored message on stdout. */
async function runReceiver(spec: ReceiverSpec) {
  const spool = await createSpool({
    dir: join(spec.dir, "spool"),
    masterKey: crypto.getRandomValues(new Uint8Array(32)),
    durability: "fsync",
  });
  const receiver = await createMailReceiver({
    host: "127.0.0.1",
    port: 0,
    tlsCert: await Deno.readTextFile(spec.cert),
    tlsKey: await Deno.readTextFile(spec.key),
    acceptedRecipients: [ourAddress],
    maxMessageBytes: spec.maxMessageBytes,
    store: async (_meta, stream) => {
      const put = await spool.put(stream);
      console.log(JSON.stringify({ stored: put.id, size: put.size, sha256: put.sha256 }));
      return { id: put.id };
    },
    log: createLogger({ level: "warn" }),
  });
  console.log(JSON.stringify({ port: receiver.port, rssMb: rssMb("VmRSS") }));
  Deno.addSignalListener("SIGTERM", async () => {
    await receiver.close();
    Deno.exit(0);
  });
}

export interface MailBenchResult {
  bench: "mail";
  messages: number;
  messageBytes: number;
  parallel: number;
  seconds: number;
  mbPerSecond: number;
  identical: boolean;
  receiverStartRssMb: number | null;
  receiverPeakRssMb: number | null;
  /** CPU time of the receiver's process while the messages came in (its whole cost per byte). */
  receiverCpuSeconds: number | null;
  senderPeakRssMb: number | null;
}

/** Runs the benchmark; prints progress through `say`. */
export async function runMailBench(
  options: { count?: number; mb?: number; parallel?: number; say?: (line: string) => void } = {},
): Promise<MailBenchResult> {
  const say = options.say ?? console.log;
  const count = options.count ?? 10;
  const bytes = (options.mb ?? 20) * 1024 * 1024;
  const parallel = options.parallel ?? 1;
  const bench = await createMailBench();
  const cert = join(bench.dir, "server.pem");
  const key = join(bench.dir, "server.key");
  await Deno.writeTextFile(cert, bench.serverCertPem);
  await Deno.writeTextFile(key, bench.serverKeyPem);
  const spec: ReceiverSpec = { dir: bench.dir, cert, key, maxMessageBytes: bytes * 2 };
  const child = startPeer(Deno.execPath(), [
    "run",
    "-A",
    new URL(import.meta.url).pathname,
    `--receiver=${JSON.stringify(spec)}`,
  ]);
  try {
    const lines = () =>
      child.output().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
    await waitFor("the receiver", () => lines().some((l) => "port" in l), 30_000);
    const { port, rssMb: startRss } = lines().find((l) => "port" in l);
    const sender = bench.sender(port);
    const messages = Array.from({ length: count }, (_, i) => syntheticMessage(bytes, 100 + i));
    const expected = await Promise.all(messages.map((m) => m.digest()));
    say(
      `receiver listening on ${port}, RSS ${startRss} MB; sending ${count} x ${
        options.mb ?? 20
      } MB`,
    );
    const started = performance.now();
    const cpuAtStart = child.cpuSeconds();
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const i = next++;
        await sender.send({
          to: ourAddress,
          messageId: `<bench${i}@a>`,
          raw: messages[i].stream(),
        });
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
    const seconds = (performance.now() - started) / 1000;
    const cpuAtEnd = child.cpuSeconds();
    const peak = child.peakRss();
    const stored = lines().filter((l) => "stored" in l);
    const identical = stored.length === count &&
      expected.every((e) => stored.some((s) => s.sha256 === e.sha256 && s.size === e.size));
    const total = expected.reduce((n, e) => n + e.size, 0);
    const result: MailBenchResult = {
      bench: "mail",
      messages: count,
      messageBytes: expected[0].size,
      parallel,
      seconds: Math.round(seconds * 100) / 100,
      mbPerSecond: Math.round(total / 1e6 / seconds),
      identical,
      receiverStartRssMb: startRss,
      receiverPeakRssMb: peak === null ? null : Math.round(peak / 1024 / 1024),
      receiverCpuSeconds: cpuAtStart === null || cpuAtEnd === null
        ? null
        : Math.round((cpuAtEnd - cpuAtStart) * 100) / 100,
      senderPeakRssMb: rssMb("VmHWM"),
    };
    say(
      `${count} messages in ${result.seconds} s (${result.mbPerSecond} MB/s, ` +
        `stored with fsync), identical: ${identical}; receiver RSS ${startRss} MB at start, ` +
        `peak ${result.receiverPeakRssMb} MB, CPU ${result.receiverCpuSeconds} s; sender peak ` +
        `${result.senderPeakRssMb} MB`,
    );
    return result;
  } finally {
    await child.stop();
    await bench.cleanup();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      receiver: { type: "string" },
      count: { type: "string" },
      mb: { type: "string" },
      parallel: { type: "string" },
    },
  });
  if (values.receiver) {
    await runReceiver(JSON.parse(values.receiver) as ReceiverSpec);
  } else {
    const n = (v: string | undefined) => (v === undefined ? undefined : Number(v));
    const result = await runMailBench({
      count: n(values.count),
      mb: n(values.mb),
      parallel: n(values.parallel),
    });
    console.log(JSON.stringify(result));
    if (!result.identical) Deno.exit(1);
  }
}
