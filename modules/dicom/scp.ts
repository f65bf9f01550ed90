/**
 * The C-ECHO / C-STORE SCP on `Deno.listen` (PS3.4 Annex A and B, PS3.7 9.1, PS3.8 9.2).
 */
import { type Logger, newId } from "../core/mod.ts";
import {
  abortReasonText,
  CommandField,
  defaultImplementationClassUid,
  defaultImplementationVersionName,
  noDataSet,
  PduType,
  Status,
} from "./constants.ts";
import { Association, withTimeout } from "./association.ts";
import type { Command } from "./dimse.ts";
import { AssociationAborted, DicomProtocolError, DicomTimeout } from "./errors.ts";
import { negotiate } from "./negotiation.ts";
import { buildPart10Header } from "./part10.ts";
import { encodeAssociateAc, encodeAssociateRj, encodeReleaseRp } from "./pdu.ts";
import type { DicomListener } from "./tls_listener.ts";

/** One received C-STORE, handed to the store handler. */
export interface StoreRequest {
  callingAe: string;
  calledAe: string;
  remoteAddress: string;
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  /** The complete Part-10 preamble and meta header we built; the dataset bytes follow it. */
  meta: Uint8Array;
  /**
   * The dataset bytes exactly as received, streamed from the P-DATA fragments with backpressure.
   * Errors with `AssociationAborted` (or `DicomProtocolError`) if the association ends early: then
   * store nothing.
   */
  dataset: ReadableStream<Uint8Array>;
}

/** The handler's answer: the C-STORE-RSP status (PS3.4 B.2.3) and an optional ErrorComment. */
export interface StoreResult {
  status: number;
  comment?: string;
}

/** Stores one instance durably, then resolves; the C-STORE-RSP is sent only after that. */
export type StoreHandler = (request: StoreRequest) => Promise<StoreResult>;

/** Options of `createDicomServer`. */
export interface DicomServerOptions {
  /** Address to bind, e.g. "0.0.0.0" or "127.0.0.1". */
  host: string;
  /** Port to bind; 0 picks a free one (see `DicomServer.port`). */
  port: number;
  /** Our AE title: the called AE must equal it. */
  aeTitle: string;
  /** Calling AE titles allowed to associate; "*" allows any. */
  allowedSenders: string[];
  /** Source IP addresses allowed; absent or empty allows any. */
  allowedAddresses?: string[];
  /** Largest P-DATA-TF we receive (advertised in the A-ASSOCIATE-AC); default 262144. */
  maxPduLength?: number;
  /** Concurrent associations; more are rejected (transient, local limit exceeded). Default 16. */
  maxAssociations?: number;
  /** ARTIM (PS3.8 9.1.5): wait for A-ASSOCIATE-RQ and for the close after release. Default 30 s. */
  artimTimeoutMs?: number;
  /** Peer silence allowed on an established association. Default 120 s. */
  idleTimeoutMs?: number;
  /** How long `close()` lets associations in flight finish before aborting them. Default 10 s. */
  closeGraceMs?: number;
  implementationClassUid?: string;
  implementationVersionName?: string;
  /** Accept on this listener instead of plain TCP on host:port (e.g. `listenDicomTls`). */
  listener?: DicomListener;
  log: Logger;
  store: StoreHandler;
}

/** A listening SCP. */
export interface DicomServer {
  /** The port actually bound. */
  readonly port: number;
  /** Stops accepting; associations in flight finish, or are aborted after the grace time. */
  close(): Promise<void>;
}

/**
 * Starts a C-ECHO and C-STORE SCP.
 *
 * @example
 * ```ts
 * const server = createDicomServer({
 *   host: "127.0.0.1", port: 11112, aeTitle: "BEELDPOORT", allowedSenders: ["CT1"],
 *   log: createLogger(),
 *   store: async (rq) => {
 *     await spool.put(rq.meta, rq.dataset); // durable before we answer
 *     return { status: 0x0000 };
 *   },
 * });
 * await server.close();
 * ```
 */
