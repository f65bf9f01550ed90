/**
 * Every way a message must be refused raises its own error class, so the relay and the UI can say
 * why: altered bytes, wrong recipient, untrusted, expired or misused signer certificate, another
 * signer than expected, and input that is not S/MIME at all.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { missing } from "../support/peers.ts";
import {
  open,
  type OpenOptions,
  parseRevocationLists,
  seal,
  SmimeCertificateExpired,
  SmimeCertificateRevoked,
  SmimeDecryptError,
  SmimeFormatError,
  SmimeIntegrityError,
  SmimeKeyUsageInvalid,
  SmimeSignatureInvalid,
  SmimeSignerMismatch,
  SmimeUntrustedSigner,
} from "../../modules/smime/mod.ts";
import { openssl } from "../support/smime_pki.ts";
import { createSmimeFixture, mimeEntity, type SmimeFixture } from "../support/smime_fixture.ts";

const ignore = missing("openssl");
const content = mimeEntity(8 * 1024);

/** The DER inside a sealed message, and a way to put altered DER back into the same headers. */
function split(message: Uint8Array): { der: Uint8Array; rewrap(der: Uint8Array): Uint8Array } {
  const text = new TextDecoder().decode(message);
  const cut = text.indexOf("\r\n\r\n") + 4;
  const head = text.slice(0, cut);
  return {
    der: new Uint8Array(Buffer.from(text.slice(cut), "base64")),
    rewrap: (der) =>
      new TextEncoder().encode(
        head + Buffer.from(der).toString("base64").replace(/.{76}/g, "$&\r\n") + "\r\n",
      ),
  };
}

function flip(der: Uint8Array, at: number): Uint8Array {
  const copy = Uint8Array.from(der);
  copy[at] ^= 0xff;
  return copy;
}

async function sealedBy(
  f: SmimeFixture,
  signer: "alice" | "mallory" | "old" | "server",
  algorithm: "aes-256-gcm" | "aes-256-cbc" = "aes-256-gcm",
) {
  return await seal({
    content,
    signerCert: f[signer].cert,
    signerKey: f[signer].key,
    recipients: [f.bob.cert],
    algorithm,
  });
}

function asBob(
  f: SmimeFixture,
  message: Uint8Array,
  extra: Partial<OpenOptions> = {},
): OpenOptions {
  return {
    message,
    recipientKey: f.bob.key,
    recipientCert: f.bob.cert,
    trustAnchors: [f.ca],
    ...extra,
  };
}

