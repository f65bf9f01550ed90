/**
 * `deno task demo`: the mission in one run. Two gateways, Ziekenhuis A and Ziekenhuis B, start as
 * real `beeldpoort serve` processes on loopback with their own data directories, S/MIME keys and
 * certificates (a demo CA made with openssl), a shared address book (an mCSD bundle each imports)
 * and an Orthanc behind B as B's import destination. A generated study goes into A with storescu;
 * A's rule sends it to B's URA as signed and encrypted XDM parts over SMTP (STARTTLS); B verifies,
 * stores, imports into Orthanc and confirms; the demo prints each step until the study sits in
 * Orthanc with the delivery confirmed at A. The last line is one JSON object
 * {"sent","imported","identical","confirmed","seconds"}; the exit code is 0 only when every
 * instance arrived byte-identical and the delivery was confirmed.
 *
 * Options (environment): DEMO_INSTANCES (100), DEMO_SIZE (rows = columns, 128), DEMO_DIR (a fresh
 * temporary directory, removed afterwards unless DEMO_KEEP=1), DEMO_TIMEOUT_SECONDS (180).
 */
import { writeSyntheticStudy } from "../tests/support/dicom_fixtures.ts";
import { createGatewayPair, importIntoPacs, runJourney } from "../tests/support/relay_gateways.ts";

const instances = Number(Deno.env.get("DEMO_INSTANCES") ?? 100);
const size = Number(Deno.env.get("DEMO_SIZE") ?? 128);
const timeoutMs = Number(Deno.env.get("DEMO_TIMEOUT_SECONDS") ?? 180) * 1000;
const root = Deno.env.get("DEMO_DIR") ?? Deno.makeTempDirSync({ prefix: "beeldpoort-demo-" });
const keep = Deno.env.get("DEMO_KEEP") === "1";

const say = (line: string) => console.log(line);
say(`Beeldpoort demo in ${root}`);
const study = writeSyntheticStudy(`${root}/study`, {
  instances,
  rows: size,
  cols: size,
  seed: 7,
});
say(`generated study ${study.studyUid}: ${instances} CT instances of ${size}x${size}`);
say("starting Ziekenhuis A and Ziekenhuis B (demo CA, S/MIME identities, address book, Orthanc)");
const pair = await createGatewayPair(root, {
  envB: importIntoPacs,
  env: { BEELDPOORT_SPOOL__DURABILITY: "fsync" },
});
let result;
try {
  for (const g of [pair.a, pair.b]) {
    say(
      `  ${g.name}: URA ${g.ura}, ${g.address}, DICOM ${g.aeTitle}@127.0.0.1:${g.dicomPort}, SMTP 127.0.0.1:${g.mailPort}, web ${g.app?.baseUrl}`,
    );
  }
  say(`  Orthanc behind ${pair.b.name}: ${pair.orthanc.httpUrl} (import destination PACS)`);
  result = await runJourney(pair, { ...study, dir: `${root}/study` }, { onStep: say, timeoutMs });
  if (result.transfer) {
    say(`\n${pair.a.name}, \`beeldpoort relay show ${result.transfer.transferId}\`:`);
    say((await pair.a.cli("relay", "show", result.transfer.transferId)).trimEnd());
  }
} finally {
  await pair.close();
  if (!keep && !Deno.env.get("DEMO_DIR")) Deno.removeSync(root, { recursive: true });
}
const { sent, imported, identical, confirmed, seconds } = result;
const summary = { sent, imported, identical, confirmed, seconds };
console.log(JSON.stringify(summary));
Deno.exit(summary.identical && summary.confirmed ? 0 : 1);
