/**
 * A minimal DICOMDIR (PS3.10 7.2, PS3.3 F.3 Basic Directory IOD) in Explicit VR Little Endian:
 * one PATIENT, one STUDY, its SERIES and an IMAGE record per file. Every length is defined, so each
 * record's byte offset is known before it is written (PS3.3 F.3.2.1: offsets count from the first
 * byte of the file, preamble included).
 */

/** One file of the media, as the directory references it. */
export interface DicomdirFile {
  /** Path components, e.g. ["DICOM", "S0001", "I00001"] (PS3.10 8.2: 1-8 of A-Z, 0-9, _). */
  fileId: string[];
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  seriesInstanceUid: string;
  modality?: string;
  seriesNumber?: number;
  instanceNumber?: number;
}

/** What the patient and study records say. */
export interface DicomdirStudy {
  patientId: string;
  patientName?: string;
  studyInstanceUid: string;
  studyDate?: string;
  studyTime?: string;
  studyId?: string;
  accessionNumber?: string;
  studyDescription?: string;
}

const encoder = new TextEncoder();
const explicitLittle = "1.2.840.10008.1.2.1";
const mediaStorageDirectory = "1.2.840.10008.1.3.10";
/** Beeldpoort's implementation class (a 2.25 UUID-derived root, PS3.5 B.2). */
const implementationClassUid = "2.25.186434953123706221387441063711418722305";

type Element = { tag: number; vr: string; value: Uint8Array | Uint8Array[] };

const longVrs = new Set(["OB", "OW", "SQ", "UN", "UT", "UC", "UR"]);

function text(vr: string, value: string): Uint8Array {
  const bytes = encoder.encode(value);
  if (bytes.length % 2 === 0) return bytes;
  const padded = new Uint8Array(bytes.length + 1);
  padded.set(bytes);
  padded[bytes.length] = vr === "UI" ? 0 : 0x20; // PS3.5 6.2: UI pads with NUL, text with space
  return padded;
}

