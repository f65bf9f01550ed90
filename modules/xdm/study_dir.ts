/**
 * packStudyDirectory: the CLI's `xdm pack --study-dir DIR`: reads the Part-10 files of one study
 * from a folder (headers only, with dcmjs), then writes the XDM parts next to `out`.
 */
import { open, readdir, stat } from "node:fs/promises";
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import { join } from "node:path";
import { dcmjsData } from "./dicom.ts";
import { XdmInvalidInput } from "./errors.ts";
import { packXdm } from "./pack.ts";
import type { PackXdmOptions, XdmInstance, XdmPatient, XdmStudy } from "./types.ts";

export interface PackStudyDirectoryOptions
  extends Omit<PackXdmOptions, "instances" | "study" | "report"> {
  /** Path of the zip. With more than one part: `NAME.partNNofMM.zip` beside it. */
  out: string;
  /** Report file to add (kind from its extension: .pdf, .txt, .dcm = sr). */
  reportPath?: string;
  /** Patient facts that the DICOM headers lack (e.g. the BSN, the issuer OID). */
  patient?: Partial<XdmPatient>;
}

export interface PackStudyDirectoryResult {
  transferId: string;
  studyInstanceUid: string;
  instanceCount: number;
  parts: {
    path: string;
    partNumber: number;
    partCount: number;
    bytes: number;
    oversized: boolean;
  }[];
}

interface Header {
  instance: XdmInstance;
  // deno-lint-ignore no-explicit-any
  dataset: Record<string, any>;
}

async function* walk(dir: string): AsyncGenerator<string> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile()) yield path;
  }
}

function parseHeader(bytes: Uint8Array) {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const dict = dcmjsData.DicomMessage.readFile(buffer as ArrayBuffer, {
    untilTag: "7FE00010",
    ignoreErrors: true,
  });
  return {
    meta: dcmjsData.DicomMetaDictionary.naturalizeDataset(dict.meta),
    dataset: dcmjsData.DicomMetaDictionary.naturalizeDataset(dict.dict),
  };
}

/** Reads the header of one Part-10 file; null when the file is not DICOM Part-10. */
export async function readPart10Header(path: string): Promise<Header | null> {
  const size = (await stat(path)).size;
  const handle = await open(path, "r");
  let head: Uint8Array;
  try {
    head = new Uint8Array(Math.min(size, 256 * 1024));
    await handle.read(head, 0, head.length, 0);
  } finally {
    await handle.close();
  }
  if (head.length < 132 || new TextDecoder().decode(head.subarray(128, 132)) !== "DICM") {
    return null;
  }
  let parsed;
  try {
    parsed = parseHeader(head);
    if (!parsed.dataset.SOPInstanceUID || !parsed.dataset.SeriesInstanceUID) throw new Error();
  } catch {
    parsed = parseHeader(await Deno.readFile(path)); // header larger than 256 KiB
  }
  const { meta, dataset } = parsed;
  const str = (v: unknown) => (Array.isArray(v) ? v[0] : v) as string | undefined;
  return {
    dataset,
    instance: {
      sopInstanceUid: str(dataset.SOPInstanceUID) ?? str(meta.MediaStorageSOPInstanceUID)!,
      sopClassUid: str(dataset.SOPClassUID) ?? str(meta.MediaStorageSOPClassUID)!,
      transferSyntaxUid: str(meta.TransferSyntaxUID)!,
      studyUid: str(dataset.StudyInstanceUID)!,
      seriesUid: str(dataset.SeriesInstanceUID)!,
      modality: str(dataset.Modality),
      size,
      open: () => Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>,
    },
  };
}

function personName(value: unknown): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (typeof v === "string") return v;
  return (v as { Alphabetic?: string }).Alphabetic;
}

/** Packs every Part-10 file under `dir` (one study) into XDM zip file(s). */
export async function packStudyDirectory(
  dir: string,
  options: PackStudyDirectoryOptions,
): Promise<PackStudyDirectoryResult> {
  const headers: Header[] = [];
  for await (const path of walk(dir)) {
    const header = await readPart10Header(path);
    if (header) headers.push(header);
  }
  if (headers.length === 0) throw new XdmInvalidInput(`no DICOM Part-10 files under ${dir}`);
  const studies = new Set(headers.map((h) => h.instance.studyUid));
  if (studies.size !== 1) {
    throw new XdmInvalidInput(`${dir} holds ${studies.size} studies; pack one study at a time`);
  }
  const first = headers[0].dataset;
  const issuer = first.IssuerOfPatientIDQualifiersSequence?.[0]?.UniversalEntityID;
  const study: XdmStudy = {
    studyInstanceUid: headers[0].instance.studyUid,
    patient: {
      id: first.PatientID ?? "",
      issuerOid: typeof issuer === "string" && /^\d+(\.\d+)+$/.test(issuer) ? issuer : undefined,
      name: personName(first.PatientName),
      birthDate: first.PatientBirthDate || undefined,
      sex: first.PatientSex || undefined,
      ...options.patient,
    },
    studyDate: first.StudyDate || undefined,
    studyTime: first.StudyTime || undefined,
    description: first.StudyDescription || undefined,
    accessionNumber: first.AccessionNumber || undefined,
    studyId: first.StudyID || undefined,
    referringPhysicianName: personName(first.ReferringPhysicianName),
    modalities: [
      ...new Set(headers.map((h) => h.instance.modality).filter((m): m is string => !!m)),
    ],
  };
  let report: PackXdmOptions["report"];
  if (options.reportPath) {
    const path = options.reportPath;
    const lower = path.toLowerCase();
    const kind = lower.endsWith(".pdf") ? "pdf" : lower.endsWith(".dcm") ? "sr" : "text";
    const header = kind === "sr" ? await readPart10Header(path) : null;
    report = {
      kind,
      size: (await stat(path)).size,
      sopInstanceUid: header?.instance.sopInstanceUid,
      sopClassUid: header?.instance.sopClassUid,
      open: () => Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>,
    };
  }
  const parts: PackStudyDirectoryResult["parts"] = [];
  let transferId = "";
  const base = options.out.replace(/\.zip$/i, "");
  for await (
    const part of packXdm({ ...options, instances: headers.map((h) => h.instance), study, report })
  ) {
    transferId = part.transferId;
    const path = part.partCount === 1
      ? options.out
      : `${base}.part${String(part.partNumber).padStart(2, "0")}of${
        String(part.partCount).padStart(2, "0")
      }.zip`;
    const file = await Deno.open(path, { write: true, create: true, truncate: true });
    await part.stream.pipeTo(file.writable);
    parts.push({
      path,
      partNumber: part.partNumber,
      partCount: part.partCount,
      bytes: (await stat(path)).size,
      oversized: part.oversized,
    });
  }
  return {
    transferId,
    studyInstanceUid: study.studyInstanceUid,
    instanceCount: headers.length,
    parts,
  };
}
