/**
 * The spool: an encrypted object store for large blobs (received DICOM instances, packed studies).
 * Objects stream in and out; each is sealed with AES-256-GCM in chunks under its own data key,
 * which a 32-byte master key wraps (AES-KW) in the object's header. Writes go to a temporary file,
 * are fsynced, renamed into place and the directory fsynced, so `put` resolves only when durable.
 *
 * @example
 * ```ts
 * import { createSpool } from "../spool/mod.ts";
 * const spool = await createSpool({ dir: "data/spool", masterKey, durability: "fsync" });
 * const { id, sha256 } = await spool.put(ReadableStream.from([new Uint8Array([1, 2, 3])]));
 * const copy = await new Response(await spool.get(id)).bytes();
 * ```
 * @module
 */
export { createSpool, rewrap, rotateMasterKey } from "./spool.ts";
export type {
  RotateOptions,
  RotationReport,
  Spool,
  SpoolDurability,
  SpoolOptions,
  SpoolStat,
} from "./spool.ts";
export type { PutOptions, PutResult } from "./writer.ts";
export type { RewrapOutcome } from "./rotate.ts";
export { SpoolIntegrityError, SpoolKeyError, SpoolNotFound, SpoolWriteError } from "./errors.ts";
export type { SpoolIntegrityReason } from "./errors.ts";
