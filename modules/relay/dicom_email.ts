/**
 * DICOM e-mail as the relay receives it (standards.md §2.1-2.3): a multipart/mixed entity of
 * `application/dicom` attachments (PS3.12 Annex K), or a `DICOM.ZIP` of plain files (PS3.11
 * STD-GEN-ZIP-MAIL), read into a package the store step takes like an XDM part. There are no
 * hashes to check: the sender's S/MIME signature covers every byte. Our own parts say which part
 * of which transfer they are in header fields of the signed entity (TRANSFER_FIELDS); a foreign
 * message without them is a transfer of one part.
 */
import { readInstanceHeader, readPart10Header } from "../dicom/mod.ts";
import {
  type CheckedZip,
  OID_BSN,
  openCheckedZip,
  type XdmPatientInfo,
  type XdmTransferInfo,
} from "../xdm/mod.ts";
import { RelayPackageInvalid } from "./errors.ts";
import { decodedBody, mediaType, type MimePart, parsePart, splitParts } from "./mime.ts";
import {
  memorySource,
  type PackageDocument,
  type ReceivedPackage,
  type ReceivedPayload,
  ZIP_MEDIA_TYPES,
} from "./payload.ts";

/**
 * Header fields of the signed entity of our DICOM e-mail parts: the same names as in our
 * notifications (mdn.ts). Inside the encryption, so the study UID may be among them.
 */
export const TRANSFER_FIELDS = {
  transferId: "Beeldpoort-Transfer-Id",
  part: "Beeldpoort-Part",
  studyInstanceUid: "Beeldpoort-Study-Instance-UID",
} as const;

/** The header lines that name one part of a transfer (to precede the entity's own header). */
export function transferFieldLines(info: XdmTransferInfo): string {
  return `${TRANSFER_FIELDS.transferId}: ${info.transferId}\r\n` +
    `${TRANSFER_FIELDS.part}: ${info.partNumber}/${info.partCount}\r\n` +
    (info.studyInstanceUid
      ? `${TRANSFER_FIELDS.studyInstanceUid}: ${info.studyInstanceUid}\r\n`
      : "");
}

/** Our transfer fields from an entity's header, or null when it has none (a foreign sender). */
function readTransferFields(entity: MimePart): XdmTransferInfo | null {
  const transferId = entity.headers.get(TRANSFER_FIELDS.transferId.toLowerCase());
  if (transferId === undefined) return null;
  const part = /^(\d{1,6})\/(\d{1,6})$/.exec(
    entity.headers.get(TRANSFER_FIELDS.part.toLowerCase()) ?? "",
  );
  if (!part) {
    throw new RelayPackageInvalid(
      `the DICOM e-mail names transfer ${transferId} but no valid ${TRANSFER_FIELDS.part} n/m`,
    );
  }
  return {
    transferId,
    partNumber: Number(part[1]),
    partCount: Number(part[2]),
    studyInstanceUid: entity.headers.get(TRANSFER_FIELDS.studyInstanceUid.toLowerCase()),
  };
}

/** The leaves of a MIME tree, in order (nested multiparts to a small depth). */
function leavesOf(entity: MimePart, depth = 0): MimePart[] {
  const type = mediaType(entity.headers.get("content-type"));
  if (!type.type.startsWith("multipart/")) return [entity];
  if (!type.params.boundary || depth >= 3) return [];
  return splitParts(entity.body, type.params.boundary)
    .flatMap((raw) => leavesOf(parsePart(raw), depth + 1));
}

/** The file name a part gives itself: Content-Type name or id, or Content-Disposition filename. */
function fileNameOf(part: MimePart): string {
  const type = mediaType(part.headers.get("content-type"));
  const disposition = mediaType(part.headers.get("content-disposition"));
  return type.params.name ?? disposition.params.filename ?? type.params.id ?? "";
}

const isDicomZip = (part: MimePart) =>
  ZIP_MEDIA_TYPES.has(mediaType(part.headers.get("content-type")).type) &&
  /(^|\/)dicom\.zip$/i.test(fileNameOf(part));

const hasXdmMetadata = (zip: CheckedZip) =>
  zip.entries.some((e) => /^IHE_XDM\/[^/]+\/METADATA\.XML$/i.test(e.name));

function decoded(part: MimePart, what: string): Uint8Array {
  try {
    return decodedBody(part);
  } catch (error) {
    throw new RelayPackageInvalid(`the DICOM e-mail's ${what} cannot be decoded`, {
      cause: error,
    });
  }
}

const errorName = (error: unknown) => error instanceof Error ? error.name : "unknown error";

/** One document of the package and where its bytes come from. */
interface Source {
  doc: PackageDocument;
  bytes(): Promise<Uint8Array>;
}

function isPart10(bytes: Uint8Array): boolean {
  return bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 &&
    bytes[130] === 0x43 && bytes[131] === 0x4d; // "DICM" (PS3.10 7.1)
}

/**
 * Recognises a DICOM e-mail in a decrypted, verified entity: an `application/dicom` part, or an
 * `application/zip` named DICOM.ZIP that holds no XDM METADATA.XML (that one is an XDM package).
 * Returns undefined for anything else; throws RelayPackageInvalid when it is one but unreadable.
 */
