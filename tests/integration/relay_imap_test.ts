/**
 * The journey for a hospital that receives through its own mail server: gateway A sends through
 * Debian's Postfix, which is zkh-b.example's mail server and delivers into B's mailbox in Dovecot
 * over LMTP; gateway B has no part in the SMTP path and fetches its mail from that mailbox over
 * IMAP with STARTTLS. The study still arrives byte-identical in B's Orthanc, with the delivery
 * confirmed at A, and the mailbox is empty afterwards.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { writeSyntheticStudy } from "../support/dicom_fixtures.ts";
import { missing } from "../support/peers.ts";
import { freePort, tempDir } from "../support/appliance.ts";
import { postfixUnavailable, startPostfix } from "../support/mail_postfix.ts";
import { dovecotUnavailable, startDovecot } from "../support/mail_dovecot.ts";
import { createGatewayPair, importIntoPacs, runJourney } from "../support/relay_gateways.ts";

const unavailable = postfixUnavailable() ?? dovecotUnavailable();

Deno.test({
  name:
    "relay: B fetches its mail over IMAP from the mailbox Postfix delivered to; identical, confirmed",
  ignore: missing("storescu", "Orthanc", "openssl") || unavailable !== null,
  async fn() {
    using dir = tempDir("bp-relay-imap-");
    const study = writeSyntheticStudy(`${dir.path}/study`, {
      instances: 60,
      rows: 64,
      cols: 64,
      seed: 160,
    });
    const postfixPort = freePort();
    const password = "postbus-wachtwoord";
    const pair = await createGatewayPair(dir.path, {
      start: false,
      maxMessageBytes: 20_000_000,
      env: { BEELDPOORT_XDM__PARTSIZEBYTES: "1000000" },
      envA: { BEELDPOORT_MAIL__SMARTHOST: `127.0.0.1:${postfixPort}/localhost` },
    });
    // Postfix and Dovecot run as their own users: they must reach their directories and certificates.
    await Deno.chmod(dir.path, 0o755);
    await Deno.chmod(pair.pki.dir, 0o755);
    const dovecotDir = join(dir.path, "dovecot");
    await Deno.mkdir(dovecotDir, { mode: 0o755 });
    const dovecot = await startDovecot({
      dir: dovecotDir,
      user: pair.b.address,
      password,
      certPath: pair.tls.certPath,
      keyPath: pair.tls.keyPath,
      lmtp: true,
    });
    const postfixDir = join(dir.path, "postfix");
    await Deno.mkdir(postfixDir);
    const postfix = await startPostfix({
      dir: postfixDir,
      port: postfixPort,
      relayDomain: pair.b.domain,
      lmtpPort: dovecot.lmtpPort,
      caPath: pair.pki.ca.certPath,
      certPath: pair.tls.certPath,
      keyPath: pair.tls.keyPath,
      messageSizeLimit: 20_000_000,
    });
    // B polls every second; its SMTP listener stays (A's notifications do not use it).
    Object.assign(pair.b.env, importIntoPacs, {
      BEELDPOORT_MAIL__IMAPURL: `imap://127.0.0.1:${dovecot.imapPort}/INBOX`,
      BEELDPOORT_MAIL__IMAPPASSWORD: password,
      BEELDPOORT_MAIL__IMAPINTERVALSECONDS: "5",
    });
    try {
      await Promise.all([pair.a.start(), pair.b.start()]);
      const result = await runJourney(pair, { ...study, dir: `${dir.path}/study` });
      assert.equal(result.imported, 60);
      assert.equal(result.identical, true);
      assert.equal(result.confirmed, true);
      const parts = result.transfer!.partCount!;
      assert.ok(parts >= 2, `${parts} parts`);
      // Every part went into the mailbox through LMTP, and B took each from there.
      const delivered = (await postfix.log()).split("\n").filter((l) =>
        l.includes(`to=<${pair.b.address}>`) && l.includes("relay=127.0.0.1") &&
        l.includes("status=sent")
      );
      assert.equal(delivered.length, parts, (await postfix.log()).slice(-3000));
      const fetched = pair.b.logs().filter((l) => l.msg === "mailbox message stored");
      assert.equal(fetched.length, parts);
      assert.equal(pair.b.logs().filter((l) => l.msg === "smtp message stored").length, 0);
      assert.equal(await dovecot.count(await Deno.readTextFile(pair.pki.ca.certPath)), 0);
    } finally {
      await postfix.stop();
      await dovecot.stop();
      await pair.close();
    }
  },
});
