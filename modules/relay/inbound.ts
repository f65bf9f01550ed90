/**
 * Inbound: one stored message -> decrypt, verify (trust anchors AND the sender's address-book
 * certificates) -> a notification for one of our transfers, or a part (XDM, or DICOM e-mail read by
 * dicom_email.ts): XDM hashes checked, instances stored and indexed, other documents kept, the part
 * recorded exactly once -> MDN back. Every step is safe to run again for the same message after a
 * crash.
 */
import { createHash } from "node:crypto";
import { forEachConcurrently, releaseBytes } from "../core/mod.ts";
import type { AddressBookEntry } from "../addressbook/mod.ts";
import { readInstanceHeader } from "../dicom/mod.ts";
import {
  open,
  type OpenedMessage,
  SmimeCertificateExpired,
  SmimeCertificateRevoked,
  SmimeDecryptError,
  SmimeFormatError,
  SmimeIntegrityError,
  SmimeKeyUsageInvalid,
  SmimeSignatureInvalid,
  SmimeSignerMismatch,
  SmimeUnsupported,
  SmimeUntrustedSigner,
} from "../smime/mod.ts";
import { type IndexOutcome, type InstanceRecord, UnindexableInstance } from "../studies/mod.ts";
import { readXdm, XdmHashMismatch, XdmSizeMismatch } from "../xdm/mod.ts";
import type { RelayContext } from "./context.ts";
import { dicomEmailPayload } from "./dicom_email.ts";
import {
  RelayHashMismatch,
  RelayIntegrityError,
  RelayMalformed,
  RelayMessageUnsigned,
  RelayNotForUs,
  RelayPackageInvalid,
  RelayRefusal,
  RelaySignatureInvalid,
  RelaySignerNotListed,
  RelaySignerUntrusted,
  RelayTransferNotFound,
  RelayUnknownSender,
} from "./errors.ts";
import { type DispositionNotice, isDispositionReport, readDispositionReport } from "./mdn.ts";
import {
  decodedBody,
  mailAddress,
  mediaType,
  type MimePart,
  parsePart,
  splitParts,
} from "./mime.ts";
import {
  memorySource,
  type PackageDocument,
  type ReceivedPackage,
  type ReceivedPayload,
  ZIP_MEDIA_TYPES,
} from "./payload.ts";
import { partRows, setTransferState, transferRow } from "./store.ts";
import type { AcceptOutcome, ReceivedDocument } from "./types.ts";
import type { createOutbound } from "./outbound.ts";

const pkcs7Mime = new Set(["application/pkcs7-mime", "application/x-pkcs7-mime"]);
const transferIdPattern = /^[A-Za-z0-9._-]{1,64}$/;
/** A part's images written to the spool at once: their fsyncs overlap instead of queueing. */
const IMAGE_WRITES_AT_ONCE = 4;

/** What we know about a message while processing it (for the refusal path too). */
interface Envelope {
  key: string;
  messageId: string;
  from: string;
  entry?: AddressBookEntry;
  transferId?: string;
  partNumber?: number;
  partCount?: number;
  /** A notification is never answered with a notification (RFC 8098 §2.1). */
  isNotice: boolean;
}

/** A received part's documents with their checked bytes, in the package's order. */
type Contents = Map<PackageDocument, Uint8Array>;

