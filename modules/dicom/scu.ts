/**
 * A small SCU: C-ECHO, and C-STORE of Part-10 files whose dataset bytes go out unchanged, each
 * proposed with exactly its own transfer syntax in its own presentation context (never
 * transcoded; standards.md 8.7, dicom-feasibility.md 3 hazard 1).
 */
import { concatBytes, releaseBytes } from "../core/mod.ts";
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
 * Re-chunks bytes into even-length pieces (dcmtk refuses odd PDV lengths), padding an odd total
 * with one NUL byte: a deflated dataset may end on an odd byte (PS3.5 A.5, PS3.8 9.3.5.1).
 */
async function* evenChunks(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let carry: number | null = null;
  for await (const chunk of source) {
    if (chunk.length === 0) continue;
    let piece = chunk;
    if (carry !== null) {
      piece = new Uint8Array(chunk.length + 1);
      piece[0] = carry;
      piece.set(chunk, 1);
      carry = null;
    }
    if (piece.length % 2 === 1) {
      carry = piece[piece.length - 1];
      piece = piece.subarray(0, piece.length - 1);
    }
    if (piece.length > 0) yield piece;
  }
  if (carry !== null) yield Uint8Array.of(carry, 0);
}

/** Reads a file from `offset`. */
async function* fileBytes(path: string, offset: number): AsyncGenerator<Uint8Array> {
  using file = await Deno.open(path, { read: true });
  await file.seek(offset, Deno.SeekMode.Start);
  for (;;) {
    const buffer = new Uint8Array(256 * 1024);
    const got = await file.read(buffer);
    if (got === null) break;
    yield buffer.subarray(0, got);
  }
}

/** The meta header is always within this many bytes of the start (PS3.10 7.1: group 0002). */
const metaWindow = 64 * 1024;

/**
 * The dataset bytes of a Part-10 stream: the preamble and meta header are read and dropped. With
 * `handOver`, chunks joined to find the dataset's start are freed once copied.
 */
async function* datasetOfPart10(
  stream: ReadableStream<Uint8Array>,
  handOver = false,
): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    const head: Uint8Array[] = [];
    let held = 0;
    let ended = false;
    while (held < metaWindow) {
      const { value, done } = await reader.read();
      if (done) {
        ended = true;
        break;
      }
      head.push(value);
      held += value.length;
    }
    // One chunk is the usual case (the spool's are 128 KiB): no copy, so it can be handed over.
    const joined = head.length === 1 ? head[0] : concatBytes(head);
    if (handOver && head.length > 1) head.forEach(releaseBytes);
    const { datasetOffset } = readPart10Header(joined);
    yield joined.subarray(datasetOffset);
    if (ended) return;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
    await stream.cancel().catch(() => {});
  }
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
 * One object to send: what negotiation needs, and its Part-10 bytes (preamble, meta header,
 * dataset) opened only when its turn comes, e.g. from the spool. Only the dataset goes out.
 */
export interface StoreObject {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  open(): Promise<ReadableStream<Uint8Array>>;
  /**
   * The stream's chunks are fresh buffers that nothing else holds (as the spool's are): each is
   * freed once sent instead of being left to the garbage collector.
   */
  handOver?: boolean;
}

/** Options of `cStoreObjects`. */
export interface CStoreObjectsOptions extends ScuOptions {
  objects: StoreObject[];
  /** Associations opened in parallel, the objects spread over them in turn. Default 1. */
  associations?: number;
  /** Called as each response arrives, before the next object on that association is sent. */
  onResult?: (result: StoreObjectResult) => void | Promise<void>;
  /** Aborts the associations (A-ABORT) at the next object boundary or read. */
  signal?: AbortSignal;
}

/** The outcome for one object. */
export interface StoreObjectResult {
  sopInstanceUid: string;
  /** The C-STORE-RSP status, or null when the object was not sent (see `comment`). */
  status: number | null;
  comment?: string;
}

/**
 * Whether a C-STORE-RSP status means the destination kept the object: success, or one of the
 * warnings "coercion of data elements" (B000), "elements discarded" (B006) and "data set does not
 * match SOP class" (B007) (PS3.4 B.2.3).
 *
 * @example
 * ```ts
 * isStored(0xb000); // true, but worth recording
 * ```
 */
export function isStored(status: number | null): boolean {
  return status === 0x0000 || status === 0xb000 || status === 0xb006 || status === 0xb007;
}

/** An object's dataset, opened: its bytes, and how to let go of it unsent. */
interface OpenedDataset {
  chunks: AsyncIterable<Uint8Array>;
  discard(): Promise<void>;
}

interface Sendable {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  dataset(): Promise<OpenedDataset>;
  /** See StoreObject.handOver. */
  handOver?: boolean;
}

/**
 * Each distinct (SOP class, transfer syntax) pair gets its own presentation context proposing only
 * that syntax, so nothing is ever transcoded.
 */