Deno.test({
  name: "smime: each refusal has its own error class",
  ignore,
  fn: async (t) => {
    const f = await createSmimeFixture();
    try {
      const gcm = await sealedBy(f, "alice");
      const cbc = await sealedBy(f, "alice", "aes-256-cbc");
      // The good message opens, so every refusal below is caused by the one change it makes.
      assert.deepStrictEqual(
        (await open(asBob(f, gcm, { expectedSigner: f.alice.cert }))).content,
        content,
      );

      await t.step("GCM: a flipped ciphertext byte fails the tag", async () => {
        const { der, rewrap } = split(gcm);
        await assert.rejects(
          open(asBob(f, rewrap(flip(der, Math.floor(der.length / 2))))),
          SmimeIntegrityError,
        );
      });
      await t.step("GCM: a flipped tag byte", async () => {
        const { der, rewrap } = split(gcm);
        await assert.rejects(
          open(asBob(f, rewrap(flip(der, der.length - 1)))),
          SmimeIntegrityError,
        );
      });
      await t.step("CBC: a flipped byte that reaches the padding", async () => {
        const { der, rewrap } = split(cbc);
        // Last byte of the next-to-last block flips the padding-length byte of the last block.
        await assert.rejects(
          open(asBob(f, rewrap(flip(der, der.length - 17)))),
          SmimeIntegrityError,
        );
      });
      await t.step(
        "CBC: a flipped byte mid-content is caught by the signature (CBC is malleable)",
        async () => {
          const { der, rewrap } = split(cbc);
          await assert.rejects(
            open(asBob(f, rewrap(flip(der, Math.floor(der.length * 0.6))))),
            SmimeSignatureInvalid,
          );
        },
      );
      await t.step("CBC: truncated ciphertext", async () => {
        const { der, rewrap } = split(cbc);
        // Shorten the content by one block and fix up nothing else: the structure no longer parses.
        await assert.rejects(
          open(asBob(f, rewrap(der.subarray(0, der.length - 16)))),
          SmimeFormatError,
        );
      });
      await t.step("wrong recipient: no RecipientInfo for carol", async () => {
        await assert.rejects(
          open({
            message: gcm,
            recipientKey: f.carol.key,
            recipientCert: f.carol.cert,
            trustAnchors: [f.ca],
          }),
          SmimeDecryptError,
        );
      });
      await t.step("wrong key for bob's certificate", async () => {
        await assert.rejects(open(asBob(f, gcm, { recipientKey: f.carol.key })), SmimeDecryptError);
      });
      await t.step("untrusted signer: another CA", async () => {
        await assert.rejects(open(asBob(f, await sealedBy(f, "mallory"))), SmimeUntrustedSigner);
      });
      await t.step("expired signer", async () => {
        await assert.rejects(open(asBob(f, await sealedBy(f, "old"))), SmimeCertificateExpired);
      });
      await t.step("not yet valid at the checking time", async () => {
        await assert.rejects(
          open(asBob(f, gcm, { now: new Date("2019-06-01T00:00:00Z") })),
          SmimeCertificateExpired,
        );
      });
      await t.step("signer certificate without emailProtection", async () => {
        await assert.rejects(open(asBob(f, await sealedBy(f, "server"))), SmimeKeyUsageInvalid);
      });
      await t.step("expected signer is another certificate", async () => {
        await assert.rejects(
          open(asBob(f, gcm, { expectedSigner: f.carol.cert })),
          SmimeSignerMismatch,
        );
      });
      await t.step("expected signer is another address", async () => {
        await assert.rejects(
          open(asBob(f, gcm, { expectedSigner: { email: "carol@zkh-c.example" } })),
          SmimeSignerMismatch,
        );
      });
      await t.step("not S/MIME", async () => {
        const plain = new TextEncoder().encode(
          "From: a@b.example\r\nContent-Type: text/plain\r\n\r\nhello\r\n",
        );
        await assert.rejects(open(asBob(f, plain)), SmimeFormatError);
      });
      await t.step("broken ASN.1 inside a pkcs7-mime body", async () => {
        const { rewrap } = split(gcm);
        await assert.rejects(
          open(asBob(f, rewrap(Uint8Array.of(0x30, 0x82, 0x10, 0x00, 0x06)))),
          SmimeFormatError,
        );
      });
      await t.step("encrypted but not signed (openssl cms -encrypt of plain content)", async () => {
        const plainPath = join(f.pki.dir, "plain.eml");
        const out = join(f.pki.dir, "unsigned.eml");
        await Deno.writeFile(plainPath, content);
        await openssl([
          "cms",
          "-encrypt",
          "-aes-256-gcm",
          "-in",
          plainPath,
          "-out",
          out,
          "-recip",
          f.bob.certPath,
        ]);
        await assert.rejects(open(asBob(f, await Deno.readFile(out))), SmimeSignatureInvalid);
      });
      await t.step(
        "signed content altered before encryption (openssl re-encrypts a tampered part)",
        async () => {
          const signedPath = join(f.pki.dir, "signed.eml");
          const contentPath = join(f.pki.dir, "content.eml");
          await Deno.writeFile(contentPath, content);
          await openssl([
            "cms",
            "-sign",
            "-binary",
            "-in",
            contentPath,
            "-signer",
            f.alice.certPath,
            "-inkey",
            f.alice.keyPath,
            "-out",
            signedPath,
          ]);
          const signed = await Deno.readFile(signedPath);
          const at = new TextDecoder().decode(signed).indexOf("Content-Disposition: attachment") +
            200;
          signed[at] = signed[at] === 0x41 ? 0x42 : 0x41; // one base64 letter of the signed part
          const tampered = join(f.pki.dir, "tampered.eml");
          const out = join(f.pki.dir, "tampered-enc.eml");
          await Deno.writeFile(tampered, signed);
          await openssl([
            "cms",
            "-encrypt",
            "-aes-256-cbc",
            "-in",
            tampered,
            "-out",
            out,
            "-recip",
            f.bob.certPath,
          ]);
          await assert.rejects(open(asBob(f, await Deno.readFile(out))), SmimeSignatureInvalid);
        },
      );
      await t.step(
        "seal refuses non-canonical (bare LF) content, which peers could not verify",
        async () => {
          const lf = new TextEncoder().encode("Content-Type: text/plain\n\nhello\n");
          await assert.rejects(
            seal({
              content: lf,
              signerCert: f.alice.cert,
              signerKey: f.alice.key,
              recipients: [f.bob.cert],
            }),
            SmimeFormatError,
          );
        },
      );
      await t.step(
        "content in pieces: sealed as the same bytes; a CR ending one piece and no LF starting the next is refused",
        async () => {
          const cut = Math.floor(content.length / 2);
          const sealed = await seal({
            content: [content.subarray(0, cut), content.subarray(cut)],
            signerCert: f.alice.cert,
            signerKey: f.alice.key,
            recipients: [f.bob.cert],
          });
          assert.deepStrictEqual((await open(asBob(f, sealed))).content, content);
          const text = new TextEncoder();
          await assert.rejects(
            seal({
              content: [text.encode("Content-Type: text/plain\r"), text.encode("\r\nhi\r\n")],
              signerCert: f.alice.cert,
              signerKey: f.alice.key,
              recipients: [f.bob.cert],
            }),
            (error: Error) =>
              error instanceof SmimeFormatError && /bare CR at byte 24/.test(error.message),
          );
        },
      );
      await t.step("signed-only message (never encrypted) is refused as format", async () => {
        const contentPath = join(f.pki.dir, "content2.eml");
        const out = join(f.pki.dir, "signed-only.eml");
        await Deno.writeFile(contentPath, content);
        await openssl([
          "cms",
          "-sign",
          "-nodetach",
          "-in",
          contentPath,
          "-signer",
          f.alice.certPath,
          "-inkey",
          f.alice.keyPath,
          "-out",
          out,
        ]);
        await assert.rejects(open(asBob(f, await Deno.readFile(out))), SmimeFormatError);
      });
    } finally {
      await f.pki.cleanup();
    }
  },
});

