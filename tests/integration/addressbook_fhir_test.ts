import assert from "node:assert/strict";
import { createLogger, fixedClock } from "../../modules/core/mod.ts";
import { migrateToLatest, openDatabase } from "../../modules/db/mod.ts";
import {
  createAddressBook,
  fhirSource,
  formatEntryDetails,
  formatSearchResultJson,
  importFhirBundle,
  RecipientNotUsable,
} from "../../modules/addressbook/mod.ts";
import { createTestCa, type TestCa } from "../support/addressbook_certs.ts";
import {
  organisation,
  type OrganisationFixture,
  startFhirTestServer,
} from "../support/addressbook_fhir_server.ts";
import { missing } from "../support/peers.ts";

const log = createLogger({ level: "error" });
const day = 86_400_000;
// The book's clock: certificates are judged against this moment, not the wall clock.
const today = new Date("2026-06-01T12:00:00Z");

async function certs(
  ca: TestCa,
  ura: string,
  email: string,
  notAfter = new Date(today.getTime() + 365 * day),
) {
  const notBefore = new Date(today.getTime() - 30 * day);
  return [
    {
      der:
        (await ca.issue({ commonName: email, email, ura, use: "encryption", notBefore, notAfter }))
          .der,
      use: "encryption" as const,
    },
    {
      der: (await ca.issue({ commonName: email, email, ura, use: "signing", notBefore, notAfter }))
        .der,
      use: "signing" as const,
    },
  ];
}

async function fixtures(ca: TestCa): Promise<OrganisationFixture[]> {
  return [
    {
      id: "antonius",
      ura: "00011111",
      name: "St. Antonius Ziekenhuis",
      city: "Nieuwegein",
      agb: "06010713",
      endpoints: [{
        id: "antonius-gw",
        address: "xdm@gw.antonius.example",
        formats: ["xdm", "dicom-email"],
        maxMessageBytes: 20_000_000,
        contentEncryption: ["aes-cbc", "aes-gcm"],
        binaryContent: true,
        certificates: await certs(ca, "00011111", "xdm@gw.antonius.example"),
      }],
      services: [{ id: "antonius-rad", name: "Radiologie", endpointIds: ["antonius-gw"] }],
    },
    {
      id: "zuyderland",
      ura: "00022222",
      name: "Zuyderland Medisch Centrum",
      city: "Heerlen",
      endpoints: [{
        id: "zuyderland-gw",
        address: "beeld@gw.zuyderland.example",
        formats: ["xdm"],
        certificates: await certs(ca, "00022222", "beeld@gw.zuyderland.example"),
      }],
    },
    {
      // Encryption certificate expired a month before "today".
      id: "expired",
      ura: "00033333",
      name: "Ziekenhuis Één",
      city: "Utrecht",
      endpoints: [{
        id: "expired-gw",
        address: "gw@een.example",
        certificates: await certs(
          ca,
          "00033333",
          "gw@een.example",
          new Date(today.getTime() - 31 * day),
        ),
      }],
    },
    {
      // Certificates of another organisation (URA 00099999) listed under this entry.
      id: "mismatch",
      ura: "00044444",
      name: "Maasziekenhuis Pantein",
      city: "Boxmeer",
      endpoints: [{
        id: "mismatch-gw",
        address: "gw@maas.example",
        certificates: await certs(ca, "00099999", "gw@maas.example"),
      }],
    },
  ];
}

async function setup(port: number) {
  const ca = await createTestCa();
  const orgs = await fixtures(ca);
  const server = startFhirTestServer({
    port,
    resources: orgs.flatMap(organisation),
    lastUpdated: new Date("2026-05-01T00:00:00Z"),
  });
  const database = openDatabase({ kind: "sqlite", path: ":memory:" });
  await migrateToLatest(database);
  const clock = fixedClock(today);
  // pageSize 2: the 4 organisations' resources span several pages, so `next` links are followed.
  const source = fhirSource({ baseUrl: server.baseUrl, pageSize: 2 });
  const book = createAddressBook({ db: database.db, sources: [source], clock, log });
  return {
    ca,
    orgs,
    server,
    database,
    clock,
    book,
    async close() {
      await book.stop();
      await server.close();
      await database.close();
      await ca.cleanup();
    },
  };
}

