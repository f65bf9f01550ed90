import { BeeldpoortError } from "../core/mod.ts";
import { abortReasonText, rejectReasonText } from "./constants.ts";

/**
 * A peer broke PS3.8: a malformed, truncated, oversized, unknown or unexpected PDU. The association
 * is aborted with `abortReason` (PS3.8 9.3.8, source 2).
 *
 * @example
 * ```ts
 * if (e instanceof DicomProtocolError) console.log(e.abortReason);
 * ```
 */
export class DicomProtocolError extends BeeldpoortError {
  readonly code = "DICOM_PROTOCOL";
  constructor(message: string, readonly abortReason: number = 0, options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * The association was refused with an A-ASSOCIATE-RJ (PS3.8 9.3.4).
 *
 * @example
 * ```ts
 * if (e instanceof AssociationRejected) console.log(e.reasonText);
 * ```
 */
export class AssociationRejected extends BeeldpoortError {
  readonly code = "DICOM_ASSOCIATION_REJECTED";
  readonly reasonText: string;
  constructor(readonly result: number, readonly source: number, readonly reason: number) {
    const words = rejectReasonText(source, reason);
    super(`association rejected (${result === 1 ? "permanent" : "transient"}): ${words}`);
    this.reasonText = words;
  }
}

/**
 * The association ended before its work was done: an A-ABORT, a closed connection or a timeout.
 * A dataset stream that was being read errors with this, so nothing partial is stored.
 *
 * @example
 * ```ts
 * dataset.pipeTo(sink).catch((e) => e instanceof AssociationAborted);
 * ```
 */
export class AssociationAborted extends BeeldpoortError {
  readonly code = "DICOM_ASSOCIATION_ABORTED";
  static fromAbortPdu(source: number, reason: number): AssociationAborted {
    return new AssociationAborted(`association ${abortReasonText(source, reason)}`);
  }
}

/**
 * A peer stayed silent longer than the ARTIM or idle timeout allows.
 *
 * @example
 * ```ts
 * if (e instanceof DicomTimeout) retryLater();
 * ```
 */
export class DicomTimeout extends BeeldpoortError {
  readonly code = "DICOM_TIMEOUT";
}

/**
 * The SCU has nothing to send on: the peer accepted no presentation context for an object.
 *
 * @example
 * ```ts
 * if (e instanceof NoPresentationContext) console.log(e.message);
 * ```
 */
export class NoPresentationContext extends BeeldpoortError {
  readonly code = "DICOM_NO_PRESENTATION_CONTEXT";
}

/**
 * A file is not a DICOM Part-10 file we can read the meta header of (PS3.10 7.1).
 *
 * @example
 * ```ts
 * if (e instanceof Part10FormatError) console.log("not a DICOM file");
 * ```
 */
export class Part10FormatError extends BeeldpoortError {
  readonly code = "DICOM_PART10_FORMAT";
}