function ul(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

function us(n: number): Uint8Array {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setUint16(0, n, true);
  return b;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** PS3.5 7.1.2: tag, VR, then a 2-byte length, or 2 reserved bytes and a 4-byte length. */
function encodeElement(e: Element): Uint8Array {
  const value = Array.isArray(e.value) ? concat(e.value) : e.value;
  const long = longVrs.has(e.vr);
  const head = new Uint8Array(long ? 12 : 8);
  const view = new DataView(head.buffer);
  view.setUint16(0, e.tag >>> 16, true);
  view.setUint16(2, e.tag & 0xffff, true);
  head[4] = e.vr.charCodeAt(0);
  head[5] = e.vr.charCodeAt(1);
  if (long) view.setUint32(8, value.length, true);
  else view.setUint16(6, value.length, true);
  return concat([head, value]);
}

/** PS3.5 7.5: an item with a defined length. */
function encodeItem(elements: Element[]): Uint8Array {
  const body = concat(elements.sort((a, b) => a.tag - b.tag).map(encodeElement));
  const head = new Uint8Array(8);
  const view = new DataView(head.buffer);
  view.setUint16(0, 0xfffe, true);
  view.setUint16(2, 0xe000, true);
  view.setUint32(4, body.length, true);
  return concat([head, body]);
}

const str = (tag: number, vr: string, value: string | undefined): Element => ({
  tag,
  vr,
  value: text(vr, value ?? ""),
});

/** Non-ASCII text needs a declared character set (PS3.3 C.12.1.1.2); UTF-8 is ISO_IR 192. */
function charset(values: (string | undefined)[]): Element[] {
  return values.some((v) => v && /[^\x20-\x7e]/.test(v))
    ? [str(0x00080005, "CS", "ISO_IR 192")]
    : [];
}

interface Rec {
  type: "PATIENT" | "STUDY" | "SERIES" | "IMAGE";
  keys: Element[];
  next?: Rec;
  lower?: Rec;
  offset: number;
}

function recordElements(r: Rec): Element[] {
  return [
    { tag: 0x00041400, vr: "UL", value: ul(r.next?.offset ?? 0) },
    { tag: 0x00041410, vr: "US", value: us(0xffff) },
    { tag: 0x00041420, vr: "UL", value: ul(r.lower?.offset ?? 0) },
    str(0x00041430, "CS", r.type),
    ...r.keys,
  ];
}

/**
 * Builds the DICOMDIR of one study's files. `sopInstanceUid` of the directory itself is given so
 * the caller decides (a fresh 2.25 UID).
 */
export function buildDicomdir(
  study: DicomdirStudy,
  files: DicomdirFile[],
  dicomdirUid: string,
): Uint8Array {
  const patient: Rec = {
    type: "PATIENT",
    offset: 0,
    keys: [
      ...charset([study.patientName]),
      str(0x00100010, "PN", study.patientName),
      str(0x00100020, "LO", study.patientId),
    ],
  };
  const studyRec: Rec = {
    type: "STUDY",
    offset: 0,
    keys: [
      ...charset([study.studyDescription]),
      str(0x00080020, "DA", study.studyDate),
      str(0x00080030, "TM", study.studyTime),
      str(0x00080050, "SH", study.accessionNumber),
      str(0x00081030, "LO", study.studyDescription),
      str(0x0020000d, "UI", study.studyInstanceUid),
      str(0x00200010, "SH", study.studyId),
    ],
  };
  patient.lower = studyRec;
  const order: Rec[] = [patient, studyRec];
  let lastSeries: Rec | undefined;
  let lastImage: Rec | undefined;
  const seriesSeen = new Map<string, Rec>();
  for (const f of files) {
    let series = seriesSeen.get(f.seriesInstanceUid);
    if (!series) {
      series = {
        type: "SERIES",
        offset: 0,
        keys: [
          str(0x00080060, "CS", f.modality ?? "OT"),
          str(0x0020000e, "UI", f.seriesInstanceUid),
          str(0x00200011, "IS", f.seriesNumber === undefined ? "" : String(f.seriesNumber)),
        ],
      };
      seriesSeen.set(f.seriesInstanceUid, series);
      if (lastSeries) lastSeries.next = series;
      else studyRec.lower = series;
      lastSeries = series;
      lastImage = undefined;
      order.push(series);
    }
    const image: Rec = {
      type: "IMAGE",
      offset: 0,
      keys: [
        { tag: 0x00041500, vr: "CS", value: text("CS", f.fileId.join("\\")) },
        str(0x00041510, "UI", f.sopClassUid),
        str(0x00041511, "UI", f.sopInstanceUid),
        str(0x00041512, "UI", f.transferSyntaxUid),
        str(0x00200013, "IS", f.instanceNumber === undefined ? "" : String(f.instanceNumber)),
      ],
    };
    if (lastImage) lastImage.next = image;
    else series.lower = image;
    lastImage = image;
    order.push(image);
  }

  const metaElements: Element[] = [
    { tag: 0x00020001, vr: "OB", value: new Uint8Array([0, 1]) },
    str(0x00020002, "UI", mediaStorageDirectory),
    str(0x00020003, "UI", dicomdirUid),
    str(0x00020010, "UI", explicitLittle),
    str(0x00020012, "UI", implementationClassUid),
    str(0x00020013, "SH", "BEELDPOORT"),
  ];
  const metaBody = concat(metaElements.map(encodeElement));
  const meta = concat([
    new Uint8Array(128),
    encoder.encode("DICM"),
    encodeElement({ tag: 0x00020000, vr: "UL", value: ul(metaBody.length) }),
    metaBody,
  ]);
  const head = (first: number, last: number) =>
    concat([
      encodeElement(str(0x00041130, "CS", "")),
      encodeElement({ tag: 0x00041200, vr: "UL", value: ul(first) }),
      encodeElement({ tag: 0x00041202, vr: "UL", value: ul(last) }),
      encodeElement({ tag: 0x00041212, vr: "US", value: us(0) }),
    ]);
  // Sizes do not depend on offset values (all UL), so one pass places every record.
  let at = meta.length + head(0, 0).length + 12;
  for (const r of order) {
    r.offset = at;
    at += encodeItem(recordElements(r)).length;
  }
  const items = order.map((r) => encodeItem(recordElements(r)));
  return concat([
    meta,
    head(patient.offset, patient.offset),
    encodeElement({ tag: 0x00041220, vr: "SQ", value: items }),
  ]);
}
