/**
 * Packs a folder of Part-10 files (one study) into XDM zip file(s): `beeldpoort xdm pack`.
 * Headers are read by the dicom module; the xdm module only writes what it is given.
 */
import { open, readdir, stat } from "node:fs/promises";
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import { join } from "node:path";
import { type InstanceHeader, readInstanceHeader } from "../modules/dicom/mod.ts";
import {
  packXdm,
  type PackXdmOptions,
  type XdmInstance,
  XdmInvalidInput,
  type XdmPatient,
  type XdmStudy,
} from "../modules/xdm/mod.ts";

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

interface DirectoryInstance {
  instance: XdmInstance;
  header: InstanceHeader;
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

const fileStream = (path: string) =>
  Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>;

/** Reads the header of one file; null when it is not DICOM Part-10 or lacks its UIDs. */
async function readFileHeader(path: string): Promise<DirectoryInstance | null> {
  const size = (await stat(path)).size;
  const handle = await open(path, "r");
  const head = new Uint8Array(Math.min(size, 256 * 1024));
  try {
    await handle.read(head, 0, head.length, 0);
  } finally {
    await handle.close();
  }
  if (head.length < 132 || new TextDecoder().decode(head.subarray(128, 132)) !== "DICM") {
    return null;
  }
  const header = readInstanceHeader(head);
  const { sopInstanceUid, sopClassUid, transferSyntaxUid, studyInstanceUid, seriesInstanceUid } =
    header;
  if (
    !sopInstanceUid || !sopClassUid || !transferSyntaxUid || !studyInstanceUid || !seriesInstanceUid
  ) {
    return null;
  }
  return {
    header,
    instance: {
      sopInstanceUid,
      sopClassUid,
      transferSyntaxUid,
      studyUid: studyInstanceUid,
      seriesUid: seriesInstanceUid,
      modality: header.modality,
      size,
      open: () => fileStream(path),
    },
  };
}

function studyOf(
  first: InstanceHeader,
  all: DirectoryInstance[],
  patient?: Partial<XdmPatient>,
): XdmStudy {
  return {
    studyInstanceUid: first.studyInstanceUid!,
    patient: {
      id: first.patientId ?? "",
      issuerOid: first.issuerOfPatientIdOid,
      bsn: first.bsn,
      name: first.patientName,
      birthDate: first.patientBirthDate,
      sex: first.patientSex,
      ...patient,
    },
    studyDate: first.studyDate,
    studyTime: first.studyTime,
    description: first.studyDescription,
    accessionNumber: first.accessionNumber,
    studyId: first.studyId,
    referringPhysicianName: first.referringPhysicianName,
    modalities: [...new Set(all.map((h) => h.header.modality).filter((m): m is string => !!m))],
  };
}

async function reportOf(path: string): Promise<PackXdmOptions["report"]> {
  const lower = path.toLowerCase();
  const kind = lower.endsWith(".pdf") ? "pdf" : lower.endsWith(".dcm") ? "sr" : "text";
  const header = kind === "sr" ? await readFileHeader(path) : null;
  return {
    kind,
    size: (await stat(path)).size,
    sopInstanceUid: header?.instance.sopInstanceUid,
    sopClassUid: header?.instance.sopClassUid,
    open: () => fileStream(path),
  };
}

/** Packs every Part-10 file under `dir` (one study) into XDM zip file(s). */
export async function packStudyDirectory(
  dir: string,
  options: PackStudyDirectoryOptions,
): Promise<PackStudyDirectoryResult> {
  const found: DirectoryInstance[] = [];
  for await (const path of walk(dir)) {
    const entry = await readFileHeader(path);
    if (entry) found.push(entry);
  }
  if (found.length === 0) throw new XdmInvalidInput(`no DICOM Part-10 files under ${dir}`);
  const studies = new Set(found.map((h) => h.instance.studyUid));
  if (studies.size !== 1) {
    throw new XdmInvalidInput(`${dir} holds ${studies.size} studies; pack one study at a time`);
  }
  const study = studyOf(found[0].header, found, options.patient);
  const report = options.reportPath ? await reportOf(options.reportPath) : undefined;
  const parts: PackStudyDirectoryResult["parts"] = [];
  let transferId = "";
  const base = options.out.replace(/\.zip$/i, "");
  const instances = found.map((h) => h.instance);
  for await (const part of packXdm({ ...options, instances, study, report })) {
    transferId = part.transferId;
    const number = (n: number) => String(n).padStart(2, "0");
    const path = part.partCount === 1
      ? options.out
      : `${base}.part${number(part.partNumber)}of${number(part.partCount)}.zip`;
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
    instanceCount: found.length,
    parts,
  };
}
