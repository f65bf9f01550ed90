/** Plain inputs and outputs of the XDM writer and reader. */
import type { Code } from "./constants.ts";

/** One DICOM Part-10 instance of the study; `open()` is called at most once per part it goes in. */
export interface XdmInstance {
  sopInstanceUid: string;
  sopClassUid: string;
  transferSyntaxUid: string;
  studyUid: string;
  seriesUid: string;
  /** Exact byte count of the Part-10 file. */
  size: number;
  /** Optional, for the KOS and the INDEX.HTM manifest. */
  modality?: string;
  open(): ReadableStream<Uint8Array>;
}

/** The patient as known to the sender. `bsn` wins for the XDS patientId (standards.md §5.2). */
export interface XdmPatient {
  /** Local patient id (DICOM PatientID). */
  id: string;
  /** OID of the local id's assigning authority. */
  issuerOid?: string;
  bsn?: string;
  /** DICOM PN (`Family^Given`). */
  name?: string;
  /** YYYYMMDD. */
  birthDate?: string;
  /** M, F, O or U. */
  sex?: string;
}

export interface XdmStudy {
  studyInstanceUid: string;
  patient: XdmPatient;
  /** YYYYMMDD. */
  studyDate?: string;
  /** HHMMSS(.ffffff). */
  studyTime?: string;
  description?: string;
  accessionNumber?: string;
  studyId?: string;
  referringPhysicianName?: string;
  modalities: string[];
}

/** The report that travels with the images. "sr" and "encapsulated-pdf" are Part-10 files. */
export interface XdmReport {
  kind: "pdf" | "text" | "sr" | "encapsulated-pdf";
  size: number;
  open(): ReadableStream<Uint8Array>;
  /** For DICOM reports: their SOP UIDs (else a generated uniqueId and the default SOP class). */
  sopInstanceUid?: string;
  sopClassUid?: string;
  title?: string;
}

export interface XdmSender {
  /** URA (UZI-register subscriber number) of the sending organisation, 8 digits. */
  ura: string;
  organizationName: string;
  email: string;
  /** OID of the sending gateway (SubmissionSet sourceId). Default `2.16.528.1.1007.3.3.<ura>`. */
  sourceOid?: string;
}

export interface XdmRecipient {
  email: string;
  ura?: string;
  organizationName?: string;
}

/** Codes to override the defaults of `DEFAULT_CODES`. */
export interface XdmCodes {
  classCode?: Code;
  typeImages?: Code;
  typeReport?: Code;
  typeNote?: Code;
  confidentialityCode?: Code;
  healthcareFacilityTypeCode?: Code;
  practiceSettingCode?: Code;
}

export interface PackXdmOptions {
  instances: AsyncIterable<XdmInstance> | Iterable<XdmInstance>;
  study: XdmStudy;
  report?: XdmReport;
  /** Free text from the sender; travels as a text document and as SubmissionSet comments. */
  note?: string;
  sender: XdmSender;
  recipient: XdmRecipient;
  /** Upper bound for one part's zip file, in bytes. Default 20 000 000. */
  partSizeBytes?: number;
  transferId?: string;
  now?: Date;
  codes?: XdmCodes;
  /** Product line for README.TXT. */
  product?: { name: string; version: string; vendor: string };
}

/** One XDM zip of a transfer; consume `stream` fully before pulling the next part. */
export interface XdmPart {
  partNumber: number;
  partCount: number;
  transferId: string;
  fileName: string;
  /** Number of DICOM images in this part. */
  instanceCount: number;
  /** Estimated upper bound of the zip size, used for splitting. */
  estimatedBytes: number;
  /** True when one instance alone exceeds `partSizeBytes`: this part is over the limit. */
  oversized: boolean;
  stream: ReadableStream<Uint8Array>;
}
