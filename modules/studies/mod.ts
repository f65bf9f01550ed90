/**
 * The study index: patients, studies, series and instances, with where each object's bytes are.
 *
 * @example
 * ```ts
 * const index = createStudyIndex({ db: database.db, duplicatePolicy: "ignore", log });
 * for (const study of await index.listStudies()) console.log(study.studyInstanceUid, study.instances);
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
  StudySummary,
} from "./index.ts";