export async function dicomEmailPayload(content: MimePart): Promise<ReceivedPayload | undefined> {
  const leaves = leavesOf(content);
  const attachments = leaves.filter((p) =>
    mediaType(p.headers.get("content-type")).type === "application/dicom"
  );
  const zips: CheckedZip[] = [];
  try {
    for (const part of leaves.filter(isDicomZip)) {
      const data = decoded(part, "DICOM.ZIP");
      let zip: CheckedZip;
      try {
        zip = await openCheckedZip(memorySource(data));
      } catch (error) {
        // The error's name, not its message: a foreign zip's entry names may name the patient.
        throw new RelayPackageInvalid(`the DICOM.ZIP cannot be read (${errorName(error)})`, {
          cause: error,
        });
      }
      if (hasXdmMetadata(zip)) zip.close();
      else zips.push(zip);
    }
  } catch (error) {
    for (const zip of zips) zip.close();
    throw error;
  }
  if (attachments.length === 0 && zips.length === 0) return undefined;
  const close = () => zips.forEach((zip) => zip.close());
  return {
    format: "dicom-email",
    bytes: content.body.length,
    async open() {
      try {
        return await readPackage(content, leaves, zips, close);
      } catch (error) {
        close();
        throw error;
      }
    },
  };
}

async function readPackage(
  content: MimePart,
  leaves: MimePart[],
  zips: CheckedZip[],
  close: () => void,
): Promise<ReceivedPackage> {
  const transfer = readTransferFields(content);
  const label = `p${transfer?.partNumber ?? 1}`;
  const sources: Source[] = [];
  const add = (mimeType: string, title: string | undefined, bytes: () => Promise<Uint8Array>) =>
    sources.push({
      doc: {
        entryUuid: `${label}.${sources.length + 1}`,
        mimeType,
        title,
        referenceIds: [],
        isManifest: false,
      },
      bytes,
    });
  for (const part of leaves) {
    const type = mediaType(part.headers.get("content-type")).type;
    if (type === "application/dicom") {
      add("application/dicom", undefined, () => Promise.resolve(decoded(part, "attachment")));
    } else if (type === "application/pdf") {
      add(
        "application/pdf",
        fileNameOf(part) || "Verslag",
        () => Promise.resolve(decoded(part, "PDF")),
      );
    } else if (type === "text/plain" && fileNameOf(part)) {
      add("text/plain", fileNameOf(part), () => Promise.resolve(decoded(part, "text")));
    } else if (type === "text/plain") {
      // The message text: the sender's note when there is one (ours is empty after part 1).
      const text = decoded(part, "text");
      if (new TextDecoder().decode(text).trim() !== "") {
        add("text/plain", "Notitie van de verzender", () => Promise.resolve(text));
      }
    }
  }
  for (const zip of zips) {
    for (const entry of zip.entries) {
      if (entry.isDirectory || /(^|\/)DICOMDIR$/i.test(entry.name)) continue;
      const read = async () => {
        try {
          return await zip.read(entry);
        } catch (error) {
          const reason = `an entry of the DICOM.ZIP cannot be read (${errorName(error)})`;
          throw new RelayPackageInvalid(reason, { cause: error });
        }
      };
      if (/\.pdf$/i.test(entry.name)) add("application/pdf", entry.name, read);
      else if (/\.txt$/i.test(entry.name)) add("text/plain", entry.name, read);
      else if (isPart10(await read())) add("application/dicom", undefined, read);
      // Anything else in the zip (an INDEX.HTM, a viewer) is not ours to keep.
    }
  }
  const { patient } = await identify(sources);
  const byDoc = new Map(sources.map((s) => [s.doc, s]));
  return {
    documents: sources.map((s) => s.doc),
    patient,
    transfer,
    // Every instance was read and parsed in `identify`; the signature covers the bytes.
    readDocument(doc) {
      const source = byDoc.get(doc);
      if (!source) throw new RelayPackageInvalid("a document that is not in this DICOM e-mail");
      return source.bytes();
    },
    close,
  };
}

/**
 * Reads the header of every instance: each must be a Part-10 file naming its SOP instance and
 * study (the store step indexes by them), and the first names the patient. Fills in the
 * documents' uniqueId and study reference, as XDM metadata would.
 */
async function identify(
  sources: Source[],
): Promise<{ patient: XdmPatientInfo }> {
  let patient: XdmPatientInfo | undefined;
  let n = 0;
  for (const { doc, bytes } of sources) {
    if (doc.mimeType !== "application/dicom") continue;
    n++;
    const data = await bytes();
    let header: ReturnType<typeof readInstanceHeader>;
    try {
      readPart10Header(data);
      header = readInstanceHeader(data.subarray(0, 256 * 1024));
    } catch (error) {
      throw new RelayPackageInvalid(
        `the DICOM e-mail's instance ${n} is not a readable DICOM Part-10 file`,
        { cause: error },
      );
    }
    if (!header.sopInstanceUid || !header.studyInstanceUid) {
      throw new RelayPackageInvalid(
        `the DICOM e-mail's instance ${n} names no SOP Instance UID or Study Instance UID`,
      );
    }
    doc.uniqueId = header.sopInstanceUid;
    doc.referenceIds.push(
      `${header.studyInstanceUid}^^^^urn:ihe:iti:xds:2016:studyInstanceUID`,
    );
    patient ??= patientOf(header);
  }
  if (!patient) throw new RelayPackageInvalid("the DICOM e-mail holds no DICOM instance");
  return { patient };
}

/** The patient as the instance names it, in the shape an XDM package gives (read.ts). */
function patientOf(header: ReturnType<typeof readInstanceHeader>): XdmPatientInfo {
  const local = header.patientId
    ? [{ id: header.patientId, issuerOid: header.issuerOfPatientIdOid }]
    : [];
  const cx = (id: string, oid?: string) => oid ? `${id}^^^&${oid}&ISO` : id;
  return {
    patientId: header.bsn
      ? cx(header.bsn, OID_BSN)
      : local[0]
      ? cx(local[0].id, local[0].issuerOid)
      : undefined,
    bsn: header.bsn,
    localIds: local,
    name: header.patientName,
    birthDate: header.patientBirthDate,
    sex: header.patientSex,
  };
}
