/**
 * readXdm: opens an XDM zip (ours or another producer's), checks the zip structure, reads every
 * `IHE_XDM/<subset>/METADATA.XML` and streams documents out with their size and SHA-1 checked
 * against the metadata (ITI-32 §3.32.4.1.3, standards.md §1.4 importer checklist).
 */
import { createHash } from "node:crypto";
import { OID_BSN } from "./constants.ts";
import {
  XdmHashMismatch,
  XdmInvalidMetadata,
  XdmMissingMetadata,
  XdmSizeMismatch,
  XdmZipBomb,
} from "./errors.ts";
import {
  readMetadata,
  type XdmDocument,
  type XdmSubmissionSet,
  type XdmTransferInfo,
} from "./metadata_read.ts";
import {
  type CheckedZip,
  DEFAULT_LIMITS,
  openCheckedZip,
  type XdmLimits,
  type XdmRandomAccessSource,
} from "./zip_read.ts";

/** The patient as the package names it; identifiers only as the sender wrote them. */
export interface XdmPatientInfo {
  /** XDS patientId (CX) of the first SubmissionSet. */
  patientId?: string;
  /** The BSN when the patientId's assigning authority is the BSN OID. */
  bsn?: string;
  /** Local ids from sourcePatientId / PID-3 that are not the BSN. */
  localIds: { id: string; issuerOid?: string }[];
  /** PID-5, PID-7, PID-8 from sourcePatientInfo. */
  name?: string;
  birthDate?: string;
  sex?: string;
}

export interface XdmPackage {
  /** Every zip entry name (files and folders). */
  entryNames: string[];
  submissionSets: XdmSubmissionSet[];
  /** Every DocumentEntry of every SubmissionSet. */
  documents: XdmDocument[];
  patient: XdmPatientInfo;
  /** Our transfer/part slots when present (first SubmissionSet that has them). */
  transfer: XdmTransferInfo | null;
  /**
   * The document's bytes. The stream errors with XdmSizeMismatch as soon as it runs long, and
   * with XdmSizeMismatch or XdmHashMismatch at its end: consumers must treat an errored stream
   * as "nothing received".
   */
  openDocument(doc: XdmDocument): ReadableStream<Uint8Array>;
  /**
   * The document's bytes whole, size and hash checked (XdmSizeMismatch, XdmHashMismatch). From
   * a package in memory a stored document is a view into it: not the caller's to release.
   */
  readDocument(doc: XdmDocument): Promise<Uint8Array>;
  /** Reads every document once and checks size and hash; throws the first mismatch. */
  verifyAll(): Promise<{ documents: number; bytes: number }>;
  close(): void;
}

/** Splits a CX `id^^^&oid&ISO`. */
export function parseCx(value: string): { id: string; issuerOid?: string } {
  const [id = "", , , authority = ""] = value.split("^");
  const oid = authority.split("&")[1];
  return { id, issuerOid: oid || undefined };
}

function patientFrom(sets: XdmSubmissionSet[]): XdmPatientInfo {
  const first = sets[0];
  const doc = sets.flatMap((s) => s.documents)[0];
  const patientId = first?.patientId ?? doc?.patientId;
  const info: XdmPatientInfo = { patientId, localIds: [] };
  const add = (cxValue: string | undefined) => {
    if (!cxValue) return;
    const parsed = parseCx(cxValue);
    if (!parsed.id) return;
    if (parsed.issuerOid === OID_BSN) info.bsn ??= parsed.id;
    else if (!info.localIds.some((l) => l.id === parsed.id && l.issuerOid === parsed.issuerOid)) {
      info.localIds.push(parsed);
    }
  };
  add(patientId);
  add(doc?.sourcePatientId);
  for (const line of doc?.sourcePatientInfo ?? []) {
    const [field, ...rest] = line.split("|");
    const value = rest.join("|");
    if (field === "PID-3") add(value);
    else if (field === "PID-5") info.name ??= value;
    else if (field === "PID-7") info.birthDate ??= value;
    else if (field === "PID-8") info.sex ??= value;
  }
  return info;
}

