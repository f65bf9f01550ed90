import type { AddressBook } from "../../modules/addressbook/mod.ts";
import type { Portal } from "../../modules/portal/mod.ts";
import type { DicomDestination, Router, StudyFacts } from "../../modules/routing/mod.ts";
import type { TransferStatus } from "../../modules/relay/mod.ts";
import type { TransferQueue } from "../../modules/transfer/mod.ts";

/** The appliance's own state the UI shows but does not own: effective settings, disk, certificates. */
export interface SystemView {
  /** The effective DICOM settings (read-only in the UI: they live in the configuration file). */
  dicom: {
    aeTitle: string;
    host: string;
    port: number;
    tlsPort: number;
    allowedSenders: string[];
    maxAssociations: number;
  };
  /** Retention and link policy, as configured. */
  retention: { auditDays: number; studyDays: number; linkDays: number; pinAttempts: number };
  /** Address-book sources by name, in priority order. */
  addressBookSources: string[];
  /** The DICOM destination received studies are imported into ("" when none). */
  importDestination: string;
  /** Free and total bytes where the data directory lives, or null when unknown. */
  disk(): Promise<{ freeBytes: number; totalBytes: number } | null>;
  /** Our own certificates and when they expire. */
  certificates(): Promise<{ name: string; notAfter: string }[]>;
  /** C-ECHO to a destination; resolves to the DIMSE status. */
  echo(destination: DicomDestination): Promise<number>;
  /** What routing would decide on, for the dry run. */
  studyFacts(studyInstanceUid: string): Promise<StudyFacts | null>;
}

/** What the faces (dashboard, studies, send flow, settings, portal, patient links) need. */
export interface FacesDeps {
  transfer: TransferQueue;
  router: Router;
  addressBook: AddressBook;
  portal: Portal;
  /** The relay's transfer view, once the relay is wired (parts, acknowledgements). */
  relay?: {
    listTransfers(query?: { limit?: number; direction?: "in" | "out" }): Promise<TransferStatus[]>;
  };
  system: SystemView;
}
