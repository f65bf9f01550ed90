/**
 * DICOM e-mail (PS3.18 / RFC 3240 `application/dicom`, PS3.12 Annex K; PS3.11 STD-GEN-ZIP-MAIL):
 * the MIME entity for one study, either every Part-10 file as its own attachment or one
 * `DICOM.ZIP` of plain files (no DICOMDIR). The entity is streamed, base64 included, and has no
 * message headers: the S/MIME layer signs and encrypts it as is (standards.md §2.2, §2.3).
 */
import { randomUUID } from "node:crypto";
import { BASE64_LINE_BYTES, base64LinesOf } from "../core/mod.ts";
import type { XdmInstance, XdmReport } from "./types.ts";
import { type ZipEntryInput, zipStream } from "./zip_write.ts";

export interface PackDicomEmailOptions {
  instances: AsyncIterable<XdmInstance> | Iterable<XdmInstance>;
  report?: XdmReport;
  /** Free text for the text/plain part; keep patient data out of it where possible. */
  note?: string;
  /** "attachments": one application/dicom part per file; "zip": one application/zip DICOM.ZIP. */
  variant: "attachments" | "zip";
  boundary?: string;
}

/** A MIME entity: its own header lines, a blank line and the body, with CRLF line ends. */
export interface MimeEntity {
  contentType: string;
  stream: ReadableStream<Uint8Array>;
}

const enc = new TextEncoder();
/** Input per encoded slab: whole lines, about 1 MB. */
const SLAB_BYTES = BASE64_LINE_BYTES * 18396;

/** Base64 with 76-character CRLF lines, streamed in slabs of about 1.4 MB of text. */
export async function* base64Lines(
  source: ReadableStream<Uint8Array> | Uint8Array,
): AsyncGenerator<Uint8Array> {
  const slab = new Uint8Array(SLAB_BYTES);
  let filled = 0;
  const chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array> = source instanceof Uint8Array
    ? [source]
    : source;
  for await (const chunk of chunks) {
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(SLAB_BYTES - filled, chunk.length - offset);
      slab.set(chunk.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      if (filled === SLAB_BYTES) {
        yield base64LinesOf(slab);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield base64LinesOf(slab.subarray(0, filled));
}

function reportPart(report: XdmReport): { type: string; name: string } {
  switch (report.kind) {
    case "pdf":
      return { type: "application/pdf", name: "REPORT.PDF" };
    case "text":
      return { type: "text/plain; charset=utf-8", name: "REPORT.TXT" };
    default:
      return { type: "application/dicom", name: "REPORT.dcm" };
  }
}

function fileIds() {
  const series = new Map<string, number>();
  let n = 0;
  return (instance: XdmInstance) => {
    let s = series.get(instance.seriesUid);
    if (s === undefined) {
      s = series.size + 1;
      series.set(instance.seriesUid, s);
    }
    n++;
    // PS3.12 Annex K / PS3.10 8.2: components of at most 8 characters, uppercase, no extension.
    return {
      id: `DICOM/S${String(s).padStart(7, "0")}/I${String(n).padStart(7, "0")}`,
      name: `I${String(n).padStart(7, "0")}`,
    };
  };
}

/**
 * Builds the multipart/mixed entity of a DICOM e-mail.
 *
 * Every instance's `open()` is called once, in order, while the stream is read.
 */
export function packDicomEmail(options: PackDicomEmailOptions): MimeEntity {
  const boundary = options.boundary ?? `bp-${randomUUID()}`;
  const contentType = `multipart/mixed; boundary="${boundary}"`;
  async function* body(): AsyncGenerator<Uint8Array> {
    yield enc.encode(`Content-Type: ${contentType}\r\n\r\n`);
    yield enc.encode(
      `--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
        `Content-Transfer-Encoding: base64\r\n\r\n`,
    );
    yield* base64Lines(enc.encode(options.note ?? "DICOM e-mail\r\n"));
    const nextId = fileIds();
    if (options.variant === "attachments") {
      for await (const instance of options.instances) {
        const { id, name } = nextId(instance);
        yield enc.encode(
          `--${boundary}\r\nContent-Type: application/dicom; id="${id}"; name="${name}.dcm"\r\n` +
            `Content-Transfer-Encoding: base64\r\n` +
            `Content-Disposition: attachment; filename="${name}.dcm"\r\n\r\n`,
        );
        yield* base64Lines(instance.open());
      }
      if (options.report) {
        const { type, name } = reportPart(options.report);
        yield enc.encode(
          `--${boundary}\r\nContent-Type: ${type}; name="${name}"\r\n` +
            `Content-Transfer-Encoding: base64\r\n` +
            `Content-Disposition: attachment; filename="${name}"\r\n\r\n`,
        );
        yield* base64Lines(options.report.open());
      }
    } else {
      const instances = options.instances;
      const report = options.report;
      const entries = async function* (): AsyncGenerator<ZipEntryInput> {
        for await (const instance of instances) {
          yield { name: nextId(instance).id, data: instance.open() };
        }
        if (report) yield { name: reportPart(report).name, data: report.open() };
      };
      yield enc.encode(
        `--${boundary}\r\nContent-Type: application/zip; id="DICOM.ZIP"; name="DICOM.ZIP"\r\n` +
          `Content-Transfer-Encoding: base64\r\n` +
          `Content-Disposition: attachment; filename="DICOM.ZIP"\r\n\r\n`,
      );
      yield* base64Lines(zipStream(entries()));
    }
    yield enc.encode(`--${boundary}--\r\n`);
  }
  return { contentType, stream: ReadableStream.from(body()) };
}
