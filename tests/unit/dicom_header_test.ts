import assert from "node:assert/strict";
import dcmjs from "dcmjs";
import { isValidBsn, readInstanceHeader } from "../../modules/dicom/mod.ts";

const { DicomDict, DicomMetaDictionary } = dcmjs.data;

function part10(dataset: Record<string, unknown>): Uint8Array {
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: dataset.SOPClassUID,
    MediaStorageSOPInstanceUID: dataset.SOPInstanceUID,
    TransferSyntaxUID: "1.2.840.10008.1.2.1",
    ImplementationClassUID: "2.25.1",
  };
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  return new Uint8Array(dict.write());
}

const ct = {
  SOPClassUID: "1.2.840.10008.5.1.4.1.1.2",
  SOPInstanceUID: "2.25.11",
  StudyInstanceUID: "2.25.12",
  SeriesInstanceUID: "2.25.13",
  PatientID: "999999990",
  IssuerOfPatientID: "NLMINBIZA",
  PatientName: "Proef^Pieter",
  Modality: "CT",
  SeriesNumber: "3",
  InstanceNumber: "7",
  NumberOfStudyRelatedInstances: "120",
  Rows: 32,
  Columns: 32,
  BitsAllocated: 16,
  BitsStored: 16,
  HighBit: 15,
  PixelRepresentation: 0,
  SamplesPerPixel: 1,
  PhotometricInterpretation: "MONOCHROME2",
  PixelData: new Uint16Array(32 * 32).buffer,
  _vrMap: { PixelData: "OW" },
};

Deno.test("the header reader gets the indexed elements, from a prefix that stops before the pixels", () => {
  const bytes = part10(ct);
  const full = readInstanceHeader(bytes);
  assert.equal(full.studyInstanceUid, "2.25.12");
  assert.equal(full.seriesInstanceUid, "2.25.13");
  assert.equal(full.sopInstanceUid, "2.25.11");
  assert.equal(full.modality, "CT");
  assert.equal(full.seriesNumber, 3);
  assert.equal(full.instanceNumber, 7);
  assert.equal(full.numberOfStudyRelatedInstances, 120);
  assert.equal(full.bsn, "999999990");
  assert.equal(full.patientName, "Proef^Pieter");
  const prefix = readInstanceHeader(bytes.subarray(0, bytes.length - 1500));
  assert.deepEqual(prefix, full);
});

Deno.test("a BSN is only taken from a BSN issuer and when it passes the 11-test", () => {
  assert.equal(readInstanceHeader(part10({ ...ct, IssuerOfPatientID: "ZH-LOCAL" })).bsn, undefined);
  assert.equal(readInstanceHeader(part10({ ...ct, PatientID: "999999991" })).bsn, undefined);
  const other = readInstanceHeader(part10({
    ...ct,
    PatientID: "MRN123",
    IssuerOfPatientID: "ZH",
    OtherPatientIDsSequence: [{ PatientID: "999999990", IssuerOfPatientID: "NLMINBIZA" }],
  }));
  assert.equal(other.patientId, "MRN123");
  assert.equal(other.bsn, "999999990");
  assert.equal(isValidBsn("123456782"), true);
  assert.equal(isValidBsn("123456781"), false);
  assert.equal(isValidBsn("12345678"), false);
});
