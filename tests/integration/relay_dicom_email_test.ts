/**
 * DICOM e-mail on the relay: a recipient whose address-book entry accepts only DICOM e-mail gets
 * the study as signed and encrypted multipart/mixed parts of application/dicom attachments; B
 * stores them exactly once like XDM parts; a foreign sender's DICOM e-mail without our transfer
 * fields is a transfer of one part; openssl reads what A sends. In one process (relay_fixtures),
 * and once with two real gateways into B's Orthanc.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { open, seal } from "../../modules/smime/mod.ts";
import {
  buildPart,
  decodedBody,
  mediaType,
  type MimePart,
  parsePart,
  RelayRecipientUnusable,
  splitParts,
} from "../../modules/relay/mod.ts";
import { packDicomEmail, packXdm } from "../../modules/xdm/mod.ts";
import { writeSyntheticStudy } from "../support/dicom_fixtures.ts";
import { missing } from "../support/peers.ts";
import { tempDir } from "../support/appliance.ts";
import {
  createRelayPair,
  exportStudy,
  ingest,
  listPeer,
  type RelayPair,
} from "../support/relay_fixtures.ts";
import { createGatewayPair, importIntoPacs, runJourney } from "../support/relay_gateways.ts";
import { opensslOpen } from "../support/smime_pki.ts";
import { syntheticPatient, syntheticStudy } from "../support/xdm_fixtures.ts";

/** About 9.5 KB per image, 50 images, parts of at most 100 kB: several parts. */
const PART_SIZE = 100_000;

async function withDicomEmailPeer(
  fn: (pair: RelayPair, studyUid: string, files: Map<string, Uint8Array>) => Promise<void>,
) {
  const pair = await createRelayPair({ partSizeBytes: PART_SIZE });
  try {
    await listPeer(pair.a, pair.b, { formats: ["dicom-email"] });
    const study = syntheticStudy(2, 25, 96);
    await ingest(pair.a, study.files.values());
    await fn(pair, study.study.studyInstanceUid, study.files);
  } finally {
    await pair.cleanup();
  }
}

const send = (pair: RelayPair, studyUid: string) =>
  pair.a.relay.sendTransfer({
    studyInstanceUid: studyUid,
    recipientUra: pair.b.ura,
    note: "Graag beoordelen",
  });

/** The decrypted, verified entity of a mail to B. */
async function openForB(pair: RelayPair, raw: Uint8Array): Promise<Uint8Array> {
  const opened = await open({
    message: raw,
    recipientKey: pair.b.identity.key,
    recipientCert: pair.b.identity.certificate,
    trustAnchors: [pair.ca],
  });
  return opened.content;
}

/** The parts of a multipart entity, parsed. */
function partsOf(entity: MimePart): MimePart[] {
  const boundary = mediaType(entity.headers.get("content-type")).params.boundary!;
  return splitParts(entity.body, boundary).map((p) => parsePart(p));
}

