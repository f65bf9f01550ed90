import { type Kysely, sql, type Transaction } from "kysely";
import { BeeldpoortError, type Clock, type Logger, newId, systemClock } from "../core/mod.ts";
import type { DatabaseSchema } from "../db/mod.ts";
import type { InstanceHeader } from "../dicom/mod.ts";
import { insertEvent, listEvents, type StudyEvent, type StudyEventKind } from "./events.ts";

/** What to do when an instance arrives whose SOP Instance UID is already indexed with other bytes. */
export type DuplicatePolicy = "ignore" | "replace";

/** A stored object to index: its header, where its bytes are, and how it arrived. */
export interface InstanceRecord {
  header: InstanceHeader;
  sopInstanceUid: string;
  sopClassUid: string;
  transferSyntaxUid: string;
  callingAe: string;
  size: number;
  sha256: string;
  spoolId: string;
  source: "dicom" | "mail";
}

/**
 * How indexing went. `obsoleteSpoolId` names a spool object nobody references any more (the new
 * copy of an ignored duplicate, or the old copy of a replaced one); the caller deletes it.
 */
export interface IndexOutcome {
  outcome: "indexed" | "duplicate-identical" | "duplicate-ignored" | "duplicate-replaced";
  studyInstanceUid: string;
  obsoleteSpoolId?: string;
}

/** The header lacks the UIDs needed to place the instance in a study. */
export class UnindexableInstance extends BeeldpoortError {
  readonly code = "STUDY_INSTANCE_UNINDEXABLE";
}

/** A study as lists show it. Names only where a person needs them. */
export interface StudySummary {
  studyInstanceUid: string;
  patientId: string;
  issuerOfPatientId: string;
  patientName: string | null;
  studyDate: string | null;
  description: string | null;
  accessionNumber: string | null;
  referringPhysician: string | null;
  expectedInstances: number | null;
  modalities: string[];
  callingAe: string;
  source: string;
  state: string;
  instances: number;
  bytes: number;
  firstReceivedAt: string;
  lastReceivedAt: string;
}

/** Filters for `listStudies`; every given one must match. */
export interface StudyQuery {
  limit?: number;
  offset?: number;
  patientId?: string;
  patientName?: string;
  /** YYYYMMDD. */
  studyDate?: string;
  accessionNumber?: string;
  /** "dicom" or "mail". */
  source?: string;
}

/** One instance of a study, with where its bytes are. */
export interface StudyInstance {
  sopInstanceUid: string;
  sopClassUid: string;
  seriesInstanceUid: string;
  instanceNumber: number | null;
  transferSyntaxUid: string;
  size: number;
  sha256: string;
  spoolId: string;
}

/** Options of one `recordInstance`. */
export interface RecordOptions {
  /**
   * The transaction commits only once this settles: lets the caller index while the object's
   * bytes are still being made durable, without ever committing a row that points at bytes which
   * then fail to be stored. If it rejects, nothing is recorded and `recordInstance` rejects with
   * the same error. The index's one database connection is held meanwhile, so keep it short
   * (an fsync, not a network transfer).
   */
  commitAfter?: Promise<unknown>;
}

/** What the study index needs. */
export interface StudyIndexOptions {
  db: Kysely<DatabaseSchema>;
  duplicatePolicy: DuplicatePolicy;
  log: Logger;
  clock?: Clock;
}

async function upsertPatient(tx: Transaction<DatabaseSchema>, h: InstanceHeader): Promise<string> {
  const patientId = h.patientId ?? "";
  const issuer = h.issuerOfPatientId ?? "";
  const existing = await tx.selectFrom("patients").select("id")
    .where("patient_id", "=", patientId).where("issuer", "=", issuer).executeTakeFirst();
  if (existing) {
    if (h.bsn) {
      await tx.updateTable("patients").set({ bsn: h.bsn }).where("id", "=", existing.id).execute();
    }
    return existing.id;
  }
  const id = newId();
  await tx.insertInto("patients").values({
    id,
    patient_id: patientId,
    issuer,
    bsn: h.bsn ?? null,
    name: h.patientName ?? null,
    birth_date: h.patientBirthDate ?? null,
    sex: h.patientSex ?? null,
  }).execute();
  return id;
}

