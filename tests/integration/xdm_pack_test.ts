/**
 * A synthetic study of 40 images packs into several XDM parts; every METADATA.XML validates
 * against ebRS 3.0 lcm.xsd, every KOS passes dciodvfy, and every part reads back with its images
 * byte-identical and the right part numbering.
 */
import assert from "node:assert/strict";
import dcmjs from "dcmjs";
import {
  KOS_SOP_CLASS,
  packXdm,
  readXdm,
  XdmInvalidInput,
  type XdmPart,
} from "../../modules/xdm/mod.ts";
import { missing, sharedReference } from "../support/peers.ts";
import {
  collect,
  syntheticStudy,
  testRecipient,
  testSender,
  unzipAll,
} from "../support/xdm_fixtures.ts";

// deno-lint-ignore no-explicit-any
const dcm = (dcmjs as any).data;

const PART_SIZE = 120_000;
const NOTE = "Graag beoordelen door dienstdoend radioloog. <spoed> & terugbellen.";
const REPORT = "Verslag: geen afwijkingen.\n";

async function packAll(parts: AsyncIterable<XdmPart>) {
  const out: { part: XdmPart; bytes: Uint8Array }[] = [];
  for await (const part of parts) out.push({ part, bytes: await collect(part.stream) });
  return out;
}

function run(cmd: string, args: string[]) {
  const result = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).outputSync();
  const text = new TextDecoder().decode(result.stdout) + new TextDecoder().decode(result.stderr);
  return { ok: result.success, text };
}

const study = syntheticStudy(4, 10, 96); // 40 images of about 10 KB
const reference = sharedReference();
const schema = reference ? `${reference}xsd/ebRS30/lcm.xsd` : null;
const packed = await packAll(packXdm({
  instances: study.instances,
  study: study.study,
  report: { kind: "text", size: REPORT.length, open: () => new Blob([REPORT]).stream() },
  note: NOTE,
  sender: testSender,
  recipient: testRecipient,
  partSizeBytes: PART_SIZE,
  transferId: "01TESTTRANSFER0000000000AB",
  now: new Date("2025-03-14T09:45:12Z"),
}));

Deno.test("xdm pack: 40 images split into parts that each stay below the part size", () => {
  const count = packed.length;
  assert.ok(count >= 4, `expected several parts, got ${count}`);
  for (const [i, { part, bytes }] of packed.entries()) {
    assert.equal(part.partNumber, i + 1);
    assert.equal(part.partCount, count);
    assert.equal(part.transferId, "01TESTTRANSFER0000000000AB");
    assert.equal(part.oversized, false);
    assert.ok(bytes.length <= PART_SIZE, `part ${i + 1} is ${bytes.length} bytes`);
    assert.ok(bytes.length <= part.estimatedBytes);
  }
  assert.equal(packed.reduce((n, p) => n + p.part.instanceCount, 0), 40);
});

Deno.test("xdm pack: ISO 9660 names and the required files in every part", () => {
  for (const { part, bytes } of packed) {
    const names = unzipAll(bytes).map((e) => e.name);
    for (const required of ["README.TXT", "INDEX.HTM", "IHE_XDM/SUBSET01/METADATA.XML"]) {
      assert.ok(names.includes(required), `${required} in part ${part.partNumber}`);
    }
    assert.ok(names.includes("IHE_XDM/SUBSET01/KOS00001.DCM"));
    for (const name of names) {
      for (const component of name.split("/")) {
        assert.match(component, /^([A-Z0-9_]{1,8}(\.[A-Z0-9_]{1,3})?)$/, name);
      }
    }
    const readme = new TextDecoder().decode(
      unzipAll(bytes).find((e) => e.name === "README.TXT")!.data,
    );
    assert.match(readme, new RegExp(`Part: +${part.partNumber} of ${part.partCount}`));
    const index = new TextDecoder().decode(
      unzipAll(bytes).find((e) => e.name === "INDEX.HTM")!.data,
    );
    assert.ok(!index.includes("Proef^Anna") && !index.includes("999999990"), "no PHI in INDEX.HTM");
  }
});

