import type { JobPriority } from "../transfer/mod.ts";

/**
 * How one value is matched: a string (or list of strings) is an exact comparison, `equals` the
 * same spelled out, `regex` a JavaScript regular expression (ignoreCase optional).
 */
export type Matcher =
  | string
  | string[]
  | { equals: string | string[] }
  | { regex: string; ignoreCase?: boolean };

/** What a study must look like for a rule to apply. Every given field must match; none: all. */
export interface RuleMatch {
  callingAe?: Matcher;
  calledAe?: Matcher;
  /** Matches when any modality of the study matches. */
  modality?: Matcher;
  studyDescription?: Matcher;
  referringPhysician?: Matcher;
  /** Any data element by DICOM keyword (PS3.6), read from the study's first instance. */
  tags?: Record<string, Matcher>;
}

/** What a matching rule does. */
export type RuleAction =
  /** C-STORE the study to a configured DICOM destination. */
  | { type: "forward"; destination: string }
  /** Send it to an address-book recipient (a "peer" job, delivered by the mail relay). */
  | { type: "send"; recipient: string };

/**
 * Which objects go. Entries are SOP Class UIDs, UID prefixes ending in ".*", or the aliases
 * PR (presentation states), DOSE (radiation dose SRs), SR (all structured reports), KO (key
 * object selections).
 */
export interface RuleFilter {
  excludeSopClasses?: string[];
  includeSopClasses?: string[];
}

/** A rule as an operator writes it (the JSON file of `beeldpoort rules add`). */
export interface RuleDefinition {
  name: string;
  enabled?: boolean;
  /** Rules are evaluated in ascending position. Default: after the last. */
  position?: number;
  /** `settled` (default): once the study is stable, complete or incomplete; `complete`: only
   * when the expected number of instances has arrived. */
  trigger?: "settled" | "complete";
  match?: RuleMatch;
  actions: RuleAction[];
  filter?: RuleFilter;
  priority?: JobPriority;
}

/** A stored rule. */
export interface Rule extends Required<Pick<RuleDefinition, "name" | "enabled" | "position">> {
  id: string;
  definition: RuleDefinition;
  createdAt: string;
}

/** A place studies are forwarded to over DICOM. */
export interface DicomDestination {
  name: string;
  kind: "dicom";
  aeTitle: string;
  host: string;
  port: number;
  /** Our AE title towards this destination. Default: the appliance's own. */
  callingAe?: string;
  /** Associations used in parallel for one job. Default 1. */
  associations?: number;
  description?: string;
}

/** A destination as stored. */
export type Destination = DicomDestination;

/** What routing knows of a study when it decides. */
export interface StudyFacts {
  studyInstanceUid: string;
  /** receiving, stable, complete or incomplete. */
  state: string;
  callingAe: string;
  calledAe: string;
  modalities: string[];
  studyDescription: string | null;
  referringPhysician: string | null;
  instances: { sopInstanceUid: string; sopClassUid: string }[];
  /** Values of other elements by keyword, read on demand (from the first instance). */
  tags(keywords: string[]): Promise<Record<string, string>>;
}

/** One action of a dry run: what would be queued. */
export interface PlannedAction {
  action: RuleAction;
  kind: "dicom" | "peer";
  destination: string;
  /** Instances after the rule's filter. */
  instances: number;
  /** Left out by the filter. */
  excluded: number;
  /** Of those, not yet queued for this rule and destination: what a job would carry. */
  newInstances: number;
}

/** One rule's verdict on a study. */
export interface RulePlan {
  ruleId: string;
  ruleName: string;
  enabled: boolean;
  matched: boolean;
  /** Why it did or did not match, in words, one line per condition. */
  reasons: string[];
  /** Set when it matches but its trigger is not met yet (e.g. waiting for completeness). */
  waiting: string | null;
  actions: PlannedAction[];
}

/** A job routing created. */
export interface QueuedDelivery {
  jobId: string;
  ruleId: string;
  kind: "dicom" | "peer";
  destination: string;
  instances: number;
  priority: JobPriority;
}
