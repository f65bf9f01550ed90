/**
 * The study index: patients, studies, series and instances, with where each object's bytes are.
 *
 * @example
 * ```ts
 * const index = createStudyIndex({ db: database.db, duplicatePolicy: "ignore", log });
 * for (const study of await index.listStudies()) console.log(study.studyInstanceUid, study.instances);
 * ```
 *
 * Completeness: a study is `receiving` until its sender has been quiet for the quiet period, then
 * `complete`, `incomplete` (stable but fewer than expected) or `stable` (no count known).
 *
 * ```ts
 * const monitor = createCompletenessMonitor({ db, log, quietPeriodMs: 30_000, onSettled: route });
 * monitor.start(1000);
 * ```
 * @module
 */
export { createStudyIndex, UnindexableInstance } from "./index.ts";
export type {
  DuplicatePolicy,
  IndexOutcome,
  InstanceRecord,
  RecordOptions,
  StudyIndex,
  StudyIndexOptions,
  StudyInstance,
  StudyQuery,
  StudySummary,
} from "./index.ts";
export { createCompletenessMonitor } from "./completeness.ts";
export type {
  CompletenessMonitor,
  CompletenessOptions,
  SettledStudy,
  StudyState,
} from "./completeness.ts";
export type { StudyEvent, StudyEventKind } from "./events.ts";
