/**
 * Outbound: a study from the spool -> XDM parts (or DICOM e-mail parts, for an endpoint that does
 * not accept XDM) -> one signed and encrypted mail per part, each kept sealed in the spool until the
 * peer acknowledges it (standards.md §4.5: never rebuild on retry, so Message-ID and bytes stay
 * identical) -> notifications move the transfer through its states.
 */
import { type PayloadFormat, type Recipient, RecipientNotUsable } from "../addressbook/mod.ts";
import { readInstanceHeader } from "../dicom/mod.ts";
import { seal } from "../smime/mod.ts";
import type { StudyInstance } from "../studies/mod.ts";
import { base64Lines, packXdm, type XdmInstance, type XdmPart, type XdmStudy } from "../xdm/mod.ts";
import { newId, piecesOf, releaseBytes, subaddress } from "../core/mod.ts";
import type { RelayContext } from "./context.ts";
import { dicomEmailParts } from "./dicom_email_parts.ts";
import { RelayNothingToSend, RelayRecipientUnusable, RelayTransferNotFound } from "./errors.ts";
import type { DispositionNotice } from "./mdn.ts";
import { buildPart } from "./mime.ts";
import type { SealablePart } from "./payload.ts";
import { partRows, setTransferState, transferRow, transferStatus } from "./store.ts";
import type { RelayAuditEvent, SendTransferRequest, TransferStatus } from "./types.ts";

/**
 * Both layers are base64 with CRLF every 76 characters (78 bytes per 57): the zip inside the signed
 * entity, and the CMS envelope outside. So a zip grows by (78/57)^2 ≈ 1.87 on the wire, not by 1.37.
 */
export const WIRE_GROWTH = (78 / 57) ** 2;
/** Room for the outer headers, the signature, certificates and RecipientInfos. */
export const WIRE_HEADROOM = 64 * 1024;
/**
 * 10 MB of zip, 19 MB on the wire: under common mail limits, and measured on the relay benchmark
 * (1000 instances) against 20 MB parts: 22-23 s against 26-27 s, B's CPU 17 s against 21-22 s,
 * peak RSS B 450-480 MB against 690-740 MB.
 */
const DEFAULT_PART_SIZE = 10_000_000;
const HEADER_BYTES = 256 * 1024;
/** Spool chunk size for mail messages (see spool PutOptions.chunkSize). */
export const MESSAGE_CHUNK_BYTES = 1 << 20;

/** The largest zip per part for an endpoint whose MTA takes `maxMessageBytes` (as transmitted). */
export function partSizeFor(configured: number, maxMessageBytes?: number): number {
  if (!maxMessageBytes) return configured;
  return Math.max(
    4096,
    Math.min(configured, Math.floor((maxMessageBytes - WIRE_HEADROOM) / WIRE_GROWTH)),
  );
}

