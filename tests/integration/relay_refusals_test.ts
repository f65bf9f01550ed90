/**
 * Hostile or broken mail straight into B's SMTP listener, each claiming to come from A (who is in
 * B's address book): an encrypted but unsigned message (made with `openssl cms`), a message signed
 * by someone the address book does not list for A, a message encrypted for someone else, and one
 * signed by A after the CA revoked A's certificate (B's relay.crlFiles, rewritten while B runs).
 * Each is refused with its code and audited at B, and answered with a failure notification to A,
 * except the revoked one: B encrypts nothing for a revoked certificate.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createLogger } from "../../modules/core/mod.ts";
import { createMailSender } from "../../modules/mail/mod.ts";
import { loadCertificatePem, loadPrivateKeyPem, seal } from "../../modules/smime/mod.ts";
import { missing } from "../support/peers.ts";
import { tempDir } from "../support/appliance.ts";
import { createGatewayPair, type Gateway, logged } from "../support/relay_gateways.ts";
import { eventually } from "../support/routing_peers.ts";
import { openssl } from "../support/smime_pki.ts";

const encoder = new TextEncoder();
const entity = encoder.encode(
  "Content-Type: text/plain; charset=us-ascii\r\n\r\nGeen beelden, alleen een test.\r\n",
);

function outer(from: string, to: string, messageId: string): Record<string, string> {
  return {
    From: from,
    To: to,
    Subject: "Beeldpoort test",
    "Message-ID": messageId,
    Date: new Date().toUTCString().replace(/GMT$/, "+0000"),
  };
}

Deno.test({
  name:
    "relay: unsigned, unlisted signer, encrypted-for-someone-else and revoked signer are refused, answered and audited",
  ignore: missing("storescu", "Orthanc", "openssl"),
  async fn() {
    using dir = tempDir("bp-relay-refusals-");
    const crlPath = join(dir.path, "ca-crl.pem");
    const pair = await createGatewayPair(dir.path, {
      start: false,
      envB: { BEELDPOORT_RELAY__CRLFILES: crlPath },
    });
    const { a, b } = pair;
    try {
      // B starts with the CA's list as it is: nothing revoked.
      await Deno.copyFile(await pair.pki.ca.crl(), crlPath);
      await Promise.all([a.start(), b.start()]);
      const intruder = await pair.pki.issue("intruder", { email: a.address });
      const aCert = await loadCertificatePem(a.identity.certPath);
      const aKey = await loadPrivateKeyPem(a.identity.keyPath);
      const bCert = await loadCertificatePem(b.identity.certPath);
      const intruderCert = await loadCertificatePem(intruder.certPath);
      const intruderKey = await loadPrivateKeyPem(intruder.keyPath);

      // 1. Encrypted for B with openssl, but not signed at all.
      const entityPath = join(dir.path, "entity.txt");
      await Deno.writeFile(entityPath, entity);
      const unsignedBody = await openssl([
        "cms",
        "-encrypt",
        "-aes256",
        "-in",
        entityPath,
        "-recip",
        b.identity.certPath,
        "-from",
        a.address,
        "-to",
        b.address,
        "-subject",
        "Beeldpoort test",
        "-crlfeol",
      ]);
      // openssl writes bare LF in places; SMTP wants CRLF throughout.
      const unsigned = encoder.encode(
        "Message-ID: <unsigned.1@zkh-a.example>\r\n" +
          new TextDecoder().decode(unsignedBody).replace(/\r?\n/g, "\r\n"),
      );
      // 2. Signed by a certificate from the trusted CA that the address book does not list for A.
      const unlisted = await seal({
        content: entity,
        signerCert: intruderCert,
        signerKey: intruderKey,
        recipients: [bCert],
        headers: outer(a.address, b.address, "<unlisted.1@zkh-a.example>"),
      });
      // 3. Properly signed by A, but encrypted for someone else.
      const notForUs = await seal({
        content: entity,
        signerCert: aCert,
        signerKey: aKey,
        recipients: [intruderCert],
        headers: outer(a.address, b.address, "<elsewhere.1@zkh-a.example>"),
      });

      const sender = createMailSender({
        from: a.address,
        localName: "test.zkh-a.example",
        trustedCas: [await Deno.readTextFile(pair.pki.ca.certPath)],
        routes: {
          [b.domain]: { host: "127.0.0.1", port: b.mailPort, servername: "localhost" },
        },
        log: createLogger({ level: "error" }),
      });
      for (
        const [messageId, raw] of [
          ["<unsigned.1@zkh-a.example>", unsigned],
          ["<unlisted.1@zkh-a.example>", unlisted],
          ["<elsewhere.1@zkh-a.example>", notForUs],
        ] as const
      ) {
        const result = await sender.send({
          to: b.address,
          messageId,
          raw: ReadableStream.from([raw]),
        });
        assert.match(result.response, /^250/);
      }
      // 4. Properly signed by A and encrypted for B, after the CA revoked A's certificate and B's
      // CRL file was replaced (B reads it again because it changed).
      await pair.pki.ca.revoke(a.identity);
      await Deno.copyFile(await pair.pki.ca.crl(), crlPath);
      const revoked = await seal({
        content: entity,
        signerCert: aCert,
        signerKey: aKey,
        recipients: [bCert],
        headers: outer(a.address, b.address, "<revoked.1@zkh-a.example>"),
      });
      const result = await sender.send({
        to: b.address,
        messageId: "<revoked.1@zkh-a.example>",
        raw: ReadableStream.from([revoked]),
      });
      assert.match(result.response, /^250/);

      const refusedAtB = await eventually("four refusals at B", () => {
        const lines = logged(b, "message refused");
        return Promise.resolve(lines.length >= 4 && lines);
      });
      assert.deepEqual(
        refusedAtB.map((l) => `${l.messageId} ${l.code}`).sort(),
        [
          "<elsewhere.1@zkh-a.example> RELAY_NOT_FOR_US",
          "<revoked.1@zkh-a.example> RELAY_SIGNER_UNTRUSTED",
          "<unlisted.1@zkh-a.example> RELAY_SIGNER_NOT_LISTED",
          "<unsigned.1@zkh-a.example> RELAY_UNSIGNED",
        ],
      );
      const revokedLine = refusedAtB.find((l) => l.messageId === "<revoked.1@zkh-a.example>");
      assert.match(String(revokedLine?.reason), /was revoked on/);
      // Each refusal went back to A as a signed, encrypted failure notification, which A opened;
      // except the last: B does not encrypt for A's revoked certificate, not even a notification.
      const unanswered = await eventually("the revoked signer's refusal left unanswered", () => {
        const lines = logged(b, "notification not sent: no encryption certificate for the peer");
        return Promise.resolve(lines.length >= 1 && lines);
      });
      assert.deepEqual(unanswered.map((l) => l.originalMessageId), ["<revoked.1@zkh-a.example>"]);
      await eventually("three failure notifications at A", () =>
        Promise.resolve(
          logged(a, "inbound message processed").filter((l) => l.kind === "notification")
            .length === 3,
        ));
      const notices = logged(b, "mail sent").filter((l) => String(l.messageId).includes("mdn."));
      assert.equal(notices.length, 3);

      const audit = await auditRefusals(b);
      assert.deepEqual(audit, [
        "receive failure RELAY_NOT_FOR_US",
        "receive failure RELAY_SIGNER_NOT_LISTED",
        "receive failure RELAY_SIGNER_UNTRUSTED",
        "receive failure RELAY_UNSIGNED",
      ]);
      // Nothing of the refused messages reached the study index.
      assert.equal((await b.cli("studies", "list", "--json")).trim(), "");
    } finally {
      await pair.close();
    }
  },
});

async function auditRefusals(gateway: Gateway): Promise<string[]> {
  const out = await gateway.cli("audit", "export");
  return out.trim().split("\n").map((l) => JSON.parse(l))
    .filter((e) => e.detail?.stage === "relay.refused")
    .map((e) => `${e.action} ${e.outcome} ${e.detail.code}`).sort();
}
