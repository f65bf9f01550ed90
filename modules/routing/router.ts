import type { Kysely } from "kysely";
import { type Clock, type Logger, newId, systemClock } from "../core/mod.ts";
import type { DatabaseSchema } from "../db/mod.ts";
import type { EnqueueRequest, TransferJob } from "../transfer/mod.ts";
import { RoutingNotFound } from "./errors.ts";
import { describeMatcher, matchesValue, passesFilter } from "./match.ts";
import type {
  Destination,
  PlannedAction,
  QueuedDelivery,
  Rule,
  RuleAction,
  RuleDefinition,
  RulePlan,
  StudyFacts,
} from "./types.ts";
import { validateDestination, validateRule } from "./validate.ts";

type Db = Kysely<DatabaseSchema>;

/** What the router needs. */
export interface RouterOptions {
  db: Db;
  log: Logger;
  clock?: Clock;
  /** Creates a job inside routing's transaction (the transfer queue's `enqueue`). */
  enqueue(request: EnqueueRequest, executor: Db): Promise<TransferJob>;
  /** Writes a study timeline event ("matched", "queued"); called after the commit. */
  onEvent?(studyInstanceUid: string, kind: string, detail: Record<string, unknown>): Promise<void>;
  /** Called after the jobs of a route have committed (e.g. to wake the queue). */
  afterQueued?(): void;
}

function toRule(row: {
  id: string;
  name: string;
  position: number;
  enabled: number;
  definition: string;
  created_at: string;
}): Rule {
  return {
    id: row.id,
    name: row.name,
    position: row.position,
    enabled: row.enabled === 1,
    definition: JSON.parse(row.definition),
    createdAt: row.created_at,
  };
}

function target(action: RuleAction): { kind: "dicom" | "peer"; destination: string } {
  return action.type === "forward"
    ? { kind: "dicom", destination: action.destination }
    : { kind: "peer", destination: action.recipient };
}

/**
 * Rules and destinations in the database, the dry run, and routing itself: for each enabled rule
 * that matches a settled study, one job per action with the instances its filter lets through and
 * that were not queued for that rule and destination before. So a late instance makes a follow-up
 * job of just the new instances, and routing the same study twice queues nothing twice.
 */
