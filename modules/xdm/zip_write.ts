/**
 * A streaming zip writer of our own (APPNOTE 6.3: local headers with a data descriptor, central
 * directory, no zip64). Pull-based: the next source chunk is read only when the consumer of the zip
 * stream asks for more, so memory stays bounded by one chunk whatever the study size. Stored entries
 * stream; deflated ones (small text: metadata, index, report text) are compressed whole. The CRC-32
 * is the runtime's (node:zlib, ~15 GB/s here); fflate's JavaScript CRC ran at ~175 MB/s and was the
 * largest single cost of packing a relay part.
 */
import { createHash } from "node:crypto";
import { crc32, deflateRawSync } from "node:zlib";
import { Buffer } from "node:buffer";

export interface ZipEntryInput {
  /** Entry name inside the zip, `/`-separated. */
  name: string;
  /** Deflate (text) or store (DICOM, PDF: already dense, and deflate costs ~25 MB/s of CPU). */
  deflate?: boolean;
  data: Uint8Array | ReadableStream<Uint8Array> | Iterable<string>;
  /** Called after the last byte with the SHA-1 (lowercase hex) and size of the entry's bytes. */
  onDone?(sha1: string, size: number): void;
  /** Host system and external attributes (tests use them to build hostile zips). */
  os?: number;
  attrs?: number;
}

const encoder = new TextEncoder();
const MAX_CHUNK = 1 << 20;
/** Without zip64 every offset and size must stay below 4 GiB and the entry count below 65 536. */
const ZIP32_LIMIT = 0xffffffff;

type Source = { next(): Promise<Uint8Array | null>; cancel(): Promise<void> };

function sourceOf(data: ZipEntryInput["data"]): Source {
  if (data instanceof Uint8Array) {
    let offset = 0;
    return {
      next: () => {
        if (offset >= data.length) return Promise.resolve(null);
        const chunk = data.subarray(offset, offset + MAX_CHUNK);
        offset += chunk.length;
        return Promise.resolve(chunk);
      },
      cancel: () => Promise.resolve(),
    };
  }
  if (data instanceof ReadableStream) {
    const reader = data.getReader();
    return {
      next: async () => {
        const { value, done } = await reader.read();
        return done ? null : value;
      },
      cancel: () => reader.cancel(),
    };
  }
  const it = data[Symbol.iterator]();
  return {
    next: () => {
      const r = it.next();
      return Promise.resolve(r.done ? null : encoder.encode(r.value));
    },
    cancel: () => Promise.resolve(),
  };
}

/** MS-DOS time and date (APPNOTE 4.4.6), local fields as zip tools read them. */
function dosDateTime(at: Date): { time: number; date: number } {
  const year = Math.min(Math.max(at.getFullYear(), 1980), 2107);
  return {
    time: (at.getHours() << 11) | (at.getMinutes() << 5) | (at.getSeconds() >> 1),
    date: ((year - 1980) << 9) | ((at.getMonth() + 1) << 5) | at.getDate(),
  };
}

/** What the central directory needs of an entry once it is written. */
interface Written {
  name: Uint8Array;
  flags: number;
  method: number;
  crc: number;
  compressed: number;
  size: number;
  offset: number;
  os: number;
  attrs: number;
}

const FLAG_DESCRIPTOR = 0x0008;
const FLAG_UTF8 = 0x0800;

function localHeader(e: Written, stamp: { time: number; date: number }): Uint8Array {
  const out = new Uint8Array(30 + e.name.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0x04034b50, true);
  v.setUint16(4, 20, true);
  v.setUint16(6, e.flags, true);
  v.setUint16(8, e.method, true);
  v.setUint16(10, stamp.time, true);
  v.setUint16(12, stamp.date, true);
  if (!(e.flags & FLAG_DESCRIPTOR)) {
    v.setUint32(14, e.crc, true);
    v.setUint32(18, e.compressed, true);
    v.setUint32(22, e.size, true);
  }
  v.setUint16(26, e.name.length, true);
  out.set(e.name, 30);
  return out;
}

function dataDescriptor(e: Written): Uint8Array {
  const out = new Uint8Array(16);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0x08074b50, true);
  v.setUint32(4, e.crc, true);
  v.setUint32(8, e.compressed, true);
  v.setUint32(12, e.size, true);
  return out;
}