async function readSmall(zip: CheckedZip, name: string, max: number): Promise<Uint8Array> {
  const entry = zip.find(name)!;
  if (entry.uncompressedSize > max) {
    throw new XdmZipBomb(name, `METADATA.XML of ${entry.uncompressedSize} bytes, limit ${max}`);
  }
  return await zip.read(entry);
}

/**
 * Opens an XDM package from a path or a random-access source. Refuses unsafe zips and invalid
 * metadata with named errors; documents are checked when streamed (`openDocument`, `verifyAll`).
 */
export async function readXdm(
  source: string | XdmRandomAccessSource,
  limits: XdmLimits = {},
): Promise<XdmPackage> {
  const zip = await openCheckedZip(source, limits);
  try {
    const metadataEntries = zip.entries.filter((e) =>
      /^IHE_XDM\/[^/]+\/METADATA\.XML$/i.test(e.name)
    );
    if (metadataEntries.length === 0) {
      throw new XdmMissingMetadata("no IHE_XDM/<subset>/METADATA.XML in the package");
    }
    const max = limits.maxMetadataBytes ?? DEFAULT_LIMITS.maxMetadataBytes;
    const submissionSets: XdmSubmissionSet[] = [];
    const decoder = new TextDecoder("utf-8", { fatal: true });
    for (const entry of metadataEntries.sort((a, b) => a.name.localeCompare(b.name))) {
      const bytes = await readSmall(zip, entry.name, max);
      let xml: string;
      try {
        xml = decoder.decode(bytes);
      } catch {
        throw new XdmInvalidMetadata(entry.name, "not UTF-8 text");
      }
      const exists = (name: string) => {
        const found = zip.find(name);
        return found && !found.isDirectory ? found.name : undefined;
      };
      submissionSets.push(...readMetadata(xml, entry.name, exists));
    }
    const documents = submissionSets.flatMap((s) => s.documents);
    const transfer = submissionSets.find((s) => s.transfer)?.transfer ?? null;

    const entryOf = (doc: XdmDocument) => {
      const entry = zip.find(doc.entryName);
      if (!entry) throw new XdmInvalidMetadata(doc.subset, `document ${doc.entryName} is absent`);
      return entry;
    };
    const openDocument = (doc: XdmDocument): ReadableStream<Uint8Array> => {
      const entry = entryOf(doc);
      const hash = createHash("sha1");
      let size = 0;
      return zip.open(entry).pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            size += chunk.length;
            if (size > doc.size) throw new XdmSizeMismatch(doc.entryName, doc.size, size);
            hash.update(chunk);
            controller.enqueue(chunk);
          },
          flush() {
            if (size !== doc.size) throw new XdmSizeMismatch(doc.entryName, doc.size, size);
            const actual = hash.digest("hex");
            if (actual !== doc.hash) throw new XdmHashMismatch(doc.entryName, doc.hash, actual);
          },
        }),
      );
    };

    const readDocument = async (doc: XdmDocument): Promise<Uint8Array> => {
      const entry = entryOf(doc);
      if (entry.uncompressedSize !== doc.size) {
        throw new XdmSizeMismatch(doc.entryName, doc.size, entry.uncompressedSize);
      }
      const bytes = await zip.read(entry);
      const actual = createHash("sha1").update(bytes).digest("hex");
      if (actual !== doc.hash) throw new XdmHashMismatch(doc.entryName, doc.hash, actual);
      return bytes;
    };

    return {
      entryNames: zip.entries.map((e) => e.name),
      submissionSets,
      documents,
      patient: patientFrom(submissionSets),
      transfer,
      openDocument,
      readDocument,
      async verifyAll() {
        let bytes = 0;
        for (const doc of documents) bytes += (await readDocument(doc)).length;
        return { documents: documents.length, bytes };
      },
      close: () => zip.close(),
    };
  } catch (err) {
    zip.close();
    throw err;
  }
}
