/**
 * A small SCU: C-ECHO, and C-STORE of Part-10 files whose dataset bytes go out unchanged, each
 * proposed with exactly its own transfer syntax in its own presentation context (never
 * transcoded; standards.md 8.7, dicom-feasibility.md 3 hazard 1).
 */
import {
  AbortReason,
  CommandField,
  defaultImplementationClassUid,
  defaultImplementationVersionName,
  noDataSet,
  PduType,
  verificationSopClassUid,
} from "./constants.ts";
import { Association } from "./association.ts";
import { AssociationAborted, AssociationRejected, DicomProtocolError } from "./errors.ts";
import type { AcceptedContext } from "./negotiation.ts";
import { readPart10Header } from "./part10.ts";
import {
  encodeAssociateRq,
  encodeReleaseRq,
  newAssociateRq,
  type PresentationContextProposal,
} from "./pdu.ts";

/** Where and as whom an SCU connects. */
export interface ScuOptions {
  host: string;
  port: number;
  callingAe: string;
  calledAe: string;
  /** Our receive limit, advertised in the A-ASSOCIATE-RQ. Default 262144. */
  maxPduLength?: number;
  /** Peer silence allowed before we abort. Default 30 s. */
  timeoutMs?: number;
}

/** Options of `cEcho`. */
export type CEchoOptions = ScuOptions;

/** Options of `cStore`. */
export interface CStoreOptions extends ScuOptions {
  /** Part-10 files; all go over one association. */
  files: string[];
}

/** The outcome for one file. */
export interface CStoreResult {
  file: string;
  sopInstanceUid: string;
  /** The C-STORE-RSP status, or null when the file was not sent (see `comment`). */
  status: number | null;
  comment?: string;
}

async function open(
  options: ScuOptions,
  contexts: PresentationContextProposal[],
): Promise<Association> {
  const conn = await Deno.connect({ hostname: options.host, port: options.port });
  conn.setNoDelay(true);
  const association = new Association(conn, options.maxPduLength ?? 262144);
  association.reader.timeoutMs = options.timeoutMs ?? 30_000;
  association.reader.onTimeout = () => void association.abort(0, 0);
  try {
    await association.send(encodeAssociateRq(newAssociateRq({
      calledAe: options.calledAe,
      callingAe: options.callingAe,
      contexts,
      userInfo: {
        maxPduLength: association.maxReceivePdu,
        implementationClassUid: defaultImplementationClassUid,
        implementationVersionName: defaultImplementationVersionName,
        roles: [],
      },
    })));
    const answer = await association.readPdu();
    if (answer === null) {
      throw new AssociationAborted("peer closed the connection during negotiation");
    }
    if (answer.type === PduType.associateRj) {
      throw new AssociationRejected(answer.rj.result, answer.rj.source, answer.rj.reason);
    }
    if (answer.type === PduType.abort) {
      throw AssociationAborted.fromAbortPdu(answer.source, answer.reason);
    }
    if (answer.type !== PduType.associateAc) {
      throw new DicomProtocolError("unexpected PDU during negotiation", AbortReason.unexpectedPdu);
    }
    association.peerMaxPdu = answer.ac.userInfo.maxPduLength;
    const accepted = new Map<number, AcceptedContext>();
    for (const result of answer.ac.contexts) {
      const proposal = contexts.find((c) => c.id === result.id);
      if (proposal && result.result === 0 && result.transferSyntax) {
        accepted.set(result.id, {
          abstractSyntax: proposal.abstractSyntax,
          transferSyntax: result.transferSyntax,
        });
      }
    }
    association.contexts = accepted;
    return association;
  } catch (error) {
    if (error instanceof DicomProtocolError) await association.abort(2, error.abortReason);
    association.close();
    throw error;
  }
}

async function release(association: Association): Promise<void> {
  try {
    await association.send(encodeReleaseRq());
    for (;;) {
      const event = await association.nextEvent();
      if (event.kind === "release-rp" || event.kind === "closed") break;
    }
  } finally {
    association.close();
  }
}

async function awaitResponse(association: Association, messageId: number) {
  const message = await association.readCommand();
  if (message.kind !== "command") {
    throw new AssociationAborted(`peer sent ${message.kind} instead of a response`);
  }
  if (message.command.messageIdBeingRespondedTo !== messageId) {
    throw new DicomProtocolError("response to another message", AbortReason.unexpectedPduParameter);
  }
  if (message.command.commandDataSetType !== noDataSet) {
    await association.datasetStream(message.contextId).finish();
  }
  return message.command;
}

/**
 * Verifies a peer with C-ECHO (PS3.7 9.1.5); resolves to the response status (0 = success).
 * Throws `AssociationRejected` with the reason in words when the peer refuses us.
 *
 * @example
 * ```ts
 * const status = await cEcho({ host: "pacs", port: 104, callingAe: "BEELDPOORT", calledAe: "PACS" });
 * ```
 */