/** What one query finds before an instance is indexed (see `lookUp`). */
interface Known {
  instance?: { id: string; sha256: string; spool_id: string; size: number; study_ref: string };
  study?: { id: string; state: string; expected_instances: number | null };
  seriesId?: string;
}

/**
 * The instance (by SOP Instance UID), its study and its series, in one statement instead of
 * three: a received instance's index transaction was about an eighth of the receiving thread,
 * most of it per-statement work in the query builder and driver.
 */
async function lookUp(
  tx: Transaction<DatabaseSchema>,
  sopInstanceUid: string,
  studyUid: string,
  seriesUid: string,
): Promise<Known> {
  const { rows } = await sql<{
    instance_id: string | null;
    sha256: string | null;
    spool_id: string | null;
    size: number | null;
    study_ref: string | null;
    study_id: string | null;
    state: string | null;
    expected_instances: number | null;
    series_id: string | null;
  }>`select i.id as instance_id, i.sha256, i.spool_id, i.size, i.study_ref,
      s.id as study_id, s.state, s.expected_instances,
      (select id from series where series_instance_uid = ${seriesUid}) as series_id
    from (select 1) as one
    left join instances i on i.sop_instance_uid = ${sopInstanceUid}
    left join studies s on s.study_instance_uid = ${studyUid}`.execute(tx);
  const r = rows[0];
  return {
    instance: r.instance_id === null ? undefined : {
      id: r.instance_id,
      sha256: r.sha256!,
      spool_id: r.spool_id!,
      size: r.size!,
      study_ref: r.study_ref!,
    },
    study: r.study_id === null
      ? undefined
      : { id: r.study_id, state: r.state!, expected_instances: r.expected_instances },
    seriesId: r.series_id ?? undefined,
  };
}

async function upsertStudy(
  tx: Transaction<DatabaseSchema>,
  record: InstanceRecord,
  studyUid: string,
  now: string,
  existing: Known["study"],
): Promise<string> {
  const h = record.header;
  if (existing) {
    if (existing.state !== "receiving") {
      // A late instance: the study receives again; once it settles, only what is new is routed.
      await tx.updateTable("studies").set({ state: "receiving" }).where("id", "=", existing.id)
        .execute();
      await insertEvent(tx, studyUid, now, "received", {
        callingAe: record.callingAe,
        late: true,
        after: existing.state,
      });
    }
    if (existing.expected_instances === null && h.numberOfStudyRelatedInstances !== undefined) {
      await tx.updateTable("studies").set({ expected_instances: h.numberOfStudyRelatedInstances })
        .where("id", "=", existing.id).execute();
    }
    return existing.id;
  }
  await insertEvent(tx, studyUid, now, "received", { callingAe: record.callingAe });
  const id = newId();
  await tx.insertInto("studies").values({
    id,
    study_instance_uid: studyUid,
    patient_ref: await upsertPatient(tx, h),
    study_date: h.studyDate ?? null,
    study_time: h.studyTime ?? null,
    description: h.studyDescription ?? null,
    accession_number: h.accessionNumber ?? null,
    referring_physician: h.referringPhysicianName ?? null,
    calling_ae: record.callingAe,
    source: record.source,
    state: "receiving",
    expected_instances: h.numberOfStudyRelatedInstances ?? null,
    first_received_at: now,
    last_received_at: now,
  }).execute();
  return id;
}

