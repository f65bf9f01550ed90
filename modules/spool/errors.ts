import { BeeldpoortError } from "../core/mod.ts";

/** Why an object failed its integrity check; stable values for logs, tests and the UI. */
export type SpoolIntegrityReason =
  /** The header is short, has the wrong magic, an unknown version or another object's id. */
  | "header"
  /** No key slot is wrapped by the master key in use. */
  | "wrong-key"
  /** A key slot claims the master key but does not unwrap (tampered slot). */
  | "key-unwrap"
  /** The file is longer or shorter than its header says: truncated or extended. */
  | "length"
  /** A chunk failed authentication: tampered, reordered, or truncated at a chunk boundary. */
  | "chunk"
  /** The plaintext digest differs from the one recorded at write time. */
  | "digest";

/**
 * A stored object cannot be trusted: tampered, truncated, chunks reordered, or the master key in
 * use did not wrap its data key. Nothing read from such an object should be used.
 *
 * @example
 * ```ts
 * try { await spool.verify(id); } catch (e) {
 *   if (e instanceof SpoolIntegrityError) console.log(e.reason, e.id);
 * }
 * ```
 */
export class SpoolIntegrityError extends BeeldpoortError {
  readonly code = "SPOOL_INTEGRITY";
  constructor(
    readonly id: string,
    readonly reason: SpoolIntegrityReason,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`spool object ${id}: ${reason}: ${detail}`, options);
  }
}

/**
 * No object with this id is in the spool (or the id is not a spool id at all).
 *
 * @example
 * ```ts
 * if (!(await spool.has(id))) throw new SpoolNotFound(id);
 * ```
 */
export class SpoolNotFound extends BeeldpoortError {
  readonly code = "SPOOL_NOT_FOUND";
  constructor(readonly id: string) {
    super(`spool object ${id} not found`);
  }
}

/**
 * Writing an object failed (disk full, I/O error, permissions). `cause` holds the operating
 * system's error. The temporary file has been removed: nothing partial remains.
 *
 * @example
 * ```ts
 * try { await spool.put(stream); } catch (e) {
 *   if (e instanceof SpoolWriteError) log.error("spool write failed", { error: e.cause });
 * }
 * ```
 */
export class SpoolWriteError extends BeeldpoortError {
  readonly code = "SPOOL_WRITE_FAILED";
}

/**
 * A master key is unusable: it must be exactly 32 bytes (AES-256).
 *
 * @example
 * ```ts
 * await createSpool({ dir, masterKey: new Uint8Array(16), durability: "os" }); // throws
 * ```
 */
export class SpoolKeyError extends BeeldpoortError {
  readonly code = "SPOOL_KEY_INVALID";
}
