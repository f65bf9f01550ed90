/**
 * Routing: declarative rules (match on calling/called AE, modality, study description, referring
 * physician or any element by keyword; forward to a DICOM destination or send to an address-book
 * recipient; filter SOP classes; priority) and DICOM destinations, both stored in the database
 * and validated; a dry run; and routing of settled studies into transfer jobs, each instance
 * queued at most once per rule and destination.
 *
 * @example
 * ```ts
 * import { createRouter } from "../routing/mod.ts";
 * const router = createRouter({ db: database.db, log, enqueue: queue.enqueue });
 * await router.putDestination({ name: "PACS", kind: "dicom", aeTitle: "PACS", host: "10.0.0.5", port: 104 });
 * await router.addRule({ name: "all to PACS", actions: [{ type: "forward", destination: "PACS" }] });
 * const plans = await router.plan(facts); // dry run
 * await router.route(facts);              // queue the jobs
 * ```
 * @module
 */
export { createRouter } from "./router.ts";
export type { Router, RouterOptions } from "./router.ts";
export { validateDestination, validateRule } from "./validate.ts";
export { passesFilter, sopClassAliases } from "./match.ts";
export { RoutingDefinitionInvalid, RoutingNotFound } from "./errors.ts";
export type {
  Destination,
  DicomDestination,
  Matcher,
  PlannedAction,
  QueuedDelivery,
  Rule,
  RuleAction,
  RuleDefinition,
  RuleFilter,
  RuleMatch,
  RulePlan,
  StudyFacts,
} from "./types.ts";
