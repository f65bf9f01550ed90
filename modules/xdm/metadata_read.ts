/**
 * METADATA.XML reader: the SubmissionSets and DocumentEntries of one XDM subset, read leniently
 * for R2 attributes and strictly for what ITI-32 makes the importer check (hash, size, URI).
 */
import {
  type Code,
  DE,
  HAS_MEMBER,
  KOS_SOP_CLASS,
  NS_LCM,
  NS_RIM,
  SLOT_PART_COUNT,
  SLOT_PART_NUMBER,
  SLOT_STUDY_UID,
  SLOT_TRANSFER_ID,
  SS,
  SUBMISSION_SET_NODE,
} from "./constants.ts";
import { XdmInvalidMetadata } from "./errors.ts";
import { childrenNamed, firstChild, parseXml, type XmlElement, XmlSyntaxError } from "./xml.ts";

/** One DocumentEntry as read from METADATA.XML, resolved to its zip entry. */
export interface XdmDocument {
  /** The subset folder, e.g. `IHE_XDM/SUBSET01`. */
  subset: string;
  /** The zip entry name of the document. */
  entryName: string;
  entryUuid: string;
  uniqueId?: string;
  uri: string;
  mimeType: string;
  /** SHA-1, lowercase hex. */
  hash: string;
  size: number;
  title?: string;
  creationTime?: string;
  patientId?: string;
  sourcePatientId?: string;
  sourcePatientInfo: string[];
  classCode?: Code;
  typeCode?: Code;
  formatCode?: Code;
  eventCodes: Code[];
  referenceIds: string[];
  /** Whether the entry is a DICOM KOS manifest (formatCode = KOS SOP class). */
  isManifest: boolean;
}

/** Which part of a multi-part transfer a package is (our SubmissionSet slots). */
export interface XdmTransferInfo {
  transferId: string;
  partNumber: number;
  partCount: number;
  studyInstanceUid?: string;
}

export interface XdmSubmissionSet {
  subset: string;
  metadataPath: string;
  entryUuid: string;
  uniqueId?: string;
  sourceId?: string;
  patientId?: string;
  submissionTime?: string;
  title?: string;
  /** SubmissionSet comments (our sender's note). */
  comments?: string;
  intendedRecipients: string[];
  authorInstitutions: string[];
  transfer?: XdmTransferInfo;
  documents: XdmDocument[];
}

function slots(el: XmlElement): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const slot of childrenNamed(el, "Slot", NS_RIM)) {
    const name = slot.attrs.name;
    if (!name) continue;
    const list = firstChild(slot, "ValueList", NS_RIM);
    const values = list ? childrenNamed(list, "Value", NS_RIM).map((v) => v.text.trim()) : [];
    out.set(name, [...(out.get(name) ?? []), ...values]);
  }
  return out;
}

function localized(el: XmlElement, tag: "Name" | "Description"): string | undefined {
  const holder = firstChild(el, tag, NS_RIM);
  const ls = holder ? firstChild(holder, "LocalizedString", NS_RIM) : undefined;
  return ls?.attrs.value;
}

function codes(el: XmlElement, scheme: string): Code[] {
  return childrenNamed(el, "Classification", NS_RIM)
    .filter((c) => c.attrs.classificationScheme === scheme)
    .map((c) => ({
      code: c.attrs.nodeRepresentation ?? "",
      scheme: slots(c).get("codingScheme")?.[0] ?? "",
      display: localized(c, "Name") ?? "",
    }));
}

function externalId(el: XmlElement, scheme: string): string | undefined {
  return childrenNamed(el, "ExternalIdentifier", NS_RIM)
    .find((e) => e.attrs.identificationScheme === scheme)?.attrs.value;
}

function authorSlot(el: XmlElement, scheme: string, name: string): string[] {
  return childrenNamed(el, "Classification", NS_RIM)
    .filter((c) => c.attrs.classificationScheme === scheme)
    .flatMap((c) => slots(c).get(name) ?? []);
}

/** URI values longer than a Slot allows are split as `1|…`, `2|…` (ITI TF-3 §4.2.3.2.24). */
function joinUri(values: string[]): string | undefined {
  if (values.length <= 1) return values[0];
  const parts = values.map((v) => {
    const m = /^(\d+)\|(.*)$/.exec(v);
    return m ? { n: Number(m[1]), text: m[2] } : null;
  });
  if (parts.some((p) => p === null)) return values[0];
  return parts.sort((a, b) => a!.n - b!.n).map((p) => p!.text).join("");
}

/** Resolves a URI relative to the subset folder; null when it leaves the package root. */
export function resolveUri(subset: string, uri: string): string | null {
  const segments = subset.split("/").filter(Boolean);
  for (const part of uri.replace(/\\/g, "/").split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (segments.length === 0) return null;
      segments.pop();
    } else segments.push(part);
  }
  return segments.join("/");
}