function centralDirectory(
  entries: readonly Written[],
  stamp: { time: number; date: number },
  at: number,
): Uint8Array {
  const size = entries.reduce((n, e) => n + 46 + e.name.length, 0);
  const out = new Uint8Array(size + 22);
  const v = new DataView(out.buffer);
  let p = 0;
  for (const e of entries) {
    v.setUint32(p, 0x02014b50, true);
    v.setUint16(p + 4, (e.os << 8) | 20, true);
    v.setUint16(p + 6, 20, true);
    v.setUint16(p + 8, e.flags, true);
    v.setUint16(p + 10, e.method, true);
    v.setUint16(p + 12, stamp.time, true);
    v.setUint16(p + 14, stamp.date, true);
    v.setUint32(p + 16, e.crc, true);
    v.setUint32(p + 20, e.compressed, true);
    v.setUint32(p + 24, e.size, true);
    v.setUint16(p + 28, e.name.length, true);
    v.setUint32(p + 38, e.attrs, true);
    v.setUint32(p + 42, e.offset, true);
    out.set(e.name, p + 46);
    p += 46 + e.name.length;
  }
  v.setUint32(p, 0x06054b50, true);
  v.setUint16(p + 8, entries.length, true);
  v.setUint16(p + 10, entries.length, true);
  v.setUint32(p + 12, size, true);
  v.setUint32(p + 16, at, true);
  return out;
}

/**
 * Streams a zip of `entries`, taken one at a time: an entry's data is read only after the previous
 * entry is complete, so a later entry (METADATA.XML) can depend on the hashes of earlier ones.
 */
export function zipStream(
  entries: AsyncIterable<ZipEntryInput> | Iterable<ZipEntryInput>,
  options: { mtime?: Date } = {},
): ReadableStream<Uint8Array> {
  const stamp = dosDateTime(options.mtime ?? new Date());
  const iterator = Symbol.asyncIterator in entries
    ? (entries as AsyncIterable<ZipEntryInput>)[Symbol.asyncIterator]()
    : (entries as Iterable<ZipEntryInput>)[Symbol.iterator]();
  const written: Written[] = [];
  let offset = 0;
  let current:
    | { entry: ZipEntryInput; source: Source; record: Written; hash: ReturnType<typeof createHash> }
    | null = null;
  let closed = false;

  const emit = (controller: ReadableStreamDefaultController<Uint8Array>, bytes: Uint8Array) => {
    offset += bytes.length;
    if (offset > ZIP32_LIMIT) throw new RangeError("zip larger than 4 GiB (zip64 is not written)");
    controller.enqueue(bytes);
  };

  /** A deflated entry: read whole, hashed, compressed, written with its sizes up front. */
  async function writeDeflated(
    controller: ReadableStreamDefaultController<Uint8Array>,
    entry: ZipEntryInput,
    record: Written,
  ) {
    const source = sourceOf(entry.data);
    const chunks: Uint8Array[] = [];
    const hash = createHash("sha1");
    let crc = 0;
    let size = 0;
    for (let chunk = await source.next(); chunk !== null; chunk = await source.next()) {
      hash.update(chunk);
      crc = crc32(chunk, crc);
      size += chunk.length;
      chunks.push(chunk);
    }
    const compressed = deflateRawSync(Buffer.concat(chunks), { level: 6 });
    Object.assign(record, { crc, size, compressed: compressed.length });
    emit(controller, localHeader(record, stamp));
    emit(controller, new Uint8Array(compressed.buffer, compressed.byteOffset, compressed.length));
    entry.onDone?.(hash.digest("hex"), size);
  }

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (current) {
        const chunk = await current.source.next();
        const { record } = current;
        if (chunk !== null) {
          current.hash.update(chunk);
          record.crc = crc32(chunk, record.crc);
          record.size += chunk.length;
          record.compressed += chunk.length;
          emit(controller, chunk);
          return;
        }
        emit(controller, dataDescriptor(record));
        current.entry.onDone?.(current.hash.digest("hex"), record.size);
        current = null;
        return;
      }
      const next = await iterator.next();
      if (next.done) {
        if (written.length > 0xffff) throw new RangeError("more than 65 535 zip entries");
        emit(controller, centralDirectory(written, stamp, offset));
        closed = true;
        controller.close();
        return;
      }
      const entry = next.value;
      const name = encoder.encode(entry.name);
      const ascii = name.every((b) => b < 0x80);
      const record: Written = {
        name,
        flags: (ascii ? 0 : FLAG_UTF8) | (entry.deflate ? 0 : FLAG_DESCRIPTOR),
        method: entry.deflate ? 8 : 0,
        crc: 0,
        compressed: 0,
        size: 0,
        offset,
        os: entry.os ?? 0,
        attrs: entry.attrs ?? 0,
      };
      written.push(record);
      if (entry.deflate) {
        await writeDeflated(controller, entry, record);
        return;
      }
      emit(controller, localHeader(record, stamp));
      current = { entry, source: sourceOf(entry.data), record, hash: createHash("sha1") };
    },
    async cancel(reason) {
      await current?.source.cancel();
      if (!closed && "return" in iterator && iterator.return) await iterator.return(reason);
    },
  }, { highWaterMark: 0 });
}
