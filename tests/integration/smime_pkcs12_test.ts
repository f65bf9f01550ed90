/**
 * Loading identities the way hospitals receive them: PKCS#12 from openssl 3 (PBES2/AES, HMAC-SHA256)
 * and the older 3DES/SHA-1 form many Windows exports still use; encrypted PEM keys.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { missing } from "../support/peers.ts";
import {
  loadCertificatesPem,
  loadPkcs12,
  loadPrivateKeyPem,
  open,
  seal,
  SmimeDecryptError,
  SmimeFormatError,
  SmimeUnsupported,
} from "../../modules/smime/mod.ts";
import { openssl } from "../support/smime_pki.ts";
import { createSmimeFixture, mimeEntity } from "../support/smime_fixture.ts";

const ignore = missing("openssl");

Deno.test({
  name: "smime: PKCS#12 and PEM loading",
  ignore,
  fn: async (t) => {
    const f = await createSmimeFixture();
    try {
      const content = mimeEntity(2048);
      for (const legacy3des of [false, true]) {
        await t.step(
          legacy3des ? "PKCS#12 with 3DES and SHA-1 MAC" : "PKCS#12 with AES-256 and HMAC-SHA256",
          async () => {
            const path = await f.pki.pkcs12(f.bob, "geheim wachtwoord", { legacy3des });
            const p12 = await loadPkcs12(path, "geheim wachtwoord");
            assert.ok(p12.certificate.equals(f.bob.cert));
            assert.equal(p12.chain.length, 1);
            assert.ok(p12.chain[0].equals(f.ca));
            // The loaded key really is bob's: it opens a message sealed for him.
            const message = await seal({
              content,
              signerCert: f.alice.cert,
              signerKey: f.alice.key,
              recipients: [p12.certificate],
            });
            const opened = await open({
              message,
              recipientKey: p12.key,
              recipientCert: p12.certificate,
              trustAnchors: [f.ca],
            });
            assert.deepStrictEqual(opened.content, content);
            await assert.rejects(loadPkcs12(path, "verkeerd"), SmimeDecryptError);
          },
        );
      }
      await t.step(
        "PKCS#12 with RC2 (openssl -legacy style) is refused as unsupported",
        async () => {
          const path = join(f.pki.dir, "rc2.p12");
          try {
            await openssl([
              "pkcs12",
              "-export",
              "-legacy",
              "-inkey",
              f.bob.keyPath,
              "-in",
              f.bob.certPath,
              "-passout",
              "pass:pw",
              "-out",
              path,
            ]);
          } catch {
            console.log("skipping RC2 case: this openssl has no legacy provider");
            return;
          }
          await assert.rejects(loadPkcs12(path, "pw"), SmimeUnsupported);
        },
      );
      await t.step("encrypted PEM private key", async () => {
        const path = join(f.pki.dir, "bob-encrypted.key");
        await openssl([
          "pkey",
          "-in",
          f.bob.keyPath,
          "-aes256",
          "-passout",
          "pass:pw",
          "-out",
          path,
        ]);
        const key = await loadPrivateKeyPem(path, "pw");
        assert.equal(key.type, "private");
        await assert.rejects(loadPrivateKeyPem(path, "wrong"), SmimeDecryptError);
        await assert.rejects(loadPrivateKeyPem(f.bob.certPath), SmimeFormatError);
      });
      await t.step("PEM bundle with several certificates", async () => {
        const bundle = join(f.pki.dir, "bundle.pem");
        await Deno.writeTextFile(bundle, f.ca.toPem() + f.alice.cert.toPem());
        const certs = await loadCertificatesPem(bundle);
        assert.equal(certs.length, 2);
        assert.ok(certs[1].equals(f.alice.cert));
        assert.deepStrictEqual(certs[1].emailAddresses, ["alice@zkh-a.example"]);
        assert.equal(certs[1].subject, "CN=alice, O=Beeldpoort Test");
        assert.equal(certs[0].isCa, true);
      });
    } finally {
      await f.pki.cleanup();
    }
  },
});