async function upsertSeries(
  tx: Transaction<DatabaseSchema>,
  h: InstanceHeader,
  seriesUid: string,
  studyRef: string,
  existingId: string | undefined,
): Promise<string> {
  if (existingId !== undefined) return existingId;
  const id = newId();
  await tx.insertInto("series").values({
    id,
    series_instance_uid: seriesUid,
    study_ref: studyRef,
    modality: h.modality ?? null,
    series_number: h.seriesNumber ?? null,
    description: h.seriesDescription ?? null,
  }).execute();
  return id;
}

/**
 * The index of patients, studies, series and instances.
 *
 * @example
 * ```ts
 * const index = createStudyIndex({ db: database.db, duplicatePolicy: "ignore", log });
 * await index.recordInstance({ header, sopInstanceUid, ... });
 * const studies = await index.listStudies();
 * ```
 */
export function createStudyIndex(options: StudyIndexOptions) {
  const { db } = options;
  const clock = options.clock ?? systemClock;
  const log = options.log.child({ module: "studies" });

  /** The Study and Series Instance UIDs an instance needs to be indexed at all. */
  function uidsOf(record: InstanceRecord): { studyUid: string; seriesUid: string } {
    const studyUid = record.header.studyInstanceUid;
    const seriesUid = record.header.seriesInstanceUid;
    if (!studyUid || !seriesUid) {
      throw new UnindexableInstance(
        `instance ${record.sopInstanceUid} has no ${studyUid ? "Series" : "Study"} Instance UID`,
      );
    }
    return { studyUid, seriesUid };
  }

  function noteDuplicate(record: InstanceRecord, result: IndexOutcome): void {
    if (result.outcome === "indexed") return;
    log.info("duplicate instance", {
      outcome: result.outcome,
      sopInstanceUid: record.sopInstanceUid,
      callingAe: record.callingAe,
    });
  }

  async function recordInstance(
    record: InstanceRecord,
    recordOptions: RecordOptions = {},
  ): Promise<IndexOutcome> {
    const { studyUid, seriesUid } = uidsOf(record);
    const now = clock.now().toISOString();
    const result = await db.transaction().execute(async (tx): Promise<IndexOutcome> => {
      const outcome = await writeInstance(tx, record, studyUid, seriesUid, now);
      if (recordOptions.commitAfter) await recordOptions.commitAfter; // rejecting rolls back
      return outcome;
    });
    noteDuplicate(record, result);
    return result;
  }

  /**
   * Several instances in one transaction: all or none, and one commit (one disk flush with
   * `synchronous = FULL`) instead of one per instance. For instances whose bytes are already
   * stored, such as the images of a received relay part.
   */
  async function recordInstances(records: readonly InstanceRecord[]): Promise<IndexOutcome[]> {
    const uids = records.map(uidsOf);
    const now = clock.now().toISOString();
    const results = await db.transaction().execute(async (tx) => {
      const outcomes: IndexOutcome[] = [];
      for (const [i, record] of records.entries()) {
        outcomes.push(await writeInstance(tx, record, uids[i].studyUid, uids[i].seriesUid, now));
      }
      return outcomes;
    });
    results.forEach((result, i) => noteDuplicate(records[i], result));
    return results;
  }

  async function writeInstance(
    tx: Transaction<DatabaseSchema>,
    record: InstanceRecord,
    studyUid: string,
    seriesUid: string,
    now: string,
  ): Promise<IndexOutcome> {
    const known = await lookUp(tx, record.sopInstanceUid, studyUid, seriesUid);
    const existing = known.instance;
    if (existing) {
      if (existing.sha256 === record.sha256) {
        return {
          outcome: "duplicate-identical",
          studyInstanceUid: studyUid,
          obsoleteSpoolId: record.spoolId,
        };
      }
      if (options.duplicatePolicy === "ignore") {
        return {
          outcome: "duplicate-ignored",
          studyInstanceUid: studyUid,
          obsoleteSpoolId: record.spoolId,
        };
      }
      await tx.updateTable("instances").set({
        spool_id: record.spoolId,
        sha256: record.sha256,
        size: record.size,
        transfer_syntax_uid: record.transferSyntaxUid,
        calling_ae: record.callingAe,
        received_at: now,
      }).where("id", "=", existing.id).execute();
      await tx.updateTable("studies").set((eb) => ({
        total_bytes: eb("total_bytes", "+", record.size - existing.size),
        last_received_at: now,
      })).where("id", "=", existing.study_ref).execute();
      return {
        outcome: "duplicate-replaced",
        studyInstanceUid: studyUid,
        obsoleteSpoolId: existing.spool_id,
      };
    }
    const studyRef = await upsertStudy(tx, record, studyUid, now, known.study);
    const seriesRef = await upsertSeries(tx, record.header, seriesUid, studyRef, known.seriesId);
    await tx.insertInto("instances").values({
      id: newId(),
      sop_instance_uid: record.sopInstanceUid,
      sop_class_uid: record.sopClassUid,
      series_ref: seriesRef,
      study_ref: studyRef,
      instance_number: record.header.instanceNumber ?? null,
      transfer_syntax_uid: record.transferSyntaxUid,
      size: record.size,
      sha256: record.sha256,
      spool_id: record.spoolId,
      calling_ae: record.callingAe,
      received_at: now,
    }).execute();
    await tx.updateTable("studies").set((eb) => ({
      instance_count: eb("instance_count", "+", 1),
      total_bytes: eb("total_bytes", "+", record.size),
      last_received_at: now,
    })).where("id", "=", studyRef).execute();
    return { outcome: "indexed", studyInstanceUid: studyUid };
  }

  function summaryQuery() {
    return db.selectFrom("studies")
      .innerJoin("patients", "patients.id", "studies.patient_ref")
      .select([
        "studies.id",
        "studies.study_instance_uid",
        "studies.study_date",
        "studies.description",
        "studies.accession_number",
        "studies.referring_physician",
        "studies.expected_instances",
        "studies.calling_ae",
        "studies.source",
        "studies.state",
        "studies.instance_count",
        "studies.total_bytes",
        "studies.first_received_at",
        "studies.last_received_at",
        "patients.patient_id",
        "patients.issuer",
        "patients.name",
      ])
      .select((eb) =>
        eb.selectFrom("series").select((s) =>
          s.fn<string>("group_concat", [s.fn("distinct", ["modality"])]).as("m")
        )
          .whereRef("series.study_ref", "=", "studies.id").as("modalities")
      );
  }

  type SummaryRow = Awaited<ReturnType<ReturnType<typeof summaryQuery>["executeTakeFirstOrThrow"]>>;
  const toSummary = (r: SummaryRow): StudySummary => ({
    studyInstanceUid: r.study_instance_uid,
    patientId: r.patient_id,
    issuerOfPatientId: r.issuer,
    patientName: r.name,
    studyDate: r.study_date,
    description: r.description,
    accessionNumber: r.accession_number,
    referringPhysician: r.referring_physician,
    expectedInstances: r.expected_instances,
    modalities: r.modalities ? String(r.modalities).split(",").filter(Boolean).sort() : [],
    callingAe: r.calling_ae,
    source: r.source,
    state: r.state,
    instances: r.instance_count,
    bytes: r.total_bytes,
    firstReceivedAt: r.first_received_at,
    lastReceivedAt: r.last_received_at,
  });

  return {
    recordInstance,
    recordInstances,

    /**
     * Studies, most recently received first; optionally only those matching every given filter
     * (patient id and accession exact or prefix, name contains, date YYYYMMDD, source).
     */
    async listStudies(query: StudyQuery = {}): Promise<StudySummary[]> {
      let q = summaryQuery();
      if (query.patientId) q = q.where("patients.patient_id", "like", `${query.patientId}%`);
      if (query.patientName) {
        q = q.where((eb) =>
          eb(eb.fn("lower", ["patients.name"]), "like", `%${query.patientName!.toLowerCase()}%`)
        );
      }
      if (query.studyDate) q = q.where("studies.study_date", "=", query.studyDate);
      if (query.accessionNumber) {
        q = q.where("studies.accession_number", "like", `${query.accessionNumber}%`);
      }
      if (query.source) q = q.where("studies.source", "=", query.source);
      const rows = await q.orderBy("studies.last_received_at", "desc")
        .limit(query.limit ?? 1000).offset(query.offset ?? 0).execute();
      return rows.map(toSummary);
    },

    /** One study's summary, or null. */
    async getStudy(studyInstanceUid: string): Promise<StudySummary | null> {
      const row = await summaryQuery().where("studies.study_instance_uid", "=", studyInstanceUid)
        .executeTakeFirst();
      return row ? toSummary(row) : null;
    },

    /**
     * The instances of a study in series and instance order; with `only`, just those SOP
     * Instance UIDs. A relay part's import job names a few of a growing study's instances, and
     * reading the whole study for each part made a 250-part transfer quadratic.
     */
    async studyInstances(
      studyInstanceUid: string,
      only?: readonly string[],
    ): Promise<StudyInstance[]> {
      // Up to this many as SQL parameters; a longer list filters the whole study instead.
      const inSql = only !== undefined && only.length <= 1000;
      const wanted = only && !inSql ? new Set(only) : undefined;
      if (inSql && only.length === 0) return [];
      let query = db.selectFrom("instances")
        .innerJoin("studies", "studies.id", "instances.study_ref")
        .innerJoin("series", "series.id", "instances.series_ref")
        .select([
          "instances.sop_instance_uid",
          "instances.sop_class_uid",
          "series.series_instance_uid",
          "instances.instance_number",
          "instances.transfer_syntax_uid",
          "instances.size",
          "instances.sha256",
          "instances.spool_id",
        ])
        .where("studies.study_instance_uid", "=", studyInstanceUid)
        .orderBy("series.series_number").orderBy("series.series_instance_uid")
        .orderBy("instances.instance_number").orderBy("instances.sop_instance_uid");
      if (inSql) query = query.where("instances.sop_instance_uid", "in", only);
      const rows = (await query.execute())
        .filter((r) => !wanted || wanted.has(r.sop_instance_uid));
      return rows.map((r) => ({
        sopInstanceUid: r.sop_instance_uid,
        sopClassUid: r.sop_class_uid,
        seriesInstanceUid: r.series_instance_uid,
        instanceNumber: r.instance_number,
        transferSyntaxUid: r.transfer_syntax_uid,
        size: r.size,
        sha256: r.sha256,
        spoolId: r.spool_id,
      }));
    },

    /** Records a step in the study's timeline (routing and delivery call this). */
    async recordEvent(
      studyInstanceUid: string,
      kind: StudyEventKind,
      detail: Record<string, unknown> = {},
    ): Promise<void> {
      await insertEvent(db, studyInstanceUid, clock.now().toISOString(), kind, detail);
    },

    /** The study's timeline, oldest first. */
    timeline(studyInstanceUid: string): Promise<StudyEvent[]> {
      return listEvents(db, studyInstanceUid);
    },

    /**
     * A count the sender reported (e.g. in a worklist or a manifest): the study is `complete`
     * only once that many instances have arrived.
     */
    async setExpectedInstances(studyInstanceUid: string, count: number): Promise<boolean> {
      const result = await db.updateTable("studies").set({ expected_instances: count })
        .where("study_instance_uid", "=", studyInstanceUid).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    /** Number of studies per state, for the dashboard. */
    async stateCounts(): Promise<Record<string, number>> {
      const rows = await db.selectFrom("studies").select(["state"])
        .select((eb) => eb.fn.countAll<number>().as("n")).groupBy("state").execute();
      return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
    },
  };
}

/** The study index's interface. */
export type StudyIndex = ReturnType<typeof createStudyIndex>;
