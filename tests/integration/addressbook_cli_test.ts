/** The address-book operator contract, through the CLI: sync, import, search --json, show. */
import assert from "node:assert/strict";
import { freePort, runCli, tempDir } from "../support/appliance.ts";
import { createTestCa } from "../support/addressbook_certs.ts";
import { organisation, startFhirTestServer } from "../support/addressbook_fhir_server.ts";
import { missing } from "../support/peers.ts";

const day = 86_400_000;

Deno.test({
  name: "addressbook CLI: sync from an mCSD directory, import a bundle, search as JSON lines, show",
  ignore: missing("openssl"),
  fn: async () => {
    using dir = tempDir();
    const ca = await createTestCa();
    const port = freePort();
    const now = Date.now();
    const valid = await ca.issue({
      commonName: "beeldpoort.antonius.example",
      ura: "11111111",
      use: "both",
      notBefore: new Date(now - day),
      notAfter: new Date(now + 365 * day),
    });
    const expired = await ca.issue({
      commonName: "beeldpoort.zuyderland.example",
      ura: "22222222",
      use: "both",
      notBefore: new Date(now - 400 * day),
      notAfter: new Date(now - 10 * day),
    });
    const server = startFhirTestServer({
      port,
      resources: [
        ...organisation({
          id: "antonius",
          ura: "11111111",
          name: "Sint Antonius Ziekenhuis",
          city: "Nieuwegein",
          endpoints: [{
            id: "ep1",
            address: "beeldpoort@antonius.example",
            formats: ["xdm"],
            certificates: [{ der: valid.der }],
          }],
        }),
        ...organisation({
          id: "zuyderland",
          ura: "22222222",
          name: "Zuyderland Medisch Centrum",
          city: "Heerlen",
          endpoints: [{
            id: "ep2",
            address: "beeldpoort@zuyderland.example",
            formats: ["xdm"],
            certificates: [{ der: expired.der }],
          }],
        }),
      ],
    });
    const env = { BEELDPOORT_ADDRESSBOOK__FHIRURL: server.baseUrl };
    try {
      assert.equal((await runCli(["init"], { cwd: dir.path, env })).code, 0);
      const sync = await runCli(["addressbook", "sync", "--full"], { cwd: dir.path, env });
      assert.equal(sync.code, 0, sync.stderr + sync.stdout);
      assert.match(sync.stdout, /^fhir\tfull\tok\t\+2 ~0 -0\t/m);

      const search = await runCli(["addressbook", "search", "antonius", "--json"], {
        cwd: dir.path,
        env,
      });
      assert.equal(search.code, 0, search.stderr);
      const [hit, ...rest] = search.stdout.trim().split("\n").map((l) => JSON.parse(l));
      assert.equal(rest.length, 0);
      assert.equal(hit.ura, "11111111");
      assert.equal(hit.name, "Sint Antonius Ziekenhuis");
      assert.equal(hit.address, "beeldpoort@antonius.example");
      assert.deepEqual(hit.formats, ["xdm"]);
      assert.equal(hit.usable, true);

      const folded = await runCli(["addressbook", "search", "Zuijderland", "--json"], {
        cwd: dir.path,
        env,
      });
      const zuyderland = JSON.parse(folded.stdout.trim().split("\n")[0]);
      assert.equal(zuyderland.ura, "22222222");
      assert.equal(zuyderland.usable, false);
      assert.match(zuyderland.reason, /expired/i);

      const show = await runCli(["addressbook", "show", "22222222"], { cwd: dir.path, env });
      assert.equal(show.code, 0, show.stderr);
      assert.match(show.stdout, /Zuyderland Medisch Centrum/);
      const unknown = await runCli(["addressbook", "show", "99999999"], { cwd: dir.path, env });
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /no care provider with URA 99999999/);

      const bundle = {
        resourceType: "Bundle",
        type: "collection",
        entry: organisation({
          id: "mmc",
          ura: "33333333",
          name: "Máxima Medisch Centrum",
          city: "Veldhoven",
          endpoints: [{
            id: "ep3",
            address: "beeldpoort@mmc.example",
            formats: ["dicom-email"],
            certificates: [{ der: valid.der }],
          }],
        }).map((resource) => ({ resource })),
      };
      Deno.writeTextFileSync(`${dir.path}/export.json`, JSON.stringify(bundle));
      const imported = await runCli(["addressbook", "import", `${dir.path}/export.json`], {
        cwd: dir.path,
        env,
      });
      assert.equal(imported.code, 0, imported.stderr + imported.stdout);
      const maxima = await runCli(["addressbook", "search", "maxima", "--json"], {
        cwd: dir.path,
        env,
      });
      assert.equal(JSON.parse(maxima.stdout.trim()).ura, "33333333");

      // the directory goes down: sync fails by name, the book keeps its last good copy
      server.failWith = 503;
      const down = await runCli(["addressbook", "sync"], { cwd: dir.path, env });
      assert.equal(down.code, 1);
      assert.match(down.stdout, /^fhir\t\w+\tfailed/m);
      const still = await runCli(["addressbook", "search", "antonius", "--json"], {
        cwd: dir.path,
        env,
      });
      assert.equal(JSON.parse(still.stdout.trim()).ura, "11111111");
    } finally {
      await server.close();
      await ca.cleanup();
    }
  },
});