export function createDicomServer(options: DicomServerOptions): DicomServer {
  const settings = {
    maxPduLength: options.maxPduLength ?? 262144,
    maxAssociations: options.maxAssociations ?? 16,
    artimTimeoutMs: options.artimTimeoutMs ?? 30_000,
    idleTimeoutMs: options.idleTimeoutMs ?? 120_000,
    closeGraceMs: options.closeGraceMs ?? 10_000,
    implementationClassUid: options.implementationClassUid ?? defaultImplementationClassUid,
    implementationVersionName: options.implementationVersionName ??
      defaultImplementationVersionName,
  };
  const log = options.log;
  const listener = options.listener ??
    Deno.listen({ hostname: options.host, port: options.port, transport: "tcp" });
  const port = (listener.addr as Deno.NetAddr).port;
  const live = new Map<Association, Promise<void>>();
  const counter = { active: 0 };
  let closing = false;

  const acceptLoop = (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (closing) return;
        log.error("dicom listener failed", { error });
        return;
      }
      try {
        // Nagle plus delayed ACK costs ~40 ms per small response (architecture notes).
        (conn as Deno.TcpConn).setNoDelay(true);
      } catch {
        // not a TCP connection; nothing to tune
      }
      const association = new Association(conn, settings.maxPduLength);
      const served = serve(association, conn, options, settings, counter, log)
        .catch((error) => log.error("association failed", { error }))
        .finally(() => live.delete(association));
      live.set(association, served);
    }
  })();
  log.info("dicom listening", { host: options.host, port, aeTitle: options.aeTitle });

  return {
    port,
    close: async () => {
      if (closing) return;
      closing = true;
      listener.close();
      await acceptLoop;
      const all = Promise.all(live.values());
      if (
        live.size > 0 && (await withTimeout(all.then(() => true), settings.closeGraceMs)) !== true
      ) {
        for (const association of live.keys()) await association.abort(2, 0);
        await all;
      }
      log.info("dicom stopped", { port });
    },
  };
}

type Settings = {
  maxPduLength: number;
  maxAssociations: number;
  artimTimeoutMs: number;
  idleTimeoutMs: number;
  closeGraceMs: number;
  implementationClassUid: string;
  implementationVersionName: string;
};

async function serve(
  association: Association,
  conn: Deno.Conn,
  options: DicomServerOptions,
  settings: Settings,
  counter: { active: number },
  baseLog: Logger,
): Promise<void> {
  const remote = conn.remoteAddr as Deno.NetAddr;
  const remoteAddress = remote.hostname;
  let log = baseLog.child({ association: newId(), peer: `${remote.hostname}:${remote.port}` });
  let counted = false;
  association.reader.onTimeout = () => void association.abort(2, 0);
  try {
    // PS3.8 9.2 state 2: ARTIM runs until the A-ASSOCIATE-RQ arrives.
    association.reader.timeoutMs = settings.artimTimeoutMs;
    const first = await association.readPdu();
    if (first === null) return;
    if (first.type !== PduType.associateRq) {
      throw new DicomProtocolError(
        `PDU type 0x${first.type.toString(16)} before A-ASSOCIATE-RQ`,
        2,
      );
    }
    const rq = first.rq;
    log = log.child({ callingAe: rq.callingAe, calledAe: rq.calledAe });
    const decision = negotiate(rq, {
      aeTitle: options.aeTitle,
      allowedSenders: options.allowedSenders,
      allowedAddresses: options.allowedAddresses,
      remoteAddress,
      activeAssociations: counter.active,
      maxAssociations: settings.maxAssociations,
      maxPduLength: settings.maxPduLength,
      implementationClassUid: settings.implementationClassUid,
      implementationVersionName: settings.implementationVersionName,
    });
    if (decision.kind === "reject") {
      log.warn("association rejected", {
        event: "association rejected",
        remoteAddress,
        result: decision.rj.result === 1 ? "permanent" : "transient",
        source: decision.rj.source,
        reason: decision.rj.reason,
        reasonText: decision.reasonText,
        detail: decision.detail,
      });
      await association.send(encodeAssociateRj(decision.rj));
      await association.awaitPeerClose(settings.artimTimeoutMs);
      return;
    }
    counter.active++;
    counted = true;
    association.contexts = decision.contexts;
    association.peerMaxPdu = rq.userInfo.maxPduLength;
    await association.send(encodeAssociateAc(decision.ac));
    const accepted = decision.ac.contexts.filter((c) => c.result === 0).length;
    log.info("association accepted", {
      remoteAddress,
      implementationClassUid: rq.userInfo.implementationClassUid,
      // not "...Name": the logger redacts fields ending in "name" as possible patient data
      implementationVersion: rq.userInfo.implementationVersionName,
      peerMaxPdu: rq.userInfo.maxPduLength,
      contextsAccepted: accepted,
      contextsRejected: decision.ac.contexts.length - accepted,
    });
    log.debug("presentation contexts", {
      contexts: decision.ac.contexts.map((c) => {
        const proposal = rq.contexts.find((p) => p.id === c.id)!;
        const outcome = c.result === 0 ? c.transferSyntax : `rejected(${c.result})`;
        return `${c.id}:${proposal.abstractSyntax}:${outcome}`;
      }),
    });

    association.reader.timeoutMs = settings.idleTimeoutMs;
    let stored = 0;
    for (;;) {
      const message = await association.readCommand();
      if (message.kind === "closed") {
        log.warn("connection closed without release", { stored });
        return;
      }
      if (message.kind !== "command") {
        if (message.kind === "release-rp") {
          throw new DicomProtocolError("unexpected A-RELEASE-RP", 2);
        }
        await association.send(encodeReleaseRp());
        log.info("association released", { stored });
        await association.awaitPeerClose(settings.artimTimeoutMs);
        return;
      }
      const ok = await dispatch(association, message.contextId, message.command, {
        callingAe: rq.callingAe,
        calledAe: rq.calledAe,
        remoteAddress,
        store: options.store,
        log,
        implementationClassUid: settings.implementationClassUid,
        implementationVersionName: settings.implementationVersionName,
      });
      if (ok) stored++;
    }
  } catch (error) {
    if (error instanceof DicomProtocolError) {
      log.warn("association aborted", { reasonText: abortReasonText(2, error.abortReason), error });
      await association.abort(2, error.abortReason);
    } else if (error instanceof DicomTimeout) {
      log.warn("association aborted", { reasonText: "timeout", error });
      await association.abort(2, 0);
    } else if (error instanceof AssociationAborted) {
      log.warn("association aborted by peer", { error });
    } else {
      log.error("association aborted", { reasonText: "internal error", error });
      await association.abort(2, 0);
    }
  } finally {
    if (counted) counter.active--;
    association.close();
  }
}

