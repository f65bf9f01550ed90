import { BeeldpoortError } from "../core/mod.ts";

/**
 * Thrown by a handler when trying again cannot help (the destination refuses the SOP class, the
 * recipient does not exist): the job goes to `dead` at once instead of retrying.
 *
 * @example
 * ```ts
 * throw new TransferPermanentError("destination refuses CT Image Storage");
 * ```
 */
export class TransferPermanentError extends BeeldpoortError {
  readonly code = "TRANSFER_PERMANENT";
}

/** No job with that id. */
export class TransferJobNotFound extends BeeldpoortError {
  readonly code = "TRANSFER_JOB_NOT_FOUND";
}

/** The operation does not apply to the job's state (e.g. cancelling a job that is running). */
export class TransferJobStateError extends BeeldpoortError {
  readonly code = "TRANSFER_JOB_STATE";
}
