import type { Kysely } from "kysely";
import { type Clock, concatBytes, systemClock } from "../core/mod.ts";
import type { DatabaseSchema } from "../db/mod.ts";
import type { Spool } from "../spool/mod.ts";
import type { StudyIndex, StudySummary } from "../studies/mod.ts";
import { studyArchive, studyReport } from "./archive.ts";
import { createLinks, type LinkPolicy } from "./links.ts";
import { jpegPreview } from "./preview.ts";
import { createReconciliations, type PatientMatch } from "./reconcile.ts";

/** What the portal needs. */
export interface PortalOptions {
  db: Kysely<DatabaseSchema>;
  studies: StudyIndex;
  spool: Spool;
  clock?: Clock;
  links?: Partial<LinkPolicy>;
  /** dcmj2pnm for JPEG previews; null: no previews. Default "dcmj2pnm". */
  previewTool?: string | null;
  /** Where previews are rendered (plaintext for a moment). Default: the system's. */
  tmpDir?: string;
}

/** One received study in the caregiver's inbox, with where its patient stands. */
export interface InboxItem {
  study: StudySummary;
  match: PatientMatch;
  /** The department it was addressed to, or null: for the whole hospital. */
  department: string | null;
  /** The sender's note (the text/plain document that came with it), or null. */
  note: string | null;
}

/** The longest note shown; the send form allows 2 000 characters. */
const NOTE_BYTES = 8192;

/**
 * Creates the portal service: the caregiver inbox and reconciliation, study archives (zip with
 * DICOMDIR) and patient links.
 */
export function createPortal(options: PortalOptions) {
  const clock = options.clock ?? systemClock;
  const links = createLinks(options.db, clock, {
    validDays: options.links?.validDays ?? 14,
    pinAttempts: options.links?.pinAttempts ?? 5,
    grantMinutes: options.links?.grantMinutes ?? 30,
  });
  const reconciliations = createReconciliations(options.db, () => clock.now());

  async function departmentOf(studyInstanceUid: string): Promise<string | null> {
    const row = await options.db.selectFrom("portal_departments").select("department")
      .where("study_instance_uid", "=", studyInstanceUid).executeTakeFirst();
    return row?.department ?? null;
  }

  /** The sender's note: the newest text/plain document received with the study. */
  async function note(studyInstanceUid: string): Promise<string | null> {
    const row = await options.db.selectFrom("relay_documents")
      .innerJoin(
        "relay_transfers",
        (j) =>
          j.onRef("relay_transfers.id", "=", "relay_documents.transfer_id")
            .on("relay_transfers.direction", "=", "in"),
      )
      .select("relay_documents.spool_id")
      .where("relay_transfers.study_instance_uid", "=", studyInstanceUid)
      .where("relay_documents.mime_type", "=", "text/plain")
      .orderBy("relay_documents.created_at", "desc").executeTakeFirst();
    if (!row) return null;
    const reader = (await options.spool.get(row.spool_id)).getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    while (size < NOTE_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
    await reader.cancel();
    return new TextDecoder().decode(concatBytes(chunks).subarray(0, NOTE_BYTES)).trim();
  }
  return {
    links,
    reconciliations,

    /**
     * Studies received by mail, newest first, each with its patient match, department and note.
     * With `department`: only those addressed to it (case-insensitive) or to no department;
     * without: all of them.
     */
    async inbox(query: { limit?: number; department?: string | null } = {}): Promise<InboxItem[]> {
      const studies = await options.studies.listStudies({
        limit: query.limit ?? 100,
        source: "mail",
      });
      const wanted = query.department?.trim().toLowerCase();
      const out: InboxItem[] = [];
      for (const study of studies) {
        const department = await departmentOf(study.studyInstanceUid);
        if (wanted && department && department.toLowerCase() !== wanted) continue;
        out.push({
          study,
          match: await reconciliations.match(study),
          department,
          note: await note(study.studyInstanceUid),
        });
      }
      return out;
    },

    /** Records the department a received study was addressed to (the first one counts). */
    async assignDepartment(studyInstanceUid: string, department: string): Promise<void> {
      await options.db.insertInto("portal_departments").values({
        study_instance_uid: studyInstanceUid,
        department,
        recorded_at: clock.now().toISOString(),
      }).onConflict((oc) => oc.doNothing()).execute();
    },

    departmentOf,
    note,

    /** The study as a zip stream (DICOM files, DICOMDIR, report). */
    archive(studyInstanceUid: string, archiveOptions: { includeReport?: boolean } = {}) {
      return studyArchive(options, studyInstanceUid, archiveOptions);
    },

    /** The study's PDF report, if one came with it. */
    report(studyInstanceUid: string) {
      return studyReport(options.db, studyInstanceUid);
    },

    /** Opens a spooled object (the report) as a stream. */
    open(spoolId: string): Promise<ReadableStream<Uint8Array>> {
      return options.spool.get(spoolId);
    },

    /** Whether JPEG previews can be made here. */
    previewsEnabled: options.previewTool !== null,

    /** The first instance of each series (at most `max`), for previews. */
    async previewInstances(studyInstanceUid: string, max = 12) {
      const seen = new Set<string>();
      const out = [];
      for (const i of await options.studies.studyInstances(studyInstanceUid)) {
        if (seen.has(i.seriesInstanceUid)) continue;
        seen.add(i.seriesInstanceUid);
        out.push(i);
        if (out.length >= max) break;
      }
      return out;
    },

    /** A JPEG of one object, or null when previews are off or the object has no image. */
    preview(spoolId: string): Promise<Uint8Array | null> {
      if (options.previewTool === null) return Promise.resolve(null);
      return jpegPreview(options.spool, spoolId, {
        tool: options.previewTool,
        tmpDir: options.tmpDir,
      });
    },
  };
}

/** The portal's interface. */
export type Portal = ReturnType<typeof createPortal>;
