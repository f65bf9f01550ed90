/**
 * The SCP side of the dicom benchmark, as its own process so its RSS is measured alone:
 * `deno run -A tests/support/dicom_bench_scp.ts <port> <outdir>`. Stores meta + dataset to plain
 * files (no fsync, like storescp), stops on SIGTERM.
 */
import { createLogger } from "../../modules/core/mod.ts";
import { createDicomServer } from "../../modules/dicom/mod.ts";

const [port, out] = Deno.args;
const server = createDicomServer({
  host: "127.0.0.1",
  port: Number(port),
  aeTitle: "BEELDPOORT",
  allowedSenders: ["*"],
  maxPduLength: 262144,
  log: createLogger({ level: "warn" }),
  store: async (request) => {
    const file = await Deno.open(`${out}/${request.sopInstanceUid}.dcm`, {
      write: true,
      create: true,
      truncate: true,
    });
    await file.write(request.meta);
    await request.dataset.pipeTo(file.writable);
    return { status: 0 };
  },
});
Deno.addSignalListener("SIGTERM", async () => {
  await server.close();
  Deno.exit(0);
});
