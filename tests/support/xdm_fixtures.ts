/**
 * Synthetic DICOM studies for the xdm tests: Secondary Capture images written with dcmjs, with
 * made-up patients only. Sizes are chosen by the test (pixel bytes per image).
 */
import dcmjs from "dcmjs";
import * as fflate from "fflate";
import zlib from "node:zlib";
import { newUid } from "./dicom_fixtures.ts";
import type { XdmInstance, XdmStudy } from "../../modules/xdm/mod.ts";

// deno-lint-ignore no-explicit-any
const data = (dcmjs as any).data;

export const SC_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.7";
const EXPLICIT_LE = "1.2.840.10008.1.2.1";

/** A fresh UID (the shared generator of the DICOM fixtures). */
export const uid = () => newUid();

export interface SyntheticInstanceOptions {
  studyUid: string;
  seriesUid: string;
  sopInstanceUid: string;
  seriesNumber: number;
  instanceNumber: number;
  /** Side of the square 8-bit image; the file is about side*side bytes plus ~1 KB. */
  side: number;
  patient?: { id: string; name: string; birthDate: string; sex: string };
  fill?: (i: number) => number;
}

export const syntheticPatient = {
  id: "TEST-0001",
  name: "Proef^Anna",
  birthDate: "19700101",
  sex: "F",
};

/** One Part-10 Secondary Capture file. */
export function syntheticInstance(o: SyntheticInstanceOptions): Uint8Array {
  const patient = o.patient ?? syntheticPatient;
  const pixels = new Uint8Array(o.side * o.side);
  const fill = o.fill ?? ((i: number) => (i * 31 + o.instanceNumber * 7) & 0xff);
  for (let i = 0; i < pixels.length; i++) pixels[i] = fill(i);
  const dataset = {
    SpecificCharacterSet: "ISO_IR 192",
    SOPClassUID: SC_SOP_CLASS,
    SOPInstanceUID: o.sopInstanceUid,
    PatientName: patient.name,
    PatientID: patient.id,
    PatientBirthDate: patient.birthDate,
    PatientSex: patient.sex,
    StudyInstanceUID: o.studyUid,
    StudyDate: "20250314",
    StudyTime: "093000",
    ReferringPhysicianName: "",
    StudyID: "1",
    AccessionNumber: "ACC0001",
    StudyDescription: "Synthetisch onderzoek",
    Modality: "OT",
    SeriesInstanceUID: o.seriesUid,
    SeriesNumber: String(o.seriesNumber),
    InstanceNumber: String(o.instanceNumber),
    ConversionType: "WSD",
    PatientOrientation: "",
    SamplesPerPixel: 1,
    PhotometricInterpretation: "MONOCHROME2",
    Rows: o.side,
    Columns: o.side,
    BitsAllocated: 8,
    BitsStored: 8,
    HighBit: 7,
    PixelRepresentation: 0,
    PixelData: [pixels.buffer],
    _vrMap: { PixelData: "OB" },
  };
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: SC_SOP_CLASS,
    MediaStorageSOPInstanceUID: o.sopInstanceUid,
    TransferSyntaxUID: EXPLICIT_LE,
    ImplementationClassUID: "2.25.1",
    ImplementationVersionName: "XDM_TEST",
  };
  const dict = new data.DicomDict(data.DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = data.DicomMetaDictionary.denaturalizeDataset(dataset);
  return new Uint8Array(dict.write());
}

export interface SyntheticStudy {
  study: XdmStudy;
  /** Bytes of every instance by SOP Instance UID. */
  files: Map<string, Uint8Array>;
  instances: XdmInstance[];
}

function streamOf(bytes: Uint8Array, chunk = 16_384): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + chunk));
      offset += chunk;
    },
  });
}

/** A study of `series` x `perSeries` images, held in memory (tests keep it small). */
export function syntheticStudy(series: number, perSeries: number, side = 64): SyntheticStudy {
  const studyUid = uid();
  const files = new Map<string, Uint8Array>();
  const instances: XdmInstance[] = [];
  for (let s = 1; s <= series; s++) {
    const seriesUid = uid();
    for (let n = 1; n <= perSeries; n++) {
      const sopInstanceUid = uid();
      const bytes = syntheticInstance({
        studyUid,
        seriesUid,
        sopInstanceUid,
        seriesNumber: s,
        instanceNumber: n,
        side,
      });
      files.set(sopInstanceUid, bytes);
      instances.push({
        sopInstanceUid,
        sopClassUid: SC_SOP_CLASS,
        transferSyntaxUid: EXPLICIT_LE,
        studyUid,
        seriesUid,
        size: bytes.length,
        modality: "OT",
        open: () => streamOf(bytes),
      });
    }
  }
  return {
    study: {
      studyInstanceUid: studyUid,
      patient: { ...syntheticPatient, issuerOid: "2.25.4711", bsn: "999999990" },
      studyDate: "20250314",
      studyTime: "093000",
      description: "Synthetisch onderzoek",
      accessionNumber: "ACC0001",
      studyId: "1",
      modalities: ["OT"],
    },
    files,
    instances,
  };
}

