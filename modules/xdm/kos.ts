/**
 * The Key Object Selection "manifest" of XDS-I.b (RAD TF-3 §4.68.4.1.2.3; PS3.3 A.35.4), which
 * lists every instance of the study so a receiver knows the full set. Document title
 * (113030, DCM, "Manifest"), template TID 2010.
 */
import { dcmjsData, IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from "./dicom.ts";
import { EXPLICIT_VR_LE, KOS_SOP_CLASS } from "./constants.ts";
import type { XdmStudy } from "./types.ts";

export interface KosReference {
  sopClassUid: string;
  sopInstanceUid: string;
  seriesUid: string;
}

export interface KosOptions {
  study: XdmStudy;
  references: KosReference[];
  sopInstanceUid: string;
  seriesInstanceUid: string;
  institutionName?: string;
  now: Date;
}

/** SOP classes that are not images: referenced as COMPOSITE content items (PS3.3 C.18.4). */
function isNonImage(sopClassUid: string): boolean {
  return /^1\.2\.840\.10008\.5\.1\.4\.1\.1\.(88\.|104\.|11\.|9\.|66|67|481\.)/.test(sopClassUid);
}

function da(date: Date): string {
  return date.toISOString().slice(0, 10).replace(/-/g, "");
}

function tm(date: Date): string {
  return date.toISOString().slice(11, 19).replace(/:/g, "");
}

/** Builds the KOS manifest as a Part-10 file (Explicit VR Little Endian). */
export function buildKos(options: KosOptions): Uint8Array {
  const { study, references, now } = options;
  const bySeries = new Map<string, KosReference[]>();
  for (const ref of references) {
    const list = bySeries.get(ref.seriesUid) ?? [];
    list.push(ref);
    bySeries.set(ref.seriesUid, list);
  }
  const patient = study.patient;
  const dataset: Record<string, unknown> = {
    SpecificCharacterSet: "ISO_IR 192",
    SOPClassUID: KOS_SOP_CLASS,
    SOPInstanceUID: options.sopInstanceUid,
    InstanceCreationDate: da(now),
    InstanceCreationTime: tm(now),
    // Patient module (PS3.3 C.7.1.1)
    PatientName: patient.name ?? "",
    PatientID: patient.id,
    PatientBirthDate: patient.birthDate ?? "",
    PatientSex: patient.sex ?? "",
    // General Study module (C.7.2.1)
    StudyInstanceUID: study.studyInstanceUid,
    StudyDate: study.studyDate ?? "",
    StudyTime: study.studyTime ?? "",
    ReferringPhysicianName: study.referringPhysicianName ?? "",
    StudyID: study.studyId ?? "",
    AccessionNumber: study.accessionNumber ?? "",
    // Key Object Document Series module (C.17.6.1)
    Modality: "KO",
    SeriesInstanceUID: options.seriesInstanceUid,
    SeriesNumber: "999",
    ReferencedPerformedProcedureStepSequence: [],
    // General Equipment module (C.7.5.1)
    Manufacturer: "Beeldpoort",
    // Key Object Document module (C.17.6.2)
    InstanceNumber: "1",
    ContentDate: da(now),
    ContentTime: tm(now),
    CurrentRequestedProcedureEvidenceSequence: [{
      StudyInstanceUID: study.studyInstanceUid,
      ReferencedSeriesSequence: [...bySeries.entries()].map(([seriesUid, refs]) => ({
        SeriesInstanceUID: seriesUid,
        ReferencedSOPSequence: refs.map((r) => ({
          ReferencedSOPClassUID: r.sopClassUid,
          ReferencedSOPInstanceUID: r.sopInstanceUid,
        })),
      })),
    }],
    // SR Document Content module (C.17.3) with TID 2010 "Key Object Selection"
    ValueType: "CONTAINER",
    ConceptNameCodeSequence: [{
      CodeValue: "113030",
      CodingSchemeDesignator: "DCM",
      CodeMeaning: "Manifest",
    }],
    ContinuityOfContent: "SEPARATE",
    ContentTemplateSequence: [{ MappingResource: "DCMR", TemplateIdentifier: "2010" }],
    ContentSequence: references.map((r) => ({
      RelationshipType: "CONTAINS",
      ValueType: isNonImage(r.sopClassUid) ? "COMPOSITE" : "IMAGE",
      ReferencedSOPSequence: [{
        ReferencedSOPClassUID: r.sopClassUid,
        ReferencedSOPInstanceUID: r.sopInstanceUid,
      }],
    })),
  };
  if (study.description) dataset.StudyDescription = study.description;
  if (options.institutionName) dataset.InstitutionName = options.institutionName;
  if (patient.issuerOid) {
    dataset.IssuerOfPatientIDQualifiersSequence = [{
      UniversalEntityID: patient.issuerOid,
      UniversalEntityIDType: "ISO",
    }];
  }
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: KOS_SOP_CLASS,
    MediaStorageSOPInstanceUID: options.sopInstanceUid,
    TransferSyntaxUID: EXPLICIT_VR_LE,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: IMPLEMENTATION_VERSION_NAME,
  };
  const dict = new dcmjsData.DicomDict(dcmjsData.DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = dcmjsData.DicomMetaDictionary.denaturalizeDataset(dataset);
  return new Uint8Array(dict.write());
}
