/**
 * DICOM: header reading for the index, and networking of our own: the PS3.8 upper layer and DIMSE on `Deno.listen`/`Deno.connect`,
 * a C-ECHO and C-STORE SCP that streams each dataset, bytes unchanged, to a store handler, and a
 * small SCU. Part-10 meta headers are built here; datasets are never re-encoded.
 *
 * @example
 * ```ts
 * import { createDicomServer } from "../dicom/mod.ts";
 * const server = createDicomServer({
 *   host: "0.0.0.0", port: 11112, aeTitle: "BEELDPOORT", allowedSenders: ["*"], log,
 *   store: async ({ meta, dataset }) => {
 *     await spool.put(meta, dataset);
 *     return { status: 0x0000 };
 *   },
 * });
 * ```
 * @module
 */
export { createDicomServer } from "./scp.ts";
export type {
  DicomServer,
  DicomServerOptions,
  StoreHandler,
  StoreRequest,
  StoreResult,
} from "./scp.ts";
export { listenDicomTls } from "./tls_listener.ts";
export type { DicomListener, DicomTlsOptions } from "./tls_listener.ts";
export { cEcho, cStore, cStoreObjects, isStored } from "./scu.ts";
export type {
  CEchoOptions,
  CStoreObjectsOptions,
  CStoreOptions,
  CStoreResult,
  ScuOptions,
  StoreObject,
  StoreObjectResult,
} from "./scu.ts";
export { buildPart10Header, readPart10Header } from "./part10.ts";
export type { Part10Header, Part10MetaOptions } from "./part10.ts";
export {
  isStorageSopClass,
  Status,
  storableTransferSyntaxes,
  TransferSyntax,
  verificationSopClassUid,
} from "./constants.ts";
export {
  AssociationAborted,
  AssociationRejected,
  DicomProtocolError,
  DicomTimeout,
  NoPresentationContext,
  Part10FormatError,
} from "./errors.ts";
export { isValidBsn, readInstanceHeader } from "./header.ts";
export { isDicomKeyword, readKeywordValues } from "./keywords.ts";
export type { InstanceHeader } from "./header.ts";