function proposals(objects: Sendable[]) {
  const contexts: PresentationContextProposal[] = [];
  const contextOf = new Map<string, number>();
  for (const object of objects) {
    const key = `${object.sopClassUid}|${object.transferSyntaxUid}`;
    if (contextOf.has(key)) continue;
    const id = contexts.length * 2 + 1;
    // PS3.8 9.3.2.2: context ids are odd and at most 255, so 128 contexts per association.
    if (id > 255) {
      throw new RangeError("more than 128 SOP class / transfer syntax pairs in one association");
    }
    contextOf.set(key, id);
    contexts.push({
      id,
      abstractSyntax: object.sopClassUid,
      transferSyntaxes: [object.transferSyntaxUid],
    });
  }
  return { contexts, contextOf };
}

async function storeOver(
  options: ScuOptions,
  objects: Sendable[],
  onResult: (result: StoreObjectResult) => void | Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  if (objects.length === 0) return;
  const { contexts, contextOf } = proposals(objects);
  const association = await open(options, contexts);
  const onAbort = () => void association.abort(0, 0);
  signal?.addEventListener("abort", onAbort);
  const contextFor = (object: Sendable) => {
    const contextId = contextOf.get(`${object.sopClassUid}|${object.transferSyntaxUid}`)!;
    const accepted = association.contexts.get(contextId);
    return accepted?.transferSyntax === object.transferSyntaxUid ? contextId : undefined;
  };
  const sendable = objects.filter((object) => contextFor(object) !== undefined);
  // The next object is opened while this one is on the wire and in the PACS: opening a spool
  // object (file, header, key) otherwise waited for each response, on a busy event loop too.
  let next: Promise<OpenedDataset> | undefined;
  const prepare = (at: number) => {
    next = sendable[at]?.dataset();
    next?.catch(() => {});
  };
  try {
    let messageId = 0;
    let sent = 0;
    prepare(0);
    for (const object of objects) {
      signal?.throwIfAborted();
      const contextId = contextFor(object);
      if (contextId === undefined) {
        await onResult({
          sopInstanceUid: object.sopInstanceUid,
          status: null,
          comment:
            `no accepted presentation context for ${object.sopClassUid} in ${object.transferSyntaxUid}`,
        });
        continue;
      }
      messageId = (messageId + 1) & 0xffff;
      const dataset = await next!;
      next = undefined;
      prepare(++sent);
      await association.sendCommand(contextId, {
        commandField: CommandField.cStoreRq,
        messageId,
        priority: 0,
        affectedSopClassUid: object.sopClassUid,
        affectedSopInstanceUid: object.sopInstanceUid,
        commandDataSetType: 0x0000,
      });
      await association.sendFragments(contextId, false, evenChunks(dataset.chunks), true, {
        handOver: object.handOver,
      });
      const response = await awaitResponse(association, messageId);
      await onResult({
        sopInstanceUid: object.sopInstanceUid,
        status: response.status ?? 0xc000,
        comment: response.errorComment,
      });
    }
    await release(association);
  } catch (error) {
    await association.abort(0, 0);
    throw error;
  } finally {
    signal?.removeEventListener("abort", onAbort);
    // Opened ahead and never sent (an error, an abort): closed, not left to the collector.
    const unsent = await next?.catch(() => undefined);
    await unsent?.discard();
  }
}

/**
 * Sends objects with C-STORE, dataset bytes unchanged, each proposed with its own transfer syntax.
 * With `associations` > 1 the objects are spread over that many associations in parallel. Each
 * response is passed to `onResult` as it arrives; an object whose context was refused gets status
 * null and is not sent. When an association fails, the others finish and the first error is
 * thrown; results already reported stand.
 *
 * @example
 * ```ts
 * await cStoreObjects({
 *   host: "pacs", port: 104, callingAe: "BEELDPOORT", calledAe: "PACS", associations: 2,
 *   objects: instances.map((i) => ({ ...i, open: () => spool.get(i.spoolId) })),
 *   onResult: (r) => console.log(r.sopInstanceUid, r.status),
 * });
 * ```
 */
export async function cStoreObjects(options: CStoreObjectsOptions): Promise<StoreObjectResult[]> {
  const results: StoreObjectResult[] = [];
  const lanes = Math.max(1, Math.min(options.associations ?? 1, options.objects.length));
  const sendables: Sendable[][] = Array.from({ length: lanes }, () => []);
  options.objects.forEach((object, i) =>
    sendables[i % lanes].push({
      ...object,
      dataset: async () => {
        const stream = await object.open();
        return {
          chunks: datasetOfPart10(stream, object.handOver),
          discard: () => stream.cancel().catch(() => {}),
        };
      },
    })
  );
  const record = async (result: StoreObjectResult) => {
    results.push(result);
    await options.onResult?.(result);
  };
  const outcomes = await Promise.allSettled(
    sendables.map((lane) => storeOver(options, lane, record, options.signal)),
  );
  const failed = outcomes.find((o) => o.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return results;
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
  const fileOf = new Map(heads.map((h) => [h.sopInstanceUid, h.file]));
  const results: CStoreResult[] = [];
  await storeOver(
    options,
    heads.map((head) => ({
      ...head,
      // Opened only when read: nothing to let go of.
      dataset: () =>
        Promise.resolve({
          chunks: fileBytes(head.file, head.datasetOffset),
          discard: () => Promise.resolve(),
        }),
      handOver: true,
    })),
    (r) => void results.push({ file: fileOf.get(r.sopInstanceUid) ?? "", ...r }),
  );
  return results;
}
