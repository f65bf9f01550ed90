/**
 * A small walker over the elements of a Part-10 prefix (128-byte preamble, "DICM", the group-2
 * meta in explicit VR little endian, then the dataset in its transfer syntax) that decodes only
 * the elements it is asked for and skips the rest by length. It stops at the top-level pixel data
 * (7FE0,0010) or at the end of the prefix, keeping what it read; a string value cut by the end of
 * the prefix is kept as far as it goes, as dcmjs does.
 *
 * It reads explicit VR little endian (also the dataset of every encapsulated syntax) and implicit
 * VR little endian. Where its reading could differ from dcmjs's (deflate, big endian, other
 * character sets, malformed structure, byte patterns dcmjs's item scan would misread) it throws
 * `NotFastReadable`, and the caller parses with dcmjs instead.
 */

import { longVrs } from "./constants.ts";
import { dictionaryVr } from "./keywords.ts";

/** The fast reader cannot judge these bytes; parse them with dcmjs. */
export class NotFastReadable extends Error {}

/** One element to decode: its keyword, its VR, and for a sequence the elements of its items. */
export interface ElementSpec {
  keyword: string;
  vr: string;
  items?: ElementSpecs;
}

/** Wanted elements by tag, `(group << 16 | element) >>> 0`. */
export type ElementSpecs = ReadonlyMap<number, ElementSpec>;

/** Decoded values by keyword: a string value as text, a sequence as its (non-empty) items. */
export interface ElementValues {
  [keyword: string]: string | ElementValues[];
}

/** What `readPart10Elements` found. `cut` names a top-level value the prefix's end shortened. */
export interface Part10Elements {
  meta: ElementValues;
  dataset: ElementValues;
  cut?: string;
}

const implicitLittleEndian = "1.2.840.10008.1.2";
const slowSyntaxes = new Set(["1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2"]);
const shortVrs = new Set([
  ..."AE AS AT CS DA DS DT FL FD IS LO LT PN SH SL SS ST TM UI UL US".split(" "),
]);
/** Binary VRs dcmjs reads value by value: a length that is not a multiple would desync it. */
const binarySizes: Record<string, number> = {
  AT: 4,
  FD: 8,
  FL: 4,
  SL: 4,
  SS: 2,
  UL: 4,
  US: 2,
  UV: 8,
};
/** VRs dcmjs decodes with the character set; the others byte by byte. */
const encodedVrs = new Set(["LO", "LT", "PN", "SH", "ST", "UC", "UT"]);
const undefinedLength = 0xffffffff;
const transferSyntaxTag = 0x00020010;
const pixelData = 0x7fe00010;
const specificCharacterSet = 0x00080005;
const item = 0xfffee000;
const itemDelimiter = 0xfffee00d;
const sequenceDelimiter = 0xfffee0dd;
const maxDepth = 16;

/** TextDecoder("latin1") is windows-1252, like dcmjs's default decoder. */
const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder("utf-8");
/** The character sets whose dcmjs decoder we reproduce, by dcmjs's normalized name. */
const decoders: Record<string, TextDecoder> = {
  "": latin1,
  "iso-ir-6": latin1,
  "iso-ir-100": latin1,
  "iso-2022-ir-6": latin1,
  "iso-2022-ir-100": latin1,
  "iso-ir-192": utf8,
};

/** The value dcmjs reads for a UI element: pad NUL dropped, the first value, only digits and dots. */
export function uidValue(raw: string): string {
  const unpadded = raw.endsWith("\0") ? raw.slice(0, -1) : raw;
  return unpadded.split("\\")[0].replace(/[^0-9.]/g, "");
}

/** The prefix's end was reached: the top level stops there. */
class Cut extends Error {}

interface Container {
  /** Where its contents end: the declared end, or Infinity for undefined length. */
  end: number;
  /** What it may not run past: its end, else the nearest defined end around it. */
  limit: number;
  depth: number;
  /** Values go to the caller's item (inside a sequence) or the dataset (top level). */
  top: boolean;
  specs: ElementSpecs | undefined;
  out: ElementValues;
}

class Walker {
  readonly view: DataView;
  explicit = true;
  decoder = latin1;
  /** Item and delimiter tags read so far, to check dcmjs's byte scan of undefined-length items. */
  structural = 0;
  cut: string | undefined;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Throws unless `n` bytes at `at` lie in the container and the prefix. */
  need(at: number, n: number, end: number): void {
    if (at + n > end) throw new NotFastReadable("element runs past its container");
    if (at + n > this.bytes.length) throw new Cut();
  }

  tag(at: number): number {
    return ((this.view.getUint16(at, true) << 16) | this.view.getUint16(at + 2, true)) >>> 0;
  }

  text(vr: string, from: number, to: number, top: boolean): string {
    const bytes = this.bytes.subarray(from, to);
    if (encodedVrs.has(vr)) return (top ? this.decoder : latin1).decode(bytes);
    let out = "";
    for (let i = 0; i < bytes.length; i += 4096) {
      out += String.fromCharCode(...bytes.subarray(i, i + 4096));
    }
    return out;
  }

