/**
 * What the relay needs of a payload format (ARCHITECTURE.md: XDM zip over e-mail, or DICOM e-mail),
 * so that sealing, sending, exactly-once bookkeeping and storing stay one path for both.
 */
import type { PayloadFormat } from "../addressbook/mod.ts";
import type { XdmDocument, XdmPackage, XdmRandomAccessSource } from "../xdm/mod.ts";

/** Media types a zip arrives as (XDM, or a DICOM e-mail's DICOM.ZIP). */
export const ZIP_MEDIA_TYPES: ReadonlySet<string> = new Set([
  "application/zip",
  "application/x-zip-compressed",
  "application/x-zip",
]);

/** A zip held in memory (a decrypted part is at most the part size) as a random-access source. */
export function memorySource(bytes: Uint8Array): XdmRandomAccessSource {
  return {
    size: bytes.length,
    read: (offset, length) => Promise.resolve(bytes.subarray(offset, offset + length)),
  };
}

/** Outbound: one part's MIME entity, ready to be signed and encrypted as it is. */
export interface SealablePart {
  partNumber: number;
  partCount: number;
  instanceCount: number;
  /** The entity has a body that is not transfer-encoded (see SealOptions.binaryContent). */
  binary?: boolean;
  /** The entity's bytes: its header section, a blank line, the body (CRLF). */
  chunks: AsyncIterable<Uint8Array>;
  /** The part was sealed before a crash: let the packer move on without building it. */
  skip(): Promise<void>;
}

/** Inbound: the fields of a document the store step reads (an XdmDocument has them all). */
export type PackageDocument = Pick<
  XdmDocument,
  "entryUuid" | "uniqueId" | "mimeType" | "title" | "formatCode" | "referenceIds" | "isManifest"
>;

/**
 * Inbound: one received part, read. An XdmPackage is one as it is; `transfer` is null for a
 * foreign message without our transfer fields (it becomes the single part of `mail-<key>`).
 */
export interface ReceivedPackage extends Pick<XdmPackage, "patient" | "transfer" | "close"> {
  documents: PackageDocument[];
  /**
   * The document's bytes, checked (as XdmPackage.readDocument): possibly a view into the
   * payload, so not the caller's to release.
   */
  readDocument(doc: PackageDocument): Promise<Uint8Array>;
}

/** Inbound: a recognised payload, to be opened once its sender is known to be genuine. */
export interface ReceivedPayload {
  format: PayloadFormat;
  /** Size of the payload for the part's record (XDM: the zip; DICOM e-mail: the entity body). */
  bytes: number;
  open(): Promise<ReceivedPackage>;
  /** Frees the payload's buffer once it is stored (see core releaseBytes). */
  release?(): void;
  /** The payload's bytes are a buffer of their own, not a view into the decrypted message. */
  standalone?: boolean;
}
