import type { Kysely } from "kysely";
import type { DatabaseSchema } from "../db/mod.ts";
import { readInstanceHeader } from "../dicom/mod.ts";
import type { Spool } from "../spool/mod.ts";
import type { StudyIndex } from "../studies/mod.ts";
import { type ZipEntryInput, zipStream } from "../xdm/mod.ts";
import { buildDicomdir, type DicomdirFile } from "./dicomdir.ts";
import { PortalStudyNotFound } from "./errors.ts";

/** Enough of a file's start to hold its header up to the pixel data (as routing reads it). */
const headerCaptureBytes = 256 * 1024;

/** A study's report, when a PDF came with it (a received XDM package's document). */
export async function studyReport(
  db: Kysely<DatabaseSchema>,
  studyInstanceUid: string,
): Promise<{ spoolId: string; size: number; title: string | null } | null> {
  const row = await db.selectFrom("relay_documents")
    .innerJoin(
      "relay_transfers",
      (j) =>
        j.onRef("relay_transfers.id", "=", "relay_documents.transfer_id")
          .on("relay_transfers.direction", "=", "in"),
    )
    .select(["relay_documents.spool_id", "relay_documents.size", "relay_documents.title"])
    .where("relay_transfers.study_instance_uid", "=", studyInstanceUid)
    .where("relay_documents.mime_type", "=", "application/pdf")
    .orderBy("relay_documents.created_at", "desc").executeTakeFirst();
  return row ? { spoolId: row.spool_id, size: row.size, title: row.title } : null;
}

/** Passes a stream on unchanged and keeps its first bytes for the header. */
function capturing(
  stream: ReadableStream<Uint8Array>,
  keep: (prefix: Uint8Array) => void,
): ReadableStream<Uint8Array> {
  const parts: Uint8Array[] = [];
  let held = 0;
  const done = () => {
    const prefix = new Uint8Array(held);
    let at = 0;
    for (const p of parts.splice(0)) {
      prefix.set(p, at);
      at += p.length;
    }
    keep(prefix);
  };
  let kept = false;
  return stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        if (!kept) {
          const take = chunk.subarray(0, headerCaptureBytes - held);
          parts.push(take.slice());
          held += take.length;
          if (held >= headerCaptureBytes) {
            kept = true;
            done();
          }
        }
        controller.enqueue(chunk);
      },
      flush() {
        if (!kept) done();
      },
    }),
  );
}

/** A fresh UID under 2.25 (PS3.5 B.2): a random 128-bit number in decimal. */
function newUid(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `2.25.${BigInt("0x" + [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(""))}`;
}

/** Entry names in the zip (and File IDs in the DICOMDIR: PS3.10 8.2, 8 characters A-Z 0-9). */
export function fileIdFor(seriesIndex: number, instanceIndex: number): string[] {
  return [
    "DICOM",
    `S${String(seriesIndex + 1).padStart(4, "0")}`,
    `I${String(instanceIndex + 1).padStart(5, "0")}`,
  ];
}

/**
 * The study as a zip: every instance byte for byte as stored (DICOM/Snnnn/Innnnn), the report as
 * REPORT.PDF when there is one, and last a DICOMDIR built from the headers read on the way. One
 * instance at a time comes out of the spool, so memory does not grow with the study.
 */
export async function studyArchive(
  deps: { db: Kysely<DatabaseSchema>; studies: StudyIndex; spool: Spool },
  studyInstanceUid: string,
  options: { includeReport?: boolean } = {},
): Promise<{ stream: ReadableStream<Uint8Array>; instances: number }> {
  const study = await deps.studies.getStudy(studyInstanceUid);
  if (!study) throw new PortalStudyNotFound(`no study ${studyInstanceUid}`);
  const instances = await deps.studies.studyInstances(studyInstanceUid);
  const report = options.includeReport === false
    ? null
    : await studyReport(deps.db, studyInstanceUid);
  async function* entries(): AsyncGenerator<ZipEntryInput> {
    const files: DicomdirFile[] = [];
    const seriesIndex = new Map<string, number>();
    const perSeries = new Map<string, number>();
    let first: ReturnType<typeof readInstanceHeader> = {};
    for (const instance of instances) {
      if (!seriesIndex.has(instance.seriesInstanceUid)) {
        seriesIndex.set(instance.seriesInstanceUid, seriesIndex.size);
      }
      const n = perSeries.get(instance.seriesInstanceUid) ?? 0;
      perSeries.set(instance.seriesInstanceUid, n + 1);
      const fileId = fileIdFor(seriesIndex.get(instance.seriesInstanceUid)!, n);
      const file: DicomdirFile = {
        fileId,
        sopClassUid: instance.sopClassUid,
        sopInstanceUid: instance.sopInstanceUid,
        transferSyntaxUid: instance.transferSyntaxUid,
        seriesInstanceUid: instance.seriesInstanceUid,
        instanceNumber: instance.instanceNumber ?? undefined,
      };
      files.push(file);
      const isFirst = files.length === 1;
      yield {
        name: fileId.join("/"),
        data: capturing(await deps.spool.get(instance.spoolId), (prefix) => {
          try {
            const h = readInstanceHeader(prefix);
            file.modality = h.modality;
            file.seriesNumber = h.seriesNumber;
            if (isFirst) first = h;
          } catch {
            // An unparsable header still goes on the media; its record says what the index knows.
          }
        }),
      };
    }
    if (report) yield { name: "REPORT.PDF", data: await deps.spool.get(report.spoolId) };
    yield {
      name: "DICOMDIR",
      data: buildDicomdir(
        {
          patientId: study!.patientId,
          patientName: study!.patientName ?? undefined,
          studyInstanceUid,
          studyDate: study!.studyDate ?? undefined,
          studyTime: first.studyTime,
          studyId: first.studyId,
          accessionNumber: study!.accessionNumber ?? undefined,
          studyDescription: study!.description ?? undefined,
        },
        files,
        newUid(),
      ),
    };
  }
  return { stream: zipStream(entries()), instances: instances.length };
}
