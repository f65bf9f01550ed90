/**
 * Base class for every error Beeldpoort raises on purpose. `code` is stable and machine-readable so
 * tests, logs and the UI can tell failures apart without parsing messages.
 *
 * @example
 * ```ts
 * class SpoolFull extends BeeldpoortError { readonly code = "SPOOL_FULL"; }
 * ```
 */
export abstract class BeeldpoortError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A value in the configuration is wrong; names the key, the file, what was expected and found. */
export class ConfigError extends BeeldpoortError {
  readonly code = "CONFIG_INVALID";
  constructor(
    readonly key: string,
    readonly source: string,
    readonly expected: string,
    readonly found: string,
  ) {
    super(`configuration key "${key}" in ${source}: expected ${expected}, found ${found}`);
  }
}

/** Something the caller asked for does not exist. */
export class NotFoundError extends BeeldpoortError {
  readonly code = "NOT_FOUND";
}
