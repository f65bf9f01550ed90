/**
 * Wiring of routing and delivery: the transfer queue and router over the database, the study
 * facts routing decides on, the "dicom" job handler (C-STORE from the spool), the completeness
 * monitor that routes settled studies, and the timeline events of every step.
 */
import type { Logger } from "../modules/core/mod.ts";
import type { CompiledQuery, Kysely } from "kysely";
import type { DatabaseSchema } from "../modules/db/mod.ts";
import {
  cStoreObjects,
  isStored,
  readKeywordValues,
  type StoreObjectResult,
} from "../modules/dicom/mod.ts";
import {
  createRouter,
  type DicomDestination,
  type Router,
  type StudyFacts,
} from "../modules/routing/mod.ts";
import type { Spool } from "../modules/spool/mod.ts";
import {
  type CompletenessMonitor,
  createCompletenessMonitor,
  type StudyIndex,
} from "../modules/studies/mod.ts";
import {
  createTransferQueue,
  type JobHandler,
  type TransferEvent,
  TransferPermanentError,
  type TransferQueue,
} from "../modules/transfer/mod.ts";
import type { Config } from "./config/schema.ts";

/** What the header of a study's first instance is read from for `match.tags`. */
const tagPrefixBytes = 256 * 1024;

/** Called with every step of every job, after the study timeline recorded it. */
export type JobEventListener = (event: TransferEvent) => void | Promise<void>;

/** The queue and router every command shares (nothing runs until `startDelivery`). */
export function openDelivery(
  deps: {
    db: Kysely<DatabaseSchema>;
    studies: StudyIndex;
    config: Config;
    log: Logger;
    /** Done marks of items without a flush each (Database.commitUnflushed). */
    commitUnflushed?: (queries: readonly CompiledQuery[]) => Promise<void>;
  },
): { queue: TransferQueue; router: Router; listeners: Set<JobEventListener> } {
  const t = deps.config.transfer;
  const listeners = new Set<JobEventListener>();
  const queue = createTransferQueue({
    db: deps.db,
    log: deps.log,
    commitUnflushed: deps.commitUnflushed,
    concurrency: t.concurrency,
    leaseMs: t.leaseSeconds * 1000,
    retry: { baseMs: t.retryBaseSeconds * 1000, maxMs: t.retryMaxSeconds * 1000 },
    maxAgeMs: t.maxAgeHours * 3_600_000,
    breaker: { failures: t.breakerFailures, openMs: t.breakerOpenSeconds * 1000 },
    onEvent: async (event) => {
      await recordTransferEvent(deps.studies, event);
      for (const listener of listeners) await listener(event);
    },
  });
  const router = createRouter({
    db: deps.db,
    log: deps.log,
    enqueue: (request, executor) => queue.enqueue(request, executor),
    onEvent: (uid, kind, detail) => deps.studies.recordEvent(uid, kind, detail),
    afterQueued: () => queue.wake(),
  });
  return { queue, router, listeners };
}

async function recordTransferEvent(studies: StudyIndex, event: TransferEvent): Promise<void> {
  const uid = event.job.subject;
  if (!uid || event.kind === "queued") return; // routing records "queued" itself
  await studies.recordEvent(uid, event.kind, {
    jobId: event.job.id,
    destination: event.job.destination,
    attempt: event.attempt,
    itemsDone: event.itemsDone,
    itemsTotal: event.job.items.total,
    error: event.error,
    retryInMs: event.retryInMs,
  });
}

/** The facts routing needs about a study, or null when it is not in the index. */
export async function studyFacts(
  deps: { studies: StudyIndex; spool: Spool; calledAe: string },
  studyInstanceUid: string,
): Promise<StudyFacts | null> {
  const study = await deps.studies.getStudy(studyInstanceUid);
  if (!study) return null;
  const instances = await deps.studies.studyInstances(studyInstanceUid);
  return {
    studyInstanceUid,
    state: study.state,
    callingAe: study.callingAe,
    // Associations calling any other title are rejected (dicom.aeTitle), so this is the one.
    calledAe: deps.calledAe,
    modalities: study.modalities,
    studyDescription: study.description,
    referringPhysician: study.referringPhysician,
    instances: instances.map((i) => ({
      sopInstanceUid: i.sopInstanceUid,
      sopClassUid: i.sopClassUid,
    })),
    async tags(keywords) {
      if (instances.length === 0) return {};
      const reader = (await deps.spool.get(instances[0].spoolId)).getReader();
      const parts: Uint8Array[] = [];
      let held = 0;
      while (held < tagPrefixBytes) {
        const { value, done } = await reader.read();
        if (done) break;
        parts.push(value);
        held += value.length;
      }
      await reader.cancel();
      const prefix = new Uint8Array(held);
      let at = 0;
      for (const p of parts) {
        prefix.set(p, at);
        at += p.length;
      }
      return readKeywordValues(prefix, keywords);
    },
  };
}

