/**
 * METADATA.XML writer: an ebRS 3.0 `lcm:SubmitObjectsRequest` with one SubmissionSet, its
 * DocumentEntries and HasMember associations (ITI TF-3 §4.2, §4.3.1 Table 4.3.1-3 "XDM MC").
 * Element order inside each object follows rim.xsd: Slot*, Name?, Description?, Classification*,
 * ExternalIdentifier*.
 */
import {
  type Code,
  DE,
  HAS_MEMBER,
  NS_LCM,
  NS_RIM,
  OBJECT_TYPE_STABLE,
  SLOT_PART_COUNT,
  SLOT_PART_NUMBER,
  SLOT_STUDY_UID,
  SLOT_TRANSFER_ID,
  SS,
  STATUS_APPROVED,
  SUBMISSION_SET_NODE,
} from "./constants.ts";
import { urnUuid, xmlEscape } from "./hl7.ts";

/** What every DocumentEntry of one submission shares. */
export interface EntryContext {
  patientId: string;
  sourcePatientId: string;
  sourcePatientInfo: string[];
  authorInstitution: string;
  authorTelecom: string;
  confidentialityCode: Code;
  healthcareFacilityTypeCode: Code;
  practiceSettingCode: Code;
  classCode: Code;
  eventCodes: Code[];
  languageCode: string;
  serviceStartTime?: string;
  referenceIds: string[];
}

export interface DocumentSpec {
  entryUuid: string;
  uri: string;
  mimeType: string;
  uniqueId: string;
  hash: string;
  size: number;
  title?: string;
  creationTime: string;
  typeCode: Code;
  formatCode: Code;
}

export interface SubmissionSpec {
  entryUuid: string;
  uniqueId: string;
  sourceId: string;
  patientId: string;
  submissionTime: string;
  title: string;
  comments?: string;
  authorInstitution: string;
  authorTelecom: string;
  contentTypeCode: Code;
  intendedRecipient: string;
  transferId: string;
  partNumber: number;
  partCount: number;
  studyInstanceUid: string;
}

const a = (value: string) => xmlEscape(value);

function slot(name: string, values: string[], indent: string): string {
  const vs = values.map((v) => `<rim:Value>${a(v)}</rim:Value>`).join("");
  return `${indent}<rim:Slot name="${a(name)}"><rim:ValueList>${vs}</rim:ValueList></rim:Slot>\n`;
}

function localized(tag: "Name" | "Description", value: string, indent: string): string {
  return `${indent}<rim:${tag}><rim:LocalizedString value="${a(value)}"/></rim:${tag}>\n`;
}

function codeClassification(scheme: string, owner: string, code: Code, indent: string): string {
  return `${indent}<rim:Classification id="${urnUuid()}" classificationScheme="${scheme}" ` +
    `classifiedObject="${owner}" nodeRepresentation="${a(code.code)}">\n` +
    slot("codingScheme", [code.scheme], indent + " ") +
    localized("Name", code.display, indent + " ") +
    `${indent}</rim:Classification>\n`;
}

function externalId(scheme: string, owner: string, value: string, label: string, indent: string) {
  return `${indent}<rim:ExternalIdentifier id="${urnUuid()}" registryObject="${owner}" ` +
    `identificationScheme="${scheme}" value="${a(value)}">\n` +
    localized("Name", label, indent + " ") +
    `${indent}</rim:ExternalIdentifier>\n`;
}

function author(scheme: string, owner: string, institution: string, telecom: string, i: string) {
  return `${i}<rim:Classification id="${urnUuid()}" classificationScheme="${scheme}" ` +
    `classifiedObject="${owner}" nodeRepresentation="">\n` +
    slot("authorInstitution", [institution], i + " ") +
    slot("authorTelecommunication", [telecom], i + " ") +
    `${i}</rim:Classification>\n`;
}

export const METADATA_HEAD = `<?xml version="1.0" encoding="UTF-8"?>\n` +
  `<lcm:SubmitObjectsRequest xmlns:lcm="${NS_LCM}" xmlns:rim="${NS_RIM}">\n` +
  ` <rim:RegistryObjectList>\n`;
export const METADATA_TAIL = ` </rim:RegistryObjectList>\n</lcm:SubmitObjectsRequest>\n`;

