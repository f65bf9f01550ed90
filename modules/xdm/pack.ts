/**
 * packXdm: a study (plain instance descriptors with lazy streams) -> one or more complete XDM zips.
 *
 * Decisions (say them in the conformance statement):
 * - Layout B of standards.md §1.7: every DICOM instance is its own DocumentEntry under
 *   IHE_XDM/SUBSET01/IMGsssss/Iiiiiiii.DCM (series folder, study-wide instance number, ISO 9660
 *   8.3 names), so the importer checks hash and size of each image (ITI-32 §3.32.4.1.3).
 * - One KOS manifest (same SOP Instance UID and bytes) goes in every part and references every
 *   instance of the whole study, so each part tells the receiver the full set.
 * - The report and the note travel in part 1; the note is also the SubmissionSet comments of
 *   every part. Transfer id, part number and part count are SubmissionSet slots and in README.TXT.
 * - Parts are cut greedily in input order so that each zip stays below `partSizeBytes`; an
 *   instance larger than that goes alone in its own part, flagged `oversized`.
 */
import { newId } from "../core/mod.ts";
import {
  BASIC_TEXT_SR_SOP_CLASS,
  type Code,
  DEFAULT_CODES,
  ENCAPSULATED_PDF_SOP_CLASS,
  KOS_SOP_CLASS,
  MODALITY_NAMES,
  OID_BSN,
  OID_URA,
  SCHEME_DCM,
  SCHEME_DICOM_UID,
  SCHEME_IHE_FORMAT,
} from "./constants.ts";
import { XdmInvalidInput } from "./errors.ts";
import { cx, dicomDateToDtm, dtm, newUid, oidArc, urnUuid, xon, xtnEmail } from "./hl7.ts";
import { buildKos } from "./kos.ts";
import {
  documentEntryXml,
  type DocumentSpec,
  type EntryContext,
  hasMemberXml,
  METADATA_HEAD,
  METADATA_TAIL,
  submissionSetXml,
} from "./metadata_write.ts";
import { indexHtml, type MediaText, readmeText } from "./texts.ts";
import type { PackXdmOptions, XdmInstance, XdmPart } from "./types.ts";
import { type ZipEntryInput, zipStream } from "./zip_write.ts";
import { createHash } from "node:crypto";

const SUBSET = "IHE_XDM/SUBSET01/";
const DEFAULT_PART_SIZE = 10_000_000;
/** Local header (30) + data descriptor (16) + central header (46), names counted separately. */
const ZIP_ENTRY_OVERHEAD = 92;
/** Upper bounds for the small generated files; METADATA.XML is counted uncompressed. */
const README_BOUND = 4096;
const INDEX_BOUND = 4096;
const SUBMISSION_SET_BOUND = 8192;
const ASSOCIATION_BOUND = 512;
const ZIP_TAIL = 22;
/** fflate writes no zip64; keep every part far below 4 GiB. */
const MAX_PART_SIZE = 3_900_000_000;

interface PlannedDoc {
  path: string; // relative to SUBSET
  spec: Omit<DocumentSpec, "hash" | "size">;
  size: number;
  deflate: boolean;
  open(): ReadableStream<Uint8Array> | Uint8Array;
  /** Known up front for generated documents (KOS, note). */
  hash?: string;
  isInstance: boolean;
}

const pad = (n: number, width: number) => String(n).padStart(width, "0");

function pnToXpn(name: string | undefined): string | undefined {
  if (!name) return undefined;
  const [family = "", given = "", middle = "", prefix = "", suffix = ""] = name.split("^");
  return [family, given, middle, suffix, prefix].join("^").replace(/\^+$/, "");
}

function truncate(text: string, max: number): string {
  const cps = [...text];
  return cps.length <= max ? text : cps.slice(0, max - 1).join("") + "…";
}

function sha1Hex(bytes: Uint8Array): string {
  return createHash("sha1").update(bytes).digest("hex");
}

/**
 * Packs a study into XDM parts. Instances are listed first (their descriptors only), then each
 * part is streamed on demand: consume one part's `stream` before asking for the next.
 */
