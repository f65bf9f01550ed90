/**
 * Zip reading over yauzl 3.4.0 (stack-feasibility.md §4: 1.6 s and 146 MB peak RSS for a 295 MB
 * archive, the lowest of the measured readers; zip.js was 1.7 s / 161 MB). Every entry of the
 * central directory is checked before any byte is inflated (standards.md §8 item 15): paths,
 * symlinks, duplicates and declared sizes. yauzl then holds each inflated stream to its declared
 * size, so a header that lies cannot inflate further.
 */
import yauzl from "yauzl";
import { Readable } from "node:stream";
import {
  XdmAbsolutePath,
  XdmBadZip,
  XdmDuplicateEntry,
  XdmPathTraversal,
  XdmSymlinkEntry,
  XdmZipBomb,
} from "./errors.ts";

/** Limits against zip bombs and oversized packages. */
export interface XdmLimits {
  /** Most entries in one zip. Default 200 000. */
  maxEntries?: number;
  /** Most bytes all entries may inflate to together. Default 8 GiB. */
  maxTotalBytes?: number;
  /** Most inflated/compressed ratio of one entry above `ratioFloorBytes`. Default 200. */
  maxEntryRatio?: number;
  /** Entries smaller than this are not ratio-checked (tiny text compresses well). Default 1 MiB. */
  ratioFloorBytes?: number;
  /** Largest METADATA.XML we parse. Default 256 MiB. */
  maxMetadataBytes?: number;
}

export const DEFAULT_LIMITS: Required<XdmLimits> = {
  maxEntries: 200_000,
  maxTotalBytes: 8 * 1024 ** 3,
  maxEntryRatio: 200,
  ratioFloorBytes: 1024 ** 2,
  maxMetadataBytes: 256 * 1024 ** 2,
};

/** A random-access byte source (a spool object, a file handle, memory). */
export interface XdmRandomAccessSource {
  size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
  close?(): Promise<void>;
}

interface YauzlEntry {
  fileName: Uint8Array;
  versionMadeBy: number;
  generalPurposeBitFlag: number;
  externalFileAttributes: number;
  compressedSize: number;
  uncompressedSize: number;
  compressionMethod: number;
  relativeOffsetOfLocalHeader: number;
  isEncrypted(): boolean;
}

interface YauzlZipFile {
  entryCount: number;
  readEntry(): void;
  on(event: "entry", fn: (entry: YauzlEntry) => void): void;
  on(event: "end", fn: () => void): void;
  on(event: "error", fn: (err: Error) => void): void;
  openReadStream(entry: YauzlEntry, cb: (err: Error | null, stream: Readable) => void): void;
  close(): void;
}

interface YauzlModule {
  open(path: string, options: object, cb: (err: Error | null, zip: YauzlZipFile) => void): void;
  fromRandomAccessReader(
    reader: unknown,
    size: number,
    options: object,
    cb: (err: Error | null, zip: YauzlZipFile) => void,
  ): void;
  RandomAccessReader: new () => object;
}

const y = yauzl as unknown as YauzlModule;

export interface ZipEntryInfo {
  name: string;
  compressedSize: number;
  uncompressedSize: number;
  isDirectory: boolean;
  raw: YauzlEntry;
}

export interface CheckedZip {
  entries: ZipEntryInfo[];
  /** Lookup by lowercase name (XDM producers differ in case, standards.md §1.4). */
  find(name: string): ZipEntryInfo | undefined;
  open(entry: ZipEntryInfo): ReadableStream<Uint8Array>;
  /**
   * The entry's bytes whole. A stored entry of a random-access source is one read of the source
   * (from memory: a view, no copy, so not the caller's to release); others are collected from
   * `open`.
   */
  read(entry: ZipEntryInfo): Promise<Uint8Array>;
  close(): void;
}

const YAUZL_OPTIONS = {
  lazyEntries: true,
  autoClose: false,
  decodeStrings: false,
  validateEntrySizes: true,
  strictFileNames: false,
};

function makeReader(source: XdmRandomAccessSource): unknown {
  class SourceReader extends y.RandomAccessReader {
    _readStreamForRange(start: number, end: number): Readable {
      return Readable.from(
        (async function* () {
          for (let at = start; at < end;) {
            const bytes = await source.read(at, Math.min(256 * 1024, end - at));
            if (bytes.length === 0) throw new Error("unexpected end of source");
            at += bytes.length;
            yield bytes;
          }
        })(),
        { objectMode: false },
      );
    }
    close(cb: (err?: unknown) => void) {
      (source.close?.() ?? Promise.resolve()).then(() => cb(), cb);
    }
  }
  return new SourceReader();
}

function openYauzl(source: string | XdmRandomAccessSource): Promise<YauzlZipFile> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, zip: YauzlZipFile) =>
      err
        ? reject(new XdmBadZip(`not a readable zip: ${err.message}`, { cause: err }))
        : resolve(zip);
    if (typeof source === "string") y.open(source, YAUZL_OPTIONS, done);
    else y.fromRandomAccessReader(makeReader(source), source.size, YAUZL_OPTIONS, done);
  });
}

const utf8 = new TextDecoder("utf-8", { fatal: false });
const latin1 = new TextDecoder("latin1");

/** Checks one name; returns it with `/` separators. */
function checkName(raw: string): string {
  const name = raw.replace(/\\/g, "/");
  if (name.includes("\0")) throw new XdmBadZip(`zip entry name with NUL: ${JSON.stringify(raw)}`);
  if (name.startsWith("/") || /^[A-Za-z]:/.test(name)) throw new XdmAbsolutePath(raw);
  if (name.split("/").some((part) => part === "..")) throw new XdmPathTraversal(raw);
  return name;
}

