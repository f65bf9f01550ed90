/**
 * Shared building blocks with no dependencies on other modules: errors, logger, ids, clock.
 *
 * @example
 * ```ts
 * import { createLogger, newId } from "../core/mod.ts";
 * createLogger().info("started", { id: newId() });
 * ```
 * @module
 */
export { BeeldpoortError, ConfigError, NotFoundError } from "./errors.ts";
export { createLogger, isLogLevel } from "./logger.ts";
export type { LogFields, Logger, LogLevel, LogSink } from "./logger.ts";
export { newId, newToken } from "./ids.ts";
export { fixedClock, systemClock } from "./clock.ts";
export { bareLineBreak, concatBytes, indexOfBytes, piecesOf, releaseBytes } from "./bytes.ts";
export {
  BASE64_LINE_BYTES,
  base64LinesLength,
  base64LinesOf,
  decodeBase64Lines,
  writeBase64Lines,
} from "./base64_lines.ts";
export { subaddress } from "./subaddress.ts";
export { forEachConcurrently } from "./concurrency.ts";
export {
  CipherAuthError,
  cipherBackend,
  decryptor,
  encryptor,
  gcmOpen,
  gcmSeal,
} from "./cipher.ts";
export type { CipherName, DecryptOptions, StreamCipher } from "./cipher.ts";
export { type KeyWrap, opensslKeyWrap } from "./key_wrap.ts";
export { MimeFormatError, parseEntity, parseMediaType, splitMultipart } from "./mime.ts";
export type { MediaType, MimeEntity } from "./mime.ts";
export type { Clock } from "./clock.ts";
