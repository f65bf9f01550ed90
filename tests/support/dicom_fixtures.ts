/**
 * Synthetic DICOM test data (no real patient data): CT-like instances written as Part-10 files by
 * a tiny explicit/implicit VR little-endian writer, and whole studies of them. Shared by the dicom
 * tests, the ingest benchmark and other modules' tests.
 */
import { createHash, randomBytes } from "node:crypto";

/**
 * A UID under the UUID root 2.25 (PS3.5 B.2): random, or derived from `seed` and `label` so a
 * generated study is the same on every run (benchmarks compare like with like).
 */
export function newUid(seed?: string | number, label = ""): string {
  const bytes = seed === undefined
    ? randomBytes(16)
    : createHash("sha256").update(`${seed}:${label}`).digest().subarray(0, 16);
  return "2.25." + BigInt("0x" + bytes.toString("hex")).toString();
}

/** CT Image Storage (PS3.4 B.5). */
export const ctImageStorage = "1.2.840.10008.5.1.4.1.1.2";

/** What a synthetic CT instance looks like. */
export interface SyntheticCtOptions {
  studyUid: string;
  seriesUid: string;
  sopUid: string;
  rows?: number;
  cols?: number;
  patientId?: string;
  patientName?: string;
  patientBirthDate?: string;
  accessionNumber?: string;
  studyDate?: string;
  studyDescription?: string;
  seriesNumber?: number;
  instanceNumber?: number;
  /** Dataset encoding; the meta header is always explicit VR LE. Default "explicit". */
  transferSyntax?: "explicit" | "implicit";
  /** SOP Class UID in meta and dataset, e.g. a presentation state for filter tests. Default CT. */
  sopClassUid?: string;
}

const encoder = new TextEncoder();
const longVrs = new Set(["OB", "OW", "SQ", "UN", "UT"]);

type Element = [group: number, element: number, vr: string, value: string | number | Uint8Array];

function valueBytes(vr: string, value: string | number | Uint8Array): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (vr === "US") {
    const out = new Uint8Array(2);
    new DataView(out.buffer).setUint16(0, value as number, true);
    return out;
  }
  if (vr === "UL") {
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, value as number, true);
    return out;
  }
  let text = String(value);
  if (text.length % 2 === 1) text += vr === "UI" ? "\0" : " ";
  return encoder.encode(text);
}

function encodeElements(
  elements: Element[],
  explicit: boolean,
  pixelData?: Uint8Array,
): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (const [group, element, vr, value] of elements) {
    const data = valueBytes(vr, value);
    const long = longVrs.has(vr);
    const headerLength = explicit ? (long ? 12 : 8) : 8;
    const header = new Uint8Array(headerLength);
    const v = new DataView(header.buffer);
    v.setUint16(0, group, true);
    v.setUint16(2, element, true);
    if (!explicit) v.setUint32(4, data.length, true);
    else {
      header.set(encoder.encode(vr), 4);
      if (long) v.setUint32(8, data.length, true);
      else v.setUint16(6, data.length, true);
    }
    parts.push(header, data);
  }
  if (pixelData) parts.push(pixelData);
  return parts;
}

function metaHeader(sopClass: string, sopUid: string, ts: string): Uint8Array[] {
  const body = encodeElements([
    [0x0002, 0x0001, "OB", new Uint8Array([0, 1])],
    [0x0002, 0x0002, "UI", sopClass],
    [0x0002, 0x0003, "UI", sopUid],
    [0x0002, 0x0010, "UI", ts],
    [0x0002, 0x0012, "UI", "2.25.1"],
    [0x0002, 0x0013, "SH", "BP_FIXTURES"],
  ], true);
  const length = body.reduce((n, p) => n + p.length, 0);
  const preamble = new Uint8Array(132);
  preamble.set(encoder.encode("DICM"), 128);
  return [preamble, ...encodeElements([[0x0002, 0x0000, "UL", length]], true), ...body];
}

