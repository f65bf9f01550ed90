/**
 * The journey through a real MTA: gateway A sends through Debian's Postfix as its smarthost on
 * loopback (STARTTLS both ways, certificates verified against the demo CA), Postfix relays B's
 * domain to B's SMTP listener, and the study still arrives byte-identical with the delivery
 * confirmed at A. B's notifications go straight back to A.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { writeSyntheticStudy } from "../support/dicom_fixtures.ts";
import { missing } from "../support/peers.ts";
import { freePort, tempDir } from "../support/appliance.ts";
import { postfixUnavailable, startPostfix } from "../support/mail_postfix.ts";
import { createGatewayPair, importIntoPacs, runJourney } from "../support/relay_gateways.ts";

const unavailable = postfixUnavailable();

Deno.test({
  name: "relay: through Postfix as A's smarthost, byte-identical into B's Orthanc, confirmed",
  ignore: missing("storescu", "Orthanc", "openssl") || unavailable !== null,
  async fn() {
    using dir = tempDir("bp-relay-postfix-");
    const study = writeSyntheticStudy(`${dir.path}/study`, {
      instances: 100,
      rows: 64,
      cols: 64,
      seed: 100,
    });
    const postfixPort = freePort();
    const pair = await createGatewayPair(dir.path, {
      start: false,
      // Postfix takes at most 20 MB: the address book says so, and the parts stay under it.
      maxMessageBytes: 20_000_000,
      env: { BEELDPOORT_XDM__PARTSIZEBYTES: "1000000" },
      envA: { BEELDPOORT_MAIL__SMARTHOST: `127.0.0.1:${postfixPort}/localhost` },
      envB: importIntoPacs,
    });
    const postfixDir = join(dir.path, "postfix");
    await Deno.mkdir(postfixDir);
    // Postfix runs as its own user: it must reach its directory and the certificates.
    await Deno.chmod(dir.path, 0o755);
    await Deno.chmod(pair.pki.dir, 0o755);
    const postfix = await startPostfix({
      dir: postfixDir,
      port: postfixPort,
      relayDomain: pair.b.domain,
      relayPort: pair.b.mailPort,
      caPath: pair.pki.ca.certPath,
      certPath: pair.tls.certPath,
      keyPath: pair.tls.keyPath,
      messageSizeLimit: 20_000_000,
    });
    try {
      await Promise.all([pair.a.start(), pair.b.start()]);
      const result = await runJourney(pair, { ...study, dir: `${dir.path}/study` });
      assert.equal(result.imported, 100);
      assert.equal(result.identical, true);
      assert.equal(result.confirmed, true);
      const parts = result.transfer!.partCount!;
      assert.ok(parts >= 2, `${parts} parts`);
      // Every part went through Postfix onward to B ("status=sent" per message); its TLS policy
      // "secure" delivers only over TLS with B's certificate verified against the demo CA.
      const log = await postfix.log();
      const relayed = log.split("\n").filter((l) =>
        l.includes(`to=<${pair.b.address}>`) && l.includes("status=sent")
      );
      assert.equal(relayed.length, parts, log.slice(-3000));
    } finally {
      await postfix.stop();
      await pair.close();
    }
  },
});