Deno.test({
  name: "xdm pack: every METADATA.XML validates against ebRS 3.0 lcm.xsd",
  ignore: missing("xmllint") || schema === null,
  fn() {
    const dir = Deno.makeTempDirSync({ prefix: "xdm_xsd_" });
    try {
      for (const { part, bytes } of packed) {
        const xml = unzipAll(bytes).find((e) => e.name === "IHE_XDM/SUBSET01/METADATA.XML")!;
        const path = `${dir}/METADATA_${part.partNumber}.XML`;
        Deno.writeFileSync(path, xml.data);
        const r = run("xmllint", ["--noout", "--schema", schema!, path]);
        assert.ok(r.ok, r.text);
        assert.match(r.text, /validates/);
      }
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "xdm pack: the KOS manifest passes dciodvfy and lists all 40 images in every part",
  ignore: missing("dciodvfy"),
  fn() {
    const dir = Deno.makeTempDirSync({ prefix: "xdm_kos_" });
    try {
      const uids = new Set<string>();
      for (const { part, bytes } of packed) {
        const kos = unzipAll(bytes).find((e) => e.name === "IHE_XDM/SUBSET01/KOS00001.DCM")!;
        const path = `${dir}/KOS_${part.partNumber}.DCM`;
        Deno.writeFileSync(path, kos.data);
        const r = run("dciodvfy", [path]);
        assert.ok(!/^Error/m.test(r.text), r.text);
        assert.match(r.text, /KeyObjectSelectionDocument/);
        const parsed = dcm.DicomMessage.readFile(kos.data.slice().buffer);
        const ds = dcm.DicomMetaDictionary.naturalizeDataset(parsed.dict);
        assert.equal(ds.SOPClassUID, KOS_SOP_CLASS);
        assert.equal(ds.ConceptNameCodeSequence[0].CodeValue, "113030");
        const refs = ds.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence
          .flatMap((s: { ReferencedSOPSequence: { ReferencedSOPInstanceUID: string }[] }) =>
            s.ReferencedSOPSequence.map((r) => r.ReferencedSOPInstanceUID)
          );
        assert.deepEqual(new Set(refs), new Set(study.files.keys()));
        uids.add(ds.SOPInstanceUID);
      }
      assert.equal(uids.size, 1, "the same manifest in every part");
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test("xdm read: every part reads back with images byte-identical and numbering right", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "xdm_read_" });
  try {
    const seen = new Map<string, number>();
    for (const { part, bytes } of packed) {
      const path = `${dir}/${part.fileName}`;
      Deno.writeFileSync(path, bytes);
      const pkg = await readXdm(path);
      try {
        assert.deepEqual(pkg.transfer, {
          transferId: "01TESTTRANSFER0000000000AB",
          partNumber: part.partNumber,
          partCount: packed.length,
          studyInstanceUid: study.study.studyInstanceUid,
        });
        assert.equal(pkg.submissionSets.length, 1);
        assert.equal(pkg.submissionSets[0].comments, NOTE);
        assert.equal(pkg.patient.bsn, "999999990");
        assert.deepEqual(pkg.patient.localIds, [{ id: "TEST-0001", issuerOid: "2.25.4711" }]);
        assert.equal(pkg.patient.name, "Proef^Anna");
        const images = pkg.documents.filter((d) =>
          !d.isManifest && d.mimeType === "application/dicom"
        );
        assert.equal(images.length, part.instanceCount);
        for (const doc of images) {
          const got = await collect(pkg.openDocument(doc));
          assert.deepEqual(got, study.files.get(doc.uniqueId!));
          seen.set(doc.uniqueId!, (seen.get(doc.uniqueId!) ?? 0) + 1);
        }
        const note = pkg.documents.find((d) => d.entryName.endsWith("NOTE0001.TXT"));
        const report = pkg.documents.find((d) => d.entryName.endsWith("REPORT01.TXT"));
        if (part.partNumber === 1) {
          assert.equal(new TextDecoder().decode(await collect(pkg.openDocument(note!))), NOTE);
          assert.equal(new TextDecoder().decode(await collect(pkg.openDocument(report!))), REPORT);
          assert.equal(report!.typeCode?.code, "18782-3");
        } else {
          assert.equal(note, undefined);
          assert.equal(report, undefined);
        }
        const verified = await pkg.verifyAll();
        assert.equal(verified.documents, pkg.documents.length);
      } finally {
        pkg.close();
      }
    }
    assert.equal(seen.size, 40);
    assert.ok([...seen.values()].every((n) => n === 1), "each image in exactly one part");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("xdm pack: an image larger than the part size travels alone, flagged oversized", async () => {
  const small = syntheticStudy(1, 3, 96);
  const parts = await packAll(packXdm({
    instances: small.instances,
    study: { ...small.study, patient: { id: "LOCAL-7", issuerOid: "2.25.99" } },
    sender: testSender,
    recipient: { email: "gw@ontvanger.example" },
    partSizeBytes: 5_000,
  }));
  assert.equal(parts.length, 3);
  for (const { part, bytes } of parts) {
    assert.equal(part.instanceCount, 1);
    assert.equal(part.oversized, true);
    const xml = new TextDecoder().decode(
      unzipAll(bytes).find((e) => e.name.endsWith("METADATA.XML"))!.data,
    );
    // Without a BSN the local id with its issuer is the XDS patientId.
    assert.ok(xml.includes('value="LOCAL-7^^^&amp;2.25.99&amp;ISO"'));
    assert.ok(!xml.includes("2.16.840.1.113883.2.4.6.3"));
  }
});

Deno.test("xdm pack: an instance whose stream differs from its announced size fails the part", async () => {
  const small = syntheticStudy(1, 1, 32);
  const liar = { ...small.instances[0], size: small.instances[0].size + 1 };
  const parts = packXdm({
    instances: [liar],
    study: small.study,
    sender: testSender,
    recipient: testRecipient,
  });
  const first = (await parts.next()).value as XdmPart;
  await assert.rejects(collect(first.stream), XdmInvalidInput);
});
