/**
 * The gateway-to-gateway protocol (ARCHITECTURE.md, the two journeys). Outbound: a study from the
 * spool is packed as XDM parts (DICOM e-mail parts for an endpoint that takes no XDM), each signed
 * and encrypted (S/MIME) for the recipient's endpoint from the address book, kept sealed in the spool until acknowledged, and handed to an injected mail
 * transport. Inbound: a stored message is decrypted, its signer checked against the trust anchors
 * and the sender's address-book certificates, its part stored and indexed exactly once, and an
 * RFC 8098 notification goes back: `processed` per part, `imported` per transfer, or a refusal
 * with the reason in words. See mdn.ts for the notification fields.
 *
 * @example
 * ```ts
 * import { createRelay } from "../relay/mod.ts";
 * const relay = createRelay({
 *   db, spool, studies, addressBook, log,
 *   transport: { send: (mail) => smtp.send(mail) },
 *   identity: { ura: "00012345", organizationName: "Ziekenhuis A", address: "gw@zkh-a.example", certificate, key },
 *   trustAnchors: [uziCa],
 *   onTransferComplete: (t) => appliance.importStudy(t),
 * });
 * await relay.sendTransfer({ studyInstanceUid, recipientUra: "00067890" });
 * await relay.acceptMessage(raw, { from: "gw@zkh-b.example", to: "gw@zkh-a.example" });
 * ```
 * @module
 */

/**
 * Creates the relay service over a database, spool, study index, address book and mail transport.
 *
 * @example
 * ```ts
 * const relay = createRelay(options);
 * const status = await relay.sendTransfer({ studyInstanceUid, recipientUra: "00067890", note: "Graag beoordelen" });
 * console.log(status.state, status.parts.length);
 * ```
 */
export { createRelay, readTransfer, readTransfers } from "./relay.ts";
export type { Relay } from "./relay.ts";

/**
 * Adds a step to a transfer's timeline (relay_events), e.g. from the appliance's import.
 *
 * @example
 * ```ts
 * await recordEvent(db, { direction: "in", transferId, kind: "pacs-import", at: new Date().toISOString() });
 * ```
 */
export { recordEvent } from "./store.ts";
export type { Direction } from "./store.ts";

/**
 * The largest XDM zip (or DICOM e-mail content) per part for a recipient MTA limit: both the zip (inside the signature) and
 * the CMS envelope are base64, so the zip grows by WIRE_GROWTH ≈ 1.87 plus WIRE_HEADROOM.
 *
 * @example
 * ```ts
 * partSizeFor(20_000_000, 10_485_760); // 5_567_xxx bytes of zip for a 10 MiB Postfix limit
 * ```
 */
export { MESSAGE_CHUNK_BYTES, partSizeFor, WIRE_GROWTH, WIRE_HEADROOM } from "./outbound.ts";

/**
 * Builds and reads the RFC 8098 notifications the relay exchanges (for tools and tests).
 *
 * @example
 * ```ts
 * const entity = buildDispositionReport({ originalMessageId, stage: "processed" }, { address, product: "Beeldpoort 0.1" });
 * const notice = readDispositionReport(parsePart(entity));
 * ```
 */
export { buildDispositionReport, isDispositionReport, readDispositionReport } from "./mdn.ts";
export type { DispositionNotice } from "./mdn.ts";

/**
 * Small MIME helpers: header fields, multipart split, transfer decoding, CRLF entities.
 *
 * @example
 * ```ts
 * const part = parsePart(raw);
 * const type = mediaType(part.headers.get("content-type"));
 * const bodies = splitParts(part.body, type.params.boundary!).map((p) => decodedBody(parsePart(p)));
 * ```
 */
export {
  buildPart,
  decodedBody,
  mailAddress,
  mediaType,
  newBoundary,
  parsePart,
  splitParts,
} from "./mime.ts";
export type { MediaType, MimePart } from "./mime.ts";

/**
 * Named errors. Refusals of inbound messages extend RelayRefusal; their `code` travels in the
 * failure notification (`Beeldpoort-Reason-Code`).
 *
 * @example
 * ```ts
 * const outcome = await relay.acceptMessage(raw, envelope);
 * if (outcome.kind === "refused" && outcome.code === new RelaySignerNotListed("").code) alert();
 * ```
 */
export {
  RelayError,
  RelayHashMismatch,
  RelayIntegrityError,
  RelayMalformed,
  RelayMessageUnsigned,
  RelayNotForUs,
  RelayNothingToSend,
  RelayPackageInvalid,
  RelayRecipientUnusable,
  RelayRefusal,
  RelaySignatureInvalid,
  RelaySignerNotListed,
  RelaySignerUntrusted,
  RelayTransferNotFound,
  RelayUnknownSender,
} from "./errors.ts";

/**
 * Options, transport, hooks and reports.
 *
 * @example
 * ```ts
 * const transport: RelayTransport = { send: async (mail: OutgoingMail) => { await smtp.send(mail); } };
 * ```
 */
export type {
  AcceptOutcome,
  CompletedTransfer,
  OutgoingMail,
  PartState,
  PartStatus,
  ReceivedDocument,
  RelayAudit,
  RelayAuditEvent,
  RelayEvent,
  RelayIdentity,
  RelayOptions,
  RelayTransport,
  SendTransferRequest,
  StoredPart,
  TransferState,
  TransferStateChange,
  TransferStatus,
} from "./types.ts";