export function createRouter(options: RouterOptions) {
  const { db } = options;
  const clock = options.clock ?? systemClock;
  const log = options.log.child({ module: "routing" });

  async function listDestinations(): Promise<Destination[]> {
    const rows = await db.selectFrom("routing_destinations").selectAll().orderBy("name").execute();
    return rows.map((r) => JSON.parse(r.definition));
  }

  async function getDestination(name: string): Promise<Destination> {
    const row = await db.selectFrom("routing_destinations").selectAll().where("name", "=", name)
      .executeTakeFirst();
    if (!row) throw new RoutingNotFound(`no destination "${name}"`);
    return JSON.parse(row.definition);
  }

  async function listRules(): Promise<Rule[]> {
    const rows = await db.selectFrom("routing_rules").selectAll().orderBy("position")
      .orderBy("id").execute();
    return rows.map(toRule);
  }

  async function evaluate(rule: Rule, facts: StudyFacts, executor: Db): Promise<RulePlan> {
    const def = rule.definition;
    const reasons: string[] = [];
    let matched = true;
    const check = (field: string, matcher: RuleMatchValue, values: (string | null)[]) => {
      if (matcher === undefined) return;
      const ok = values.some((v) => matchesValue(matcher, v));
      reasons.push(
        `${field} ${JSON.stringify(values.length === 1 ? values[0] : values)} ${
          ok ? "matches" : "does not match"
        } ${describeMatcher(matcher)}`,
      );
      if (!ok) matched = false;
    };
    const m = def.match ?? {};
    check("callingAe", m.callingAe, [facts.callingAe]);
    check("calledAe", m.calledAe, [facts.calledAe]);
    check("modality", m.modality, facts.modalities.length ? facts.modalities : [null]);
    check("studyDescription", m.studyDescription, [facts.studyDescription]);
    check("referringPhysician", m.referringPhysician, [facts.referringPhysician]);
    if (m.tags && Object.keys(m.tags).length > 0) {
      const values = await facts.tags(Object.keys(m.tags));
      for (const [keyword, matcher] of Object.entries(m.tags)) {
        check(keyword, matcher, [values[keyword] ?? null]);
      }
    }
    if (reasons.length === 0) reasons.push("no conditions: matches every study");
    const waiting = matched && def.trigger === "complete" && facts.state !== "complete"
      ? `waits for a complete study (now ${facts.state})`
      : null;
    const passing = facts.instances.filter((i) => passesFilter(i.sopClassUid, def.filter));
    const actions: PlannedAction[] = [];
    for (const action of def.actions) {
      const { kind, destination } = target(action);
      const queued = new Set(
        (await executor.selectFrom("routing_deliveries").select("sop_instance_uid")
          .where("study_instance_uid", "=", facts.studyInstanceUid)
          .where("rule_id", "=", rule.id).where("destination", "=", destination).execute())
          .map((r) => r.sop_instance_uid),
      );
      actions.push({
        action,
        kind,
        destination,
        instances: passing.length,
        excluded: facts.instances.length - passing.length,
        newInstances: passing.filter((i) => !queued.has(i.sopInstanceUid)).length,
      });
    }
    return {
      ruleId: rule.id,
      ruleName: rule.name,
      enabled: rule.enabled,
      matched,
      reasons,
      waiting,
      actions,
    };
  }

  type RuleMatchValue = Parameters<typeof matchesValue>[0] | undefined;

  return {
    /** Adds a rule after validating it (and that its destinations exist). */
    async addRule(input: unknown): Promise<Rule> {
      const definition = validateRule(input, (await listDestinations()).map((d) => d.name));
      const last = await db.selectFrom("routing_rules")
        .select((eb) => eb.fn.max<number>("position").as("p")).executeTakeFirst();
      const row = {
        id: newId(clock.now().getTime()),
        name: definition.name,
        position: definition.position ?? (Number(last?.p ?? 0) + 10),
        enabled: definition.enabled === false ? 0 : 1,
        definition: JSON.stringify(definition),
        created_at: clock.now().toISOString(),
      };
      await db.insertInto("routing_rules").values(row).execute();
      log.info("routing rule added", { ruleId: row.id, name: row.name });
      return toRule(row);
    },

    listRules,

    async getRule(id: string): Promise<Rule> {
      const row = await db.selectFrom("routing_rules").selectAll().where("id", "=", id)
        .executeTakeFirst();
      if (!row) throw new RoutingNotFound(`no rule ${id}`);
      return toRule(row);
    },

    /** Enables or disables a rule; a disabled rule is shown in dry runs but never acts. */
    async setRuleEnabled(id: string, enabled: boolean): Promise<Rule> {
      const result = await db.updateTable("routing_rules").set({ enabled: enabled ? 1 : 0 })
        .where("id", "=", id).executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) throw new RoutingNotFound(`no rule ${id}`);
      log.info(enabled ? "routing rule enabled" : "routing rule disabled", { ruleId: id });
      return this.getRule(id);
    },

    /** Adds or replaces a destination after validating it. */
    async putDestination(input: unknown): Promise<Destination> {
      const destination = validateDestination(input);
      const values = {
        name: destination.name,
        kind: destination.kind,
        definition: JSON.stringify(destination),
        created_at: clock.now().toISOString(),
      };
      await db.insertInto("routing_destinations").values(values)
        .onConflict((oc) =>
          oc.column("name").doUpdateSet({ kind: values.kind, definition: values.definition })
        ).execute();
      return destination;
    },

    listDestinations,
    getDestination,

    /** Removes a destination no enabled rule forwards to. */
    async removeDestination(name: string): Promise<void> {
      const users = (await listRules()).filter((r) =>
        r.enabled &&
        r.definition.actions.some((a) => a.type === "forward" && a.destination === name)
      );
      if (users.length > 0) {
        throw new RoutingNotFound(
          `destination "${name}" is used by rule(s) ${users.map((r) => r.id).join(", ")}`,
        );
      }
      await db.deleteFrom("routing_destinations").where("name", "=", name).execute();
    },

    /**
     * The dry run: which rules match this study and what each would queue, without doing it.
     */
    async plan(facts: StudyFacts): Promise<RulePlan[]> {
      const plans = [];
      for (const rule of await listRules()) plans.push(await evaluate(rule, facts, db));
      return plans;
    },

    /**
     * Routes a settled study: queues, in one transaction, a job per action of every enabled
     * matching rule whose trigger is met, carrying only instances never queued for that rule and
     * destination. Idempotent.
     */
    async route(facts: StudyFacts): Promise<QueuedDelivery[]> {
      const rules = (await listRules()).filter((r) => r.enabled);
      const events: [string, Record<string, unknown>][] = [];
      const queued = await db.transaction().execute(async (tx) => {
        const out: QueuedDelivery[] = [];
        for (const rule of rules) {
          const plan = await evaluate(rule, facts, tx);
          if (!plan.matched || plan.waiting) continue;
          const def: RuleDefinition = rule.definition;
          const fresh = plan.actions.filter((a) => a.newInstances > 0);
          if (fresh.length === 0) continue;
          events.push(["matched", { ruleId: rule.id, rule: rule.name }]);
          for (const action of fresh) {
            const already = new Set(
              (await tx.selectFrom("routing_deliveries").select("sop_instance_uid")
                .where("study_instance_uid", "=", facts.studyInstanceUid)
                .where("rule_id", "=", rule.id).where("destination", "=", action.destination)
                .execute()).map((r) => r.sop_instance_uid),
            );
            const items = facts.instances
              .filter((i) => passesFilter(i.sopClassUid, def.filter))
              .filter((i) => !already.has(i.sopInstanceUid))
              .map((i) => i.sopInstanceUid);
            const priority = def.priority ?? "routine";
            const job = await options.enqueue({
              kind: action.kind,
              destination: action.destination,
              subject: facts.studyInstanceUid,
              priority,
              items,
              payload: { ruleId: rule.id, followUp: already.size > 0 },
            }, tx);
            for (let at = 0; at < items.length; at += 200) {
              await tx.insertInto("routing_deliveries").values(
                items.slice(at, at + 200).map((sop) => ({
                  study_instance_uid: facts.studyInstanceUid,
                  rule_id: rule.id,
                  destination: action.destination,
                  sop_instance_uid: sop,
                  job_id: job.id,
                })),
              ).execute();
            }
            out.push({
              jobId: job.id,
              ruleId: rule.id,
              kind: action.kind,
              destination: action.destination,
              instances: items.length,
              priority,
            });
            events.push(["queued", {
              jobId: job.id,
              ruleId: rule.id,
              kind: action.kind,
              destination: action.destination,
              instances: items.length,
              excluded: action.excluded,
              followUp: already.size > 0,
              priority,
            }]);
          }
        }
        return out;
      });
      for (const [kind, detail] of events) {
        await options.onEvent?.(facts.studyInstanceUid, kind, detail);
      }
      if (queued.length > 0) {
        log.info("study routed", {
          studyInstanceUid: facts.studyInstanceUid,
          jobs: queued.map((q) => q.jobId),
        });
        options.afterQueued?.();
      }
      return queued;
    },
  };
}

/** The router's interface. */
export type Router = ReturnType<typeof createRouter>;
