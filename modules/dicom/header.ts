import dcmjs from "dcmjs";
import { readUntilPixelData } from "./keywords.ts";
import { NotFastReadable } from "./element_reader.ts";
import { type Naturalized, readHeaderElements } from "./header_elements.ts";

/** The header elements Beeldpoort indexes and routes on. Absent elements are undefined. */
export interface InstanceHeader {
  sopClassUid?: string;
  sopInstanceUid?: string;
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  patientId?: string;
  issuerOfPatientId?: string;
  /** The patient id's assigning authority as an ISO OID (Issuer of Patient ID Qualifiers). */
  issuerOfPatientIdOid?: string;
  transferSyntaxUid?: string;
  /** The BSN, when the header carries one (issuer NLMINBIZA or the BSN OID) that passes the 11-test. */
  bsn?: string;
  patientName?: string;
  patientBirthDate?: string;
  patientSex?: string;
  studyDate?: string;
  studyTime?: string;
  studyDescription?: string;
  studyId?: string;
  accessionNumber?: string;
  referringPhysicianName?: string;
  modality?: string;
  seriesNumber?: number;
  seriesDescription?: string;
  instanceNumber?: number;
  numberOfStudyRelatedInstances?: number;
}

/** Issuers that mark a patient id as a BSN: the Dutch DICOM convention and the BSN OID. */
const bsnIssuers = new Set(["NLMINBIZA", "2.16.840.1.113883.2.4.6.3"]);

/**
 * Whether `value` is a well-formed BSN: nine digits passing the "elfproef" (weights 9..2 and -1,
 * sum divisible by 11).
 *
 * @example
 * ```ts
 * isValidBsn("999999990"); // true (a placeholder, not a real person)
 * ```
 */
export function isValidBsn(value: string): boolean {
  if (!/^\d{9}$/.test(value)) return false;
  const weights = [9, 8, 7, 6, 5, 4, 3, 2, -1];
  const sum = [...value].reduce((acc, digit, i) => acc + Number(digit) * weights[i], 0);
  return sum % 11 === 0 && value !== "000000000";
}

function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value.length ? text(value[0]) : undefined;
  if (typeof value === "object") {
    const alphabetic = (value as { Alphabetic?: string }).Alphabetic;
    return alphabetic === undefined ? undefined : String(alphabetic);
  }
  const s = String(value).trim();
  return s === "" ? undefined : s;
}

function integer(value: unknown): number | undefined {
  const s = text(value);
  if (s === undefined) return undefined;
  const n = Number.parseInt(s, 10);
  return Number.isFinite(n) ? n : undefined;
}

function issuerOid(ds: Naturalized): string | undefined {
  const qualifiers = ds.IssuerOfPatientIDQualifiersSequence as Naturalized[] | undefined;
  const id = Array.isArray(qualifiers) ? text(qualifiers[0]?.UniversalEntityID) : undefined;
  return id && /^\d+(\.\d+)+$/.test(id) ? id : undefined;
}

function findBsn(ds: Naturalized): string | undefined {
  const candidates: { id?: string; issuer?: string }[] = [
    { id: text(ds.PatientID), issuer: text(ds.IssuerOfPatientID) },
  ];
  const qualifiers = ds.IssuerOfPatientIDQualifiersSequence as Naturalized[] | undefined;
  if (Array.isArray(qualifiers)) {
    for (const q of qualifiers) {
      candidates.push({ id: text(ds.PatientID), issuer: text(q.UniversalEntityID) });
    }
  }
  const others = ds.OtherPatientIDsSequence as Naturalized[] | undefined;
  if (Array.isArray(others)) {
    for (const o of others) {
      candidates.push({ id: text(o.PatientID), issuer: text(o.IssuerOfPatientID) });
    }
  }
  return candidates.find((c) => c.id && c.issuer && bsnIssuers.has(c.issuer) && isValidBsn(c.id))
    ?.id;
}

function headerOf(ds: Naturalized, meta: Naturalized): InstanceHeader {
  return {
    sopClassUid: text(ds.SOPClassUID) ?? text(meta.MediaStorageSOPClassUID),
    sopInstanceUid: text(ds.SOPInstanceUID) ?? text(meta.MediaStorageSOPInstanceUID),
    studyInstanceUid: text(ds.StudyInstanceUID),
    seriesInstanceUid: text(ds.SeriesInstanceUID),
    patientId: text(ds.PatientID),
    issuerOfPatientId: text(ds.IssuerOfPatientID),
    issuerOfPatientIdOid: issuerOid(ds),
    transferSyntaxUid: text(meta.TransferSyntaxUID),
    bsn: findBsn(ds),
    patientName: text(ds.PatientName),
    patientBirthDate: text(ds.PatientBirthDate),
    patientSex: text(ds.PatientSex),
    studyDate: text(ds.StudyDate),
    studyTime: text(ds.StudyTime),
    studyDescription: text(ds.StudyDescription),
    studyId: text(ds.StudyID),
    accessionNumber: text(ds.AccessionNumber),
    referringPhysicianName: text(ds.ReferringPhysicianName),
    modality: text(ds.Modality),
    seriesNumber: integer(ds.SeriesNumber),
    seriesDescription: text(ds.SeriesDescription),
    instanceNumber: integer(ds.InstanceNumber),
    numberOfStudyRelatedInstances: integer(ds.NumberOfStudyRelatedInstances),
  };
}

/**
 * `readInstanceHeader` by way of dcmjs's full parse and naturalization: the fallback of the fast
 * reader, and the reference the differential tests compare it with.
 */
export function readInstanceHeaderWithDcmjs(part10Prefix: Uint8Array): InstanceHeader {
  const message = readUntilPixelData(part10Prefix);
  const ds = dcmjs.data.DicomMetaDictionary.naturalizeDataset(message.dict) as Naturalized;
  const meta = dcmjs.data.DicomMetaDictionary.naturalizeDataset(message.meta) as Naturalized;
  return headerOf(ds, meta);
}

/**
 * Reads the indexed header elements from the start of a Part-10 file (meta header plus at least
 * the dataset up to its pixel data). Stops at the pixel data, so a prefix of the file suffices;
 * never changes or re-encodes anything. Throws when the bytes are not a parsable DICOM header.
 * Our own element reader does the work; what it cannot judge (deflate, big endian, other
 * character sets, malformed structure) goes to dcmjs, with the same result.
 *
 * @example
 * ```ts
 * const header = readInstanceHeader(await Deno.readFile("ct.dcm"));
 * console.log(header.studyInstanceUid);
 * ```
 */
export function readInstanceHeader(part10Prefix: Uint8Array): InstanceHeader {
  let read: { ds: Naturalized; meta: Naturalized };
  try {
    read = readHeaderElements(part10Prefix);
  } catch (e) {
    if (e instanceof NotFastReadable) return readInstanceHeaderWithDcmjs(part10Prefix);
    throw e;
  }
  return headerOf(read.ds, read.meta);
}
