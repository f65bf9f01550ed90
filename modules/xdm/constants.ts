/**
 * Identifiers from ITI TF-3 §4.2.5 / Table 4.3.1-3 (XDS metadata) and the Dutch OIDs
 * (standards.md §0 and §5.2). Kept in one place so writer and reader agree.
 */

export const NS_LCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0";
export const NS_RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0";

export const OBJECT_TYPE_STABLE = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1";
export const SUBMISSION_SET_NODE = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd";
export const HAS_MEMBER = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember";
export const STATUS_APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved";

/** DocumentEntry classification schemes and external identifiers (ITI TF-3 Table 4.3.1-3). */
export const DE = {
  author: "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d",
  classCode: "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a",
  confidentialityCode: "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f",
  eventCodeList: "urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4",
  formatCode: "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d",
  healthcareFacilityTypeCode: "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1",
  practiceSettingCode: "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead",
  typeCode: "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983",
  patientId: "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427",
  uniqueId: "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab",
} as const;

/** SubmissionSet classification schemes and external identifiers. */
export const SS = {
  author: "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d",
  contentTypeCode: "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500",
  patientId: "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446",
  sourceId: "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832",
  uniqueId: "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8",
} as const;

/** Our own SubmissionSet slots: a receiver knows from them when it holds every part. */
export const SLOT_TRANSFER_ID = "urn:beeldpoort:transferId";
export const SLOT_PART_NUMBER = "urn:beeldpoort:partNumber";
export const SLOT_PART_COUNT = "urn:beeldpoort:partCount";
export const SLOT_STUDY_UID = "urn:beeldpoort:studyInstanceUid";

export const OID_BSN = "2.16.840.1.113883.2.4.6.3";
export const OID_URA = "2.16.528.1.1007.3.3";

export const SCHEME_DICOM_UID = "1.2.840.10008.2.6.1";
export const SCHEME_DCM = "1.2.840.10008.2.16.4";
export const SCHEME_IHE_FORMAT = "1.3.6.1.4.1.19376.1.2.3";
export const SCHEME_LOINC = "2.16.840.1.113883.6.1";
export const SCHEME_CONFIDENTIALITY = "2.16.840.1.113883.5.25";
/** Nictiz RoleCodeNL (zorgaanbiedertype), used for healthcareFacilityTypeCode in NL. */
export const SCHEME_ROLECODE_NL = "2.16.840.1.113883.2.4.15.1060";
/** Vektis/AGB specialism codes (COD016-VEKT), used for practiceSettingCode in NL. */
export const SCHEME_AGB_SPECIALISM = "2.16.840.1.113883.2.4.6.7";

export const KOS_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.88.59";
export const BASIC_TEXT_SR_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.88.11";
export const ENCAPSULATED_PDF_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.104.1";
export const EXPLICIT_VR_LE = "1.2.840.10008.1.2.1";

/** A coded value as XDS carries it: Classification nodeRepresentation + codingScheme + Name. */
export interface Code {
  code: string;
  scheme: string;
  display: string;
}

/**
 * The codes we fill in by default. XDM leaves them R2, the receiving Dutch affinity domain routes
 * and displays on them (standards.md §1.3, §1.7 item 5); every one can be overridden per call.
 * - class 18726-0 "Radiology studies (set)" (LOINC), as in the Nictiz "Beeld in PGO" examples;
 * - type 18748-4 "Diagnostic imaging study" for images and manifest, 18782-3 "Radiology study
 *   observation (narrative)" for the report, 34109-9 "Note" for the sender's note;
 * - confidentiality N (HL7 v3 Confidentiality);
 * - healthcare facility V6 "Algemeen ziekenhuis" (RoleCodeNL);
 * - practice setting 0362 "Radiologie" (AGB specialism);
 * - contentTypeCode of the SubmissionSet = the class code.
 */
export const DEFAULT_CODES = {
  classCode: { code: "18726-0", scheme: SCHEME_LOINC, display: "Radiology studies (set)" },
  typeImages: { code: "18748-4", scheme: SCHEME_LOINC, display: "Diagnostic imaging study" },
  typeReport: {
    code: "18782-3",
    scheme: SCHEME_LOINC,
    display: "Radiology Study observation (narrative)",
  },
  typeNote: { code: "34109-9", scheme: SCHEME_LOINC, display: "Note" },
  confidentialityCode: { code: "N", scheme: SCHEME_CONFIDENTIALITY, display: "normal" },
  healthcareFacilityTypeCode: {
    code: "V6",
    scheme: SCHEME_ROLECODE_NL,
    display: "Algemeen ziekenhuis",
  },
  practiceSettingCode: { code: "0362", scheme: SCHEME_AGB_SPECIALISM, display: "Radiologie" },
} satisfies Record<string, Code>;

/** Display names for modality codes (DICOM CID 29), used for eventCodeList. */
export const MODALITY_NAMES: Record<string, string> = {
  CR: "Computed Radiography",
  CT: "Computed Tomography",
  DX: "Digital Radiography",
  MG: "Mammography",
  MR: "Magnetic Resonance",
  NM: "Nuclear Medicine",
  OT: "Other",
  PT: "Positron emission tomography",
  RF: "Radio Fluoroscopy",
  US: "Ultrasound",
  XA: "X-Ray Angiography",
  SR: "Structured Report",
  KO: "Key Object Selection",
  PR: "Presentation State",
  DOC: "Document",
  SC: "Secondary Capture",
  IO: "Intra-oral Radiography",
  PX: "Panoramic X-Ray",
  ES: "Endoscopy",
  XC: "External-camera Photography",
};