Deno.test("relay: a recipient that takes only DICOM e-mail gets it; parts duplicated and reordered import once", async () => {
  await withDicomEmailPeer(async (pair, studyUid, files) => {
    const { a, b, network } = pair;
    const limit = 150_000;
    await listPeer(a, b, { formats: ["dicom-email"], maxMessageBytes: limit });
    const sent = await send(pair, studyUid);
    assert.equal(sent.format, "dicom-email");
    assert.ok(sent.partCount! >= 3, `expected several parts, got ${sent.partCount}`);
    assert.equal(sent.parts.length, sent.partCount);
    assert.equal(sent.parts.reduce((n, p) => n + p.instanceCount!, 0), 50);
    const parts = network.take();
    assert.equal(parts.length, sent.partCount);
    const largest = Math.max(...parts.map((m) => m.raw.length));
    assert.ok(largest <= limit, `largest mail ${largest} bytes over the limit ${limit}`);

    // Each part: our transfer fields in the signed entity, then application/dicom attachments.
    const entity = parsePart(await openForB(pair, parts[1].raw));
    assert.equal(entity.headers.get("beeldpoort-transfer-id"), sent.transferId);
    assert.equal(entity.headers.get("beeldpoort-part"), `2/${sent.partCount}`);
    assert.equal(entity.headers.get("beeldpoort-study-instance-uid"), studyUid);
    assert.equal(mediaType(entity.headers.get("content-type")).type, "multipart/mixed");
    const attachments = partsOf(entity).filter((p) =>
      mediaType(p.headers.get("content-type")).type === "application/dicom"
    );
    assert.equal(attachments.length, sent.parts[1].instanceCount);
    const firstBytes = decodedBody(attachments[0]);
    assert.ok([...files.values()].some((f) => Buffer.from(f).equals(firstBytes)));

    // Reverse order, part 2 twice in a row, then every part once more.
    const shuffled = [...parts].reverse();
    shuffled.splice(1, 0, parts[1]);
    for (const mail of shuffled) await network.deliver(mail);
    for (const mail of parts) await network.deliver(mail);
    await network.deliverAll();

    const partOutcomes = network.outcomes.filter((o) => o.outcome.kind === "part");
    assert.equal(partOutcomes.length, 2 * parts.length + 1);
    const fresh = partOutcomes.filter((o) => o.outcome.kind === "part" && !o.outcome.duplicate);
    assert.equal(fresh.length, parts.length);
    assert.equal(b.completed.length, 1);
    assert.equal(b.completed[0].instanceCount, 50);
    assert.equal(b.completed[0].studyInstanceUid, studyUid);
    // The note travels as the text of part 1 and is kept like XDM's note document.
    assert.equal(b.completed[0].documents.length, 1);
    const note = await new Response(await b.spool.get(b.completed[0].documents[0].spoolId)).text();
    assert.equal(note, "Graag beoordelen");
    // The patient as the first instance names it (DICOM e-mail has no XDM metadata).
    assert.deepEqual(b.completed[0].patient.localIds.map((l) => l.id), [syntheticPatient.id]);
    assert.equal(b.completed[0].patient.birthDate, syntheticPatient.birthDate);
    assert.equal((await b.studies.getStudy(studyUid))!.instances, 50);
    const received = await exportStudy(b, studyUid);
    assert.equal(received.size, 50);
    for (const [uid, bytes] of files) assert.deepEqual(received.get(uid), bytes, uid);

    const inbound = (await b.relay.getTransfer(sent.transferId, "in"))!;
    assert.equal(inbound.format, "dicom-email");
    assert.equal(inbound.state, "received");
    assert.equal(inbound.parts.length, parts.length);
    assert.equal(inbound.instanceCount, 50);
    assert.equal(b.audit.filter((e) => e.action === "relay.received").length, parts.length);
    assert.equal((await a.relay.getTransfer(sent.transferId))!.state, "delivered");
  });
});

Deno.test("relay: XDM is still preferred when the endpoint takes both formats", async () => {
  await withDicomEmailPeer(async (pair, studyUid) => {
    await listPeer(pair.a, pair.b, { formats: ["dicom-email", "xdm"] });
    const sent = await send(pair, studyUid);
    assert.equal(sent.format, "xdm");
    await pair.network.deliverAll();
    assert.equal((await pair.b.relay.getTransfer(sent.transferId, "in"))!.format, "xdm");
  });
});

Deno.test("relay: an endpoint that accepts neither format is refused before anything is packed", async () => {
  await withDicomEmailPeer(async (pair, studyUid) => {
    await listPeer(pair.a, pair.b, { formats: [] });
    await assert.rejects(
      send(pair, studyUid),
      (error: Error) =>
        error instanceof RelayRecipientUnusable &&
        /no endpoint accepts xdm or dicom-email/.test(error.message),
    );
    assert.equal(pair.network.queue.length, 0);
    assert.deepEqual(await pair.a.relay.listTransfers({ direction: "out" }), []);
  });
});

