import type { Kysely } from "kysely";
import { type Clock, systemClock } from "../core/mod.ts";
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
}

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
  return {
    links,
    reconciliations,

    /** Studies received by mail, newest first, each with its patient match. */
    async inbox(limit = 100): Promise<InboxItem[]> {
      const studies = await options.studies.listStudies({ limit, source: "mail" });
      const out: InboxItem[] = [];
      for (const study of studies) {
        out.push({ study, match: await reconciliations.match(study) });
      }
      return out;
    },

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
