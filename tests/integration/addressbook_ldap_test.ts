import assert from "node:assert/strict";
import { createLogger, fixedClock } from "../../modules/core/mod.ts";
import { migrateToLatest, openDatabase } from "../../modules/db/mod.ts";
import { createAddressBook, ldapSource } from "../../modules/addressbook/mod.ts";
import { createTestCa } from "../support/addressbook_certs.ts";
import { startTestSlapd } from "../support/addressbook_slapd.ts";
import { missing } from "../support/peers.ts";

const log = createLogger({ level: "error" });
const today = new Date("2026-06-01T12:00:00Z");
const day = 86_400_000;

Deno.test({
  name: "LDAP: a sync from slapd groups mailboxes by URA with their userCertificate;binary",
  ignore: missing("openssl", "slapd", "slapadd"),
  async fn() {
    const ca = await createTestCa();
    const valid = {
      notBefore: new Date(today.getTime() - day),
      notAfter: new Date(today.getTime() + 400 * day),
    };
    const radEnc = await ca.issue({
      commonName: "rad",
      ura: "00077777",
      use: "encryption",
      ...valid,
    });
    const radSig = await ca.issue({ commonName: "rad", ura: "00077777", use: "signing", ...valid });
    const cardio = await ca.issue({ commonName: "cardio", ura: "00077777", use: "both", ...valid });
    const other = await ca.issue({ commonName: "other", ura: "00012345", use: "both", ...valid });
    const slapd = await startTestSlapd({
      port: 12310,
      mailboxes: [
        {
          uid: "00077777",
          cn: "isala-radiologie",
          organisation: "Isala Zwolle",
          city: "Zwolle",
          department: "Radiologie",
          mail: "rad@gw.isala.example",
          formats: ["xdm", "dicom-email"],
          certificates: [radEnc.der, radSig.der],
        },
        {
          uid: "00077777",
          cn: "isala-cardiologie",
          organisation: "Isala Zwolle",
          city: "Zwolle",
          department: "Cardiologie",
          mail: "cardio@gw.isala.example",
          certificates: [cardio.der],
        },
        {
          uid: "00088888",
          cn: "tjongerschans",
          organisation: "Tjongerschans Heerenveen",
          city: "Heerenveen",
          mail: "gw@tjongerschans.example",
          certificates: [other.der],
        },
      ],
    });
    const database = openDatabase({ kind: "sqlite", path: ":memory:" });
    await migrateToLatest(database);
    const book = createAddressBook({
      db: database.db,
      sources: [ldapSource({
        url: slapd.url,
        bindDn: slapd.rootDn,
        password: slapd.password,
        searchBase: `ou=gateways,${slapd.suffix}`,
      })],
      clock: fixedClock(today),
      log,
    });
    try {
      const [run] = await book.sync();
      assert.equal(run.status, "ok");
      assert.equal(run.source, "ldap");
      assert.deepEqual([run.added, run.changed, run.removed, run.rejected], [2, 0, 0, 0]);
      assert.deepEqual(run.problems.map((p) => [p.code, p.ura]), [
        ["CERT_URA_MISMATCH", "00088888"],
      ]);

      const isala = await book.get("00077777");
      assert.ok(isala);
      assert.equal(isala.name, "Isala Zwolle");
      assert.equal(isala.city, "Zwolle");
      assert.deepEqual(isala.departments.map((d) => d.name), ["Cardiologie", "Radiologie"]);
      assert.deepEqual(
        isala.endpoints.map((
          e,
        ) => [e.address, e.department, e.formats, e.certificates.map((c) => c.use)]),
        [
          ["rad@gw.isala.example", "Radiologie", ["dicom-email", "xdm"], ["encryption", "signing"]],
          ["cardio@gw.isala.example", "Cardiologie", ["xdm"], ["encryption", "signing"]],
        ],
      );
      assert.equal(isala.usability.usable, true);
      const recipient = await book.recipient("00077777", { department: "cardiologie" });
      assert.equal(recipient.endpoint.address, "cardio@gw.isala.example");
      assert.equal((await book.findByAddress("RAD@gw.isala.example"))?.ura, "00077777");

      const tjongerschans = await book.get("00088888");
      assert.equal(tjongerschans?.usability.reasonCode, "CERT_URA_MISMATCH");

      // slapd goes away: the next sync fails, the cached copy answers.
      await slapd.stop();
      const [failed] = await book.sync();
      assert.equal(failed.status, "failed");
      assert.equal(failed.problems[0].code, "ADDRESSBOOK_SOURCE_UNAVAILABLE");
      assert.equal((await book.search("isala")).length, 1);
    } finally {
      await book.stop();
      await slapd.stop().catch(() => {});
      await database.close();
      await ca.cleanup();
    }
  },
});
