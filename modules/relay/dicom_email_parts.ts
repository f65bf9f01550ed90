/**
 * Outbound DICOM e-mail, for an endpoint that does not accept XDM: the study is cut into parts the
 * way packXdm cuts it (greedy, in order, each under the part size; an instance larger than that
 * alone), and each part is a multipart/mixed entity of `application/dicom` attachments (xdm's
 * packDicomEmail) preceded by our transfer fields, to be sealed like an XDM part.
 */
import { packDicomEmail, type XdmInstance } from "../xdm/mod.ts";
import { transferFieldLines } from "./dicom_email.ts";
import type { SealablePart } from "./payload.ts";

/** Boundary and part header of one attachment, plus the slack of its last base64 line. */
const ATTACHMENT_OVERHEAD = 320;
/** Transfer fields, the text part's header and the closing delimiter. */
const ENTITY_OVERHEAD = 1024;

export interface DicomEmailPartsOptions {
  instances: XdmInstance[];
  transferId: string;
  studyInstanceUid: string;
  /** Upper bound of one part's content before base64, as for an XDM zip (partSizeFor). */
  partSizeBytes: number;
  /** The sender's note: the text part of part 1 (the other parts' text parts are empty). */
  note?: string;
}

/** The parts of a DICOM e-mail transfer; each part's instances are read only as it is built. */
export function dicomEmailParts(options: DicomEmailPartsOptions): SealablePart[] {
  const note = new TextEncoder().encode(options.note ?? "");
  const plans: XdmInstance[][] = [];
  let current: XdmInstance[] = [];
  let cost = ENTITY_OVERHEAD + note.length;
  for (const instance of options.instances) {
    const instanceCost = instance.size + ATTACHMENT_OVERHEAD;
    if (current.length > 0 && cost + instanceCost > options.partSizeBytes) {
      plans.push(current);
      current = [];
      cost = ENTITY_OVERHEAD;
    }
    current.push(instance);
    cost += instanceCost;
  }
  plans.push(current);
  return plans.map((instances, i) => {
    const info = {
      transferId: options.transferId,
      partNumber: i + 1,
      partCount: plans.length,
      studyInstanceUid: options.studyInstanceUid,
    };
    return {
      partNumber: info.partNumber,
      partCount: info.partCount,
      instanceCount: instances.length,
      chunks: (async function* () {
        yield new TextEncoder().encode(transferFieldLines(info));
        // The entity starts with its own Content-Type line: our fields join its header section.
        yield* packDicomEmail({
          instances,
          note: i === 0 ? options.note ?? "" : "",
          variant: "attachments",
        }).stream;
      })(),
      // Nothing is read before `chunks` is: a part sealed before a crash costs nothing to pass.
      skip: () => Promise.resolve(),
    };
  });
}