  /** Reads the elements of a dataset or item from `at`; returns where they end. */
  elements(at: number, c: Container): number {
    while (c.end === Infinity || at < c.end) {
      if (c.top && at + 4 > this.bytes.length) return this.bytes.length;
      this.need(at, 4, c.limit);
      const tag = this.tag(at);
      if (c.top && tag === pixelData) return at;
      if (tag === itemDelimiter && c.end === Infinity && !c.top) return at;
      if (tag >>> 16 === 0xfffe) throw new NotFastReadable("item tag among elements");
      at = this.element(at, tag, c);
    }
    return at;
  }

  element(at: number, tag: number, c: Container): number {
    const spec = c.specs?.get(tag);
    let vr: string;
    let length: number;
    if (this.explicit) {
      this.need(at, 8, c.limit);
      vr = String.fromCharCode(this.bytes[at + 4], this.bytes[at + 5]);
      if (longVrs.has(vr)) {
        this.need(at, 12, c.limit);
        length = this.view.getUint32(at + 8, true);
        at += 12;
      } else if (shortVrs.has(vr)) {
        length = this.view.getUint16(at + 6, true);
        at += 8;
      } else throw new NotFastReadable(`unknown VR ${vr}`);
      if (vr === "UN" && ((tag >>> 16) & 1) === 0) throw new NotFastReadable("standard tag as UN");
      if (spec && spec.vr !== vr) throw new NotFastReadable("unexpected VR");
      const size = binarySizes[vr];
      if (size && length % size !== 0) throw new NotFastReadable("binary length");
    } else {
      this.need(at, 8, c.limit);
      length = this.view.getUint32(at + 4, true);
      // dcmjs reads an implicit element by its dictionary VR; SQ for an unknown undefined length.
      vr = spec?.vr ?? dictionaryVr(tag) ?? (length === undefinedLength ? "SQ" : "UN");
      const size = binarySizes[vr];
      if (size && length % size !== 0) throw new NotFastReadable("binary length");
      at += 8;
    }
    if (length === undefinedLength) {
      if (vr !== "SQ" || tag === pixelData) throw new NotFastReadable("undefined length");
      return this.sequence(at, undefinedLength, spec, c);
    }
    if (length % 2 === 1) throw new NotFastReadable("odd length");
    if (vr === "SQ") return this.sequence(at, length, spec, c);
    if (at + length > c.limit) throw new NotFastReadable("value runs past its container");
    if (tag === specificCharacterSet) this.characterSet(at, length, c);
    if (spec && at + length > this.bytes.length) {
      if (!c.top) throw new Cut();
      c.out[spec.keyword] = this.text(vr, at, this.bytes.length, true);
      this.cut = spec.keyword;
      return this.bytes.length;
    }
    this.need(at, length, c.limit);
    if (spec) c.out[spec.keyword] = this.text(vr, at, at + length, c.top);
    return at + length;
  }

  characterSet(at: number, length: number, c: Container): void {
    if (!c.top) throw new NotFastReadable("character set inside an item");
    if (at + length > this.bytes.length) throw new Cut();
    const values = this.text("CS", at, at + length, true).split("\\");
    if (values.length > 1) throw new NotFastReadable("several character sets");
    const decoder = decoders[values[0].trim().replace(/[_ ]/g, "-").toLowerCase()];
    if (!decoder) throw new NotFastReadable("character set");
    this.decoder = decoder;
  }

  /** Reads a sequence's items; stores them when wanted; returns where the sequence ends. */
  sequence(at: number, length: number, spec: ElementSpec | undefined, c: Container): number {
    if (c.depth >= maxDepth) throw new NotFastReadable("nested too deep");
    const end = length === undefinedLength ? Infinity : at + length;
    const limit = Math.min(end, c.limit);
    if (end !== Infinity && end > c.limit) {
      throw new NotFastReadable("sequence runs past its container");
    }
    const items: ElementValues[] = [];
    while (end === Infinity || at < end) {
      this.need(at, 8, limit);
      const tag = this.tag(at);
      const itemLength = this.view.getUint32(at + 4, true);
      this.structural++;
      at += 8;
      if (tag === sequenceDelimiter && end === Infinity) {
        if (itemLength !== 0) throw new NotFastReadable("sequence delimiter length");
        break;
      }
      if (tag !== item) throw new NotFastReadable("no item tag in a sequence");
      const out: ElementValues = {};
      const itemEnd = itemLength === undefinedLength ? Infinity : at + itemLength;
      const inner: Container = {
        end: itemEnd,
        limit: Math.min(itemEnd, limit),
        depth: c.depth + 1,
        top: false,
        specs: spec?.items,
        out,
      };
      if (itemEnd !== Infinity && itemEnd > limit) {
        throw new NotFastReadable("item runs past its sequence");
      }
      const before = this.structural;
      const outermost = inner.end === Infinity && !this.scanned;
      if (outermost) this.scanned = true;
      let contentEnd: number;
      try {
        contentEnd = this.elements(at, inner);
        if (itemEnd === Infinity) this.need(contentEnd, 8, limit);
      } catch (e) {
        // dcmjs fails on a cut item too, unless its byte scan finds an end before the cut.
        if (e instanceof Cut && c.top && itemEnd === Infinity && this.scanFindsItemEnd(at)) {
          throw new NotFastReadable("cut item that dcmjs would end early");
        }
        throw e;
      } finally {
        if (outermost) this.scanned = false;
      }
      if (itemEnd === Infinity) {
        if (this.view.getUint32(contentEnd + 4, true) !== 0) {
          throw new NotFastReadable("item delimiter length");
        }
        if (outermost) this.checkItemScan(at, contentEnd, this.structural - before);
        this.structural++;
      }
      if (contentEnd > at) items.push(out);
      at = inner.end === Infinity ? contentEnd + 8 : contentEnd;
    }
    if (spec?.items) c.out[spec.keyword] = items;
    return at;
  }

