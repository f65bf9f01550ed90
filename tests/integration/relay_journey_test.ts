/**
 * Issue 7 end to end with real processes: a study from the modality into gateway A arrives
 * byte-identical in the Orthanc behind gateway B, with the delivery confirmed at A; and when B is
 * down for a while, A retries and delivers once B is back.
 */
import assert from "node:assert/strict";
import { writeSyntheticStudy } from "../support/dicom_fixtures.ts";
import { missing } from "../support/peers.ts";
import { tempDir } from "../support/appliance.ts";
import {
  createGatewayPair,
  type Gateway,
  importIntoPacs,
  logged,
  runJourney,
  transfersOf,
} from "../support/relay_gateways.ts";
import { eventually } from "../support/routing_peers.ts";

const tools = missing("storescu", "Orthanc", "openssl");

async function auditOf(gateway: Gateway) {
  const out = await gateway.cli("audit", "export");
  return out.trim().split("\n").map((l) => JSON.parse(l)) as {
    action: string;
    outcome: string;
    detail: Record<string, string> | null;
  }[];
}

Deno.test({
  name:
    "relay: 500 instances from A's modality arrive byte-identical in B's Orthanc, confirmed at A",
  ignore: tools,
  async fn() {
    using dir = tempDir("bp-relay-journey-");
    const study = writeSyntheticStudy(`${dir.path}/study`, {
      instances: 500,
      rows: 64,
      cols: 64,
      seed: 500,
    });
    // 1 MB parts: the study (about 4.2 MB) travels as several mails.
    const pair = await createGatewayPair(dir.path, {
      envB: importIntoPacs,
      env: { BEELDPOORT_XDM__PARTSIZEBYTES: "1000000" },
    });
    try {
      const result = await runJourney(pair, { ...study, dir: `${dir.path}/study` });
      assert.equal(result.sent, 500);
      assert.equal(result.imported, 500);
      assert.equal(result.identical, true);
      assert.equal(result.confirmed, true);
      const out = result.transfer!;
      assert.ok(out.partCount! >= 4, `${out.partCount} parts`);
      assert.ok(out.parts.every((p) => p.state === "processed"));
      assert.deepEqual(
        out.events.map((e) => e.kind).filter((k) => ["sent", "delivered", "imported"].includes(k)),
        ["sent", "delivered", "imported"],
      );
      const [inbound] = await transfersOf(pair.b, "in");
      assert.equal(inbound.transferId, out.transferId);
      assert.equal(inbound.state, "imported");
      assert.equal(inbound.instanceCount, 500);
      // The delivery job at A is done, acknowledged by B's notifications.
      const { job } = JSON.parse(await pair.a.cli("jobs", "show", out.transferId, "--json"));
      assert.equal(job.state, "done");
      const auditA = await auditOf(pair.a);
      const auditB = await auditOf(pair.b);
      const stages = (events: typeof auditA) =>
        new Set(events.map((e) => `${e.action}:${e.detail?.stage ?? ""}`));
      for (const s of ["send:relay.sent", "send:relay.delivered", "import:relay.imported"]) {
        assert.ok(stages(auditA).has(s), `A audits ${s}`);
      }
      for (const s of ["receive:relay.received", "import:relay.imported"]) {
        assert.ok(stages(auditB).has(s), `B audits ${s}`);
      }
    } finally {
      await pair.close();
    }
  },
});

Deno.test({
  name: "relay: B down for a while; A retries with backoff and delivers when B is back",
  ignore: tools,
  async fn() {
    using dir = tempDir("bp-relay-down-");
    const study = writeSyntheticStudy(`${dir.path}/study`, {
      instances: 20,
      rows: 64,
      cols: 64,
      seed: 21,
    });
    const pair = await createGatewayPair(dir.path, {
      envB: importIntoPacs,
      envA: { BEELDPOORT_TRANSFER__RETRYMAXSECONDS: "2" },
    });
    try {
      await pair.b.stop();
      const result = await runJourney(pair, { ...study, dir: `${dir.path}/study` }, {
        async afterSend() {
          // At least two failed attempts while B is away, then B comes back.
          await eventually(
            "A's failed attempts",
            () =>
              Promise.resolve(
                logged(pair.a, "transfer attempt failed; will retry").length >= 2,
              ),
            60_000,
          );
          await pair.b.start();
        },
      });
      assert.equal(result.imported, 20);
      assert.equal(result.identical, true);
      assert.equal(result.confirmed, true);
      const failures = logged(pair.a, "transfer attempt failed; will retry");
      assert.ok(failures.length >= 2);
      assert.match(String(failures[0].error), /ECONNREFUSED|refused|connect/i);
      const { job } = JSON.parse(
        await pair.a.cli("jobs", "show", result.transfer!.transferId, "--json"),
      );
      assert.equal(job.state, "done");
      assert.ok(job.attempts >= 3, `${job.attempts} attempts`);
    } finally {
      await pair.close();
    }
  },
});
