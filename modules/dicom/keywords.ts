import dcmjs from "dcmjs";

dcmjs.log.setLevel("silent");

const dictionary = dcmjs.data.DicomMetaDictionary as unknown as {
  nameMap: Record<string, { tag: string; vr: string }>;
  dictionary: Record<string, { vr: string } | undefined>;
  naturalizeDataset(dict: unknown): Record<string, unknown>;
};

/** dcmjs's parse of a Part-10 prefix, stopping before the pixel data (never re-encoded). */
export function readUntilPixelData(part10Prefix: Uint8Array): { dict: unknown; meta: unknown } {
  // dcmjs wants an ArrayBuffer holding exactly the file; copy only when the view is a part of a
  // larger one, and let dcmjs read it in place (noCopy): a copy of a 256 KiB header capture costs
  // more than the parse of the elements before the pixel data.
  const whole = part10Prefix.byteOffset === 0 &&
    part10Prefix.byteLength === part10Prefix.buffer.byteLength &&
    part10Prefix.buffer instanceof ArrayBuffer;
  const buffer = whole ? part10Prefix.buffer as ArrayBuffer : part10Prefix.buffer.slice(
    part10Prefix.byteOffset,
    part10Prefix.byteOffset + part10Prefix.byteLength,
  ) as ArrayBuffer;
  return dcmjs.data.DicomMessage.readFile(buffer, {
    untilTag: "7FE00010",
    includeUntilTagValue: false,
    ignoreErrors: true,
    noCopy: true,
  });
}

/**
 * Whether `keyword` is a data element keyword of the DICOM dictionary (PS3.6 6), e.g.
 * "BodyPartExamined". Routing rules are validated with it, so a typo fails when the rule is added.
 *
 * @example
 * ```ts
 * isDicomKeyword("BodyPartExamined"); // true
 * ```
 */
export function isDicomKeyword(keyword: string): boolean {
  return Object.hasOwn(dictionary.nameMap, keyword);
}

/** VRs already looked up, by tag: an implicit-VR header asks for every element it skips. */
const vrCache = new Map<number, string | undefined>();
/** Enough for every tag of the dictionary that real headers carry; odd private tags stop it. */
const vrCacheLimit = 4096;

/** The VR dcmjs's dictionary gives a tag, `(group << 16 | element) >>> 0`; undefined if unknown. */
export function dictionaryVr(tag: number): string | undefined {
  if (vrCache.has(tag)) return vrCache.get(tag);
  const hex = tag.toString(16).toUpperCase().padStart(8, "0");
  const vr = dictionary.dictionary[`(${hex.slice(0, 4)},${hex.slice(4)})`]?.vr;
  if (vrCache.size < vrCacheLimit) vrCache.set(tag, vr);
  return vr;
}

function valueText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) {
    const parts = value.map(valueText).filter((v) => v !== undefined);
    return parts.length ? parts.join("\\") : undefined;
  }
  if (typeof value === "object") {
    const alphabetic = (value as { Alphabetic?: string }).Alphabetic;
    return alphabetic === undefined ? undefined : String(alphabetic);
  }
  const text = String(value).trim();
  return text === "" ? undefined : text;
}

/**
 * Top-level element values by keyword from the start of a Part-10 object (up to the pixel data),
 * as text: multiple values joined with "\\", person names in their alphabetic form. Elements that
 * are absent or empty are left out. Nothing is re-encoded.
 *
 * @example
 * ```ts
 * const values = readKeywordValues(prefix, ["BodyPartExamined", "StationName"]);
 * ```
 */
export function readKeywordValues(
  part10Prefix: Uint8Array,
  keywords: string[],
): Record<string, string> {
  const ds = dictionary.naturalizeDataset(readUntilPixelData(part10Prefix).dict);
  const out: Record<string, string> = {};
  for (const keyword of keywords) {
    const text = valueText(ds[keyword]);
    if (text !== undefined) out[keyword] = text;
  }
  return out;
}