/** One `rim:ExtrinsicObject` (stable DocumentEntry). */
export function documentEntryXml(doc: DocumentSpec, ctx: EntryContext): string {
  const i = "   ";
  const id = doc.entryUuid;
  let xml = `  <rim:ExtrinsicObject id="${id}" mimeType="${a(doc.mimeType)}" ` +
    `objectType="${OBJECT_TYPE_STABLE}" status="${STATUS_APPROVED}">\n`;
  xml += slot("creationTime", [doc.creationTime], i);
  xml += slot("hash", [doc.hash], i);
  xml += slot("languageCode", [ctx.languageCode], i);
  if (ctx.serviceStartTime) xml += slot("serviceStartTime", [ctx.serviceStartTime], i);
  xml += slot("size", [String(doc.size)], i);
  xml += slot("sourcePatientId", [ctx.sourcePatientId], i);
  if (ctx.sourcePatientInfo.length) xml += slot("sourcePatientInfo", ctx.sourcePatientInfo, i);
  xml += slot("URI", [doc.uri], i);
  if (ctx.referenceIds.length) {
    xml += slot("urn:ihe:iti:xds:2013:referenceIdList", ctx.referenceIds, i);
  }
  if (doc.title) xml += localized("Name", doc.title, i);
  xml += author(DE.author, id, ctx.authorInstitution, ctx.authorTelecom, i);
  xml += codeClassification(DE.classCode, id, ctx.classCode, i);
  xml += codeClassification(DE.confidentialityCode, id, ctx.confidentialityCode, i);
  for (const ev of ctx.eventCodes) xml += codeClassification(DE.eventCodeList, id, ev, i);
  xml += codeClassification(DE.formatCode, id, doc.formatCode, i);
  xml += codeClassification(
    DE.healthcareFacilityTypeCode,
    id,
    ctx.healthcareFacilityTypeCode,
    i,
  );
  xml += codeClassification(DE.practiceSettingCode, id, ctx.practiceSettingCode, i);
  xml += codeClassification(DE.typeCode, id, doc.typeCode, i);
  xml += externalId(DE.patientId, id, ctx.patientId, "XDSDocumentEntry.patientId", i);
  xml += externalId(DE.uniqueId, id, doc.uniqueId, "XDSDocumentEntry.uniqueId", i);
  xml += `  </rim:ExtrinsicObject>\n`;
  return xml;
}

/** The SubmissionSet `rim:RegistryPackage`, its marking Classification. */
export function submissionSetXml(ss: SubmissionSpec): string {
  const i = "   ";
  const id = ss.entryUuid;
  let xml = `  <rim:RegistryPackage id="${id}">\n`;
  xml += slot("intendedRecipient", [ss.intendedRecipient], i);
  xml += slot("submissionTime", [ss.submissionTime], i);
  xml += slot(SLOT_TRANSFER_ID, [ss.transferId], i);
  xml += slot(SLOT_PART_NUMBER, [String(ss.partNumber)], i);
  xml += slot(SLOT_PART_COUNT, [String(ss.partCount)], i);
  xml += slot(SLOT_STUDY_UID, [ss.studyInstanceUid], i);
  xml += localized("Name", ss.title, i);
  if (ss.comments) xml += localized("Description", ss.comments, i);
  xml += author(SS.author, id, ss.authorInstitution, ss.authorTelecom, i);
  xml += codeClassification(SS.contentTypeCode, id, ss.contentTypeCode, i);
  xml += externalId(SS.patientId, id, ss.patientId, "XDSSubmissionSet.patientId", i);
  xml += externalId(SS.sourceId, id, ss.sourceId, "XDSSubmissionSet.sourceId", i);
  xml += externalId(SS.uniqueId, id, ss.uniqueId, "XDSSubmissionSet.uniqueId", i);
  xml += `  </rim:RegistryPackage>\n`;
  xml += `  <rim:Classification id="${urnUuid()}" classifiedObject="${id}" ` +
    `classificationNode="${SUBMISSION_SET_NODE}"/>\n`;
  return xml;
}

/** HasMember association SubmissionSet -> DocumentEntry (ITI TF-3 §4.2.2). */
export function hasMemberXml(submissionSetUuid: string, entryUuid: string): string {
  return `  <rim:Association id="${urnUuid()}" associationType="${HAS_MEMBER}" ` +
    `sourceObject="${submissionSetUuid}" targetObject="${entryUuid}">\n` +
    slot("SubmissionSetStatus", ["Original"], "   ") +
    `  </rim:Association>\n`;
}