/**
 * The "dicom" job handler: C-STORE of the job's pending instances, straight from the encrypted
 * spool, each in its own transfer syntax. Every instance the destination keeps (success or a
 * warning, whose status is noted) is marked done before the next goes out on that association,
 * so a resumed job sends only what was not acknowledged.
 */
export function dicomJobHandler(
  deps: { studies: StudyIndex; spool: Spool; router: Router; callingAe: string; log: Logger },
): JobHandler {
  const log = deps.log.child({ module: "forward" });
  return async ({ job, pending, markDone, signal }) => {
    const destination = await deps.router.getDestination(job.destination)
      .catch((error) => {
        throw new TransferPermanentError(error.message);
      }) as DicomDestination;
    const instances = await deps.studies.studyInstances(job.subject ?? "", pending);
    const missing = pending.length - instances.length;
    if (missing > 0) {
      // Deleted from the index since it was queued; nothing can ever send them.
      const known = new Set(instances.map((i) => i.sopInstanceUid));
      await markDone(pending.filter((p) => !known.has(p)), "no longer in the index");
    }
    const refused: StoreObjectResult[] = [];
    const failed: StoreObjectResult[] = [];
    await cStoreObjects({
      host: destination.host,
      port: destination.port,
      calledAe: destination.aeTitle,
      callingAe: destination.callingAe ?? deps.callingAe,
      associations: destination.associations ?? 1,
      signal,
      objects: instances.map((i) => ({
        sopClassUid: i.sopClassUid,
        sopInstanceUid: i.sopInstanceUid,
        transferSyntaxUid: i.transferSyntaxUid,
        open: () => deps.spool.get(i.spoolId),
        handOver: true, // the spool decrypts each chunk into a buffer of its own
      })),
      async onResult(result) {
        if (isStored(result.status)) {
          const warning = result.status !== 0;
          if (warning) {
            log.warn("destination stored with a warning", {
              jobId: job.id,
              destination: job.destination,
              sopInstanceUid: result.sopInstanceUid,
              status: result.status!.toString(16).padStart(4, "0"),
              comment: result.comment,
            });
          }
          await markDone(
            [result.sopInstanceUid],
            warning ? `warning ${result.status!.toString(16).padStart(4, "0")}` : undefined,
          );
        } else if (result.status === null) refused.push(result);
        else failed.push(result);
      },
    });
    if (failed.length > 0) {
      const first = failed[0];
      throw new Error(
        `${failed.length} instance(s) not stored by ${job.destination}, e.g. status ${
          first.status!.toString(16).padStart(4, "0")
        }${first.comment ? ` (${first.comment})` : ""}`,
      );
    }
    if (refused.length > 0) {
      throw new TransferPermanentError(
        `${job.destination} accepted no presentation context for ${refused.length} instance(s): ${
          refused[0].comment
        }`,
      );
    }
  };
}

/** Starts the delivery machinery of a running appliance: handler, queue, completeness monitor. */
export function startDelivery(deps: {
  db: Kysely<DatabaseSchema>;
  studies: StudyIndex;
  spool: Spool;
  queue: TransferQueue;
  router: Router;
  config: Config;
  log: Logger;
}): { monitor: CompletenessMonitor; stop(): Promise<void> } {
  const { config } = deps;
  const calledAe = config.dicom.aeTitle;
  deps.queue.register(
    "dicom",
    dicomJobHandler({ ...deps, callingAe: config.dicom.aeTitle }),
  );
  const monitor = createCompletenessMonitor({
    db: deps.db,
    log: deps.log,
    quietPeriodMs: config.studies.quietPeriodSeconds * 1000,
    quietPeriodByAe: parseQuietByAe(config.studies.quietPeriodByAe),
    onSettled: async (settled) => {
      const facts = await studyFacts({ ...deps, calledAe }, settled.studyInstanceUid);
      if (facts) await deps.router.route({ ...facts, state: settled.state });
    },
  });
  deps.queue.start();
  monitor.start(config.studies.checkIntervalMs);
  return {
    monitor,
    async stop() {
      await monitor.stop();
      await deps.queue.stop();
    },
  };
}

/** `CT1=60,MR2=10` -> { CT1: 60000, MR2: 10000 }. */
export function parseQuietByAe(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const pair of text.split(",").filter(Boolean)) {
    const [ae, seconds] = pair.split("=");
    out[ae.trim()] = Number(seconds) * 1000;
  }
  return out;
}