Deno.test({
  name: "mCSD: a full sync reads every organisation over paged HTTP; usability is judged per entry",
  ignore: missing("openssl"),
  async fn() {
    const t = await setup(12301);
    try {
      const [run] = await t.book.sync();
      assert.equal(run.status, "ok");
      assert.equal(run.mode, "full");
      assert.deepEqual([run.added, run.changed, run.removed, run.rejected], [4, 0, 0, 0]);
      assert.ok(t.server.requests.some((r) => r.includes("_offset=2")), "a next link was followed");

      const antonius = await t.book.get("00011111");
      assert.ok(antonius);
      assert.equal(antonius.name, "St. Antonius Ziekenhuis");
      assert.equal(antonius.agb, "06010713");
      assert.equal(antonius.city, "Nieuwegein");
      assert.equal(antonius.address, "Hoofdstraat 1, 1234 AB Nieuwegein");
      assert.deepEqual(antonius.departments, [
        { name: "Radiologie", endpointAddresses: ["xdm@gw.antonius.example"] },
      ]);
      const [endpoint] = antonius.endpoints;
      assert.equal(endpoint.address, "xdm@gw.antonius.example");
      assert.deepEqual(endpoint.formats, ["dicom-email", "xdm"]);
      assert.equal(endpoint.maxMessageBytes, 20_000_000);
      assert.deepEqual(endpoint.contentEncryption, ["aes-cbc", "aes-gcm"]);
      assert.equal(endpoint.binaryContent, true, "read from the binary-content extension");
      assert.equal(endpoint.department, "Radiologie");
      assert.deepEqual(endpoint.certificates.map((c) => [c.use, c.ura]), [
        ["encryption", "00011111"],
        ["signing", "00011111"],
      ]);
      assert.deepEqual(antonius.usability, { usable: true, warnings: [] });

      const recipient = await t.book.recipient("00011111", { format: "dicom-email" });
      assert.equal(recipient.endpoint.address, "xdm@gw.antonius.example");
      assert.equal(recipient.encryptionCertificate.use, "encryption");

      const recipients = await t.book.usableRecipients();
      assert.deepEqual(recipients.map((r) => r.ura).sort(), ["00011111", "00022222"]);
    } finally {
      await t.close();
    }
  },
});

Deno.test({
  name: "mCSD: an expired encryption certificate makes the entry unusable with a clear reason",
  ignore: missing("openssl"),
  async fn() {
    const t = await setup(12302);
    try {
      await t.book.sync();
      const entry = await t.book.get("00033333");
      assert.ok(entry);
      assert.equal(entry.usability.usable, false);
      assert.equal(entry.usability.reasonCode, "CERT_EXPIRED");
      assert.equal(
        entry.usability.reason,
        "encryption certificate for gw@een.example expired on 2026-05-01",
      );
      await assert.rejects(t.book.recipient("00033333"), (error: unknown) => {
        assert.ok(error instanceof RecipientNotUsable);
        assert.equal(error.reasonCode, "CERT_EXPIRED");
        return true;
      });
      const json = formatSearchResultJson(entry);
      assert.deepEqual(json, {
        name: "Ziekenhuis Één",
        ura: "00033333",
        agb: undefined,
        city: "Utrecht",
        address: "gw@een.example",
        formats: ["xdm"],
        postalAddress: "Hoofdstraat 1, 1234 AB Utrecht",
        departments: [],
        usable: false,
        reasonCode: "CERT_EXPIRED",
        reason: "encryption certificate for gw@een.example expired on 2026-05-01",
        source: "fhir",
      });
      assert.match(
        formatEntryDetails(entry),
        /Usable: {7}no - encryption certificate .* \[CERT_EXPIRED\]/,
      );

      // Within 30 days of expiry the entry stays usable but is flagged.
      t.clock.advance(340 * day);
      const soon = await t.book.get("00011111");
      assert.equal(soon?.usability.usable, true);
      assert.deepEqual(soon?.usability.warnings.map((w) => w.code), ["CERT_EXPIRING_SOON"]);
    } finally {
      await t.close();
    }
  },
});

Deno.test({
  name: "mCSD: a certificate whose UZI URA differs from the entry's is refused",
  ignore: missing("openssl"),
  async fn() {
    const t = await setup(12303);
    try {
      const [run] = await t.book.sync();
      const mismatch = run.problems.filter((p) => p.code === "CERT_URA_MISMATCH");
      assert.equal(mismatch.length, 2);
      assert.equal(mismatch[0].ura, "00044444");
      assert.match(mismatch[0].message, /carries URA 00099999, entry has URA 00044444/);
      const entry = await t.book.get("00044444");
      assert.ok(entry);
      assert.equal(entry.endpoints[0].certificates.length, 0);
      assert.equal(entry.endpoints[0].refusedCertificates.length, 2);
      assert.equal(entry.usability.usable, false);
      assert.equal(entry.usability.reasonCode, "CERT_URA_MISMATCH");
    } finally {
      await t.close();
    }
  },
});

