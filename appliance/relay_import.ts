/**
 * What happens to a study that arrived from another gateway (docs/relay.md, "Inbound"): the
 * patient is reconciled, then the study is imported into the local PACS by a "dicom" job to
 * `relay.importDestination`, or held for a person to decide in the portal. When that job is
 * delivered the sender gets its import confirmation. The link between the two is the job's
 * payload (`relayTransferId`), so it survives a restart.
 *
 * Reconciliation today (`relay.importPolicy`): `auto` imports everything; `bsn` imports only when
 * the package's BSN belongs to a patient of a study acquired here (source not "mail"), else holds
 * it; `hold` holds everything. Matching on local ids and the portal's decision come later.
 *
 * With `auto`, each part's instances go to the PACS as soon as the part is stored (one "dicom" job
 * per part, payload `relayPart`), so the import runs alongside the rest of the transfer instead
 * of after it. When all parts are in, one more job takes whatever no part job covers (a part
 * stored just before a crash); the sender hears "imported" only once every job linked to the
 * transfer is done. Jobs track items by SOP Instance UID and cover disjoint sets: exactly once.
 */
import type { Logger } from "../modules/core/mod.ts";
import {
  type CompletedTransfer,
  recordEvent,
  type Relay,
  type StoredPart,
} from "../modules/relay/mod.ts";
import type { TransferJobSummary } from "../modules/transfer/mod.ts";
import type { Config } from "./config/schema.ts";
import type { Services } from "./services.ts";

/** Why a study is imported or held, in words for the timeline (no patient data). */
type Decision = { import: true; why: string } | { import: false; why: string };

function linkOf(job: TransferJobSummary): string | undefined {
  const id = job.kind === "dicom" ? job.payload.relayTransferId : undefined;
  return typeof id === "string" ? id : undefined;
}

/** The part a per-part import job carries, or undefined for a whole-transfer job. */
function partOf(job: TransferJobSummary): number | undefined {
  const part = job.payload.relayPart;
  return typeof part === "number" ? part : undefined;
}