/** A stream that opens the spool object only when first read (packXdm opens instances lazily). */
function lazySpoolStream(
  open: () => Promise<ReadableStream<Uint8Array>>,
): ReadableStream<Uint8Array> {
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  return new ReadableStream({
    async pull(controller) {
      reader ??= (await open()).getReader();
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => reader?.cancel(reason),
  });
}

async function readHead(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const out = new Uint8Array(HEADER_BYTES);
  let filled = 0;
  const reader = stream.getReader();
  while (filled < HEADER_BYTES) {
    const { done, value } = await reader.read();
    if (done) break;
    const take = Math.min(value.length, HEADER_BYTES - filled);
    out.set(value.subarray(0, take), filled);
    filled += take;
  }
  await reader.cancel();
  return out.subarray(0, filled);
}

async function collectChunks(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

/**
 * XDM parts as entities to seal: the zip as an application/zip attachment, in base64, or as it is
 * for a recipient that takes binary parts inside the encryption (RFC 8551 §3.1.2).
 */
async function* xdmEntities(
  parts: AsyncIterable<XdmPart>,
  binary: boolean,
): AsyncGenerator<SealablePart> {
  for await (const part of parts) {
    const head = buildPart([
      ["Content-Type", `application/zip; name="${part.fileName}"`],
      ["Content-Transfer-Encoding", binary ? "binary" : "base64"],
      ["Content-Disposition", `attachment; filename="${part.fileName}"`],
    ], "");
    yield {
      partNumber: part.partNumber,
      partCount: part.partCount,
      instanceCount: part.instanceCount,
      binary,
      chunks: (async function* () {
        yield head;
        if (!binary) {
          yield* base64Lines(part.stream);
          return;
        }
        // The entity's chunks are freed once sealed, and some zip chunks are the packer's own
        // (the manifest goes into every part): copies, as base64Lines makes new bytes too.
        for await (const chunk of part.stream) yield chunk.slice();
      })(),
      // The packer still wants a skipped part read before it builds the next.
      skip: () => part.stream.pipeTo(new WritableStream()),
    };
  }
}

/** Formats in the order we prefer them: XDM where the endpoint takes it, else DICOM e-mail. */
const FORMATS: readonly PayloadFormat[] = ["xdm", "dicom-email"];

export function createOutbound(ctx: RelayContext) {
  const { options } = ctx;
  const { db, spool, studies, identity } = options;

  /** The endpoint and format for `ura`; a transfer packed before a crash keeps its format. */
  async function chooseRecipient(
    ura: string,
    department?: string,
    format?: PayloadFormat,
  ): Promise<{ recipient: Recipient; format: PayloadFormat }> {
    let refusal: RecipientNotUsable | undefined;
    for (const candidate of format ? [format] : FORMATS) {
      try {
        const recipient = await options.addressBook.recipient(ura, {
          format: candidate,
          department,
        });
        return { recipient, format: candidate };
      } catch (error) {
        if (!(error instanceof RecipientNotUsable)) throw error;
        // "accepts no such format" says less than why an endpoint that does is unusable.
        if (!refusal || refusal.reasonCode === "FORMAT_NOT_ACCEPTED") refusal = error;
      }
    }
    const reason = refusal!.reasonCode === "FORMAT_NOT_ACCEPTED"
      ? `no endpoint accepts ${format ?? FORMATS.join(" or ")}`
      : refusal!.message;
    throw new RelayRecipientUnusable(`cannot send to ${ura}: ${reason}`, { cause: refusal });
  }

  async function studyOf(uid: string, instances: StudyInstance[]): Promise<XdmStudy> {
    const header = readInstanceHeader(await readHead(await spool.get(instances[0].spoolId)));
    const summary = await studies.getStudy(uid);
    return {
      studyInstanceUid: uid,
      patient: {
        id: header.patientId ?? summary?.patientId ?? "",
        issuerOid: header.issuerOfPatientIdOid,
        bsn: header.bsn,
        name: header.patientName,
        birthDate: header.patientBirthDate,
        sex: header.patientSex,
      },
      studyDate: header.studyDate,
      studyTime: header.studyTime,
      description: header.studyDescription,
      accessionNumber: header.accessionNumber,
      studyId: header.studyId,
      referringPhysicianName: header.referringPhysicianName,
      modalities: summary?.modalities.length
        ? summary.modalities
        : header.modality
        ? [header.modality]
        : [],
    };
  }

  /**
   * Hands one sealed part to the transport; the part keeps its bytes and Message-ID. `sealed` is
   * the part's stored bytes still in memory, just sealed: sent from there instead of being read
   * back and decrypted from the spool, and freed once sent.
   */
  async function sendPart(
    transferId: string,
    partNumber: number,
    peerAddress: string,
    sealed?: Uint8Array,
  ) {
    const part = await db.selectFrom("relay_parts").selectAll()
      .where("direction", "=", "out").where("transfer_id", "=", transferId)
      .where("part_number", "=", partNumber).executeTakeFirstOrThrow();
    if (!part.spool_id) return; // acknowledged: its sealed copy is gone, nothing to send
    await db.updateTable("relay_parts").set((eb) => ({ attempts: eb("attempts", "+", 1) }))
      .where("direction", "=", "out").where("transfer_id", "=", transferId)
      .where("part_number", "=", partNumber).execute();
    try {
      await options.transport.send({
        to: peerAddress,
        from: identity.address,
        messageId: part.message_id,
        raw: sealed
          ? ReadableStream.from(piecesOf(sealed, MESSAGE_CHUNK_BYTES))
          : await spool.get(part.spool_id),
      });
    } finally {
      if (sealed) releaseBytes(sealed);
    }
    await db.transaction().execute(async (tx) => {
      // Only "packed" moves to "sent": a notification may already have arrived while we sent.
      await tx.updateTable("relay_parts").set({ state: "sent", sent_at: ctx.now() })
        .where("direction", "=", "out").where("transfer_id", "=", transferId)
        .where("part_number", "=", partNumber).where("state", "=", "packed").execute();
      await ctx.event("out", transferId, "part-sent", { partNumber, detail: part.message_id }, tx);
    });
  }

  async function sendTransfer(request: SendTransferRequest): Promise<TransferStatus> {
    const transferId = request.transferId ?? newId(ctx.clock.now().getTime());
    const existing = await transferRow(db, "out", transferId);
    if (existing && existing.state !== "packing") {
      for (const part of await partRows(db, "out", transferId)) {
        if (part.state === "packed") {
          await sendPart(transferId, part.part_number, existing.peer_address);
        }
      }
      return (await transferStatus(db, "out", transferId))!;
    }
    const { recipient, format } = await chooseRecipient(
      request.recipientUra,
      request.department,
      existing?.format as PayloadFormat | undefined,
    );
    const filter = request.instanceFilter ?? (() => true);
    const instances = (await studies.studyInstances(request.studyInstanceUid)).filter(filter);
    if (instances.length === 0) {
      throw new RelayNothingToSend(`study ${request.studyInstanceUid} has no instances to send`);
    }
    const endpoint = recipient.endpoint;
    const { certificate, algorithm } = await ctx.encryptionFor(endpoint);
    const partSize = partSizeFor(
      options.partSizeBytes ?? DEFAULT_PART_SIZE,
      endpoint.maxMessageBytes,
    );
    const at = ctx.now();
    if (!existing) {
      await db.insertInto("relay_transfers").values({
        direction: "out",
        id: transferId,
        study_instance_uid: request.studyInstanceUid,
        peer_ura: recipient.ura,
        peer_address: endpoint.address,
        format,
        state: "packing",
        part_count: null,
        instance_count: instances.length,
        reason: null,
        reason_code: null,
        patient_json: null,
        created_at: at,
        updated_at: at,
      }).execute();
      await ctx.event("out", transferId, "packing", {
        detail:
          `${instances.length} instances for ${recipient.ura} at ${endpoint.address} as ${format}`,
      });
    }
    const sealed = new Set((await partRows(db, "out", transferId)).map((p) => p.part_number));
    // Pipeline: part n goes onto the wire while part n+1 is packed and sealed. Parts leave in
    // order, one at a time, and at most one sealed part waits for its turn, so memory stays at
    // one part being sent and one being sealed whatever the study size.
    let sending: Promise<void> = Promise.resolve();
    let sendFailure: { error: unknown } | undefined;
    const sendInTurn = async (partNumber: number, bytes: Uint8Array) => {
      await sending;
      if (sendFailure) {
        releaseBytes(bytes);
        throw sendFailure.error;
      }
      sending = sendPart(transferId, partNumber, endpoint.address, bytes)
        .catch((error) => void (sendFailure ??= { error }));
    };
    const xdmInstances: XdmInstance[] = instances.map((i) => ({
      sopInstanceUid: i.sopInstanceUid,
      sopClassUid: i.sopClassUid,
      transferSyntaxUid: i.transferSyntaxUid,
      studyUid: request.studyInstanceUid,
      seriesUid: i.seriesInstanceUid,
      size: i.size,
      open: () => lazySpoolStream(() => spool.get(i.spoolId)),
    }));
    const parts = format === "xdm"
      ? xdmEntities(
        packXdm({
          instances: xdmInstances,
          study: await studyOf(request.studyInstanceUid, instances),
          note: request.note,
          sender: {
            ura: identity.ura,
            organizationName: identity.organizationName,
            email: identity.address,
          },
          recipient: {
            email: endpoint.address,
            ura: recipient.ura,
            organizationName: recipient.name,
          },
          partSizeBytes: partSize,
          transferId,
          now: ctx.clock.now(),
          product: options.product,
        }),
        endpoint.binaryContent,
      )
      : dicomEmailParts({
        instances: xdmInstances,
        transferId,
        studyInstanceUid: request.studyInstanceUid,
        partSizeBytes: partSize,
        note: request.note,
      });
    try {
      for await (const part of parts) {
        if (sealed.has(part.partNumber)) {
          // Sealed before a crash: keep those exact bytes.
          await part.skip();
          continue;
        }
        const entity = await collectChunks(part.chunks);
        const messageId = ctx.messageId(`${transferId}.${part.partNumber}`);
        const raw = await seal({
          content: entity,
          binaryContent: part.binary,
          signerCert: ctx.signer.certificate,
          signerKey: ctx.signer.key,
          signerChain: identity.chain,
          recipients: [certificate],
          algorithm,
          headers: {
            From: identity.address,
            To: endpoint.address,
            // No patient data outside the encryption: the Subject names only the transfer.
            Subject:
              `Beeldpoort beeldoverdracht ${transferId} deel ${part.partNumber}/${part.partCount}`,
            "Message-ID": messageId,
            Date: ctx.mailDate(),
            "Disposition-Notification-To": identity.address,
          },
        });
        entity.forEach(releaseBytes); // ours, and sealed now
        const stored = await spool.put(ReadableStream.from([raw]), {
          chunkSize: MESSAGE_CHUNK_BYTES,
        });
        const rawLength = raw.length;
        // The part, the transfer's part count and the timeline entry: one transaction, one flush.
        await db.transaction().execute(async (tx) => {
          await tx.insertInto("relay_parts").values({
            direction: "out",
            transfer_id: transferId,
            part_number: part.partNumber,
            part_count: part.partCount,
            message_id: messageId,
            spool_id: stored.id,
            bytes: rawLength,
            instance_count: part.instanceCount,
            state: "packed",
            reason: null,
            created_at: ctx.now(),
            sent_at: null,
            acknowledged_at: null,
          }).execute();
          await tx.updateTable("relay_transfers").set({ part_count: part.partCount })
            .where("direction", "=", "out").where("id", "=", transferId).execute();
          await ctx.event("out", transferId, "part-sealed", {
            partNumber: part.partNumber,
            detail: `${part.instanceCount} instances, ${rawLength} bytes, ${algorithm}`,
          }, tx);
        });
        await sendInTurn(part.partNumber, raw);
      }
    } finally {
      // Never leave a send running behind a failed pack: a retry would race it.
      await sending;
    }
    if (sendFailure) throw sendFailure.error;
    // Parts sealed before a crash but never handed over.
    for (const part of await partRows(db, "out", transferId)) {
      if (part.state === "packed") await sendPart(transferId, part.part_number, endpoint.address);
    }
    if (await setTransferState(db, "out", transferId, "sent", ctx.now(), { from: ["packing"] })) {
      await ctx.event("out", transferId, "sent");
    }
    await ctx.audit({
      action: "relay.sent",
      outcome: "success",
      peerAddress: endpoint.address,
      peerUra: recipient.ura,
      transferId,
      studyInstanceUid: request.studyInstanceUid,
    });
    return (await transferStatus(db, "out", transferId))!;
  }

  /** Sends again every part the peer has not acknowledged, with its original bytes. */
  async function resendMissing(transferId: string): Promise<number[]> {
    const transfer = await transferRow(db, "out", transferId);
    if (!transfer) throw new RelayTransferNotFound(`no outbound transfer ${transferId}`);
    const resent: number[] = [];
    for (const part of await partRows(db, "out", transferId)) {
      if (part.state === "processed") continue;
      await sendPart(transferId, part.part_number, transfer.peer_address);
      resent.push(part.part_number);
    }
    await ctx.event("out", transferId, "resent", {
      detail: `parts ${resent.join(", ") || "none"}`,
    });
    return resent;
  }

  /** Applies a verified notification from `from` to our outbound transfer. */
  async function applyNotice(
    notice: DispositionNotice,
    from: string,
  ): Promise<{ transferId?: string; partNumber?: number }> {
    let part = await db.selectFrom("relay_parts").selectAll()
      .where("direction", "=", "out").where("message_id", "=", notice.originalMessageId)
      .executeTakeFirst();
    if (!part && notice.transferId && notice.partNumber) {
      part = await db.selectFrom("relay_parts").selectAll()
        .where("direction", "=", "out").where("transfer_id", "=", notice.transferId)
        .where("part_number", "=", notice.partNumber).executeTakeFirst();
    }
    const transferId = part?.transfer_id ?? notice.transferId;
    const transfer = transferId ? await transferRow(db, "out", transferId) : undefined;
    // The peer answers from its mailbox; we may have written to a department's subaddress of it.
    if (!transfer || subaddress(transfer.peer_address).mailbox !== subaddress(from).mailbox) {
      ctx.log.warn("notification for no transfer of ours from this peer; ignored", {
        from,
        originalMessageId: notice.originalMessageId,
      });
      return {};
    }
    const id = transfer.id;
    const at = ctx.now();
    const partNumber = part?.part_number;
    const audit = (action: RelayAuditEvent["action"], extra: Partial<RelayAuditEvent> = {}) =>
      ctx.audit({
        action,
        outcome: action === "relay.failed" ? "failure" : "success",
        peerAddress: from,
        peerUra: transfer.peer_ura ?? undefined,
        transferId: id,
        studyInstanceUid: transfer.study_instance_uid ?? undefined,
        ...extra,
      });
    if (notice.stage === "refused") {
      const reason = notice.reason ?? "refused by the peer";
      if (part) {
        await db.updateTable("relay_parts").set({ state: "failed", reason })
          .where("direction", "=", "out").where("transfer_id", "=", id)
          .where("part_number", "=", part.part_number).where("state", "!=", "processed").execute();
      }
      await setTransferState(db, "out", id, "failed", at, {
        reason,
        reasonCode: notice.code ?? null,
        from: ["packing", "sent", "failed", "delivered"],
      });
      await ctx.event("out", id, "failed", {
        partNumber,
        detail: `${notice.code ?? ""} ${reason}`.trim(),
      });
      ctx.log.warn("peer refused a part", {
        transferId: id,
        partNumber,
        code: notice.code,
        reason,
      });
      await audit("relay.failed", { partNumber, code: notice.code, reason });
      await options.onTransferState?.({
        transferId: id,
        state: "failed",
        reason,
        reasonCode: notice.code,
      });
      return { transferId: id, partNumber };
    }
    // processed or imported: the part (for imported: every part) is acknowledged.
    let ack = db.updateTable("relay_parts").set({
      state: "processed",
      acknowledged_at: at,
      reason: null,
    })
      .where("direction", "=", "out").where("transfer_id", "=", id).where(
        "state",
        "!=",
        "processed",
      );
    if (notice.stage === "processed") ack = ack.where("part_number", "=", partNumber ?? -1);
    const acked = Number((await ack.executeTakeFirst()).numUpdatedRows);
    if (acked > 0) {
      await ctx.event("out", id, "part-processed", { partNumber });
      await dropSealedCopies(id);
    }
    const parts = await partRows(db, "out", id);
    const allIn = transfer.part_count !== null && parts.length === transfer.part_count &&
      parts.every((p) => p.state === "processed");
    if (notice.stage === "imported") {
      if (
        await setTransferState(db, "out", id, "imported", at, { reason: null, reasonCode: null })
      ) {
        if (transfer.state !== "imported") {
          await ctx.event("out", id, "imported");
          await audit("relay.imported");
        }
      }
      await options.onTransferState?.({ transferId: id, state: "imported" });
    } else if (allIn) {
      const moved = await setTransferState(db, "out", id, "delivered", at, {
        from: ["packing", "sent", "failed"],
        reason: null,
        reasonCode: null,
      });
      if (moved) {
        await ctx.event("out", id, "delivered");
        await audit("relay.delivered");
      }
      await options.onTransferState?.({ transferId: id, state: "delivered" });
    }
    return { transferId: id, partNumber };
  }

  /** Acknowledged parts need no resend: their sealed copies leave the spool. */
  async function dropSealedCopies(transferId: string) {
    const done = await db.selectFrom("relay_parts").select(["part_number", "spool_id"])
      .where("direction", "=", "out").where("transfer_id", "=", transferId)
      .where("state", "=", "processed").where("spool_id", "is not", null).execute();
    for (const part of done) {
      await spool.delete(part.spool_id!);
      await db.updateTable("relay_parts").set({ spool_id: null })
        .where("direction", "=", "out").where("transfer_id", "=", transferId)
        .where("part_number", "=", part.part_number).execute();
    }
  }

  return { sendTransfer, resendMissing, applyNotice };
}