Deno.test({
  name:
    "smime: a signer on its CA's revocation list (openssl ca -gencrl) is refused; a list before the revocation or with a forged signature changes nothing",
  ignore,
  fn: async () => {
    const f = await createSmimeFixture();
    try {
      const readLists = async () => parseRevocationLists(await Deno.readFile(await f.pki.ca.crl()));
      const before = await readLists();
      assert.equal(before[0].revoked.size, 0);
      await f.pki.ca.revoke(f.carol);
      const after = await readLists();
      assert.equal(after[0].revoked.size, 1);
      const byCarol = await seal({
        content,
        signerCert: f.carol.cert,
        signerKey: f.carol.key,
        recipients: [f.bob.cert],
      });
      await assert.rejects(
        open(asBob(f, byCarol, { revocationLists: after })),
        (error: Error) =>
          error instanceof SmimeCertificateRevoked &&
          /certificate "CN=carol, O=Beeldpoort Test" was revoked on .* \(CRL of "O=Beeldpoort Test, CN=Beeldpoort Test CA"\)/
            .test(error.message),
      );
      assert.equal((await open(asBob(f, byCarol))).signer.email, "carol@zkh-c.example");
      await open(asBob(f, byCarol, { revocationLists: before }));
      await open(asBob(f, await sealedBy(f, "alice"), { revocationLists: after }));
      // The same list with one byte of its signature changed: no longer the CA's word.
      const forged = {
        ...after[0],
        signatureValue: flip(after[0].signatureValue, 10),
      };
      await open(asBob(f, byCarol, { revocationLists: [forged] }));
    } finally {
      await f.pki.cleanup();
    }
  },
});
