/**
 * The elements `InstanceHeader` is built from, read with our own element reader, and shaped the
 * way dcmjs's `naturalizeDataset` gives them (the first value of each, formatted per VR as dcmjs
 * formats it), so one function builds the header from either parse.
 */
import {
  type ElementSpec,
  type ElementSpecs,
  type ElementValues,
  readPart10Elements,
  uidValue,
} from "./element_reader.ts";

/** A naturalized dataset, as dcmjs gives it, limited to what the header reads. */
export type Naturalized = Record<string, unknown>;

const spec = (keyword: string, vr: string, items?: ElementSpecs): ElementSpec => ({
  keyword,
  vr,
  items,
});

const metaSpecs: ElementSpecs = new Map([
  [0x00020002, spec("MediaStorageSOPClassUID", "UI")],
  [0x00020003, spec("MediaStorageSOPInstanceUID", "UI")],
  [0x00020010, spec("TransferSyntaxUID", "UI")],
]);

const datasetSpecs: ElementSpecs = new Map([
  [0x00080016, spec("SOPClassUID", "UI")],
  [0x00080018, spec("SOPInstanceUID", "UI")],
  [0x00080020, spec("StudyDate", "DA")],
  [0x00080030, spec("StudyTime", "TM")],
  [0x00080050, spec("AccessionNumber", "SH")],
  [0x00080060, spec("Modality", "CS")],
  [0x00080090, spec("ReferringPhysicianName", "PN")],
  [0x00081030, spec("StudyDescription", "LO")],
  [0x0008103e, spec("SeriesDescription", "LO")],
  [0x00100010, spec("PatientName", "PN")],
  [0x00100020, spec("PatientID", "LO")],
  [0x00100021, spec("IssuerOfPatientID", "LO")],
  [
    0x00100024,
    spec(
      "IssuerOfPatientIDQualifiersSequence",
      "SQ",
      new Map([[0x00400032, spec("UniversalEntityID", "UT")]]),
    ),
  ],
  [0x00100030, spec("PatientBirthDate", "DA")],
  [0x00100040, spec("PatientSex", "CS")],
  [
    0x00101002,
    spec(
      "OtherPatientIDsSequence",
      "SQ",
      new Map([
        [0x00100020, spec("PatientID", "LO")],
        [0x00100021, spec("IssuerOfPatientID", "LO")],
      ]),
    ),
  ],
  [0x0020000d, spec("StudyInstanceUID", "UI")],
  [0x0020000e, spec("SeriesInstanceUID", "UI")],
  [0x00200010, spec("StudyID", "SH")],
  [0x00200011, spec("SeriesNumber", "IS")],
  [0x00200013, spec("InstanceNumber", "IS")],
  [0x00201208, spec("NumberOfStudyRelatedInstances", "IS")],
]);

const vrByKeyword = new Map<string, string>();
for (const specs of [metaSpecs, datasetSpecs]) {
  for (const s of specs.values()) {
    vrByKeyword.set(s.keyword, s.vr);
    for (const i of s.items?.values() ?? []) vrByKeyword.set(i.keyword, i.vr);
  }
}

const rtrim = (s: string) => s.replace(/\s*$/, "");
const first = (s: string) => s.split("\\")[0];

/** dcmjs's IS value: a base-10 integer, else null. */
function integerString(s: string): number | null {
  const trimmed = s.trim();
  if (trimmed === "" || !/^[+-]?\d+$/.test(trimmed)) return null;
  const n = Number(trimmed);
  return Number.isFinite(n) ? n : null;
}

/** dcmjs's PN value: pad space dropped, empty values left out, the alphabetic group. */
function personName(s: string): { Alphabetic?: string }[] {
  const unpadded = s.endsWith(" ") ? s.slice(0, -1) : s;
  const name = unpadded.split("\\").filter(Boolean)[0];
  if (name === undefined) return [];
  const alphabetic = name.split("=")[0];
  return [alphabetic ? { Alphabetic: alphabetic } : {}];
}

/** The value of one element as dcmjs naturalizes it, reduced to its first value. */
function natural(vr: string, raw: string): unknown {
  switch (vr) {
    case "UI":
      return uidValue(raw);
    case "CS":
      return first(raw).trim();
    case "IS":
      return integerString(first(raw));
    case "LO":
    case "SH":
      return first(raw.trim());
    case "UT":
      return first(rtrim(raw));
    case "PN":
      return personName(raw);
    default:
      return first(raw);
  }
}

function naturalize(values: ElementValues): Naturalized {
  const out: Naturalized = {};
  for (const [keyword, value] of Object.entries(values)) {
    out[keyword] = typeof value === "string"
      ? natural(vrByKeyword.get(keyword)!, value)
      : value.map(naturalize);
  }
  return out;
}

/**
 * The header's elements of a Part-10 prefix, naturalized as dcmjs would. Throws
 * `NotFastReadable` where only dcmjs can tell.
 */
export function readHeaderElements(prefix: Uint8Array): { ds: Naturalized; meta: Naturalized } {
  const read = readPart10Elements(prefix, metaSpecs, datasetSpecs);
  // dcmjs peeks at a UI value's last byte for its padding, and so drops a cut one.
  if (read.cut && vrByKeyword.get(read.cut) === "UI") delete read.dataset[read.cut];
  return { ds: naturalize(read.dataset), meta: naturalize(read.meta) };
}
