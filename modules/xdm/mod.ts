/**
 * IHE XDM (ITI-32 "ZIP over e-mail") writer and reader, the XDS-I style KOS manifest, and the
 * DICOM e-mail MIME entity. Inputs are plain descriptors with lazy streams; outputs are
 * Web streams, so memory does not grow with study size.
 *
 * @example
 * ```ts
 * import { packXdm, readXdm } from "../xdm/mod.ts";
 * for await (const part of packXdm({ instances, study, sender, recipient })) {
 *   await part.stream.pipeTo((await Deno.create(part.fileName)).writable);
 * }
 * const pkg = await readXdm("xdm-01J...-1-of-1.zip");
 * ```
 * @module
 */

/**
 * Packs a study into one or more complete XDM zips (each at most `partSizeBytes`, default 10 MB).
 * Every part holds README.TXT, INDEX.HTM, IHE_XDM/SUBSET01/METADATA.XML, the KOS manifest of the
 * whole study and its share of the images; part 1 also the report and the note.
 *
 * @example
 * ```ts
 * for await (const part of packXdm({
 *   instances, study, note: "Graag beoordelen",
 *   sender: { ura: "00012345", organizationName: "Ziekenhuis X", email: "gw@x.example" },
 *   recipient: { email: "gw@y.example" },
 * })) {
 *   console.log(part.partNumber, part.partCount);
 *   await part.stream.pipeTo(writableFor(part.fileName));
 * }
 * ```
 */
export { packXdm } from "./pack.ts";

/**
 * Opens an XDM zip (path or random-access source), refusing unsafe zips and invalid metadata with
 * named errors; `openDocument` streams a document and fails on a size or SHA-1 mismatch.
 *
 * @example
 * ```ts
 * const pkg = await readXdm("part.zip", { maxEntryRatio: 200 });
 * console.log(pkg.transfer?.partNumber, pkg.transfer?.partCount);
 * for (const doc of pkg.documents) await store(doc.uniqueId, pkg.openDocument(doc));
 * pkg.close();
 * ```
 */
export { readXdm } from "./read.ts";

/**
 * Opens any zip with the same checks as readXdm (paths, symlinks, duplicates, zip bombs, all before
 * a byte is inflated), for zips that are not XDM packages: a DICOM e-mail's DICOM.ZIP.
 *
 * @example
 * ```ts
 * const zip = await openCheckedZip(source);
 * for (const entry of zip.entries) if (!entry.isDirectory) await store(zip.open(entry));
 * zip.close();
 * ```
 */
export { openCheckedZip } from "./zip_read.ts";
export type { CheckedZip, ZipEntryInfo } from "./zip_read.ts";

/**
 * Splits an HL7 CX value (`id^^^&oid&ISO`) into id and assigning-authority OID.
 *
 * @example
 * ```ts
 * parseCx("999999990^^^&2.16.840.1.113883.2.4.6.3&ISO"); // { id: "999999990", issuerOid: "2.16..." }
 * ```
 */
export { parseCx } from "./read.ts";

/**
 * Opens, parses and fully verifies an XDM zip and reports each check (for `beeldpoort xdm
 * inspect`). Never throws for a bad package; the summary holds no patient data.
 *
 * @example
 * ```ts
 * const { ok, checks } = await inspectXdm("part.zip");
 * for (const c of checks) console.log(c.ok ? "ok  " : "FAIL", c.name, c.detail);
 * ```
 */
export { inspectXdm } from "./inspect.ts";

/**
 * Builds the multipart/mixed MIME entity of a DICOM e-mail: Part-10 files as application/dicom
 * attachments or one application/zip DICOM.ZIP, plus the report and a text part; streamed base64.
 *
 * @example
 * ```ts
 * const entity = packDicomEmail({ instances, report, note: "Zie bijlage", variant: "zip" });
 * await smimeSeal(entity.stream); // the S/MIME layer wraps the entity as is
 * ```
 */
export { base64Lines, packDicomEmail } from "./email.ts";

/**
 * Builds the Key Object Selection manifest (113030, DCM, "Manifest") of a study as a Part-10 file.
 *
 * @example
 * ```ts
 * const kos = buildKos({ study, references, sopInstanceUid, seriesInstanceUid, now: new Date() });
 * ```
 */
export { buildKos } from "./kos.ts";

/**
 * Default XDS codes (class, type, confidentiality, facility, practice setting) and the names of
 * our SubmissionSet slots for transfer id and part numbering.
 *
 * @example
 * ```ts
 * packXdm({ ...options, codes: { practiceSettingCode: DEFAULT_CODES.practiceSettingCode } });
 * ```
 */
export {
  DEFAULT_CODES,
  KOS_SOP_CLASS,
  OID_BSN,
  OID_URA,
  SLOT_PART_COUNT,
  SLOT_PART_NUMBER,
  SLOT_TRANSFER_ID,
} from "./constants.ts";

/**
 * Named errors: zip refusals (XdmPathTraversal, XdmAbsolutePath, XdmSymlinkEntry,
 * XdmDuplicateEntry, XdmZipBomb, XdmBadZip), metadata (XdmMissingMetadata, XdmInvalidMetadata),
 * integrity (XdmHashMismatch, XdmSizeMismatch) and bad input to a packer (XdmInvalidInput).
 *
 * @example
 * ```ts
 * try { await readXdm(path); } catch (e) { if (e instanceof XdmZipBomb) quarantine(path); }
 * ```
 */
export {
  XdmAbsolutePath,
  XdmBadZip,
  XdmDuplicateEntry,
  XdmHashMismatch,
  XdmInvalidInput,
  XdmInvalidMetadata,
  XdmMissingMetadata,
  XdmPathTraversal,
  XdmSizeMismatch,
  XdmSymlinkEntry,
  XdmZipBomb,
} from "./errors.ts";

/**
 * Input and output types of the packers and the reader.
 *
 * @example
 * ```ts
 * const study: XdmStudy = { studyInstanceUid, patient: { id: "H123" }, modalities: ["CT"] };
 * ```
 */
export type {
  PackXdmOptions,
  XdmCodes,
  XdmInstance,
  XdmPart,
  XdmPatient,
  XdmRecipient,
  XdmReport,
  XdmSender,
  XdmStudy,
} from "./types.ts";
export type { Code } from "./constants.ts";
export type { XdmPackage, XdmPatientInfo } from "./read.ts";
export type { XdmDocument, XdmSubmissionSet, XdmTransferInfo } from "./metadata_read.ts";
export type { XdmLimits, XdmRandomAccessSource } from "./zip_read.ts";
export type { XdmCheck, XdmInspection } from "./inspect.ts";
export type { MimeEntity, PackDicomEmailOptions } from "./email.ts";
export type { KosOptions, KosReference } from "./kos.ts";

/**
 * A streaming zip writer: entries are read one at a time, only as the consumer pulls, so memory
 * stays bounded by one chunk whatever the size (the portal's study downloads use it too).
 *
 * @example
 * ```ts
 * const zip = zipStream([{ name: "DICOM/I1", data: await spool.get(id) }]);
 * ```
 */
export { zipStream } from "./zip_write.ts";
export type { ZipEntryInput } from "./zip_write.ts";
