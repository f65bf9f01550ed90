import assert from "node:assert/strict";
import { createAuditTrail } from "../../modules/audit/mod.ts";
import { createLogger } from "../../modules/core/mod.ts";
import { migrateToLatest, openDatabase } from "../../modules/db/mod.ts";
import { waitFor } from "../../scripts/peers/process.ts";
import { freePort } from "../support/appliance.ts";
import { startRsyslog } from "../support/audit_rsyslog.ts";
import { rsyslogTlsDriver } from "../../scripts/system_packages.ts";
import { missing } from "../support/peers.ts";
import { createTestPki } from "../support/smime_pki.ts";

Deno.test({
  name:
    "audit events reach a real rsyslog over TLS (RFC 5425) as DICOM audit messages; while it is down they wait in the queue and follow in order",
  ignore: missing("openssl", "rsyslogd") || !exists(rsyslogTlsDriver()),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const pki = await createTestPki();
    const dir = await Deno.makeTempDir({ prefix: "bp-rsyslog-" });
    const database = openDatabase({ kind: "sqlite", path: ":memory:" });
    await migrateToLatest(database);
    const port = freePort();
    const server = await pki.issue("collector", {
      extendedKeyUsage: "serverAuth",
      subjectAltName: "IP:127.0.0.1",
    });
    const collector = await startRsyslog(dir, port, {
      certPath: server.certPath,
      keyPath: server.keyPath,
      caPath: pki.ca.certPath,
    });
    const logs: string[] = [];
    const audit = createAuditTrail({
      db: database.db,
      log: createLogger({ sink: (l) => logs.push(l) }),
      source: { sourceId: "BEELDPOORT", enterpriseSiteId: "12345678" },
      syslog: {
        transport: "tls",
        host: "127.0.0.1",
        port,
        caCerts: [await Deno.readTextFile(pki.ca.certPath)],
        hostname: "bp-test",
      },
    });
    const event = (n: number) => ({
      action: "receive" as const,
      outcome: "success" as const,
      actor: { kind: "system" as const, id: "dicom:CT_ZAAL3" },
      sourceAddress: "127.0.0.1",
      patient: { id: `SYSLOG-${n}`, bsn: n === 1 ? "999999990" : undefined },
      object: { kind: "study", id: `2.25.${n}` },
    });
    try {
      audit.startForwarding();
      await audit.record(event(1));
      await waitFor("the first event at rsyslog", () => collector.received().includes("2.25.1"));
      const [line] = collector.received().trimEnd().split("\n");
      // PRI 85 = authpriv.notice, MSGID as IHE ITI-20, the DICOM audit message as MSG
      assert.match(line, /^85 \S+ beeldpoort IHE\+RFC-3881 /);
      assert.match(line, /<AuditMessage><EventIdentification EventActionCode="C"/);
      assert.match(line, /<EventID csd-code="110104" codeSystemName="DCM"/);
      assert.match(
        line,
        /ParticipantObjectID="999999990\^\^\^&#38;2\.16\.840\.1\.113883\.2\.4\.6\.3&#38;ISO"/,
      );
      assert.match(line, /AuditEnterpriseSiteID="12345678"/);

      await collector.stop();
      for (const n of [2, 3, 4]) await audit.record(event(n));
      await waitFor(
        "the forwarder to notice",
        () => logs.some((l) => l.includes("syslog collector unreachable")),
      );
      assert.equal(await audit.queued(), 3);

      await collector.start();
      await waitFor(
        "the queued events at rsyslog",
        async () => (await audit.queued()) === 0 && collector.received().includes("2.25.4"),
        20_000,
      );
      const studies = [...collector.received().matchAll(/ParticipantObjectID="(2\.25\.\d+)"/g)]
        .map((m) => m[1]);
      assert.deepEqual(studies, ["2.25.1", "2.25.2", "2.25.3", "2.25.4"]);
    } finally {
      await audit.stop();
      await collector.stop();
      await database.close();
      await pki.cleanup();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}
