import assert from "node:assert/strict";
import {
  assertCertificateUra,
  CertificateUnreadable,
  CertificateUraMismatch,
  parseCertificate,
} from "../../modules/addressbook/mod.ts";
import { createTestCa } from "../support/addressbook_certs.ts";
import { missing } from "../support/peers.ts";

Deno.test({
  name: "certificates: URA from UZI otherName 2.5.5.5 or permanentIdentifier; key usage; mail",
  ignore: missing("openssl"),
  async fn() {
    const ca = await createTestCa();
    try {
      const notBefore = new Date("2026-01-01T00:00:00Z");
      const notAfter = new Date("2027-01-01T00:00:00Z");
      const uzi = parseCertificate(
        (await ca.issue({
          commonName: "gw.example",
          email: "GW@Example.nl",
          ura: "00012345",
          use: "encryption",
          notBefore,
          notAfter,
        })).der,
      );
      assert.equal(uzi.ura, "00012345");
      assert.equal(uzi.uzi?.cardType, "S");
      assert.equal(uzi.uzi?.oidCa, "2.16.528.1.1003.1.3.5.5.5");
      assert.deepEqual(uzi.emails, ["gw@example.nl"]);
      assert.deepEqual(uzi.allowedUses, ["encryption"]);
      assert.deepEqual([uzi.notBefore, uzi.notAfter], [notBefore, notAfter]);
      assert.equal(uzi.subject, "CN=gw.example, O=Test, C=NL"); // RFC 4514 order, as Deno prints it
      assert.equal(uzi.issuer, "CN=Beeldpoort Test CA, O=Beeldpoort Test, C=NL");
      assert.match(uzi.fingerprint, /^[0-9a-f]{64}$/);

      const permanent = await ca.issue({
        commonName: "gw2",
        permanentIdentifierUra: "00054321",
        use: "signing",
        notBefore,
        notAfter,
      });
      const parsed = parseCertificate(permanent.der);
      assert.equal(parsed.ura, "00054321");
      assert.equal(parsed.uzi, undefined);
      assert.deepEqual(parsed.allowedUses, ["signing"]);
      assert.throws(() => assertCertificateUra(permanent.der, "00012345"), CertificateUraMismatch);
      assert.equal(assertCertificateUra(permanent.der, "00054321").ura, "00054321");

      const plain = parseCertificate(
        (await ca.issue({ commonName: "p", notBefore, notAfter })).der,
      );
      assert.equal(plain.ura, undefined);
      assert.deepEqual(plain.allowedUses, ["encryption", "signing"]);

      assert.throws(() => parseCertificate(new Uint8Array([1, 2, 3])), CertificateUnreadable);
    } finally {
      await ca.cleanup();
    }
  },
});
