/**
 * Interop with `openssl cms` in both directions: what we seal, openssl decrypts and verifies; what
 * openssl signs and encrypts (GCM/CBC, OAEP/PKCS#1 v1.5, S/MIME, DER and streamed BER), we open.
 * Content must come back byte for byte.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { missing } from "../support/peers.ts";
import { open, seal } from "../../modules/smime/mod.ts";
import { openssl } from "../support/smime_pki.ts";
import { createSmimeFixture, mimeEntity } from "../support/smime_fixture.ts";

const ignore = missing("openssl");

Deno.test({
  name: "smime: openssl cms decrypts and verifies what we seal (GCM and CBC)",
  ignore,
  fn: async (t) => {
    const f = await createSmimeFixture();
    try {
      const content = mimeEntity(64 * 1024);
      for (const algorithm of ["aes-256-gcm", "aes-256-cbc"] as const) {
        await t.step(algorithm, async () => {
          const message = await seal({
            content,
            signerCert: f.alice.cert,
            signerKey: f.alice.key,
            recipients: [f.bob.cert, f.carol.cert],
            includeSigner: true,
            algorithm,
            headers: { Subject: "beeldpoort transfer" },
          });
          const text = new TextDecoder().decode(message.subarray(0, 400));
          const smimeType = algorithm === "aes-256-gcm" ? "authEnveloped-data" : "enveloped-data";
          assert.match(
            text,
            new RegExp(
              `^Subject: beeldpoort transfer\r\nMIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=${smimeType}; name="smime.p7m"\r\n`,
            ),
          );
          const sealed = join(f.pki.dir, `sealed-${algorithm}.eml`);
          await Deno.writeFile(sealed, message);
          // Every recipient, and the signer's own copy, can decrypt.
          for (const who of [f.bob, f.carol, f.alice]) {
            const decrypted = await openssl([
              "cms",
              "-decrypt",
              "-in",
              sealed,
              "-recip",
              who.certPath,
              "-inkey",
              who.keyPath,
            ]);
            const inner = join(f.pki.dir, `inner-${algorithm}-${who.name}.eml`);
            await Deno.writeFile(inner, decrypted);
            assert.match(
              new TextDecoder().decode(decrypted.subarray(0, 200)),
              /multipart\/signed; protocol="application\/pkcs7-signature"; micalg=sha-256/,
            );
            // -verify checks the signature, the chain to -CAfile and the smimesign purpose.
            const verified = await openssl([
              "cms",
              "-verify",
              "-in",
              inner,
              "-CAfile",
              f.pki.ca.certPath,
            ]);
            assert.deepStrictEqual(verified, content);
          }
          // And we open our own output.
          const opened = await open({
            message,
            recipientKey: f.bob.key,
            recipientCert: f.bob.cert,
            trustAnchors: [f.ca],
          });
          assert.deepStrictEqual(opened.content, content);
          assert.equal(opened.algorithm, algorithm);
          assert.equal(opened.keyTransport, "rsa-oaep-sha256");
          assert.equal(opened.signedAs, "multipart/signed");
        });
      }
    } finally {
      await f.pki.cleanup();
    }
  },
});

Deno.test({
  name: "smime: signed attributes carry content type, digest, signing time and capabilities",
  ignore,
  fn: async () => {
    const f = await createSmimeFixture();
    try {
      const content = mimeEntity(100);
      const signingTime = new Date("2026-03-01T12:00:00Z");
      const message = await seal({
        content,
        signerCert: f.alice.cert,
        signerKey: f.alice.key,
        recipients: [f.bob.cert],
        signingTime,
      });
      const sealed = join(f.pki.dir, "sealed.eml");
      await Deno.writeFile(sealed, message);
      const inner = join(f.pki.dir, "inner.eml");
      await Deno.writeFile(
        inner,
        await openssl([
          "cms",
          "-decrypt",
          "-in",
          sealed,
          "-recip",
          f.bob.certPath,
          "-inkey",
          f.bob.keyPath,
        ]),
      );
      await openssl([
        "cms",
        "-verify",
        "-in",
        inner,
        "-CAfile",
        f.pki.ca.certPath,
        "-out",
        "/dev/null",
        "-signer",
        join(f.pki.dir, "signer.pem"),
      ]);
      const dump = new TextDecoder().decode(
        await openssl(["cms", "-cmsout", "-print", "-in", inner]),
      );
      assert.match(dump, /object: contentType \(1\.2\.840\.113549\.1\.9\.3\)/);
      assert.match(dump, /object: messageDigest \(1\.2\.840\.113549\.1\.9\.4\)/);
      assert.match(
        dump,
        /object: signingTime \(1\.2\.840\.113549\.1\.9\.5\)[\s\S]*?UTCTIME:Mar {2}1 12:00:00 2026 GMT/,
      );
      assert.match(dump, /object: S\/MIME Capabilities \(1\.2\.840\.113549\.1\.9\.15\)/);
      assert.match(dump, /aes-256-gcm[\s\S]*aes-256-cbc/);
      assert.equal(
        (await Deno.readTextFile(join(f.pki.dir, "signer.pem"))).trim(),
        f.alice.cert.toPem().trim(),
      );
      const opened = await open({
        message,
        recipientKey: f.bob.key,
        recipientCert: f.bob.cert,
        trustAnchors: [f.ca],
      });
      assert.equal(opened.signingTime?.toISOString(), signingTime.toISOString());
    } finally {
      await f.pki.cleanup();
    }
  },
});

Deno.test({
  name: "smime: we open what openssl cms -sign | openssl cms -encrypt produces, in every form",
  ignore,
  fn: async (t) => {
    const f = await createSmimeFixture();
    try {
      const content = mimeEntity(48 * 1024);
      const contentPath = join(f.pki.dir, "content.eml");
      await Deno.writeFile(contentPath, content);
      const signed = {
        detached: join(f.pki.dir, "signed-detached.eml"),
        opaque: join(f.pki.dir, "signed-opaque.eml"),
      };
      const signArgs = [
        "cms",
        "-sign",
        "-binary",
        "-in",
        contentPath,
        "-signer",
        f.alice.certPath,
        "-inkey",
        f.alice.keyPath,
        "-md",
        "sha256",
      ];
      await openssl([...signArgs, "-out", signed.detached]);
      await openssl([...signArgs, "-nodetach", "-out", signed.opaque]);
      const paddings = {
        "pkcs1": [],
        "oaep-sha256": ["-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256"],
      } as const;
      const forms = {
        "smime": ["-outform", "SMIME"],
        "der": ["-outform", "DER"],
        "ber-stream": ["-outform", "DER", "-stream"],
        "pem": ["-outform", "PEM"],
      } as const;
      for (const [inner, signedPath] of Object.entries(signed)) {
        for (const cipher of ["aes-256-gcm", "aes-256-cbc"] as const) {
          for (const [padding, keyopts] of Object.entries(paddings)) {
            for (const [form, formArgs] of Object.entries(forms)) {
              await t.step(`${inner} ${cipher} ${padding} ${form}`, async () => {
                const out = join(f.pki.dir, `openssl-${inner}-${cipher}-${padding}-${form}`);
                await openssl([
                  "cms",
                  "-encrypt",
                  `-${cipher}`,
                  "-in",
                  signedPath,
                  ...formArgs,
                  "-out",
                  out,
                  "-recip",
                  f.bob.certPath,
                  ...keyopts,
                ]);
                const opened = await open({
                  message: await Deno.readFile(out),
                  recipientKey: f.bob.key,
                  recipientCert: f.bob.cert,
                  trustAnchors: [f.ca],
                  expectedSigner: { email: "Alice@ZKH-A.example" },
                });
                assert.deepStrictEqual(opened.content, content);
                assert.equal(opened.algorithm, cipher);
                assert.equal(
                  opened.keyTransport,
                  padding === "pkcs1" ? "rsa-pkcs1-v1_5" : "rsa-oaep-sha256",
                );
                assert.equal(
                  opened.signedAs,
                  inner === "detached" ? "multipart/signed" : "signed-data",
                );
                assert.equal(opened.signer.email, "alice@zkh-a.example");
                assert.ok(opened.signer.certificate.equals(f.alice.cert));
              });
            }
          }
        }
      }
    } finally {
      await f.pki.cleanup();
    }
  },
});

Deno.test({
  name: "smime: a 17 MB part (over asn1js' 16 MiB default) round-trips both ways",
  ignore,
  fn: async () => {
    const f = await createSmimeFixture();
    try {
      const content = mimeEntity(13 * 1024 * 1024); // 17.3 MB as base64 MIME
      assert.ok(content.length > 16 * 1024 * 1024);
      const message = await seal({
        content,
        signerCert: f.alice.cert,
        signerKey: f.alice.key,
        recipients: [f.bob.cert],
      });
      const sealed = join(f.pki.dir, "big.eml");
      await Deno.writeFile(sealed, message);
      const inner = join(f.pki.dir, "big-inner.eml");
      await Deno.writeFile(
        inner,
        await openssl([
          "cms",
          "-decrypt",
          "-in",
          sealed,
          "-recip",
          f.bob.certPath,
          "-inkey",
          f.bob.keyPath,
        ]),
      );
      assert.deepStrictEqual(
        await openssl(["cms", "-verify", "-in", inner, "-CAfile", f.pki.ca.certPath]),
        content,
      );

      const reEncrypted = join(f.pki.dir, "big-openssl.der");
      await openssl([
        "cms",
        "-encrypt",
        "-aes-256-gcm",
        "-stream",
        "-outform",
        "DER",
        "-in",
        inner,
        "-out",
        reEncrypted,
        "-recip",
        f.bob.certPath,
      ]);
      const opened = await open({
        message: await Deno.readFile(reEncrypted),
        recipientKey: f.bob.key,
        recipientCert: f.bob.cert,
        trustAnchors: [f.ca],
      });
      assert.deepStrictEqual(opened.content, content);
    } finally {
      await f.pki.cleanup();
    }
  },
});