/** Rows `from`..`to` of the pixel data: a disc phantom, compressible like real CT, per slice. */
function pixelRows(rows: number, cols: number, instance: number, from: number, to: number) {
  const pixels = new Uint16Array((to - from) * cols);
  const r2 = (Math.min(rows, cols) * 0.4) ** 2;
  for (let y = from; y < to; y++) {
    for (let x = 0; x < cols; x++) {
      const dx = x - cols / 2;
      const dy = y - rows / 2;
      pixels[(y - from) * cols + x] = dx * dx + dy * dy < r2
        ? 1000 + ((x + y + instance * 3) & 0x1ff)
        : 0;
    }
  }
  return new Uint8Array(pixels.buffer);
}

/** Everything of the file before the pixel data value (meta, elements, pixel data header). */
function ctHeader(options: SyntheticCtOptions): Uint8Array {
  const rows = options.rows ?? 512;
  const cols = options.cols ?? 512;
  const instance = options.instanceNumber ?? 1;
  const explicit = (options.transferSyntax ?? "explicit") === "explicit";
  const ts = explicit ? "1.2.840.10008.1.2.1" : "1.2.840.10008.1.2";
  const pixelLength = rows * cols * 2;
  const elements: Element[] = [
    [0x0008, 0x0005, "CS", "ISO_IR 100"],
    [0x0008, 0x0008, "CS", "ORIGINAL\\PRIMARY\\AXIAL"],
    [0x0008, 0x0016, "UI", options.sopClassUid ?? ctImageStorage],
    [0x0008, 0x0018, "UI", options.sopUid],
    [0x0008, 0x0020, "DA", options.studyDate ?? "20260101"],
    [0x0008, 0x0030, "TM", "120000"],
    [0x0008, 0x0050, "SH", options.accessionNumber ?? "ACC0001"],
    [0x0008, 0x0060, "CS", "CT"],
    [0x0008, 0x0070, "LO", "Beeldpoort Synthetic"],
    [0x0008, 0x0090, "PN", ""],
    [0x0008, 0x1030, "LO", options.studyDescription ?? "CT THORAX SYNTHETIC"],
    [0x0008, 0x103e, "LO", "AXIAL 1mm"],
    [0x0010, 0x0010, "PN", options.patientName ?? "Test^Synthetic"],
    [0x0010, 0x0020, "LO", options.patientId ?? "TEST0001"],
    [0x0010, 0x0030, "DA", options.patientBirthDate ?? "19700101"],
    [0x0010, 0x0040, "CS", "O"],
    [0x0018, 0x0050, "DS", "1.0"],
    [0x0018, 0x0060, "DS", "120"],
    [0x0018, 0x5100, "CS", "HFS"],
    [0x0020, 0x000d, "UI", options.studyUid],
    [0x0020, 0x000e, "UI", options.seriesUid],
    [0x0020, 0x0010, "SH", "1"],
    [0x0020, 0x0011, "IS", String(options.seriesNumber ?? 1)],
    [0x0020, 0x0012, "IS", "1"],
    [0x0020, 0x0013, "IS", String(instance)],
    [0x0020, 0x0032, "DS", `-250\\-250\\${instance}`],
    [0x0020, 0x0037, "DS", "1\\0\\0\\0\\1\\0"],
    [0x0020, 0x0052, "UI", options.studyUid + ".1"],
    [0x0020, 0x0060, "CS", ""],
    [0x0020, 0x1040, "LO", ""],
    [0x0028, 0x0002, "US", 1],
    [0x0028, 0x0004, "CS", "MONOCHROME2"],
    [0x0028, 0x0010, "US", rows],
    [0x0028, 0x0011, "US", cols],
    [0x0028, 0x0030, "DS", "0.976\\0.976"],
    [0x0028, 0x0100, "US", 16],
    [0x0028, 0x0101, "US", 12],
    [0x0028, 0x0102, "US", 11],
    [0x0028, 0x0103, "US", 0],
    [0x0028, 0x1050, "DS", "40"],
    [0x0028, 0x1051, "DS", "400"],
    [0x0028, 0x1052, "DS", "-1024"],
    [0x0028, 0x1053, "DS", "1"],
  ];
  // Pixel Data (7FE0,0010) OW: header written here, the value appended without copying twice.
  const pixelHeader = explicit ? new Uint8Array(12) : new Uint8Array(8);
  const pv = new DataView(pixelHeader.buffer);
  pv.setUint16(0, 0x7fe0, true);
  pv.setUint16(2, 0x0010, true);
  if (explicit) {
    pixelHeader.set(encoder.encode("OW"), 4);
    pv.setUint32(8, pixelLength, true);
  } else pv.setUint32(4, pixelLength, true);
  const parts = [
    ...metaHeader(options.sopClassUid ?? ctImageStorage, options.sopUid, ts),
    ...encodeElements(elements, explicit),
    pixelHeader,
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The bytes of a synthetic CT instance as a Part-10 file. */
export function syntheticCt(options: SyntheticCtOptions): Uint8Array {
  const header = ctHeader(options);
  const rows = options.rows ?? 512;
  const cols = options.cols ?? 512;
  const pixels = pixelRows(rows, cols, options.instanceNumber ?? 1, 0, rows);
  const out = new Uint8Array(header.length + pixels.length);
  out.set(header);
  out.set(pixels, header.length);
  return out;
}

/**
 * Writes a synthetic CT instance to `path` (512x512, 16-bit by default: about 525 kB).
 *
 * @example
 * ```ts
 * writeSyntheticCt("/tmp/ct1.dcm", { studyUid: newUid(), seriesUid: newUid(), sopUid: newUid() });
 * ```
 */
export function writeSyntheticCt(path: string, options: SyntheticCtOptions): void {
  const rows = options.rows ?? 512;
  const cols = options.cols ?? 512;
  using file = Deno.openSync(path, { write: true, create: true, truncate: true });
  const writeAll = (bytes: Uint8Array) => {
    for (let at = 0; at < bytes.length;) at += file.writeSync(bytes.subarray(at));
  };
  writeAll(ctHeader(options));
  // In bands, so a 1 GB instance for the memory benchmark never sits in memory whole.
  const band = Math.max(1, Math.floor((8 << 20) / (cols * 2)));
  for (let y = 0; y < rows; y += band) {
    writeAll(pixelRows(rows, cols, options.instanceNumber ?? 1, y, Math.min(rows, y + band)));
  }
}

/** What `writeSyntheticStudy` wrote. */
export interface SyntheticStudy {
  studyUid: string;
  seriesUids: string[];
  sopUids: string[];
  files: string[];
}

/**
 * Writes a study of `instances` CT-like files into `dir` (named 00001.dcm, ...), spread over
 * `series` series.
 *
 * @example
 * ```ts
 * const study = writeSyntheticStudy(dir, { instances: 500 }); // the ingest benchmark's study
 * ```
 */
export function writeSyntheticStudy(
  dir: string,
  options: {
    instances: number;
    series?: number;
    rows?: number;
    cols?: number;
    patientId?: string;
    patientName?: string;
    studyDescription?: string;
    transferSyntax?: "explicit" | "implicit";
    /** Same seed, same UIDs and bytes. */
    seed?: number;
  },
): SyntheticStudy {
  const seed = options.seed;
  const studyUid = newUid(seed, "study");
  const seriesUids = Array.from(
    { length: options.series ?? 1 },
    (_, i) => newUid(seed, `series${i}`),
  );
  const study: SyntheticStudy = { studyUid, seriesUids, sopUids: [], files: [] };
  Deno.mkdirSync(dir, { recursive: true });
  for (let i = 0; i < options.instances; i++) {
    const sopUid = newUid(seed, `sop${i}`);
    const seriesIndex = Math.floor((i * seriesUids.length) / options.instances);
    const path = `${dir}/${String(i + 1).padStart(5, "0")}.dcm`;
    writeSyntheticCt(path, {
      studyUid,
      seriesUid: seriesUids[seriesIndex],
      sopUid,
      rows: options.rows,
      cols: options.cols,
      patientId: options.patientId,
      patientName: options.patientName,
      studyDescription: options.studyDescription,
      seriesNumber: seriesIndex + 1,
      instanceNumber: i + 1,
      transferSyntax: options.transferSyntax,
    });
    study.sopUids.push(sopUid);
    study.files.push(path);
  }
  return study;
}
