import assert from "node:assert/strict";
import { createLogger } from "../../modules/core/mod.ts";
import { listenDicomTls } from "../../modules/dicom/mod.ts";
import { writeSyntheticStudy } from "../support/dicom_fixtures.ts";
import { dcmtk, logLines, startTestScp } from "../support/dicom_harness.ts";
import { missing } from "../support/peers.ts";
import { createTestPki } from "../support/smime_pki.ts";

const tlsLeaf = { extendedKeyUsage: "serverAuth, clientAuth", bits: 2048 };

Deno.test({
  name:
    "DICOM TLS: echoscu and storescu with a client certificate from the configured CA succeed; without one, or from another CA, the handshake fails",
  ignore: missing("echoscu", "storescu", "openssl"),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const pki = await createTestPki();
    const dir = await Deno.makeTempDir({ prefix: "bp-dicom-tls-" });
    try {
      const server = await pki.issue("beeldpoort-scp", {
        ...tlsLeaf,
        subjectAltName: "IP:127.0.0.1, DNS:localhost",
      });
      const modality = await pki.issue("ct-zaal3", tlsLeaf);
      const stranger = await (await pki.createCa("Other CA")).issue("stranger", tlsLeaf);
      const logs: string[] = [];
      const listener = await listenDicomTls({
        host: "127.0.0.1",
        port: 0,
        cert: await Deno.readTextFile(server.certPath),
        key: await Deno.readTextFile(server.keyPath),
        clientCaCerts: [await Deno.readTextFile(pki.ca.certPath)],
        log: createLogger({ sink: (l) => logs.push(l) }),
      });
      const port = listener.addr.port;
      await Deno.mkdir(`${dir}/in`);
      const scp = startTestScp(0, `${dir}/in`, { listener });
      try {
        assert.equal(scp.server.port, port);
        const tls = (cert?: { certPath: string; keyPath: string }) => [
          ...(cert ? ["+tls", cert.keyPath, cert.certPath] : ["+tla"]),
          "+cf",
          pki.ca.certPath,
          "+py", // PS3.15 B.9 non-downgrading BCP 195 profile: TLS 1.2 or newer only
          "-aec",
          "BEELDPOORT",
          "-aet",
          "CT_ZAAL3",
        ];

        const echo = await dcmtk("echoscu", [...tls(modality), "127.0.0.1", String(port)]);
        assert.equal(echo.code, 0, echo.output);

        writeSyntheticStudy(`${dir}/ct`, { instances: 3, rows: 16, cols: 16, patientId: "TLS-1" });
        const sent = await dcmtk("storescu", [
          ...tls(modality),
          "+sd",
          "+r",
          "127.0.0.1",
          String(port),
          `${dir}/ct`,
        ]);
        assert.equal(sent.code, 0, sent.output);
        assert.equal(scp.stored.length, 3);

        const anonymous = await dcmtk("echoscu", [...tls(), "127.0.0.1", String(port)]);
        assert.notEqual(anonymous.code, 0, "no client certificate must be refused");
        const foreign = await dcmtk("storescu", [
          ...tls(stranger),
          "+sd",
          "+r",
          "127.0.0.1",
          String(port),
          `${dir}/ct`,
        ]);
        assert.notEqual(foreign.code, 0, "a certificate from another CA must be refused");
        assert.equal(scp.stored.length, 3, "nothing stored over a refused handshake");
        assert.equal(logLines(logs, "dicom TLS handshake refused").length, 2);
      } finally {
        await scp.server.close();
      }
    } finally {
      await pki.cleanup();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