Deno.test({
  name: "mCSD: incremental sync asks for _lastUpdated and applies exactly the changes",
  ignore: missing("openssl"),
  async fn() {
    const t = await setup(12304);
    try {
      await t.book.sync();
      const before = t.server.requests.length;
      // Nothing changed: an incremental run fetches three empty searches and changes nothing.
      t.clock.advance(60_000);
      const [quiet] = await t.book.sync();
      assert.equal(quiet.mode, "incremental");
      assert.deepEqual([quiet.added, quiet.changed, quiet.removed], [0, 0, 0]);
      const asked = t.server.requests.slice(before);
      assert.equal(asked.length, 3);
      assert.ok(asked.every((r) => r.includes("_lastUpdated=gt2026-05-01T00%3A00%3A00.000Z")));

      // The directory renames one organisation, changes one endpoint, adds one organisation.
      const changedAt = new Date("2026-05-20T00:00:00Z");
      t.server.put({ ...organisation(t.orgs[1])[0], name: "Zuyderland MC" }, changedAt);
      const [, antoniusEndpoint] = organisation(t.orgs[0]);
      t.server.put({ ...antoniusEndpoint, address: "mailto:nieuw@gw.antonius.example" }, changedAt);
      const fresh = {
        ...t.orgs[1],
        id: "nieuw",
        ura: "00055555",
        name: "Rijnstate",
        city: "Arnhem",
        endpoints: [],
      };
      for (const r of organisation(fresh)) t.server.put(r, changedAt);

      const [run] = await t.book.sync();
      assert.equal(run.mode, "incremental");
      assert.deepEqual([run.added, run.changed, run.removed], [1, 2, 0]);
      assert.equal((await t.book.get("00022222"))?.name, "Zuyderland MC");
      // No binary-content extension: the peer gets base64, like any peer not known to take binary.
      assert.equal((await t.book.get("00022222"))?.endpoints[0].binaryContent, false);
      assert.equal(
        (await t.book.get("00011111"))?.endpoints[0].address,
        "nieuw@gw.antonius.example",
      );
      assert.equal((await t.book.get("00055555"))?.usability.reasonCode, "NO_ENDPOINT");
      assert.equal((await t.book.get("00033333"))?.name, "Ziekenhuis Één");
    } finally {
      await t.close();
    }
  },
});

Deno.test({
  name:
    "mCSD: an organisation removed from the directory disappears on a full sync (and on active=false)",
  ignore: missing("openssl"),
  async fn() {
    const t = await setup(12305);
    try {
      await t.book.sync();
      for (const r of organisation(t.orgs[2])) t.server.remove(r.resourceType, r.id);
      // Incremental cannot see a deletion; the entry stays until a full sync.
      t.clock.advance(60_000);
      const [incremental] = await t.book.sync();
      assert.equal(incremental.removed, 0);
      assert.ok(await t.book.get("00033333"));
      const [full] = await t.book.sync({ full: true });
      assert.equal(full.mode, "full");
      assert.deepEqual([full.added, full.changed, full.removed], [0, 0, 1]);
      assert.equal(await t.book.get("00033333"), undefined);
      assert.deepEqual((await t.book.search("een")).map((e) => e.ura), []);

      // A directory that marks an organisation inactive removes it on the next incremental sync.
      t.server.put(
        { ...organisation(t.orgs[1])[0], active: false },
        new Date("2026-05-21T00:00:00Z"),
      );
      t.clock.advance(60_000);
      const [inactive] = await t.book.sync();
      assert.equal(inactive.mode, "incremental");
      assert.equal(inactive.removed, 1);
      assert.equal(await t.book.get("00022222"), undefined);
    } finally {
      await t.close();
    }
  },
});