/** The import side of the relay; `attach` gives it the relay once that exists. */
export function createRelayImport(deps: { config: Config; services: Services; log: Logger }) {
  const { config, services, log } = deps;
  const db = services.database.db;
  const queue = services.transfer;
  let relay: Relay | undefined;

  async function decide(transfer: CompletedTransfer): Promise<Decision> {
    const policy = config.relay.importPolicy;
    if (!config.relay.importDestination) {
      return { import: false, why: "no relay.importDestination configured" };
    }
    if (policy === "auto") return { import: true, why: "relay.importPolicy is auto" };
    if (policy === "hold") return { import: false, why: "relay.importPolicy is hold" };
    const bsn = transfer.patient.bsn;
    if (!bsn) return { import: false, why: "the package names no BSN" };
    const local = await db.selectFrom("patients")
      .innerJoin("studies", "studies.patient_ref", "patients.id")
      .select("patients.id")
      .where("patients.bsn", "=", bsn).where("studies.source", "!=", "mail")
      .limit(1).executeTakeFirst();
    return local
      ? { import: true, why: "the BSN matches a local patient" }
      : { import: false, why: "the BSN matches no local patient" };
  }

  async function timeline(transferId: string, kind: string, detail: string) {
    await recordEvent(db, {
      direction: "in",
      transferId,
      kind,
      detail,
      at: new Date().toISOString(),
    });
  }

  /** `onTransferComplete`: runs again after a crash, so it looks for its own earlier job. */
  async function transferComplete(transfer: CompletedTransfer): Promise<void> {
    const decision = await decide(transfer);
    if (!decision.import) {
      log.info("received study held for a person to decide", {
        transferId: transfer.transferId,
        why: decision.why,
      });
      await timeline(transfer.transferId, "held", decision.why);
      return;
    }
    const linked = await linkedJobs(transfer.transferId, transfer.studyInstanceUid);
    if (linked.some((j) => partOf(j) === undefined)) return;
    const covered = new Set<string>();
    for (const j of linked) for (const i of await queue.items(j.id)) covered.add(i.item);
    const instances = (await services.studies.studyInstances(transfer.studyInstanceUid))
      .filter((i) => !covered.has(i.sopInstanceUid));
    if (instances.length === 0) {
      // Every instance went with its part: nothing left but to confirm once those jobs are done.
      await timeline(
        transfer.transferId,
        "import-queued",
        `${decision.why}; ${linked.length} part jobs to ${config.relay.importDestination}`,
      );
      log.info("received study queued for import", {
        transferId: transfer.transferId,
        destination: config.relay.importDestination,
        instances: covered.size,
        partJobs: linked.length,
      });
      await confirm(transfer.transferId);
      return;
    }
    const job = await queue.enqueue({
      kind: "dicom",
      destination: config.relay.importDestination,
      subject: transfer.studyInstanceUid,
      items: instances.map((i) => i.sopInstanceUid),
      payload: { relayTransferId: transfer.transferId },
    });
    log.info("received study queued for import", {
      transferId: transfer.transferId,
      jobId: job.id,
      destination: job.destination,
      instances: instances.length,
    });
    await timeline(
      transfer.transferId,
      "import-queued",
      `${decision.why}; job ${job.id} to ${job.destination}`,
    );
    await confirm(transfer.transferId); // in case the job already finished
  }

  /** `onPartStored`: with `auto`, the part's instances go to the PACS now (once per part). */
  async function partStored(part: StoredPart): Promise<void> {
    if (config.relay.importPolicy !== "auto" || !config.relay.importDestination) return;
    if (!part.studyInstanceUid || part.sopInstanceUids.length === 0) return;
    const jobs = await linkedJobs(part.transferId, part.studyInstanceUid);
    if (jobs.some((j) => partOf(j) === part.partNumber)) return;
    await queue.enqueue({
      kind: "dicom",
      destination: config.relay.importDestination,
      subject: part.studyInstanceUid,
      items: part.sopInstanceUids,
      payload: { relayTransferId: part.transferId, relayPart: part.partNumber },
    });
  }

  /**
   * Confirms to the sender once the whole transfer is in the PACS: every part in, the final
   * import step queued (timeline "import-queued", or a whole-transfer job such as the portal's)
   * and every job linked to the transfer done.
   */
  async function confirm(transferId: string, studyUid?: string): Promise<void> {
    if (!relay) return;
    // Every part job that finishes asks: while one of them still runs, the whole transfer (its
    // parts and events) need not be read.
    const known = studyUid === undefined ? undefined : await linkedJobs(transferId, studyUid);
    if (known && (known.length === 0 || known.some((j) => j.state !== "done"))) return;
    const status = await relay.getTransfer(transferId, "in");
    if (!status || status.state === "imported") return;
    const study = status.studyInstanceUid ?? undefined;
    const linked = known && study === studyUid ? known : await linkedJobs(transferId, study);
    // Part jobs alone do not prove the whole study went: wait for the final step (ours, queued
    // with "import-queued", or a whole-transfer job such as the portal's import of a held study).
    const finalQueued = status.events.some((e) => e.kind === "import-queued") ||
      linked.some((j) => partOf(j) === undefined);
    if (!finalQueued) return;
    if (linked.length === 0 || linked.some((j) => j.state !== "done")) return;
    await relay.confirmImported(transferId);
    log.info("import confirmed to the sender", { transferId, peer: status.peerAddress });
  }

  /** The jobs linked to an inbound transfer: all of them, however many parts it has. */
  async function linkedJobs(
    transferId: string,
    studyUid: string | undefined,
  ): Promise<TransferJobSummary[]> {
    // A transfer without a study UID: its jobs can only be found among the latest of all.
    const jobs = studyUid === undefined
      ? await queue.list()
      : await queue.summaries({ subject: studyUid });
    return jobs.filter((j) => linkOf(j) === transferId);
  }

  services.onJobEvent(async (event) => {
    const transferId = event.kind === "delivered" ? linkOf(event.job) : undefined;
    if (transferId) await confirm(transferId, event.job.subject ?? undefined);
  });

  return {
    transferComplete,
    partStored,
    attach(r: Relay) {
      relay = r;
    },
    /** Confirms imports whose job finished while we were down (or whose notice failed). */
    async confirmPending(): Promise<void> {
      // A transfer has a job per part: each transfer is asked about once.
      const asked = new Set<string>();
      for (const job of await queue.list({ state: "done" })) {
        const transferId = linkOf(job);
        if (!transferId || asked.has(transferId)) continue;
        asked.add(transferId);
        await confirm(transferId).catch((error) =>
          log.warn("import confirmation failed", { transferId, error })
        );
      }
    },
  };
}