  /**
   * dcmjs's scan for the end of an undefined-length item from `from`: whether it finds the item
   * delimiter (FFFE,E00D, length 0, nested undefined-length items counted) inside the prefix.
   */
  scanFindsItemEnd(from: number): boolean {
    let depth = 0;
    for (let i = from; i + 2 <= this.bytes.length; i += 2) {
      if (this.view.getUint16(i, true) !== 0xfffe) continue;
      if (i + 8 > this.bytes.length) return false;
      const element = this.view.getUint16(i + 2, true);
      const length = this.view.getUint32(i + 4, true);
      if (element === 0xe00d && length === 0 && --depth < 0) return true;
      if (element === 0xe000 && length === undefinedLength) depth++;
      if (element === 0xe00d || element === 0xe000) i += 2;
    }
    return false;
  }

  /** True while inside an undefined-length item whose bytes are checked as a whole. */
  scanned = false;

  /**
   * dcmjs finds the end of an undefined-length item by scanning its bytes two at a time for
   * FFFE group tags. It agrees with a real parse only if every FFFE word at an even offset is one
   * of the item and delimiter tags the parse read; otherwise leave the bytes to dcmjs.
   */
  checkItemScan(from: number, to: number, structural: number): void {
    let words = 0;
    for (
      let i = this.bytes.indexOf(0xfe, from);
      i !== -1 && i + 1 < to;
      i = this.bytes.indexOf(0xfe, i + 1)
    ) {
      if ((i - from) % 2 === 0 && this.bytes[i + 1] === 0xff) words++;
    }
    if (words !== structural) throw new NotFastReadable("item bytes dcmjs would misread");
  }
}

/**
 * Reads the wanted meta and dataset elements of a Part-10 prefix. Throws `NotFastReadable` where
 * only dcmjs can say what it reads.
 *
 * @example
 * ```ts
 * const specs = new Map([[0x00100020, { keyword: "PatientID", vr: "LO" }]]);
 * const { dataset } = readPart10Elements(prefix, new Map(), specs);
 * ```
 */
export function readPart10Elements(
  prefix: Uint8Array,
  metaSpecs: ElementSpecs,
  datasetSpecs: ElementSpecs,
): Part10Elements {
  const w = new Walker(prefix);
  if (prefix.length < 144 || w.text("CS", 128, 132, true) !== "DICM") {
    throw new NotFastReadable("no Part-10 preamble");
  }
  if (w.tag(132) !== 0x00020000 || w.text("CS", 136, 138, true) !== "UL") {
    throw new NotFastReadable("no meta group length");
  }
  if (w.view.getUint16(138, true) !== 4) throw new NotFastReadable("meta group length length");
  const metaEnd = 144 + w.view.getUint32(140, true);
  if (metaEnd > prefix.length) throw new NotFastReadable("meta past the prefix");
  const meta: ElementValues = {};
  const tsSpec = metaSpecs.get(transferSyntaxTag) ?? { keyword: "TransferSyntaxUID", vr: "UI" };
  const specs = new Map(metaSpecs).set(transferSyntaxTag, tsSpec);
  w.elements(144, { end: metaEnd, limit: metaEnd, depth: 0, top: false, specs, out: meta });
  const rawTs = meta[tsSpec.keyword];
  if (!metaSpecs.has(transferSyntaxTag)) delete meta[tsSpec.keyword];
  if (typeof rawTs !== "string") throw new NotFastReadable("no transfer syntax");
  const ts = uidValue(rawTs);
  if (slowSyntaxes.has(ts)) throw new NotFastReadable(`transfer syntax ${ts}`);
  w.explicit = ts !== implicitLittleEndian;
  const dataset: ElementValues = {};
  try {
    w.elements(metaEnd, {
      end: Infinity,
      limit: Infinity,
      depth: 0,
      top: true,
      specs: datasetSpecs,
      out: dataset,
    });
  } catch (e) {
    if (!(e instanceof Cut)) throw e;
  }
  return w.cut === undefined ? { meta, dataset } : { meta, dataset, cut: w.cut };
}