const LOCAL_HEADER_SIGNATURE = 0x04034b50;
const LOCAL_HEADER_BYTES = 30;

/** A stored entry's data, located through its local header as yauzl's read stream does. */
async function readStored(source: XdmRandomAccessSource, entry: ZipEntryInfo) {
  const at = entry.raw.relativeOffsetOfLocalHeader;
  const header = await readFully(source, at, LOCAL_HEADER_BYTES);
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  if (view.getUint32(0, true) !== LOCAL_HEADER_SIGNATURE) {
    throw new XdmBadZip(`zip entry "${entry.name}": invalid local file header signature`);
  }
  const start = at + LOCAL_HEADER_BYTES + view.getUint16(26, true) + view.getUint16(28, true);
  if (start + entry.compressedSize > source.size) {
    throw new XdmBadZip(`zip entry "${entry.name}": data overflows the zip`);
  }
  return await readFully(source, start, entry.compressedSize);
}

async function readFully(source: XdmRandomAccessSource, offset: number, length: number) {
  const first = await source.read(offset, length);
  if (first.length === length) return first;
  const out = new Uint8Array(length);
  out.set(first);
  for (let have = first.length; have < length;) {
    const more = await source.read(offset + have, length - have);
    if (more.length === 0) throw new XdmBadZip("unexpected end of the zip");
    out.set(more, have);
    have += more.length;
  }
  return out;
}

/** Opens a zip and checks its whole central directory before anything is inflated. */
export async function openCheckedZip(
  source: string | XdmRandomAccessSource,
  limits: XdmLimits = {},
): Promise<CheckedZip> {
  const l = { ...DEFAULT_LIMITS, ...limits };
  const zip = await openYauzl(source);
  if (zip.entryCount > l.maxEntries) {
    zip.close();
    throw new XdmZipBomb("*", `${zip.entryCount} entries, limit ${l.maxEntries}`);
  }
  const entries: ZipEntryInfo[] = [];
  const byName = new Map<string, ZipEntryInfo>();
  let total = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on("error", (err) => reject(new XdmBadZip(err.message, { cause: err })));
      zip.on("end", resolve);
      zip.on("entry", (entry) => {
        try {
          const raw = (entry.generalPurposeBitFlag & 0x800)
            ? utf8.decode(entry.fileName)
            : latin1.decode(entry.fileName);
          const name = checkName(raw);
          const host = entry.versionMadeBy >> 8;
          const mode = (entry.externalFileAttributes >>> 16) & 0o170000;
          // Unix (3) and OS X (19) hosts keep st_mode in the high 16 bits (APPNOTE 4.4.15).
          if ((host === 3 || host === 19) && mode === 0o120000) throw new XdmSymlinkEntry(name);
          const key = name.toLowerCase();
          if (byName.has(key)) throw new XdmDuplicateEntry(name);
          if (entry.isEncrypted()) throw new XdmBadZip(`zip entry "${name}" is encrypted`);
          const size = entry.uncompressedSize;
          if (
            size > l.ratioFloorBytes && size / Math.max(entry.compressedSize, 1) > l.maxEntryRatio
          ) {
            throw new XdmZipBomb(
              name,
              `${size} bytes from ${entry.compressedSize}, ratio limit ${l.maxEntryRatio}`,
            );
          }
          total += size;
          if (total > l.maxTotalBytes) {
            throw new XdmZipBomb(name, `package inflates beyond ${l.maxTotalBytes} bytes`);
          }
          const info: ZipEntryInfo = {
            name,
            compressedSize: entry.compressedSize,
            uncompressedSize: size,
            isDirectory: name.endsWith("/"),
            raw: entry,
          };
          byName.set(key, info);
          entries.push(info);
          zip.readEntry();
        } catch (err) {
          reject(err);
        }
      });
      zip.readEntry();
    });
  } catch (err) {
    zip.close();
    throw err;
  }

  const checked: CheckedZip = {
    entries,
    find: (name) => byName.get(name.toLowerCase()),
    open(entry) {
      let iterator: AsyncIterator<Uint8Array> | null = null;
      let node: Readable | null = null;
      const mapError = (err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        if (message.startsWith("too many bytes")) return new XdmZipBomb(entry.name, message);
        return new XdmBadZip(`zip entry "${entry.name}": ${message}`, { cause: err });
      };
      return new ReadableStream<Uint8Array>({
        async pull(controller) {
          try {
            if (!iterator) {
              node = await new Promise<Readable>((resolve, reject) =>
                zip.openReadStream(entry.raw, (err, s) => err ? reject(err) : resolve(s))
              );
              iterator = node[Symbol.asyncIterator]();
            }
            const { value, done } = await iterator.next();
            if (done) controller.close();
            else {controller.enqueue(
                new Uint8Array(value.buffer, value.byteOffset, value.byteLength),
              );}
          } catch (err) {
            controller.error(mapError(err));
          }
        },
        cancel() {
          node?.destroy();
        },
      }, { highWaterMark: 0 });
    },
    async read(entry) {
      const stored = entry.raw.compressionMethod === 0 &&
        entry.compressedSize === entry.uncompressedSize;
      if (stored && typeof source !== "string") return await readStored(source, entry);
      // Collected as it inflates, not allocated from the recorded size: that is the sender's word.
      const chunks: Uint8Array[] = [];
      let length = 0;
      for await (const chunk of checked.open(entry)) {
        chunks.push(chunk);
        length += chunk.length;
      }
      const out = new Uint8Array(length);
      chunks.reduce((at, chunk) => (out.set(chunk, at), at + chunk.length), 0);
      return out;
    },
    close: () => zip.close(),
  };
  return checked;
}
