import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { runCli, startAppliance, tempDir } from "../support/appliance.ts";
import { writeSyntheticStudy } from "../support/dicom_fixtures.ts";
import { dcmtk } from "../support/dicom_harness.ts";
import { missing } from "../support/peers.ts";
import { createTestPki } from "../support/smime_pki.ts";
import { freePort } from "../support/appliance.ts";

// Synthetic patient: 999999990 passes the BSN 11-test and is no real person's number.
const bsn = "999999990";
const familyName = "Auditsma";
const givenName = "Proefpersoon";

Deno.test({
  name:
    "a study received over DICOM TLS is one audit event with the BSN; no patient identifier reaches the log; audit verify catches an edit and a deletion",
  ignore: missing("storescu", "dcmodify", "openssl"),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    using dir = tempDir();
    const pki = await createTestPki();
    try {
      const tlsLeaf = { extendedKeyUsage: "serverAuth, clientAuth" };
      const scp = await pki.issue("beeldpoort", { ...tlsLeaf, subjectAltName: "IP:127.0.0.1" });
      const modality = await pki.issue("ct-zaal3", tlsLeaf);
      const tlsPort = freePort();
      const app = await startAppliance(dir.path, {
        BEELDPOORT_DICOM__HOST: "127.0.0.1",
        BEELDPOORT_DICOM__ALLOWEDSENDERS: "CT_ZAAL3",
        BEELDPOORT_DICOM__TLSPORT: String(tlsPort),
        BEELDPOORT_DICOM__TLSCERTFILE: scp.certPath,
        BEELDPOORT_DICOM__TLSKEYFILE: scp.keyPath,
        BEELDPOORT_DICOM__TLSCLIENTCAFILE: pki.ca.certPath,
      });
      let study;
      try {
        study = writeSyntheticStudy(`${dir.path}/ct`, { instances: 3, rows: 16, cols: 16 });
        const modified = await dcmtk("dcmodify", [
          "-nb",
          "-m",
          `(0010,0020)=${bsn}`,
          "-i",
          "(0010,0021)=NLMINBIZA",
          "-m",
          `(0010,0010)=${familyName}^${givenName}`,
          ...study.files,
        ]);
        assert.equal(modified.code, 0, modified.output);
        const tls = (cert?: { certPath: string; keyPath: string }) => [
          ...(cert ? ["+tls", cert.keyPath, cert.certPath] : ["+tla"]),
          "+cf",
          pki.ca.certPath,
          "-aec",
          "BEELDPOORT",
          "-aet",
          "CT_ZAAL3",
        ];
        const sent = await dcmtk("storescu", [
          ...tls(modality),
          "127.0.0.1",
          String(tlsPort),
          ...study.files,
        ]);
        assert.equal(sent.code, 0, sent.output);
        const refused = await dcmtk("storescu", [
          ...tls(),
          "127.0.0.1",
          String(tlsPort),
          ...study.files,
        ]);
        assert.notEqual(refused.code, 0, "no client certificate: refused");
      } finally {
        await app.stop();
      }

      const { stderr } = app.output();
      assert.match(stderr, /"DICOM TLS listening"/);
      assert.match(stderr, /"association accepted"/);
      for (const identifier of [bsn, familyName, givenName]) {
        assert.ok(!stderr.includes(identifier), `${identifier} appears in the ordinary log`);
      }

      const exported = await runCli(["audit", "export"], { cwd: dir.path });
      assert.equal(exported.code, 0, exported.stderr);
      const events = exported.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
      const receives = events.filter((e) => e.action === "receive");
      assert.equal(receives.length, 1, "one event per study, not one per image");
      const [receive] = receives;
      assert.deepEqual(receive.actor, { kind: "system", id: "dicom:CT_ZAAL3" });
      assert.equal(receive.outcome, "success");
      assert.equal(receive.sourceAddress, "127.0.0.1");
      assert.deepEqual(receive.patient, { id: bsn, bsn });
      assert.deepEqual(receive.object, { kind: "study", id: study.studyUid });
      assert.match(receive.occurredAt, /^\d{4}-\d\d-\d\dT/);

      const atna = await runCli(["audit", "export", "--format", "atna"], { cwd: dir.path });
      assert.match(atna.stdout, /<EventID csd-code="110104"/);

      const intact = await runCli(["audit", "verify"], { cwd: dir.path });
      assert.equal(intact.code, 0, intact.stdout + intact.stderr);
      assert.match(intact.stdout, /^audit trail intact: \d+ events/);

      // someone with database access rewrites whose data was received, then removes a row
      const db = new DatabaseSync(`${dir.path}/data/beeldpoort.db`);
      db.exec("DROP TRIGGER audit_events_append_only");
      db.exec(`UPDATE audit_events SET patient_id = 'ANDER' WHERE seq = ${receive.seq}`);
      db.close();
      const edited = await runCli(["audit", "verify"], { cwd: dir.path });
      assert.equal(edited.code, 1);
      assert.match(edited.stdout, /audit trail BROKEN: 1 problem/);
      assert.match(edited.stdout, new RegExp(`edited\\trow ${receive.seq}\\t`));

      const db2 = new DatabaseSync(`${dir.path}/data/beeldpoort.db`);
      db2.exec(`DELETE FROM audit_events WHERE seq = 1`);
      db2.close();
      const deleted = await runCli(["audit", "verify"], { cwd: dir.path });
      assert.equal(deleted.code, 1);
      assert.match(deleted.stdout, /missing\trow 1\trows 1\.\.1 are missing/);
    } finally {
      await pki.cleanup();
    }
  },
});
