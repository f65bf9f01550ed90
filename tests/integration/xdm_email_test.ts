/**
 * The DICOM e-mail entity carries the same study as application/dicom attachments or as one
 * DICOM.ZIP, with the report; every file comes back byte-identical after MIME and base64.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { packDicomEmail } from "../../modules/xdm/mod.ts";
import { collect, syntheticStudy, unzipAll } from "../support/xdm_fixtures.ts";

const study = syntheticStudy(2, 5, 64);
const REPORT = "%PDF-1.4 synthetic report\n";
const report = {
  kind: "pdf" as const,
  size: REPORT.length,
  open: () => new Blob([REPORT]).stream(),
};

interface MimePart {
  headers: string;
  body: Uint8Array;
}

function parseEntity(bytes: Uint8Array): { contentType: string; parts: MimePart[] } {
  const text = new TextDecoder().decode(bytes);
  const [head, ...rest] = text.split("\r\n\r\n");
  const boundary = /boundary="([^"]+)"/.exec(head)![1];
  const body = rest.join("\r\n\r\n");
  assert.ok(body.endsWith(`--${boundary}--\r\n`), "closing boundary");
  const chunks = body.split(`--${boundary}`).slice(1, -1);
  return {
    contentType: head,
    parts: chunks.map((chunk) => {
      const [headers, encoded] = chunk.replace(/^\r\n/, "").split("\r\n\r\n");
      for (const line of encoded.split("\r\n").filter(Boolean)) assert.ok(line.length <= 76);
      return { headers, body: new Uint8Array(Buffer.from(encoded.replace(/\r\n/g, ""), "base64")) };
    }),
  };
}

Deno.test("xdm email: every instance as an application/dicom attachment, plus report", async () => {
  const entity = packDicomEmail({
    instances: study.instances,
    report,
    note: "Zie bijlagen",
    variant: "attachments",
  });
  const { contentType, parts } = parseEntity(await collect(entity.stream));
  assert.match(contentType, /^Content-Type: multipart\/mixed; boundary="/);
  assert.equal(parts.length, 1 + 10 + 1);
  assert.match(parts[0].headers, /text\/plain; charset=utf-8/);
  assert.equal(new TextDecoder().decode(parts[0].body), "Zie bijlagen");
  const originals = [...study.files.values()];
  for (const [i, part] of parts.slice(1, 11).entries()) {
    assert.match(
      part.headers,
      /^Content-Type: application\/dicom; id="DICOM\/S000000\d\/I\d{7}"; name="I\d{7}\.dcm"/,
    );
    assert.deepEqual(part.body, originals[i]);
  }
  assert.match(parts[11].headers, /application\/pdf; name="REPORT.PDF"/);
  assert.equal(new TextDecoder().decode(parts[11].body), REPORT);
});

Deno.test("xdm email: the zipped variant is one DICOM.ZIP of plain files without DICOMDIR", async () => {
  const entity = packDicomEmail({ instances: study.instances, report, variant: "zip" });
  const { parts } = parseEntity(await collect(entity.stream));
  assert.equal(parts.length, 2);
  assert.match(parts[1].headers, /application\/zip; id="DICOM.ZIP"; name="DICOM.ZIP"/);
  assert.match(parts[1].headers, /Content-Disposition: attachment; filename="DICOM.ZIP"/);
  const entries = unzipAll(parts[1].body);
  assert.equal(entries.length, 11);
  assert.ok(!entries.some((e) => e.name.toUpperCase().endsWith("DICOMDIR")));
  const originals = [...study.files.values()];
  for (const [i, entry] of entries.slice(0, 10).entries()) {
    assert.match(entry.name, /^DICOM\/S\d{7}\/I\d{7}$/);
    assert.deepEqual(entry.data, originals[i]);
  }
  assert.equal(entries[10].name, "REPORT.PDF");
});
