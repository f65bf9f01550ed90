/** createRelay: the gateway-to-gateway protocol over an injected mail transport. */
import type { Kysely } from "kysely";
import type { DatabaseSchema } from "../db/mod.ts";
import { createContext } from "./context.ts";
import { createInbound } from "./inbound.ts";
import { createOutbound } from "./outbound.ts";
import { type Direction, listTransferIds, transferStatus } from "./store.ts";
import type {
  AcceptOutcome,
  RelayOptions,
  SendTransferRequest,
  TransferState,
  TransferStatus,
} from "./types.ts";

/** The relay service. */
export interface Relay {
  /**
   * Packs a study into XDM parts (or DICOM e-mail parts where the endpoint takes no XDM; the
   * transfer's `format` says which), seals each part for the recipient's endpoint, keeps it in the
   * spool and hands it to the transport. Resolves when every part is handed over; the state then
   * moves on with the peer's notifications (sent -> delivered -> imported, or failed).
   */
  sendTransfer(request: SendTransferRequest): Promise<TransferStatus>;
  /** Sends again, byte-identical, every part the peer has not acknowledged; returns their numbers. */
  resendMissing(transferId: string): Promise<number[]>;
  /**
   * Processes one stored inbound message exactly once: a notification for one of our transfers,
   * or a part of a transfer to us. Refusals are answered, audited and returned (not thrown);
   * anything thrown is transient (spool, database, transport) and the call may be repeated.
   * With `handOver` the message's buffer is the relay's: it is freed once decrypted, so it is not
   * held while the part's instances are stored.
   */
  acceptMessage(
    raw: Uint8Array,
    envelope: { from: string; to: string; sha256?: string; handOver?: boolean },
  ): Promise<AcceptOutcome>;
  /** The study of inbound `transferId` is in the PACS: notify the sender ("imported"). */
  confirmImported(transferId: string): Promise<void>;
  /** A transfer with parts and timeline. */
  getTransfer(transferId: string, direction?: Direction): Promise<TransferStatus | undefined>;
  /** Transfers, newest first. */
  listTransfers(
    query?: { direction?: Direction; state?: TransferState; limit?: number },
  ): Promise<TransferStatus[]>;
}

/**
 * Creates the relay.
 *
 * @example
 * ```ts
 * const relay = createRelay({ db, spool, studies, addressBook, transport, identity, trustAnchors, log });
 * const status = await relay.sendTransfer({ studyInstanceUid, recipientUra: "00012345" });
 * ```
 */
export function createRelay(options: RelayOptions): Relay {
  const ctx = createContext(options);
  const outbound = createOutbound(ctx);
  const inbound = createInbound(ctx, outbound);
  return {
    sendTransfer: outbound.sendTransfer,
    resendMissing: outbound.resendMissing,
    acceptMessage: inbound.acceptMessage,
    confirmImported: inbound.confirmImported,
    getTransfer: (transferId, direction = "out") => readTransfer(options.db, transferId, direction),
    listTransfers: (query = {}) => readTransfers(options.db, query),
  };
}

/**
 * One transfer with parts and timeline, straight from the database (for the CLI and the UI,
 * which need no mail transport or keys to look).
 *
 * @example
 * ```ts
 * const status = await readTransfer(db, transferId, "out");
 * ```
 */
export async function readTransfer(
  db: Kysely<DatabaseSchema>,
  transferId: string,
  direction: Direction = "out",
): Promise<TransferStatus | undefined> {
  return await transferStatus(db, direction, transferId);
}

/**
 * Transfers, newest first, straight from the database.
 *
 * @example
 * ```ts
 * for (const t of await readTransfers(db, { direction: "in" })) console.log(t.transferId, t.state);
 * ```
 */
export async function readTransfers(
  db: Kysely<DatabaseSchema>,
  query: { direction?: Direction; state?: TransferState; limit?: number } = {},
): Promise<TransferStatus[]> {
  const out: TransferStatus[] = [];
  for (const { direction, id } of await listTransferIds(db, query)) {
    const status = await transferStatus(db, direction, id);
    if (status) out.push(status);
  }
  return out;
}