export { streamOf };

/** Collects a stream into one array (test-sized data only). */
export async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of stream) {
    chunks.push(chunk);
    total += chunk.length;
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

/** One zip entry for hand-built (hostile or foreign) packages. */
export interface RawZipEntry {
  name: string;
  data: Uint8Array;
  deflate?: boolean;
  /** Host system (3 = unix) and external attributes (mode << 16). */
  os?: number;
  attrs?: number;
}

/** Builds a zip in memory with fflate, allowing what a careful writer never would. */
export function buildZip(entries: RawZipEntry[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  const zip = new fflate.Zip((err, chunk) => {
    if (err) throw err;
    chunks.push(chunk);
  });
  for (const e of entries) {
    const file = e.deflate
      ? new fflate.ZipDeflate(e.name, { level: 6 })
      : new fflate.ZipPassThrough(e.name);
    if (e.os !== undefined) file.os = e.os;
    if (e.attrs !== undefined) file.attrs = e.attrs;
    zip.add(file);
    file.push(e.data, true);
  }
  zip.end();
  return concat(chunks);
}

/** Every file entry of a (small) zip, in order. */
export function unzipAll(bytes: Uint8Array): RawZipEntry[] {
  const files = fflate.unzipSync(bytes);
  return Object.entries(files).map(([name, data]) => ({ name, data }));
}

/**
 * A zip with one deflated run of `bytes` zeros: a zip bomb that costs little to build (native
 * zlib, about 2 s per GiB here) and is about 1 MB on disk.
 */
export async function zeroBombZip(name: string, bytes: number): Promise<Uint8Array> {
  const deflater = zlib.createDeflateRaw({ level: 9 });
  const out: Uint8Array[] = [];
  deflater.on("data", (chunk: Uint8Array) => out.push(chunk));
  const finished = new Promise((resolve) => deflater.on("end", resolve));
  const block = new Uint8Array(1 << 20);
  let crc = 0;
  for (let done = 0; done < bytes; done += block.length) {
    const piece = block.subarray(0, Math.min(block.length, bytes - done));
    crc = zlib.crc32(piece, crc);
    if (!deflater.write(piece)) await new Promise((r) => deflater.once("drain", r));
  }
  deflater.end();
  await finished;
  const data = concat(out);
  const nameBytes = new TextEncoder().encode(name);
  const local = new DataView(new ArrayBuffer(30));
  local.setUint32(0, 0x04034b50, true);
  local.setUint16(4, 20, true);
  local.setUint16(8, 8, true);
  local.setUint16(12, 0x21, true);
  local.setUint32(14, crc >>> 0, true);
  local.setUint32(18, data.length, true);
  local.setUint32(22, bytes, true);
  local.setUint16(26, nameBytes.length, true);
  const central = new DataView(new ArrayBuffer(46));
  central.setUint32(0, 0x02014b50, true);
  central.setUint16(4, 20, true);
  central.setUint16(6, 20, true);
  central.setUint16(10, 8, true);
  central.setUint16(14, 0x21, true);
  central.setUint32(16, crc >>> 0, true);
  central.setUint32(20, data.length, true);
  central.setUint32(24, bytes, true);
  central.setUint16(28, nameBytes.length, true);
  const cdOffset = 30 + nameBytes.length + data.length;
  const eocd = new DataView(new ArrayBuffer(22));
  eocd.setUint32(0, 0x06054b50, true);
  eocd.setUint16(8, 1, true);
  eocd.setUint16(10, 1, true);
  eocd.setUint32(12, 46 + nameBytes.length, true);
  eocd.setUint32(16, cdOffset, true);
  return concat([
    new Uint8Array(local.buffer),
    nameBytes,
    data,
    new Uint8Array(central.buffer),
    nameBytes,
    new Uint8Array(eocd.buffer),
  ]);
}

export function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

export const testSender = {
  ura: "00012345",
  organizationName: "Ziekenhuis Proef",
  email: "xdm@gw.proef.example",
};
export const testRecipient = {
  email: "xdm@gw.ontvanger.example",
  ura: "00054321",
  organizationName: "Ontvangend Ziekenhuis",
};
