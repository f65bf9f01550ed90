/**
 * Synthetic DICOM studies for the xdm tests: Secondary Capture images written with dcmjs, with
 * made-up patients only. Sizes are chosen by the test (pixel bytes per image).
 */
import dcmjs from "dcmjs";
import { randomUUID } from "node:crypto";
import type { XdmInstance, XdmStudy } from "../../modules/xdm/mod.ts";

// deno-lint-ignore no-explicit-any
const data = (dcmjs as any).data;

export const SC_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.7";
const EXPLICIT_LE = "1.2.840.10008.1.2.1";

export function uid(): string {
  return `2.25.${BigInt("0x" + randomUUID().replace(/-/g, "")).toString()}`;
}

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