async function readContents(pkg: ReceivedPackage): Promise<Contents> {
  const contents: Contents = new Map();
  for (const doc of pkg.documents) contents.set(doc, await pkg.readDocument(doc));
  return contents;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** Maps the S/MIME layer's refusals onto the relay's, with words for the peer. */
function refusalOf(error: unknown): RelayRefusal | undefined {
  if (error instanceof RelayRefusal) return error;
  const detail = error instanceof Error ? error.message : String(error);
  if (error instanceof SmimeDecryptError) {
    return new RelayNotForUs(`the message cannot be decrypted with our certificate: ${detail}`);
  }
  if (error instanceof SmimeIntegrityError) {
    return new RelayIntegrityError(`the encrypted content was altered: ${detail}`);
  }
  if (error instanceof SmimeSignatureInvalid) {
    return /not signed|not a CMS signature|not signed-data/.test(detail)
      ? new RelayMessageUnsigned(`the message is not signed: ${detail}`)
      : new RelaySignatureInvalid(`the signature does not verify: ${detail}`);
  }
  if (
    error instanceof SmimeUntrustedSigner || error instanceof SmimeCertificateExpired ||
    error instanceof SmimeCertificateRevoked || error instanceof SmimeKeyUsageInvalid
  ) {
    return new RelaySignerUntrusted(`the signer is not trusted: ${detail}`);
  }
  if (error instanceof SmimeSignerMismatch) return new RelaySignerNotListed(detail);
  if (error instanceof SmimeFormatError || error instanceof SmimeUnsupported) {
    return new RelayMalformed(`the S/MIME structure cannot be read: ${detail}`);
  }
  if (error instanceof XdmHashMismatch || error instanceof XdmSizeMismatch) {
    return new RelayHashMismatch(detail);
  }
  if (error instanceof Error && /^Xdm/.test(error.name)) {
    return new RelayPackageInvalid(`the XDM package is invalid: ${detail}`);
  }
  if (error instanceof UnindexableInstance) return new RelayPackageInvalid(detail);
  return undefined;
}

/** The XDM zip of a part: the entity itself, or an application/zip part of a multipart/mixed. */
function findZip(entity: MimePart, depth = 0): MimePart | undefined {
  const type = mediaType(entity.headers.get("content-type"));
  if (ZIP_MEDIA_TYPES.has(type.type)) return entity;
  if (type.type.startsWith("multipart/") && type.params.boundary && depth < 3) {
    for (const raw of splitParts(entity.body, type.params.boundary)) {
      const found = findZip(parsePart(raw), depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}

/** The XDM zip of a message as a payload; RelayMalformed when there is none. */
function xdmPayload(content: MimePart): ReceivedPayload {
  const zipPart = findZip(content);
  if (!zipPart) {
    throw new RelayMalformed(
      `no XDM zip or DICOM e-mail in the message (Content-Type ${
        mediaType(content.headers.get("content-type")).type
      })`,
    );
  }
  const zipBytes = decodedBody(zipPart);
  return {
    format: "xdm",
    bytes: zipBytes.length,
    standalone: zipBytes.buffer !== zipPart.body.buffer,
    open: () => readXdm(memorySource(zipBytes)),
    release: () => releaseBytes(zipBytes),
  };
}

export function createInbound(ctx: RelayContext, outbound: ReturnType<typeof createOutbound>) {
  const { options } = ctx;
  const { db, spool, studies, identity } = options;

  /** Decrypts and verifies; the signer must be listed for the sender's address. */
  async function openVerified(raw: Uint8Array, outer: MimePart, env: Envelope) {
    const type = mediaType(outer.headers.get("content-type")).type;
    if (!env.entry) {
      throw new RelayUnknownSender(`sender ${env.from || "(none)"} is not in the address book`);
    }
    if (!pkcs7Mime.has(type)) {
      throw new RelayMessageUnsigned(
        `the message is not S/MIME (Content-Type ${type}); only signed and encrypted mail is accepted`,
      );
    }
    let opened: OpenedMessage;
    try {
      opened = await open({
        message: raw,
        recipientKey: identity.key,
        recipientCert: identity.certificate,
        trustAnchors: options.trustAnchors,
        revocationLists: await options.revocationLists?.(),
        now: ctx.clock.now(),
      });
    } catch (error) {
      throw refusalOf(error) ?? error;
    }
    const endpoint = env.entry.endpoints.find((e) => e.address === env.from);
    const listed = endpoint?.certificates.some((c) =>
      c.use === "signing" && sameBytes(c.der, opened.signer.certificate.der)
    );
    if (!listed) {
      throw new RelaySignerNotListed(
        `signed by "${opened.signer.subject}", which the address book does not list for ${env.from}`,
      );
    }
    return opened;
  }

  /**
   * The part's images into the spool and the index. The received message is stored already, so
   * the images are written a few at a time (their flushes overlap) and indexed in one transaction:
   * all of them or, after a failure, none and their stored copies deleted.
   */
  async function storeImages(contents: Contents, images: PackageDocument[], callingAe: string) {
    const records: InstanceRecord[] = [];
    const storedIds: string[] = [];
    let outcomes: IndexOutcome[];
    try {
      await forEachConcurrently(images, IMAGE_WRITES_AT_ONCE, async (doc, i) => {
        const bytes = contents.get(doc)!;
        let h: ReturnType<typeof readInstanceHeader> = {};
        try {
          h = readInstanceHeader(bytes.subarray(0, 256 * 1024));
        } catch {
          // Unreadable header: indexed from the XDM metadata, or refused by the index.
        }
        const stored = await spool.put(ReadableStream.from([bytes]));
        storedIds.push(stored.id);
        records[i] = {
          header: h,
          sopInstanceUid: h.sopInstanceUid ?? doc.uniqueId ?? doc.entryUuid,
          sopClassUid: h.sopClassUid ?? doc.formatCode?.code ?? "",
          transferSyntaxUid: h.transferSyntaxUid ?? "",
          callingAe,
          size: stored.size,
          sha256: stored.sha256,
          spoolId: stored.id,
          source: "mail",
        };
      });
      outcomes = await studies.recordInstances(records);
    } catch (error) {
      for (const id of storedIds) await spool.delete(id).catch(() => {});
      throw error;
    }
    for (const outcome of outcomes) {
      if (outcome.obsoleteSpoolId) await spool.delete(outcome.obsoleteSpoolId);
    }
    return records.map((r) => r.sopInstanceUid);
  }

  async function storeDocuments(contents: Contents, env: Envelope, transferId: string) {
    // The KOS describes the study; the PACS gets the images.
    const kept = [...contents.keys()].filter((doc) => !doc.isManifest);
    const isImage = (doc: PackageDocument) => doc.mimeType.toLowerCase() === "application/dicom";
    const sopInstanceUids = await storeImages(
      contents,
      kept.filter(isImage),
      `MAIL:${env.entry!.ura}`,
    );
    for (const doc of kept.filter((d) => !isImage(d))) {
      const stored = await spool.put(ReadableStream.from([contents.get(doc)!]));
      const inserted = await db.insertInto("relay_documents").values({
        transfer_id: transferId,
        document_id: doc.uniqueId ?? doc.entryUuid,
        spool_id: stored.id,
        mime_type: doc.mimeType,
        title: doc.title ?? null,
        size: stored.size,
        created_at: ctx.now(),
      }).onConflict((oc) => oc.doNothing()).executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) await spool.delete(stored.id);
    }
    return sopInstanceUids;
  }

  /** Stores one part unless it is already in; returns whether it was a duplicate. */
  async function importPart(env: Envelope, payload: ReceivedPayload) {
    let pkg: ReceivedPackage;
    try {
      pkg = await payload.open();
    } catch (error) {
      // The payload is in memory: whatever fails while reading it is the package's fault.
      throw refusalOf(error) ??
        new RelayPackageInvalid(
          `the ${payload.format === "xdm" ? "XDM zip" : "DICOM e-mail"} cannot be read: ${error}`,
        );
    }
    try {
      const info = pkg.transfer ?? {
        transferId: `mail-${env.key.slice(0, 26)}`,
        partNumber: 1,
        partCount: 1,
        studyInstanceUid: undefined,
      };
      if (
        !transferIdPattern.test(info.transferId) || info.partNumber < 1 ||
        info.partNumber > info.partCount
      ) {
        throw new RelayPackageInvalid(
          "the transfer id or part numbering in the package is invalid",
        );
      }
      env.transferId = info.transferId;
      env.partNumber = info.partNumber;
      env.partCount = info.partCount;
      // Every hash and size before anything is stored: a bad part leaves nothing behind. A
      // decrypted part is at most the part size, so its documents fit in memory together.
      let contents: Contents;
      try {
        contents = await readContents(pkg);
      } catch (error) {
        throw refusalOf(error) ?? new RelayPackageInvalid(`a document cannot be read: ${error}`);
      }
      const known = await db.selectFrom("relay_parts").select("part_number")
        .where("direction", "=", "in").where("transfer_id", "=", info.transferId)
        .where("part_number", "=", info.partNumber).executeTakeFirst();
      if (known) return { info, duplicate: true, studyUid: undefined, sopInstanceUids: [] };
      const studyUid = info.studyInstanceUid ??
        pkg.documents.flatMap((d) => d.referenceIds)
          .find((r) => r.endsWith("studyInstanceUID"))?.split("^")[0];
      const at = ctx.now();
      await db.insertInto("relay_transfers").values({
        direction: "in",
        id: info.transferId,
        study_instance_uid: studyUid ?? null,
        peer_ura: env.entry!.ura,
        peer_address: env.from,
        format: payload.format,
        state: "receiving",
        part_count: info.partCount,
        instance_count: 0,
        reason: null,
        reason_code: null,
        patient_json: JSON.stringify(pkg.patient),
        created_at: at,
        updated_at: at,
      }).onConflict((oc) => oc.doNothing()).execute();
      let sopInstanceUids: string[];
      try {
        sopInstanceUids = await storeDocuments(contents, env, info.transferId);
      } catch (error) {
        throw refusalOf(error) ?? error;
      }
      const instances = sopInstanceUids.length;
      // The part, the transfer's count and the timeline entry in one transaction: one flush, and
      // no crash between them leaves the count short.
      const recorded = await db.transaction().execute(async (tx) => {
        const inserted = await tx.insertInto("relay_parts").values({
          direction: "in",
          transfer_id: info.transferId,
          part_number: info.partNumber,
          part_count: info.partCount,
          message_id: env.messageId,
          spool_id: null,
          bytes: payload.bytes,
          instance_count: instances,
          state: "stored",
          reason: null,
          created_at: at,
          sent_at: null,
          acknowledged_at: at,
        }).onConflict((oc) => oc.doNothing()).executeTakeFirst();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) return false;
        await tx.updateTable("relay_transfers")
          .set((eb) => ({ instance_count: eb("instance_count", "+", instances), updated_at: at }))
          .where("direction", "=", "in").where("id", "=", info.transferId).execute();
        await ctx.event("in", info.transferId, "part-received", {
          partNumber: info.partNumber,
          detail: `part ${info.partNumber}/${info.partCount}, ${instances} instances`,
        }, tx);
        return true;
      });
      if (recorded) {
        await ctx.audit({
          action: "relay.received",
          outcome: "success",
          peerAddress: env.from,
          peerUra: env.entry!.ura,
          transferId: info.transferId,
          partNumber: info.partNumber,
          messageId: env.messageId,
          studyInstanceUid: studyUid,
        });
      }
      return { info, duplicate: false, studyUid, sopInstanceUids, patient: pkg.patient };
    } finally {
      pkg.close();
    }
  }

  /** When every part is in: tell the appliance (again after a crash before it returned). */
  async function completeIfAllIn(transferId: string): Promise<boolean> {
    const transfer = await transferRow(db, "in", transferId);
    if (!transfer || transfer.part_count === null) return false;
    const parts = await partRows(db, "in", transferId);
    if (parts.length < transfer.part_count) return false;
    if (transfer.state !== "receiving") return true;
    const documents: ReceivedDocument[] = (await db.selectFrom("relay_documents").selectAll()
      .where("transfer_id", "=", transferId).execute()).map((d) => ({
        documentId: d.document_id,
        spoolId: d.spool_id,
        mimeType: d.mime_type,
        title: d.title ?? undefined,
        size: d.size,
      }));
    await options.onTransferComplete?.({
      transferId,
      studyInstanceUid: transfer.study_instance_uid ?? "",
      senderUra: transfer.peer_ura ?? "",
      senderAddress: transfer.peer_address,
      patient: JSON.parse(transfer.patient_json ?? '{"localIds":[]}'),
      instanceCount: transfer.instance_count ?? 0,
      documents,
    });
    if (
      await setTransferState(db, "in", transferId, "received", ctx.now(), { from: ["receiving"] })
    ) {
      await ctx.event("in", transferId, "received", { detail: `${parts.length} parts` });
    }
    return true;
  }

  function processedNotice(env: Envelope): DispositionNotice {
    return {
      originalMessageId: env.messageId,
      stage: "processed",
      transferId: env.transferId,
      partNumber: env.partNumber,
      partCount: env.partCount,
    };
  }

  async function notifyRefusal(env: Envelope, code: string, reason: string): Promise<boolean> {
    if (env.isNotice || !env.entry) return false;
    return await ctx.sendNotice(env.from, {
      originalMessageId: env.messageId,
      stage: "refused",
      transferId: env.transferId,
      partNumber: env.partNumber,
      partCount: env.partCount,
      code,
      reason,
    }, `Beeldpoort weigering ${env.transferId ?? "bericht"}`);
  }

  async function recordMessage(
    env: Envelope,
    kind: string,
    outcome: string,
    refusal?: { code: string; reason: string },
  ) {
    await db.insertInto("relay_messages").values({
      message_key: env.key,
      message_id: env.messageId,
      from_address: env.from,
      kind,
      outcome,
      code: refusal?.code ?? null,
      reason: refusal?.reason ?? null,
      transfer_id: env.transferId ?? null,
      part_number: env.partNumber ?? null,
      part_count: env.partCount ?? null,
      received_at: ctx.now(),
    }).onConflict((oc) => oc.doNothing()).execute();
  }

  /** A message processed before: do no work twice, but answer again (the answer may be lost). */
  async function repeat(
    env: Envelope,
    row: { kind: string; outcome: string; code: string | null; reason: string | null },
  ): Promise<AcceptOutcome> {
    if (row.outcome === "refused") {
      const code = row.code ?? "RELAY_REFUSED";
      const reason = row.reason ?? "refused";
      const notified = await notifyRefusal(env, code, reason);
      return { kind: "refused", repeated: true, code, reason, notified };
    }
    if (row.kind === "notification") {
      return {
        kind: "notification",
        repeated: true,
        stage: row.outcome as "processed",
        transferId: env.transferId,
        partNumber: env.partNumber,
      };
    }
    const complete = await completeIfAllIn(env.transferId!);
    await sendProcessed(env);
    return {
      kind: "part",
      repeated: true,
      transferId: env.transferId!,
      partNumber: env.partNumber!,
      partCount: env.partCount!,
      duplicate: true,
      complete,
    };
  }

  async function sendProcessed(env: Envelope) {
    await ctx.sendNotice(
      env.from,
      processedNotice(env),
      `Beeldpoort ontvangstbevestiging ${env.transferId} deel ${env.partNumber}/${env.partCount}`,
    );
  }

  async function acceptMessage(
    raw: Uint8Array,
    envelope: { from: string; to: string; sha256?: string; handOver?: boolean },
  ): Promise<AcceptOutcome> {
    // Handed over, the buffer is ours: freed as soon as it is decrypted, and on every other path.
    const free = () => {
      if (envelope.handOver) releaseBytes(raw);
    };
    try {
      return await accept(raw, envelope, free);
    } finally {
      free();
    }
  }

  async function accept(
    raw: Uint8Array,
    envelope: { from: string; to: string; sha256?: string },
    free: () => void,
  ): Promise<AcceptOutcome> {
    // The message's identity; a caller that stored it already knows the digest.
    const key = envelope.sha256 ?? createHash("sha256").update(raw).digest("hex");
    let outer: MimePart;
    const env: Envelope = {
      key,
      messageId: `<${key}@unknown>`,
      from: mailAddress(envelope.from),
      isNotice: false,
    };
    try {
      outer = parsePart(raw);
      env.messageId = outer.headers.get("message-id") ?? env.messageId;
      env.from = mailAddress(outer.headers.get("from")) || env.from;
      env.isNotice = mediaType(outer.headers.get("content-type")).type === "multipart/report";
    } catch (error) {
      outer = { headers: new Map(), body: raw };
      if (!(error instanceof RelayMalformed)) throw error;
    }
    env.entry = env.from ? await options.addressBook.findByAddress(env.from) : undefined;
    const previous = await db.selectFrom("relay_messages").selectAll()
      .where("message_key", "=", key).executeTakeFirst();
    if (previous) {
      env.transferId = previous.transfer_id ?? undefined;
      env.partNumber = previous.part_number ?? undefined;
      env.partCount = previous.part_count ?? undefined;
      env.isNotice ||= previous.kind === "notification";
      return await repeat(env, previous);
    }
    try {
      // Decrypted (or refused): the envelope's headers are parsed, its bytes not needed again.
      const opened = await openVerified(raw, outer, env).finally(free);
      const content = parsePart(opened.content);
      if (isDispositionReport(content)) {
        env.isNotice = true;
        const notice = readDispositionReport(content);
        const applied = await outbound.applyNotice(notice, env.from);
        env.transferId = applied.transferId;
        env.partNumber = applied.partNumber;
        await recordMessage(env, "notification", notice.stage);
        return {
          kind: "notification",
          repeated: false,
          stage: notice.stage,
          transferId: applied.transferId,
          partNumber: applied.partNumber,
        };
      }
      const payload = await dicomEmailPayload(content) ?? xdmPayload(content);
      // A payload decoded into a buffer of its own does not need the decrypted message any more:
      // freed before the instances are stored (a 10 MB part's message is some 14 MB).
      if (payload.standalone) releaseBytes(opened.content);
      let stored;
      try {
        stored = await importPart(env, payload);
      } finally {
        // The decoded zip and the decrypted message are ours and stored by now: free them.
        payload.release?.();
        releaseBytes(opened.content);
      }
      const { info, duplicate } = stored;
      if (!duplicate && stored.patient) {
        await options.onPartStored?.({
          transferId: info.transferId,
          partNumber: info.partNumber,
          partCount: info.partCount,
          studyInstanceUid: stored.studyUid ?? "",
          senderUra: env.entry!.ura,
          patient: stored.patient,
          sopInstanceUids: stored.sopInstanceUids,
        });
      }
      const complete = await completeIfAllIn(info.transferId);
      await sendProcessed(env);
      await recordMessage(env, "part", "stored");
      return {
        kind: "part",
        repeated: false,
        transferId: info.transferId,
        partNumber: info.partNumber,
        partCount: info.partCount,
        duplicate,
        complete,
      };
    } catch (error) {
      if (!(error instanceof RelayRefusal)) throw error; // transient: the caller retries later
      // The sender's address and the reason; never patient data.
      ctx.log.warn("message refused", {
        code: error.code,
        reason: error.message,
        from: env.from,
        messageId: env.messageId,
        transferId: env.transferId,
      });
      await ctx.audit({
        action: "relay.refused",
        outcome: "failure",
        peerAddress: env.from,
        peerUra: env.entry?.ura,
        transferId: env.transferId,
        partNumber: env.partNumber,
        messageId: env.messageId,
        code: error.code,
        reason: error.message,
      });
      await recordMessage(env, env.isNotice ? "notification" : "part", "refused", {
        code: error.code,
        reason: error.message,
      });
      const notified = await notifyRefusal(env, error.code, error.message);
      return {
        kind: "refused",
        repeated: false,
        code: error.code,
        reason: error.message,
        notified,
      };
    }
  }

  /** The study of an inbound transfer is in the PACS: tell the sender (stage "imported"). */
  async function confirmImported(transferId: string): Promise<void> {
    const transfer = await transferRow(db, "in", transferId);
    if (!transfer) throw new RelayTransferNotFound(`no inbound transfer ${transferId}`);
    const first = (await partRows(db, "in", transferId))[0];
    if (await setTransferState(db, "in", transferId, "imported", ctx.now())) {
      if (transfer.state !== "imported") await ctx.event("in", transferId, "imported");
    }
    await ctx.sendNotice(transfer.peer_address, {
      originalMessageId: first?.message_id ?? `<${transferId}@unknown>`,
      stage: "imported",
      transferId,
    }, `Beeldpoort importbevestiging ${transferId}`);
    await ctx.audit({
      action: "relay.imported",
      outcome: "success",
      peerAddress: transfer.peer_address,
      peerUra: transfer.peer_ura ?? undefined,
      transferId,
      studyInstanceUid: transfer.study_instance_uid ?? undefined,
    });
  }

  return { acceptMessage, confirmImported };
}
