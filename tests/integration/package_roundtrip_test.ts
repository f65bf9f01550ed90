/**
 * Issue 4's end-to-end promise, driven through the operator CLI: a 500-instance study is packed as
 * XDM parts, each part signed and encrypted, then decrypted, verified, inspected and read, and every
 * instance comes back byte-identical, exactly once.
 */
import assert from "node:assert/strict";
import { runCli, tempDir } from "../support/appliance.ts";
import { writeSyntheticStudy } from "../support/dicom_fixtures.ts";
import { missing } from "../support/peers.ts";
import { createTestPki } from "../support/smime_pki.ts";
import { readXdm } from "../../modules/xdm/mod.ts";

const sender = {
  BEELDPOORT_ORGANIZATION__URA: "12345678",
  BEELDPOORT_ORGANIZATION__NAME: "Ziekenhuis A (test)",
  BEELDPOORT_ORGANIZATION__MAILADDRESS: "beeldpoort@zkh-a.example",
};

async function cli(cwd: string, args: string[]): Promise<string> {
  const result = await runCli(args, { cwd, env: sender });
  assert.equal(result.code, 0, `${args.slice(0, 2).join(" ")}: ${result.stderr}${result.stdout}`);
  return result.stdout;
}

Deno.test({
  name:
    "500 instances: xdm pack -> smime seal -> smime open -> xdm inspect/read, all byte-identical",
  ignore: missing("openssl"),
  fn: async () => {
    using dir = tempDir();
    const pki = await createTestPki();
    try {
      const alice = await pki.issue("alice", { email: "beeldpoort@zkh-a.example" });
      const bob = await pki.issue("bob", { email: "beeldpoort@zkh-b.example" });
      const carol = await pki.issue("carol", { email: "carol@zkh-c.example" });
      const study = writeSyntheticStudy(`${dir.path}/study`, {
        instances: 500,
        series: 3,
        rows: 48,
        cols: 48,
      });
      const original = new Map(
        study.sopUids.map((uid, i) => [uid, Deno.readFileSync(study.files[i])]),
      );

      const packed = await cli(dir.path, [
        "xdm",
        "pack",
        "--study-dir",
        `${dir.path}/study`,
        "--to",
        "beeldpoort@zkh-b.example",
        "--out",
        `${dir.path}/study.zip`,
        "--note",
        "Graag beoordelen: verwijzing longarts",
        "--part-size",
        "1000000",
      ]);
      assert.match(packed, /500 instances in (\d+) part\(s\)/);
      const partCount = Number(packed.match(/in (\d+) part\(s\)/)![1]);
      assert.ok(partCount >= 3, `a 1 MB part size splits the study (${partCount} parts)`);

      const received = new Map<string, Uint8Array>();
      let transferId = "";
      for (let n = 1; n <= partCount; n++) {
        const part = `${dir.path}/study.part${String(n).padStart(2, "0")}of${
          String(partCount).padStart(2, "0")
        }.zip`;
        await cli(dir.path, [
          "smime",
          "seal",
          "--in",
          part,
          "--signer-cert",
          alice.certPath,
          "--signer-key",
          alice.keyPath,
          "--recipient",
          bob.certPath,
          "--out",
          `${part}.eml`,
        ]);
        const eml = Deno.readTextFileSync(`${part}.eml`);
        assert.match(eml, /application\/pkcs7-mime; smime-type=authEnveloped-data/);
        assert.doesNotMatch(
          eml,
          /Test\^Synthetic|TEST0001/,
          "no patient data outside the encryption",
        );

        if (n === 1) {
          const wrongKey = await runCli([
            "smime",
            "open",
            "--in",
            `${part}.eml`,
            "--key",
            carol.keyPath,
            "--cert",
            carol.certPath,
            "--trust",
            pki.ca.certPath,
            "--out",
            `${dir.path}/never.zip`,
          ]);
          assert.equal(wrongKey.code, 1);
          assert.match(wrongKey.stderr, /SMIME_DECRYPT/);
        }

        const opened = `${part}.opened.zip`;
        const openOut = await cli(dir.path, [
          "smime",
          "open",
          "--in",
          `${part}.eml`,
          "--key",
          bob.keyPath,
          "--cert",
          bob.certPath,
          "--trust",
          pki.ca.certPath,
          "--signer",
          alice.certPath,
          "--out",
          opened,
        ]);
        assert.match(openOut, /verified: signed by .*alice/);
        assert.deepEqual(Deno.readFileSync(opened), Deno.readFileSync(part), "zip bytes unchanged");
        await cli(dir.path, ["xdm", "inspect", opened]);

        const pkg = await readXdm(opened);
        try {
          assert.equal(pkg.transfer?.partNumber, n);
          assert.equal(pkg.transfer?.partCount, partCount);
          transferId ||= pkg.transfer!.transferId;
          assert.equal(pkg.transfer?.transferId, transferId);
          for (const doc of pkg.documents) {
            if (
              doc.mimeType !== "application/dicom" || doc.isManifest || !original.has(doc.uniqueId!)
            ) continue;
            assert.ok(!received.has(doc.uniqueId!), `instance ${doc.uniqueId} arrives once`);
            received.set(
              doc.uniqueId!,
              new Uint8Array(await new Response(pkg.openDocument(doc)).arrayBuffer()),
            );
          }
        } finally {
          pkg.close();
        }
      }
      assert.equal(received.size, 500);
      for (const [uid, bytes] of original) assert.deepEqual(received.get(uid), bytes, uid);
    } finally {
      await pki.cleanup();
    }
  },
});