export async function cEcho(options: CEchoOptions): Promise<number> {
  const association = await open(options, [{
    id: 1,
    abstractSyntax: verificationSopClassUid,
    transferSyntaxes: ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1"],
  }]);
  try {
    if (!association.contexts.has(1)) throw new AssociationRejected(1, 1, 1);
    await association.sendCommand(1, {
      commandField: CommandField.cEchoRq,
      messageId: 1,
      affectedSopClassUid: verificationSopClassUid,
      commandDataSetType: noDataSet,
    });
    const response = await awaitResponse(association, 1);
    await release(association);
    return response.status ?? 0xc000;
  } catch (error) {
    await association.abort(0, 0);
    throw error;
  }
}

/**
 * Reads a file from `offset` in even-length chunks (dcmtk refuses odd PDV lengths), padding an odd
 * total with one NUL byte: a deflated dataset may end on an odd byte (PS3.5 A.5, PS3.8 9.3.5.1).
 */
async function* fileBytes(path: string, offset: number): AsyncGenerator<Uint8Array> {
  using file = await Deno.open(path, { read: true });
  await file.seek(offset, Deno.SeekMode.Start);
  let carry: number | null = null;
  for (;;) {
    const buffer = new Uint8Array(256 * 1024 + 1);
    let start = 1;
    if (carry !== null) {
      buffer[0] = carry;
      start = 0;
    }
    const got = await file.read(buffer.subarray(1));
    if (got === null) break;
    let end = 1 + got;
    carry = null;
    if ((end - start) % 2 === 1) carry = buffer[--end];
    if (end > start) yield buffer.subarray(start, end);
  }
  if (carry !== null) yield Uint8Array.of(carry, 0);
}

async function readHead(path: string) {
  using file = await Deno.open(path, { read: true });
  const head = new Uint8Array(64 * 1024);
  let filled = 0;
  while (filled < head.length) {
    const got = await file.read(head.subarray(filled));
    if (got === null) break;
    filled += got;
  }
  return readPart10Header(head.subarray(0, filled));
}

/**
 * Sends Part-10 files with C-STORE over one association, dataset bytes unchanged. Each distinct
 * (SOP class, transfer syntax) pair gets its own presentation context proposing only that syntax;
 * a file whose context is refused is reported with status null and not sent.
 *
 * @example
 * ```ts
 * const results = await cStore({
 *   host: "pacs", port: 104, callingAe: "BEELDPOORT", calledAe: "PACS", files: ["ct1.dcm"],
 * });
 * ```
 */
export async function cStore(options: CStoreOptions): Promise<CStoreResult[]> {
  const heads = [];
  for (const file of options.files) heads.push({ file, ...(await readHead(file)) });
  const contexts: PresentationContextProposal[] = [];
  const contextOf = new Map<string, number>();
  for (const head of heads) {
    const key = `${head.sopClassUid}|${head.transferSyntaxUid}`;
    if (contextOf.has(key)) continue;
    const id = contexts.length * 2 + 1;
    // PS3.8 9.3.2.2: context ids are odd and at most 255, so 128 contexts per association.
    if (id > 255) {
      throw new RangeError("more than 128 SOP class / transfer syntax pairs in one association");
    }
    contextOf.set(key, id);
    contexts.push({
      id,
      abstractSyntax: head.sopClassUid,
      transferSyntaxes: [head.transferSyntaxUid],
    });
  }
  const association = await open(options, contexts);
  const results: CStoreResult[] = [];
  try {
    let messageId = 0;
    for (const head of heads) {
      const contextId = contextOf.get(`${head.sopClassUid}|${head.transferSyntaxUid}`)!;
      const accepted = association.contexts.get(contextId);
      if (!accepted || accepted.transferSyntax !== head.transferSyntaxUid) {
        results.push({
          file: head.file,
          sopInstanceUid: head.sopInstanceUid,
          status: null,
          comment:
            `no accepted presentation context for ${head.sopClassUid} in ${head.transferSyntaxUid}`,
        });
        continue;
      }
      messageId = (messageId + 1) & 0xffff;
      await association.sendCommand(contextId, {
        commandField: CommandField.cStoreRq,
        messageId,
        priority: 0,
        affectedSopClassUid: head.sopClassUid,
        affectedSopInstanceUid: head.sopInstanceUid,
        commandDataSetType: 0x0000,
      });
      await association.sendFragments(
        contextId,
        false,
        fileBytes(head.file, head.datasetOffset),
        true,
      );
      const response = await awaitResponse(association, messageId);
      results.push({
        file: head.file,
        sopInstanceUid: head.sopInstanceUid,
        status: response.status ?? 0xc000,
        comment: response.errorComment,
      });
    }
    await release(association);
    return results;
  } catch (error) {
    await association.abort(0, 0);
    throw error;
  }
}