/** Parses one METADATA.XML. `exists` maps an entry name to its actual zip entry name. */
export function readMetadata(
  xml: string,
  metadataPath: string,
  exists: (name: string) => string | undefined,
): XdmSubmissionSet[] {
  const invalid = (detail: string) => new XdmInvalidMetadata(metadataPath, detail);
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch (err) {
    if (err instanceof XmlSyntaxError) throw invalid(`not well-formed XML: ${err.message}`);
    throw err;
  }
  if (root.name !== "SubmitObjectsRequest" || root.ns !== NS_LCM) {
    throw invalid(`root element is {${root.ns}}${root.name}, expected lcm:SubmitObjectsRequest`);
  }
  const list = firstChild(root, "RegistryObjectList", NS_RIM);
  if (!list) throw invalid("no rim:RegistryObjectList");
  const subset = metadataPath.slice(0, metadataPath.lastIndexOf("/"));

  const packages = childrenNamed(list, "RegistryPackage", NS_RIM);
  const marked = new Set<string>();
  for (const c of childrenNamed(list, "Classification", NS_RIM)) {
    if (c.attrs.classificationNode === SUBMISSION_SET_NODE) marked.add(c.attrs.classifiedObject);
  }
  for (const p of packages) {
    for (const c of childrenNamed(p, "Classification", NS_RIM)) {
      if (c.attrs.classificationNode === SUBMISSION_SET_NODE) marked.add(p.attrs.id);
    }
  }
  let submissionPackages = packages.filter((p) => marked.has(p.attrs.id));
  if (submissionPackages.length === 0 && packages.length === 1) submissionPackages = packages;
  if (submissionPackages.length === 0) throw invalid("no SubmissionSet (RegistryPackage)");

  const documents = new Map<string, XdmDocument>();
  for (const eo of childrenNamed(list, "ExtrinsicObject", NS_RIM)) {
    const id = eo.attrs.id;
    if (!id) throw invalid("an ExtrinsicObject without id");
    const s = slots(eo);
    const uri = joinUri(s.get("URI") ?? []);
    if (!uri) throw invalid(`document ${id} has no URI slot`);
    const hash = (s.get("hash")?.[0] ?? "").toLowerCase();
    if (!/^[0-9a-f]{40}$/.test(hash)) throw invalid(`document ${id} has no SHA-1 hash slot`);
    const sizeText = s.get("size")?.[0] ?? "";
    if (!/^\d+$/.test(sizeText)) throw invalid(`document ${id} has no size slot`);
    const resolved = resolveUri(subset, uri);
    if (resolved === null) throw invalid(`document ${id} URI "${uri}" leaves the package`);
    const entryName = exists(resolved);
    if (!entryName) throw invalid(`document ${id} URI "${uri}" is listed but absent`);
    const formatCode = codes(eo, DE.formatCode)[0];
    documents.set(id, {
      subset,
      entryName,
      entryUuid: id,
      uniqueId: externalId(eo, DE.uniqueId),
      uri,
      mimeType: eo.attrs.mimeType ?? "application/octet-stream",
      hash,
      size: Number(sizeText),
      title: localized(eo, "Name"),
      creationTime: s.get("creationTime")?.[0],
      patientId: externalId(eo, DE.patientId),
      sourcePatientId: s.get("sourcePatientId")?.[0],
      sourcePatientInfo: s.get("sourcePatientInfo") ?? [],
      classCode: codes(eo, DE.classCode)[0],
      typeCode: codes(eo, DE.typeCode)[0],
      formatCode,
      eventCodes: codes(eo, DE.eventCodeList),
      referenceIds: s.get("urn:ihe:iti:xds:2013:referenceIdList") ?? [],
      isManifest: formatCode?.code === KOS_SOP_CLASS,
    });
  }

  const members = new Map<string, string[]>();
  for (const a of childrenNamed(list, "Association", NS_RIM)) {
    if (a.attrs.associationType !== HAS_MEMBER) continue;
    const list = members.get(a.attrs.sourceObject) ?? [];
    list.push(a.attrs.targetObject);
    members.set(a.attrs.sourceObject, list);
  }

  return submissionPackages.map((p) => {
    const s = slots(p);
    const id = p.attrs.id;
    const memberIds = members.get(id);
    // A lone SubmissionSet owns every DocumentEntry even when producers forget the associations.
    const docs = submissionPackages.length === 1 && !memberIds
      ? [...documents.values()]
      : (memberIds ?? []).map((m) => documents.get(m)).filter((d): d is XdmDocument => !!d);
    const transferId = s.get(SLOT_TRANSFER_ID)?.[0];
    const partNumber = Number(s.get(SLOT_PART_NUMBER)?.[0]);
    const partCount = Number(s.get(SLOT_PART_COUNT)?.[0]);
    let transfer: XdmTransferInfo | undefined;
    if (transferId) {
      if (
        !Number.isInteger(partNumber) || !Number.isInteger(partCount) || partNumber < 1 ||
        partNumber > partCount
      ) {
        throw invalid(`transfer ${transferId}: part ${partNumber} of ${partCount} is impossible`);
      }
      transfer = {
        transferId,
        partNumber,
        partCount,
        studyInstanceUid: s.get(SLOT_STUDY_UID)?.[0],
      };
    }
    return {
      subset,
      metadataPath,
      entryUuid: id,
      uniqueId: externalId(p, SS.uniqueId),
      sourceId: externalId(p, SS.sourceId),
      patientId: externalId(p, SS.patientId),
      submissionTime: s.get("submissionTime")?.[0],
      title: localized(p, "Name"),
      comments: localized(p, "Description"),
      intendedRecipients: s.get("intendedRecipient") ?? [],
      authorInstitutions: authorSlot(p, SS.author, "authorInstitution"),
      transfer,
      documents: docs,
    };
  });
}
