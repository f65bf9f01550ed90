/**
 * A message gateway A sends, captured at an SMTP listener in B's place, opens with the reference
 * tool: `openssl cms -decrypt` with B's key, then `openssl cms -verify` against the demo CA, with A's
 * certificate as the signer and an XDM zip inside: in base64, and unencoded (`-binary`, which
 * keeps openssl from rewriting line breaks) for a peer whose endpoint takes binary parts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import { createLogger } from "../../modules/core/mod.ts";
import { createMailReceiver } from "../../modules/mail/mod.ts";
import { loadCertificatePem } from "../../modules/smime/mod.ts";
import { writeSyntheticStudy } from "../support/dicom_fixtures.ts";
import { missing } from "../support/peers.ts";
import { tempDir } from "../support/appliance.ts";
import { createGatewayPair, storescuInto } from "../support/relay_gateways.ts";
import { eventually } from "../support/routing_peers.ts";
import { openssl } from "../support/smime_pki.ts";

/** The DER of a decrypted application/pkcs7-mime signed-data entity sent as binary, in a file. */
async function opaqueSignedData(entityPath: string, dir: string): Promise<string> {
  const entity = await Deno.readFile(entityPath);
  const head = Buffer.from(entity).toString("latin1");
  const end = head.indexOf("\r\n\r\n");
  assert.match(
    head.slice(0, end),
    /^Content-Type: application\/pkcs7-mime; smime-type=signed-data/m,
  );
  assert.match(head.slice(0, end), /^Content-Transfer-Encoding: binary$/m);
  const path = join(dir, "signed.der");
  await Deno.writeFile(path, entity.subarray(end + 4));
  return path;
}

for (const binary of [false, true]) {
  Deno.test({
    name: `relay: openssl cms decrypts and verifies a part A sends, signed by A, with the XDM zip ${
      binary ? "unencoded (binary parts)" : "in base64"
    }`,
    ignore: missing("storescu", "Orthanc", "openssl"),
    async fn() {
      using dir = tempDir("bp-relay-openssl-");
      const study = writeSyntheticStudy(`${dir.path}/study`, {
        instances: 5,
        rows: 64,
        cols: 64,
        seed: 5,
      });
      const pair = await createGatewayPair(dir.path, { start: false, binaryContent: binary });
      const { a, b } = pair;
      const captured: Uint8Array[] = [];
      const capture = await createMailReceiver({
        host: "127.0.0.1",
        port: b.mailPort,
        tlsCert: await Deno.readTextFile(pair.tls.certPath),
        tlsKey: await Deno.readTextFile(pair.tls.keyPath),
        acceptedRecipients: [b.address],
        maxMessageBytes: 50_000_000,
        store: async (_meta, stream) => {
          captured.push(new Uint8Array(await new Response(stream).arrayBuffer()));
          return { id: `m${captured.length}` };
        },
        log: createLogger({ level: "error" }),
      });
      try {
        await a.start();
        await storescuInto(a, `${dir.path}/study`);
        await eventually("A's mail at the listener", () => Promise.resolve(captured.length > 0));
        const message = join(dir.path, "part.eml");
        await Deno.writeFile(message, captured[0]);
        const headers = new TextDecoder().decode(captured[0].subarray(0, 2000));
        assert.match(headers, /^Subject: Beeldpoort beeldoverdracht \S+ deel 1\/1\r$/m);
        assert.match(headers, /^Disposition-Notification-To: gw@zkh-a\.example\r$/m);
        assert.doesNotMatch(headers, new RegExp(study.studyUid.replaceAll(".", "\\.")));

        const signed = join(dir.path, "signed.eml");
        await openssl([
          "cms",
          "-decrypt",
          "-in",
          message,
          "-recip",
          b.identity.certPath,
          "-inkey",
          b.identity.keyPath,
          "-out",
          signed,
        ]);
        const signerPath = join(dir.path, "signer.pem");
        const content = join(dir.path, "content.mime");
        // Binary parts are signed opaquely: signed-data, its DER unencoded after the headers,
        // which openssl's MIME reader (base64 only) leaves to us to take out.
        const signedInput = binary ? await opaqueSignedData(signed, dir.path) : signed;
        await openssl([
          "cms",
          "-verify",
          ...(binary ? ["-inform", "DER", "-binary"] : []),
          "-in",
          signedInput,
          "-CAfile",
          pair.pki.ca.certPath,
          "-signer",
          signerPath,
          "-out",
          content,
        ]);
        const signer = await loadCertificatePem(signerPath);
        const aCert = await loadCertificatePem(a.identity.certPath);
        assert.deepEqual(signer.der, aCert.der);
        const bytes = await Deno.readFile(content);
        const entity = Buffer.from(bytes).toString("latin1");
        assert.match(entity, /^Content-Type: application\/zip; name="[^"]+"\r$/m);
        const encoding = binary ? "binary" : "base64";
        assert.match(entity, new RegExp(`^Content-Transfer-Encoding: ${encoding}\r$`, "m"));
        const body = entity.slice(entity.indexOf("\r\n\r\n") + 4);
        const zip = binary
          ? Buffer.from(body, "latin1")
          : Buffer.from(body.replace(/\s+/g, ""), "base64");
        assert.equal(zip.subarray(0, 4).toString("latin1"), "PK\x03\x04");
        // The end-of-central-directory record closes the zip: nothing was cut or rewritten.
        const end = zip.lastIndexOf(Buffer.from("PK\x05\x06", "latin1"));
        assert.ok(end > 0 && end + 22 + zip.readUInt16LE(end + 20) === zip.length);
      } finally {
        await capture.close();
        await pair.close();
      }
    },
  });
}
