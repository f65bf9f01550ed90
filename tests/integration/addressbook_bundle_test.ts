import assert from "node:assert/strict";
import { join } from "node:path";
import { createLogger, fixedClock } from "../../modules/core/mod.ts";
import { migrateToLatest, openDatabase } from "../../modules/db/mod.ts";
import {
  BundleSignatureInvalid,
  createAddressBook,
  InvalidEntry,
  signedBundleSource,
  verifySignedContent,
} from "../../modules/addressbook/mod.ts";
import { createTestCa, signWithOpenssl } from "../support/addressbook_certs.ts";
import { organisation } from "../support/addressbook_fhir_server.ts";
import { missing } from "../support/peers.ts";

const log = createLogger({ level: "error" });
const today = new Date("2026-06-01T12:00:00Z");
const day = 86_400_000;

Deno.test({
  name:
    "signed bundle: an openssl-signed mCSD bundle syncs; a tampered or foreign one is refused whole",
  ignore: missing("openssl"),
  async fn() {
    const ca = await createTestCa("Distributor CA");
    const stranger = await createTestCa("Stranger CA");
    const database = openDatabase({ kind: "sqlite", path: ":memory:" });
    await migrateToLatest(database);
    try {
      const valid = {
        notBefore: new Date(today.getTime() - day),
        notAfter: new Date(today.getTime() + 400 * day),
      };
      const signer = await ca.issue({
        commonName: "Adresboek distributie",
        use: "signing",
        ...valid,
      });
      const peer = await ca.issue({ commonName: "gw", ura: "00012345", ...valid });
      const bundle = {
        resourceType: "Bundle",
        type: "collection",
        entry: organisation({
          id: "a",
          ura: "00012345",
          name: "Amphia Breda",
          city: "Breda",
          endpoints: [{ id: "e", address: "gw@amphia.example", certificates: [{ der: peer.der }] }],
        }).map((resource) => ({ resource })),
      };
      const content = new TextEncoder().encode(JSON.stringify(bundle));
      const path = join(ca.dir, "addressbook.p7m");
      await Deno.writeFile(path, await signWithOpenssl(content, signer, ca.dir));

      const source = signedBundleSource({ path, trustAnchors: [ca.der], now: () => today });
      const book = createAddressBook({
        db: database.db,
        sources: [source],
        clock: fixedClock(today),
        log,
      });
      const [run] = await book.sync();
      assert.equal(run.status, "ok");
      assert.deepEqual([run.source, run.added], ["bundle", 1]);
      assert.equal((await book.get("00012345"))?.usability.usable, true);

      // Same bytes, different anchor: the signer does not chain to it.
      await assert.rejects(
        verifySignedContent(await Deno.readFile(path), [stranger.der], today),
        BundleSignatureInvalid,
      );

      // One byte of the content changed: the digest no longer matches; the book keeps its copy.
      const signed = await Deno.readFile(path);
      const at = signed.indexOf("Amphia".charCodeAt(0), 100);
      const tampered = signed.slice();
      tampered[at] ^= 0x01;
      await Deno.writeFile(path, tampered);
      const [failed] = await book.sync();
      assert.equal(failed.status, "failed");
      assert.equal(failed.problems[0].code, "ADDRESSBOOK_BUNDLE_SIGNATURE_INVALID");
      assert.equal((await book.get("00012345"))?.name, "Amphia Breda");
    } finally {
      await database.close();
      await ca.cleanup();
      await stranger.cleanup();
    }
  },
});

Deno.test({
  name: "manual entries: added by an admin, outrank directory copies, and are removed only by hand",
  ignore: missing("openssl"),
  async fn() {
    const ca = await createTestCa();
    const database = openDatabase({ kind: "sqlite", path: ":memory:" });
    await migrateToLatest(database);
    try {
      const cert = await ca.issue({
        commonName: "gw",
        ura: "00012345",
        notBefore: new Date(today.getTime() - day),
        notAfter: new Date(today.getTime() + 10 * day),
      });
      const directory = {
        name: "fhir",
        fetch: () =>
          Promise.resolve({
            entries: [{ ura: "00012345", name: "Directory name", departments: [], endpoints: [] }],
            complete: true,
          }),
      };
      const book = createAddressBook({
        db: database.db,
        sources: [directory],
        clock: fixedClock(today),
        log,
      });
      await book.sync();
      const run = await book.addManualEntry({
        ura: "00012345",
        name: "Handmatig: Amphia",
        departments: [],
        endpoints: [{
          address: "mailto:GW@amphia.example",
          formats: ["xdm"],
          contentEncryption: ["aes-cbc"],
          certificates: [{ der: cert.der, use: "encryption" }],
        }],
      });
      assert.deepEqual([run.source, run.added], ["manual", 1]);
      const entry = await book.get("00012345");
      assert.equal(entry?.source, "manual");
      assert.equal(entry?.endpoints[0].address, "gw@amphia.example");
      assert.deepEqual(entry?.usability.warnings.map((w) => w.code), ["CERT_EXPIRING_SOON"]);
      assert.equal(
        entry?.usability.warnings[0].message,
        "encryption certificate for gw@amphia.example expires on 2026-06-11 (10 days)",
      );
      await assert.rejects(
        book.addManualEntry({ ura: "123", name: "x", departments: [], endpoints: [] }),
        InvalidEntry,
      );
      assert.equal(await book.removeManualEntry("00012345"), true);
      assert.equal((await book.get("00012345"))?.name, "Directory name");
    } finally {
      await database.close();
      await ca.cleanup();
    }
  },
});