Deno.test("relay: a foreign DICOM e-mail without transfer fields is a transfer of one part", async () => {
  await withDicomEmailPeer(async (pair) => {
    const { a, b, network } = pair;
    for (const variant of ["attachments", "zip"] as const) {
      const foreign = syntheticStudy(1, 3, 64);
      const entity = packDicomEmail({ instances: foreign.instances, note: "Zie bijlage", variant });
      const content = new Uint8Array(await new Response(entity.stream).arrayBuffer());
      const messageId = `<foreign-${variant}@zkh-a.example>`;
      const raw = await seal({
        content,
        signerCert: a.identity.certificate,
        signerKey: a.identity.key,
        recipients: [b.identity.certificate],
        headers: { From: a.address, To: b.address, Subject: "DICOM", "Message-ID": messageId },
      });
      const outcome = await network.deliver({ to: b.address, from: a.address, messageId, raw });
      assert.equal(outcome.kind, "part", JSON.stringify(outcome));
      if (outcome.kind !== "part") continue;
      assert.match(outcome.transferId, /^mail-[0-9a-f]{26}$/);
      assert.equal(outcome.partNumber, 1);
      assert.equal(outcome.partCount, 1);
      assert.equal(outcome.complete, true);
      const uid = foreign.study.studyInstanceUid;
      const received = await exportStudy(b, uid);
      assert.equal(received.size, 3, variant);
      for (const [sop, bytes] of foreign.files) assert.deepEqual(received.get(sop), bytes);
      const inbound = (await b.relay.getTransfer(outcome.transferId, "in"))!;
      assert.equal(inbound.format, "dicom-email");
      assert.equal(inbound.studyInstanceUid, uid);
      const done = b.completed.find((c) => c.transferId === outcome.transferId)!;
      assert.equal(done.instanceCount, 3);
      assert.deepEqual(done.documents.map((d) => d.mimeType), ["text/plain"]);
    }
    // B answered each with a notification; A has no such transfer and ignores it.
    await network.deliverAll();
    assert.equal(b.completed.length, 2);
  });
});

Deno.test("relay: a zip named DICOM.ZIP that holds XDM metadata is read as XDM", async () => {
  await withDicomEmailPeer(async (pair) => {
    const { a, b, network } = pair;
    const foreign = syntheticStudy(1, 2, 64);
    const [part] = await Array.fromAsync(
      packXdm({
        instances: foreign.instances,
        study: foreign.study,
        sender: { ura: a.ura, organizationName: a.name, email: a.address },
        recipient: { email: b.address },
      }),
      async (p) => ({ ...p, zip: new Uint8Array(await new Response(p.stream).arrayBuffer()) }),
    );
    const content = buildPart([
      ["Content-Type", 'application/zip; name="DICOM.ZIP"'],
      ["Content-Transfer-Encoding", "base64"],
    ], Buffer.from(part.zip).toString("base64").replace(/.{76}/g, "$&\r\n") + "\r\n");
    const messageId = "<xdm-as-dicom-zip@zkh-a.example>";
    const raw = await seal({
      content,
      signerCert: a.identity.certificate,
      signerKey: a.identity.key,
      recipients: [b.identity.certificate],
      headers: { From: a.address, To: b.address, "Message-ID": messageId },
    });
    const outcome = await network.deliver({ to: b.address, from: a.address, messageId, raw });
    assert.equal(outcome.kind, "part", JSON.stringify(outcome));
    if (outcome.kind !== "part") return;
    assert.equal(outcome.transferId, part.transferId);
    assert.equal((await b.relay.getTransfer(outcome.transferId, "in"))!.format, "xdm");
    assert.equal((await exportStudy(b, foreign.study.studyInstanceUid)).size, 2);
  });
});

