/** The faces' services over one database for in-process UI tests (no HTTP server, no peers). */
import type { Kysely } from "kysely";
import { createAddressBook } from "../../modules/addressbook/mod.ts";
import type { Clock, Logger } from "../../modules/core/mod.ts";
import type { DatabaseSchema } from "../../modules/db/mod.ts";
import { createPortal } from "../../modules/portal/mod.ts";
import { createRouter } from "../../modules/routing/mod.ts";
import { createSpool } from "../../modules/spool/mod.ts";
import type { StudyIndex } from "../../modules/studies/mod.ts";
import { createTransferQueue } from "../../modules/transfer/mod.ts";
import type { FacesDeps } from "../../ui/faces/deps.ts";

/** Builds the faces' dependencies; the spool lives in `spoolDir`. Nothing runs in the background. */
export async function facesForTest(options: {
  db: Kysely<DatabaseSchema>;
  studies: StudyIndex;
  log: Logger;
  clock?: Clock;
  spoolDir: string;
}): Promise<FacesDeps & { spool: Awaited<ReturnType<typeof createSpool>> }> {
  const spool = await createSpool({
    dir: options.spoolDir,
    masterKey: new Uint8Array(32).fill(7),
    durability: "os",
    log: options.log,
  });
  const transfer = createTransferQueue({ db: options.db, log: options.log, clock: options.clock });
  const router = createRouter({
    db: options.db,
    log: options.log,
    enqueue: (request, executor) => transfer.enqueue(request, executor),
  });
  return {
    spool,
    transfer,
    router,
    addressBook: createAddressBook({ db: options.db, sources: [], log: options.log }),
    portal: createPortal({
      db: options.db,
      studies: options.studies,
      spool,
      clock: options.clock,
      previewTool: null,
    }),
    system: {
      dicom: {
        aeTitle: "BEELDPOORT",
        host: "127.0.0.1",
        port: 11112,
        tlsPort: 0,
        allowedSenders: ["CT1"],
        maxAssociations: 4,
      },
      retention: { auditDays: 0, studyDays: 30, linkDays: 14, pinAttempts: 5 },
      addressBookSources: [],
      importDestination: "PACS",
      disk: () => Promise.resolve({ freeBytes: 5e10, totalBytes: 1e11 }),
      certificates: () => Promise.resolve([]),
      echo: () => Promise.resolve(0),
      studyFacts: () => Promise.resolve(null),
    },
  };
}