Deno.test({
  name:
    "mCSD: a directory that is down leaves the cached book intact and the run records the failure",
  ignore: missing("openssl"),
  async fn() {
    const t = await setup(12306);
    try {
      await t.book.sync();
      t.server.failWith = 503;
      const [failed503] = await t.book.sync({ full: true });
      assert.equal(failed503.status, "failed");
      assert.equal(failed503.problems[0].code, "ADDRESSBOOK_SOURCE_UNAVAILABLE");
      assert.match(failed503.problems[0].message, /HTTP 503/);
      await t.server.close();
      const [refused] = await t.book.sync({ full: true });
      assert.equal(refused.status, "failed");
      assert.equal(refused.problems[0].code, "ADDRESSBOOK_SOURCE_UNAVAILABLE");
      assert.deepEqual([refused.added, refused.changed, refused.removed], [0, 0, 0]);

      const hits = await t.book.search("antonius");
      assert.deepEqual(hits.map((h) => h.ura), ["00011111"]);
      assert.equal(
        (await t.book.recipient("00011111")).endpoint.address,
        "xdm@gw.antonius.example",
      );
      const runs = await t.book.syncRuns();
      assert.deepEqual(runs.map((r) => r.status), ["failed", "failed", "ok"]);
    } finally {
      await t.close().catch(() => {});
    }
  },
});

Deno.test({
  name: "mCSD: search folds Dutch diacritics and spellings (St./Sint, ij/y) and finds departments",
  ignore: missing("openssl"),
  async fn() {
    const t = await setup(12307);
    try {
      await t.book.sync();
      const uras = async (q: string) => (await t.book.search(q)).map((e) => e.ura);
      assert.deepEqual(await uras("Sint Antonius"), ["00011111"]);
      assert.deepEqual(await uras("st antonius"), ["00011111"]);
      assert.deepEqual(await uras("Zuijderland"), ["00022222"]);
      assert.deepEqual(await uras("zuiderland"), ["00022222"]);
      assert.deepEqual(await uras("Een"), ["00033333"]);
      assert.deepEqual(await uras("ziekenhuis één"), ["00033333"]);
      assert.deepEqual(await uras("heerlen"), ["00022222"]);
      assert.deepEqual(await uras("radiologie"), ["00011111"]);
      assert.deepEqual(await uras("00044444"), ["00044444"]);
      assert.deepEqual(await uras("06010713"), ["00011111"]);
      assert.deepEqual(await uras("qqqq"), []);
      assert.deepEqual(
        (await t.book.search("ziekenhuis", { usableOnly: true })).map((e) => e.ura),
        [
          "00011111",
        ],
      );
    } finally {
      await t.close();
    }
  },
});

Deno.test({
  name: "import: an mCSD transaction Bundle with urn:uuid references becomes the 'import' source",
  ignore: missing("openssl"),
  async fn() {
    const ca = await createTestCa();
    const database = openDatabase({ kind: "sqlite", path: ":memory:" });
    await migrateToLatest(database);
    try {
      const der = (await ca.issue({
        commonName: "gw",
        ura: "00066666",
        notBefore: new Date(today.getTime() - day),
        notAfter: new Date(today.getTime() + 100 * day),
      })).der;
      const orgUrl = "urn:uuid:6b1c3f5e-0000-4000-8000-000000000001";
      const epUrl = "urn:uuid:6b1c3f5e-0000-4000-8000-000000000002";
      const [org, endpoint] = organisation({
        id: "x",
        ura: "00066666",
        name: "Gelre ziekenhuizen",
        city: "Apeldoorn",
        endpoints: [{ id: "y", address: "gw@gelre.example", certificates: [{ der }] }],
      });
      const bundle = {
        resourceType: "Bundle",
        type: "transaction",
        entry: [
          {
            fullUrl: orgUrl,
            resource: { ...org, id: undefined, endpoint: [{ reference: epUrl }] },
            request: { method: "POST", url: "Organization" },
          },
          {
            fullUrl: epUrl,
            resource: { ...endpoint, id: undefined, managingOrganization: { reference: orgUrl } },
            request: { method: "POST", url: "Endpoint" },
          },
        ],
      };
      const imported = importFhirBundle(bundle);
      assert.equal(imported.entries.length, 1);
      const book = createAddressBook({
        db: database.db,
        sources: [],
        clock: fixedClock(today),
        log,
      });
      const run = await book.importEntries(imported.entries);
      assert.deepEqual([run.source, run.added], ["import", 1]);
      const entry = await book.get("00066666");
      assert.equal(entry?.usability.usable, true);
      // No use stated: keyUsage (digitalSignature + keyEncipherment) makes it both.
      assert.deepEqual(entry?.endpoints[0].certificates.map((c) => c.use), [
        "encryption",
        "signing",
      ]);
      assert.throws(
        () => importFhirBundle({ resourceType: "Bundle", type: "document" }),
        /cannot be imported/,
      );
      assert.throws(() => importFhirBundle({ resourceType: "Patient" }), /not a FHIR Bundle/);
    } finally {
      await database.close();
      await ca.cleanup();
    }
  },
});