Deno.test("relay: a DICOM e-mail part with an attachment that is not DICOM is refused; nothing is stored", async () => {
  await withDicomEmailPeer(async (pair, studyUid) => {
    const { a, b, network } = pair;
    const sent = await send(pair, studyUid);
    const [genuine] = network.take();
    // Zero the third base64 line of the first attachment: bytes 114-170, where "DICM" stands.
    const text = Buffer.from(await openForB(pair, genuine.raw)).toString("latin1");
    const at = text.indexOf("\r\n\r\n", text.indexOf("Content-Type: application/dicom")) + 4;
    const line = at + 2 * 78;
    const tampered = text.slice(0, line) + "A".repeat(76) + text.slice(line + 76);
    const raw = await seal({
      content: Buffer.from(tampered, "latin1"),
      signerCert: a.identity.certificate,
      signerKey: a.identity.key,
      recipients: [b.identity.certificate],
      headers: { From: a.address, To: b.address, "Message-ID": genuine.messageId },
    });
    const outcome = await network.deliver({ ...genuine, raw });
    assert.equal(outcome.kind, "refused");
    if (outcome.kind === "refused") {
      assert.equal(outcome.code, "RELAY_PACKAGE_INVALID");
      assert.match(outcome.reason, /instance 1 is not a readable DICOM Part-10 file/);
      assert.equal(outcome.notified, true);
    }
    await network.deliverAll();
    const failed = (await a.relay.getTransfer(sent.transferId))!;
    assert.equal(failed.state, "failed");
    assert.equal(failed.reasonCode, "RELAY_PACKAGE_INVALID");
    assert.equal(failed.parts.find((p) => p.partNumber === 1)!.state, "failed");
    const refused = b.audit.filter((e) => e.action === "relay.refused");
    assert.equal(refused.length, 1);
    assert.equal(refused[0].code, "RELAY_PACKAGE_INVALID");
    assert.equal(await b.studies.getStudy(studyUid), null);
    assert.equal(await b.relay.getTransfer(sent.transferId, "in"), undefined);
  });
});

Deno.test({
  name: "relay: openssl cms can decrypt and then verify a DICOM e-mail part A sends",
  ignore: missing("openssl"),
  async fn() {
    await withDicomEmailPeer(async (pair, studyUid, files) => {
      const { b, network } = pair;
      const sent = await send(pair, studyUid);
      const [mail] = network.take();
      const content = parsePart(
        await opensslOpen(pair.pki.dir, mail.raw, b.identity.files, pair.pki.ca.certPath),
      );
      assert.equal(content.headers.get("beeldpoort-transfer-id"), sent.transferId);
      assert.equal(content.headers.get("beeldpoort-part"), `1/${sent.partCount}`);
      const parts = partsOf(content);
      const types = parts.map((p) => mediaType(p.headers.get("content-type")).type);
      assert.equal(types[0], "text/plain");
      assert.equal(
        types.filter((t) => t === "application/dicom").length,
        sent.parts[0].instanceCount,
      );
      const all = [...files.values()].map((f) => Buffer.from(f));
      for (const part of parts.slice(1)) {
        const bytes = decodedBody(part);
        assert.ok(
          all.some((f) => f.equals(bytes)),
          "an attachment differs from every instance sent",
        );
      }
    });
  },
});

Deno.test({
  name:
    "relay: a study to a DICOM e-mail-only recipient arrives byte-identical in B's Orthanc, confirmed at A",
  ignore: missing("storescu", "Orthanc", "openssl"),
  async fn() {
    using dir = tempDir("bp-relay-dicom-email-");
    const study = writeSyntheticStudy(`${dir.path}/study`, {
      instances: 60,
      rows: 64,
      cols: 64,
      seed: 60,
    });
    const pair = await createGatewayPair(dir.path, {
      envB: importIntoPacs,
      formatsB: ["dicom-email"],
      // The smallest part size the configuration allows: the study (about 0.5 MB) still fits one
      // part, so the address book's mail limit cuts it instead.
      maxMessageBytes: 400_000,
    });
    try {
      const result = await runJourney(pair, { ...study, dir: `${dir.path}/study` });
      assert.equal(result.sent, 60);
      assert.equal(result.imported, 60);
      assert.equal(result.identical, true);
      assert.equal(result.confirmed, true);
      const out = result.transfer!;
      assert.equal(out.format, "dicom-email");
      assert.ok(out.partCount! >= 2, `${out.partCount} parts`);
      assert.ok(out.parts.every((p) => p.state === "processed"));
      const inbound = JSON.parse(
        await pair.b.cli("relay", "show", out.transferId, "--direction", "in", "--json"),
      );
      assert.equal(inbound.format, "dicom-email");
      assert.equal(inbound.state, "imported");
      assert.equal(inbound.instanceCount, 60);
    } finally {
      await pair.close();
    }
  },
});