interface DispatchContext {
  callingAe: string;
  calledAe: string;
  remoteAddress: string;
  store: StoreHandler;
  log: Logger;
  implementationClassUid: string;
  implementationVersionName: string;
}

/** Handles one DIMSE request; returns true when an instance was stored. */
async function dispatch(
  association: Association,
  contextId: number,
  command: Command,
  ctx: DispatchContext,
): Promise<boolean> {
  const hasDataset = command.commandDataSetType !== noDataSet;
  const respond = (fields: Partial<Command> & { commandField: number; status: number }) =>
    association.sendCommand(contextId, {
      messageIdBeingRespondedTo: command.messageId,
      affectedSopClassUid: command.affectedSopClassUid,
      affectedSopInstanceUid: command.affectedSopInstanceUid,
      commandDataSetType: noDataSet,
      ...fields,
    });

  if (command.commandField === CommandField.cEchoRq) {
    if (hasDataset) await association.datasetStream(contextId).finish();
    await respond({ commandField: CommandField.cEchoRsp, status: Status.success });
    return false;
  }
  if (command.commandField !== CommandField.cStoreRq) {
    if (hasDataset) await association.datasetStream(contextId).finish();
    // PS3.7 9.1.1.1.9: C-CANCEL has no response.
    if (command.commandField === CommandField.cCancelRq) return false;
    ctx.log.warn("unsupported DIMSE operation", { commandField: command.commandField });
    await respond({
      commandField: command.commandField | 0x8000,
      status: Status.unrecognizedOperation,
    });
    return false;
  }

  const context = association.contexts.get(contextId)!;
  const sopClassUid = command.affectedSopClassUid ?? context.abstractSyntax;
  const sopInstanceUid = command.affectedSopInstanceUid ?? "";
  if (!hasDataset || !sopInstanceUid) {
    if (hasDataset) await association.datasetStream(contextId).finish();
    await respond({
      commandField: CommandField.cStoreRsp,
      status: Status.cannotUnderstand,
      errorComment: "C-STORE-RQ without dataset or Affected SOP Instance UID",
    });
    return false;
  }
  const meta = buildPart10Header({
    sopClassUid,
    sopInstanceUid,
    transferSyntaxUid: context.transferSyntax,
    sourceAe: ctx.callingAe,
    implementationClassUid: ctx.implementationClassUid,
    implementationVersionName: ctx.implementationVersionName,
  });
  const { stream, finish } = association.datasetStream(contextId);
  let result: StoreResult;
  try {
    result = await ctx.store({
      callingAe: ctx.callingAe,
      calledAe: ctx.calledAe,
      remoteAddress: ctx.remoteAddress,
      sopClassUid,
      sopInstanceUid,
      transferSyntaxUid: context.transferSyntax,
      meta,
      dataset: stream,
    });
  } catch (error) {
    // The association broke under the handler: no response can go out.
    if (association.failure) throw association.failure;
    ctx.log.error("store handler failed", { sopInstanceUid, error });
    const message = error instanceof Error ? error.message : String(error);
    result = { status: Status.outOfResources, comment: message };
  }
  await finish();
  await respond({
    commandField: CommandField.cStoreRsp,
    status: result.status,
    // LO: at most 64 characters (PS3.5 6.2).
    errorComment: result.comment?.slice(0, 64),
  });
  ctx.log.debug("c-store", { sopClassUid, sopInstanceUid, status: result.status });
  return result.status === Status.success || (result.status & 0xf000) === 0xb000;
}