export async function* packXdm(options: PackXdmOptions): AsyncGenerator<XdmPart> {
  const now = options.now ?? new Date();
  const partSize = options.partSizeBytes ?? DEFAULT_PART_SIZE;
  if (!(partSize > 0) || partSize > MAX_PART_SIZE) {
    throw new XdmInvalidInput(`partSizeBytes must be between 1 and ${MAX_PART_SIZE}`);
  }
  const transferId = options.transferId ?? newId(now.getTime());
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(transferId)) {
    throw new XdmInvalidInput("transferId must be 1-64 characters of A-Z a-z 0-9 . _ -");
  }
  const study = options.study;
  const codes = { ...DEFAULT_CODES, ...options.codes };
  const product = options.product ?? { name: "Beeldpoort", version: "0.1", vendor: "Beeldpoort" };
  const sender = options.sender;
  const sourceOid = sender.sourceOid ?? `${OID_URA}.${oidArc(sender.ura)}`;

  // 1. Descriptors of every instance (no bytes yet).
  const instances: XdmInstance[] = [];
  const seen = new Set<string>();
  for await (const instance of options.instances as AsyncIterable<XdmInstance>) {
    if (instance.studyUid !== study.studyInstanceUid) {
      throw new XdmInvalidInput(`instance ${instance.sopInstanceUid} belongs to another study`);
    }
    if (seen.has(instance.sopInstanceUid)) {
      throw new XdmInvalidInput(`instance ${instance.sopInstanceUid} is listed twice`);
    }
    if (!Number.isSafeInteger(instance.size) || instance.size < 0) {
      throw new XdmInvalidInput(`instance ${instance.sopInstanceUid} has no valid size`);
    }
    seen.add(instance.sopInstanceUid);
    instances.push(instance);
  }
  if (instances.length === 0) throw new XdmInvalidInput("a study needs at least one instance");
  if (instances.length > 9_999_999) throw new XdmInvalidInput("too many instances for 8.3 names");

  // 2. Shared metadata context.
  const patient = study.patient;
  const localIssuer = patient.issuerOid ?? `${sourceOid}.1`;
  const localCx = cx(patient.id, localIssuer);
  const patientId = patient.bsn ? cx(patient.bsn, OID_BSN) : localCx;
  const sourcePatientInfo = [`PID-3|${localCx}`];
  if (patient.bsn) sourcePatientInfo.push(`PID-3|${cx(patient.bsn, OID_BSN)}`);
  const xpn = pnToXpn(patient.name);
  if (xpn) sourcePatientInfo.push(`PID-5|${xpn}`);
  if (patient.birthDate) sourcePatientInfo.push(`PID-7|${patient.birthDate}`);
  if (patient.sex) sourcePatientInfo.push(`PID-8|${patient.sex}`);
  const studyDtm = dicomDateToDtm(study.studyDate);
  const studyTime = (study.studyTime ?? "").replace(/[^0-9]/g, "").slice(0, 6);
  const serviceStartTime = studyDtm
    ? studyDtm + (studyTime.length >= 4 ? studyTime : "")
    : undefined;
  const referenceIds = [`${study.studyInstanceUid}^^^^urn:ihe:iti:xds:2016:studyInstanceUID`];
  if (study.accessionNumber) {
    // Accession numbers are issued by the sending organisation: its source OID is the authority.
    referenceIds.push(`${cx(study.accessionNumber, sourceOid)}^urn:ihe:iti:xds:2013:accession`);
  }
  const modalities = [...new Set(study.modalities.map((m) => m.toUpperCase()))];
  const eventCodes: Code[] = modalities.map((m) => ({
    code: m,
    scheme: SCHEME_DCM,
    display: MODALITY_NAMES[m] ?? m,
  }));
  const authorInstitution = xon(sender.organizationName, OID_URA, sender.ura);
  const authorTelecom = xtnEmail(sender.email);
  const ctx: EntryContext = {
    patientId,
    sourcePatientId: localCx,
    sourcePatientInfo,
    authorInstitution,
    authorTelecom,
    confidentialityCode: codes.confidentialityCode,
    healthcareFacilityTypeCode: codes.healthcareFacilityTypeCode,
    practiceSettingCode: codes.practiceSettingCode,
    classCode: codes.classCode,
    eventCodes,
    languageCode: "nl-NL",
    serviceStartTime,
    referenceIds,
  };
  const recipient = options.recipient;
  const intendedRecipient = recipient.ura
    ? `${xon(recipient.organizationName ?? "", OID_URA, recipient.ura)}|${
      xtnEmail(recipient.email)
    }`
    : `|${xtnEmail(recipient.email)}`;
  const nowDtm = dtm(now);
  const imageCreation = serviceStartTime ?? nowDtm;

  // 3. The KOS manifest: built once, same bytes in every part.
  const kosUid = newUid();
  const kosBytes = buildKos({
    study,
    references: instances.map((i) => ({
      sopClassUid: i.sopClassUid,
      sopInstanceUid: i.sopInstanceUid,
      seriesUid: i.seriesUid,
    })),
    sopInstanceUid: kosUid,
    seriesInstanceUid: newUid(),
    institutionName: sender.organizationName,
    now,
  });
  const titleBase = study.description ?? modalities.join("/");
  const kosDoc: PlannedDoc = {
    path: "KOS00001.DCM",
    spec: {
      entryUuid: urnUuid(),
      uri: "KOS00001.DCM",
      mimeType: "application/dicom",
      uniqueId: kosUid,
      title: truncate(`Manifest ${titleBase}`, 1024),
      creationTime: nowDtm,
      typeCode: codes.typeImages,
      formatCode: {
        code: KOS_SOP_CLASS,
        scheme: SCHEME_DICOM_UID,
        display: "Key Object Selection Document",
      },
    },
    size: kosBytes.length,
    hash: sha1Hex(kosBytes),
    deflate: false,
    open: () => kosBytes,
    isInstance: false,
  };

  // 4. Part 1 extras: report and note.
  const firstPartDocs: PlannedDoc[] = [];
  if (options.report) {
    const r = options.report;
    const dicom = r.kind === "sr" || r.kind === "encapsulated-pdf";
    const ext = r.kind === "pdf" ? "PDF" : r.kind === "text" ? "TXT" : "DCM";
    const sopClass = r.sopClassUid ??
      (r.kind === "sr" ? BASIC_TEXT_SR_SOP_CLASS : ENCAPSULATED_PDF_SOP_CLASS);
    firstPartDocs.push({
      path: `REPORT01.${ext}`,
      spec: {
        entryUuid: urnUuid(),
        uri: `REPORT01.${ext}`,
        mimeType: dicom ? "application/dicom" : r.kind === "pdf" ? "application/pdf" : "text/plain",
        uniqueId: r.sopInstanceUid ?? newUid(),
        title: truncate(r.title ?? `Verslag ${titleBase}`, 1024),
        creationTime: nowDtm,
        typeCode: codes.typeReport,
        formatCode: dicom
          ? { code: sopClass, scheme: SCHEME_DICOM_UID, display: "DICOM report" }
          : {
            code: "urn:ihe:iti:xds:2017:mimeTypeSufficient",
            scheme: SCHEME_IHE_FORMAT,
            display: "mimeType Sufficient",
          },
      },
      size: r.size,
      deflate: r.kind === "text",
      open: () => r.open(),
      isInstance: false,
    });
  }
  if (options.note) {
    const noteBytes = new TextEncoder().encode(options.note);
    firstPartDocs.push({
      path: "NOTE0001.TXT",
      spec: {
        entryUuid: urnUuid(),
        uri: "NOTE0001.TXT",
        mimeType: "text/plain",
        uniqueId: newUid(),
        title: "Notitie van de verzender",
        creationTime: nowDtm,
        typeCode: codes.typeNote,
        formatCode: {
          code: "urn:ihe:iti:xds:2017:mimeTypeSufficient",
          scheme: SCHEME_IHE_FORMAT,
          display: "mimeType Sufficient",
        },
      },
      size: noteBytes.length,
      hash: sha1Hex(noteBytes),
      deflate: true,
      open: () => noteBytes,
      isInstance: false,
    });
  }

  // 5. Instance documents with stable study-wide names.
  const seriesIndex = new Map<string, number>();
  const instanceDocs: PlannedDoc[] = instances.map((inst, n) => {
    let s = seriesIndex.get(inst.seriesUid);
    if (s === undefined) {
      s = seriesIndex.size + 1;
      seriesIndex.set(inst.seriesUid, s);
    }
    if (s > 99_999) throw new XdmInvalidInput("too many series for 8.3 names");
    const path = `IMG${pad(s, 5)}/I${pad(n + 1, 7)}.DCM`;
    return {
      path,
      spec: {
        entryUuid: urnUuid(),
        uri: path,
        mimeType: "application/dicom",
        uniqueId: inst.sopInstanceUid,
        creationTime: imageCreation,
        typeCode: codes.typeImages,
        formatCode: {
          code: inst.sopClassUid,
          scheme: SCHEME_DICOM_UID,
          display: "DICOM SOP Class",
        },
      },
      size: inst.size,
      deflate: false,
      open: () => inst.open(),
      isInstance: true,
    };
  });

  // 6. Plan the parts.
  const docCost = (d: PlannedDoc) =>
    d.size + ZIP_ENTRY_OVERHEAD + 2 * (SUBSET.length + d.path.length) +
    byteLength(documentEntryXml({ ...d.spec, hash: "0".repeat(40), size: d.size }, ctx)) +
    ASSOCIATION_BOUND;
  const fixedCost = README_BOUND + INDEX_BOUND + SUBMISSION_SET_BOUND + ZIP_TAIL +
    byteLength(METADATA_HEAD + METADATA_TAIL) + 4 * ZIP_ENTRY_OVERHEAD + 200 + docCost(kosDoc);
  const firstCost = firstPartDocs.reduce((sum, d) => sum + docCost(d), 0);
  const plans: { docs: PlannedDoc[]; cost: number; oversized: boolean }[] = [];
  let current = { docs: [] as PlannedDoc[], cost: fixedCost + firstCost, oversized: false };
  for (const doc of instanceDocs) {
    const cost = docCost(doc);
    if (current.docs.length > 0 && current.cost + cost > partSize) {
      plans.push(current);
      current = { docs: [], cost: fixedCost, oversized: false };
    }
    current.docs.push(doc);
    current.cost += cost;
    if (current.cost > partSize) current.oversized = true;
  }
  plans.push(current);
  const partCount = plans.length;
  const submissionTitle = truncate(`Beelden en verslag ${titleBase}`, 1024);
  const comments = options.note ? truncate(options.note, 1024) : undefined;

  for (let p = 0; p < partCount; p++) {
    const partNumber = p + 1;
    const plan = plans[p];
    const docs = [kosDoc, ...(partNumber === 1 ? firstPartDocs : []), ...plan.docs];
    const media: MediaText = {
      organizationName: sender.organizationName,
      ura: sender.ura,
      email: sender.email,
      product,
      transferId,
      partNumber,
      partCount,
      instancesInPart: plan.docs.length,
      instancesInStudy: instances.length,
      studyDate: study.studyDate,
      studyDescription: study.description,
      modalities,
      documents: summarizeDocuments(docs),
      createdAt: now.toISOString(),
    };
    const submission = {
      entryUuid: urnUuid(),
      uniqueId: newUid(),
      sourceId: sourceOid,
      patientId,
      submissionTime: nowDtm,
      title: submissionTitle,
      comments,
      authorInstitution,
      authorTelecom,
      contentTypeCode: codes.classCode,
      intendedRecipient,
      transferId,
      partNumber,
      partCount,
      studyInstanceUid: study.studyInstanceUid,
    };
    const entries = async function* (): AsyncGenerator<ZipEntryInput> {
      yield {
        name: "README.TXT",
        deflate: true,
        data: new TextEncoder().encode(readmeText(media)),
      };
      yield { name: "INDEX.HTM", deflate: true, data: new TextEncoder().encode(indexHtml(media)) };
      const written: DocumentSpec[] = [];
      for (const doc of docs) {
        const name = SUBSET + doc.path;
        yield {
          name,
          deflate: doc.deflate,
          data: doc.open(),
          onDone: (hash, size) => {
            if (size !== doc.size) {
              throw new XdmInvalidInput(`${name}: ${size} bytes read, ${doc.size} announced`);
            }
            if (doc.hash && doc.hash !== hash) {
              throw new XdmInvalidInput(`${name} changed while packed`);
            }
            written.push({ ...doc.spec, hash, size });
          },
        };
      }
      yield {
        name: SUBSET + "METADATA.XML",
        deflate: true,
        data: metadataChunks(written, submission),
      };
    };
    yield {
      partNumber,
      partCount,
      transferId,
      fileName: `xdm-${transferId}-${partNumber}-of-${partCount}.zip`,
      instanceCount: plan.docs.length,
      estimatedBytes: plan.cost,
      oversized: plan.oversized,
      stream: zipStream(entries(), { mtime: now }),
    };
  }

  function* metadataChunks(
    written: DocumentSpec[],
    submission: Parameters<typeof submissionSetXml>[0],
  ): Generator<string> {
    yield METADATA_HEAD;
    yield submissionSetXml(submission);
    for (const doc of written) yield documentEntryXml(doc, ctx);
    for (const doc of written) yield hasMemberXml(submission.entryUuid, doc.entryUuid);
    yield METADATA_TAIL;
  }
}

function summarizeDocuments(docs: PlannedDoc[]): { path: string; title: string }[] {
  const out: { path: string; title: string }[] = [];
  const series = new Map<string, number>();
  for (const d of docs) {
    if (d.isInstance) {
      const folder = d.path.slice(0, d.path.indexOf("/"));
      series.set(folder, (series.get(folder) ?? 0) + 1);
    } else out.push({ path: SUBSET + d.path, title: d.spec.title ?? d.path });
  }
  for (const [folder, count] of series) {
    out.push({ path: `${SUBSET}${folder}/`, title: `${folder}: ${count} DICOM` });
  }
  return out;
}

const utf8 = new TextEncoder();
function byteLength(text: string): number {
  return utf8.encode(text).length;
}
