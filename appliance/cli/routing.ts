import { cEcho } from "../../modules/dicom/mod.ts";
import type { JobState } from "../../modules/transfer/mod.ts";
import { studyFacts } from "../delivery.ts";
import { type Command, configOption, withServices } from "./command.ts";

const jsonOption = { json: { type: "boolean" } } as const;

function fail(command: string, error: unknown): number {
  const problems = (error as { problems?: string[] }).problems;
  console.error(`beeldpoort ${command}: ${(error as Error).message}`);
  if (problems) { for (const p of problems) console.error(`  - ${p}`); }
  return 1;
}

export const rulesListCommand: Command = {
  name: "rules list",
  summary: "list the routing rules",
  help: `Usage: beeldpoort rules list [--json] [--config FILE]

Lists the routing rules in evaluation order: id, position, enabled, name, and what they do.
With --json, one rule per line as stored (id, name, position, enabled, definition).

Options:
  --json            one JSON object per line
`,
  options: { ...configOption, ...jsonOption },
  run: (ctx) =>
    withServices(ctx, async ({ router }) => {
      const rules = await router.listRules();
      if (ctx.values.json) {
        for (const rule of rules) console.log(JSON.stringify(rule));
        return 0;
      }
      console.log(["ID", "POS", "ENABLED", "NAME", "ACTIONS"].join("\t"));
      for (const r of rules) {
        const actions = r.definition.actions.map((a) =>
          a.type === "forward" ? `forward->${a.destination}` : `send->${a.recipient}`
        ).join(",");
        console.log([r.id, r.position, r.enabled ? "yes" : "no", r.name, actions].join("\t"));
      }
      return 0;
    }),
};

export const rulesAddCommand: Command = {
  name: "rules add",
  summary: "add a routing rule from a JSON file",
  help: `Usage: beeldpoort rules add FILE.json [--config FILE]

Validates the rule in FILE.json and stores it; prints its id. Every problem is listed when the
rule is refused. Fields (see README, Routing):
  name, enabled, position, trigger ("settled" | "complete"), priority ("urgent" | "routine"),
  match { callingAe, calledAe, modality, studyDescription, referringPhysician, tags { KEYWORD } }
        each a string, a list, { "equals": ... } or { "regex": ..., "ignoreCase": true },
  actions [ { "type": "forward", "destination": NAME } | { "type": "send", "recipient": ADDRESS } ],
  filter { excludeSopClasses, includeSopClasses }: UIDs, UID.* prefixes, or PR, DOSE, SR, KO.
`,
  options: configOption,
  positionals: { min: 1, max: 1 },
  run: (ctx) =>
    withServices(ctx, async ({ router }) => {
      let input: unknown;
      try {
        input = JSON.parse(Deno.readTextFileSync(ctx.positionals[0]));
      } catch (error) {
        return fail("rules add", error);
      }
      try {
        const rule = await router.addRule(input);
        console.log(rule.id);
        return 0;
      } catch (error) {
        return fail("rules add", error);
      }
    }),
};

export const rulesTestCommand: Command = {
  name: "rules test",
  summary: "dry run: which rules match a study and what they would queue",
  help: `Usage: beeldpoort rules test STUDY_UID [--json] [--config FILE]

Evaluates every rule against the study as it is in the index, without queueing anything: per rule
whether it matches and why (one line per condition), and per action how many instances would go
(after the filter) and how many of those are new (not queued before).

Options:
  --json            the plans as one JSON array
`,
  options: { ...configOption, ...jsonOption },
  positionals: { min: 1, max: 1 },
  run: (ctx) =>
    withServices(ctx, async (services) => {
      const config = ctx.config();
      const facts = await studyFacts(
        { ...services, calledAe: config.dicom.aeTitle },
        ctx.positionals[0],
      );
      if (!facts) {
        console.error(`beeldpoort rules test: no study ${ctx.positionals[0]} in the index`);
        return 1;
      }
      const plans = await services.router.plan(facts);
      if (ctx.values.json) {
        console.log(JSON.stringify(plans));
        return 0;
      }
      console.log(
        `study ${facts.studyInstanceUid}: ${facts.state}, ${facts.instances.length} instances`,
      );
      for (const p of plans) {
        const verdict = !p.enabled
          ? "disabled"
          : p.matched
          ? (p.waiting ? `matches, but ${p.waiting}` : "MATCHES")
          : "does not match";
        console.log(`rule ${p.ruleId} "${p.ruleName}": ${verdict}`);
        for (const reason of p.reasons) console.log(`  ${reason}`);
        if (p.matched) {
          for (const a of p.actions) {
            console.log(
              `  would ${
                a.kind === "dicom" ? "forward to" : "send to"
              } ${a.destination}: ${a.newInstances} new of ${a.instances} instance(s), ${a.excluded} filtered out`,
            );
          }
        }
      }
      return 0;
    }),
};

function setEnabledCommand(enabled: boolean): Command {
  const word = enabled ? "enable" : "disable";
  return {
    name: `rules ${word}`,
    summary: `${word} a routing rule`,
    help: `Usage: beeldpoort rules ${word} ID [--config FILE]

${enabled ? "Enables" : "Disables"} the rule with this id (see \`beeldpoort rules list\`).${
      enabled ? "" : " A disabled rule stays in dry runs but never queues anything."
    }
`,
    options: configOption,
    positionals: { min: 1, max: 1 },
    run: (ctx) =>
      withServices(ctx, async ({ router }) => {
        try {
          const rule = await router.setRuleEnabled(ctx.positionals[0], enabled);
          console.log(`rule ${rule.id} "${rule.name}" ${enabled ? "enabled" : "disabled"}`);
          return 0;
        } catch (error) {
          return fail(`rules ${word}`, error);
        }
      }),
  };
}

export const rulesDisableCommand = setEnabledCommand(false);
export const rulesEnableCommand = setEnabledCommand(true);

export const destinationsListCommand: Command = {
  name: "destinations list",
  summary: "list the DICOM destinations",
  help: `Usage: beeldpoort destinations list [--json] [--config FILE]

Lists the configured DICOM destinations: name, AE title, host, port, associations.

Options:
  --json            one JSON object per line
`,
  options: { ...configOption, ...jsonOption },
  run: (ctx) =>
    withServices(ctx, async ({ router }) => {
      const destinations = await router.listDestinations();
      if (ctx.values.json) {
        for (const d of destinations) console.log(JSON.stringify(d));
        return 0;
      }
      console.log(["NAME", "AE", "HOST", "PORT", "ASSOCIATIONS"].join("\t"));
      for (const d of destinations) {
        console.log([d.name, d.aeTitle, d.host, d.port, d.associations ?? 1].join("\t"));
      }
      return 0;
    }),
};

export const destinationsAddCommand: Command = {
  name: "destinations add",
  summary: "add or replace a DICOM destination",
  help: `Usage: beeldpoort destinations add NAME AE_TITLE HOST PORT [--associations N]
       [--calling-ae AE] [--description TEXT] [--config FILE]

Stores a DICOM destination (a PACS) that rules can forward to by NAME. Test it with
\`beeldpoort destinations echo NAME\`.

Options:
  --associations N  associations in parallel per delivery (1-16, default 1)
  --calling-ae AE   our AE title towards it (default dicom.aeTitle)
  --description T   free text for operators
`,
  options: {
    ...configOption,
    associations: { type: "string" },
    "calling-ae": { type: "string" },
    description: { type: "string" },
  },
  positionals: { min: 4, max: 4 },
  run: (ctx) =>
    withServices(ctx, async ({ router }) => {
      const [name, aeTitle, host, port] = ctx.positionals;
      const input: Record<string, unknown> = {
        name,
        kind: "dicom",
        aeTitle,
        host,
        port: Number(port),
      };
      if (ctx.values.associations) input.associations = Number(ctx.values.associations);
      if (ctx.values["calling-ae"]) input.callingAe = ctx.values["calling-ae"];
      if (ctx.values.description) input.description = ctx.values.description;
      try {
        const d = await router.putDestination(input);
        console.log(`destination ${d.name}: ${d.aeTitle}@${d.host}:${d.port}`);
        return 0;
      } catch (error) {
        return fail("destinations add", error);
      }
    }),
};

export const destinationsEchoCommand: Command = {
  name: "destinations echo",
  summary: "test a DICOM destination with C-ECHO",
  help: `Usage: beeldpoort destinations echo NAME [--config FILE]

Opens an association to the destination and sends a C-ECHO (PS3.7 9.1.5). Prints the status,
or the reason the destination refused us (e.g. "called AE title not recognized").
`,
  options: configOption,
  positionals: { min: 1, max: 1 },
  run: (ctx) =>
    withServices(ctx, async ({ router }) => {
      const config = ctx.config();
      try {
        const d = await router.getDestination(ctx.positionals[0]);
        const started = performance.now();
        const status = await cEcho({
          host: d.host,
          port: d.port,
          calledAe: d.aeTitle,
          callingAe: d.callingAe ?? config.dicom.aeTitle,
          timeoutMs: 10_000,
        });
        const ms = Math.round(performance.now() - started);
        console.log(
          `${d.name} (${d.aeTitle}@${d.host}:${d.port}): C-ECHO status ${
            status.toString(16).padStart(4, "0")
          } in ${ms} ms`,
        );
        return status === 0 ? 0 : 1;
      } catch (error) {
        return fail("destinations echo", error);
      }
    }),
};

export const destinationsRemoveCommand: Command = {
  name: "destinations remove",
  summary: "remove a DICOM destination no enabled rule uses",
  help: `Usage: beeldpoort destinations remove NAME [--config FILE]
`,
  options: configOption,
  positionals: { min: 1, max: 1 },
  run: (ctx) =>
    withServices(ctx, async ({ router }) => {
      try {
        await router.removeDestination(ctx.positionals[0]);
        return 0;
      } catch (error) {
        return fail("destinations remove", error);
      }
    }),
};

const jobStates = ["queued", "running", "waiting-ack", "done", "failed", "dead"];

export const jobsListCommand: Command = {
  name: "jobs list",
  summary: "list delivery jobs",
  help: `Usage: beeldpoort jobs list [--state STATE] [--study UID] [--json] [--config FILE]

Lists delivery jobs, newest first: id, state, kind, destination, priority, attempts, items
delivered of total, next attempt, last error. STATE is one of ${jobStates.join(", ")}.

Options:
  --state STATE     only jobs in this state
  --study UID       only jobs for this study
  --json            one JSON object per line
`,
  options: { ...configOption, ...jsonOption, state: { type: "string" }, study: { type: "string" } },
  run: (ctx) =>
    withServices(ctx, async ({ transfer }) => {
      const state = ctx.values.state as string | undefined;
      if (state && !jobStates.includes(state)) {
        console.error(`beeldpoort jobs list: --state must be one of ${jobStates.join(", ")}`);
        return 2;
      }
      const jobs = await transfer.list({
        state: state as JobState | undefined,
        subject: ctx.values.study as string | undefined,
      });
      if (ctx.values.json) {
        for (const job of jobs) console.log(JSON.stringify(job));
        return 0;
      }
      console.log(
        ["ID", "STATE", "KIND", "DESTINATION", "PRIORITY", "ATTEMPTS", "ITEMS", "NEXT", "ERROR"]
          .join("\t"),
      );
      for (const j of jobs) {
        console.log([
          j.id,
          j.state,
          j.kind,
          j.destination,
          j.priority,
          j.attempts,
          `${j.items.done}/${j.items.total}`,
          j.state === "failed" ? j.nextAttemptAt : "",
          j.lastError ?? "",
        ].join("\t"));
      }
      return 0;
    }),
};

export const jobsShowCommand: Command = {
  name: "jobs show",
  summary: "a delivery job with its attempts",
  help: `Usage: beeldpoort jobs show ID [--json] [--config FILE]

Shows one job and every attempt: when it started and ended, how it ended, the error, and how
many items it delivered.

Options:
  --json            one JSON object { job, attempts }
`,
  options: { ...configOption, ...jsonOption },
  positionals: { min: 1, max: 1 },
  run: (ctx) =>
    withServices(ctx, async ({ transfer }) => {
      try {
        const job = await transfer.get(ctx.positionals[0]);
        const attempts = await transfer.attempts(job.id);
        if (ctx.values.json) {
          console.log(JSON.stringify({ job, attempts }));
          return 0;
        }
        console.log(
          `job ${job.id}: ${job.state}, ${job.kind} to ${job.destination}, ${job.priority}, ${job.items.done}/${job.items.total} items`,
        );
        if (job.lastError) console.log(`last error: ${job.lastError}`);
        for (const a of attempts) {
          console.log(
            `  attempt ${a.attempt}: ${a.startedAt} .. ${
              a.endedAt ?? ""
            } ${a.outcome}, ${a.itemsDone} items${a.error ? `: ${a.error}` : ""}`,
          );
        }
        return 0;
      } catch (error) {
        return fail("jobs show", error);
      }
    }),
};

function jobActionCommand(
  word: "retry" | "cancel" | "redirect",
  summary: string,
  text: string,
): Command {
  const redirect = word === "redirect";
  return {
    name: `jobs ${word}`,
    summary,
    help: `Usage: beeldpoort jobs ${word} ID${redirect ? " DESTINATION" : ""} [--config FILE]

${text}
`,
    options: configOption,
    positionals: { min: redirect ? 2 : 1, max: redirect ? 2 : 1 },
    run: (ctx) =>
      withServices(ctx, async ({ transfer, router }) => {
        try {
          const [id, destination] = ctx.positionals;
          let job;
          if (word === "retry") job = await transfer.retry(id);
          else if (word === "cancel") job = await transfer.cancel(id);
          else {
            await router.getDestination(destination);
            job = await transfer.redirect(id, destination);
          }
          console.log(
            `job ${job.id}: ${job.state}${redirect ? `, now to ${job.destination}` : ""}`,
          );
          return 0;
        } catch (error) {
          return fail(`jobs ${word}`, error);
        }
      }),
  };
}

export const jobsRetryCommand = jobActionCommand(
  "retry",
  "retry a failed or dead job now",
  "Queues a failed or dead job again at once, with a fresh maximum age. Items already delivered are not sent again.",
);
export const jobsCancelCommand = jobActionCommand(
  "cancel",
  "give a job up",
  'Marks a queued, failed or waiting job dead ("cancelled by operator"). Not while it runs.',
);
export const jobsRedirectCommand = jobActionCommand(
  "redirect",
  "send a failed or dead job to another destination",
  "Points a failed or dead job at another DICOM destination and queues it; all its items go again.",
);

export const studiesTimelineCommand: Command = {
  name: "studies timeline",
  summary: "a study's events: received, complete, matched, queued, attempts, delivered",
  help: `Usage: beeldpoort studies timeline STUDY_UID [--json] [--config FILE]

Prints every recorded step of the study, oldest first: received, stable / complete / incomplete,
matched (a rule), queued (a job), attempt, delivered, failed.

Options:
  --json            one JSON object per line
`,
  options: { ...configOption, ...jsonOption },
  positionals: { min: 1, max: 1 },
  run: (ctx) =>
    withServices(ctx, async ({ studies }) => {
      const events = await studies.timeline(ctx.positionals[0]);
      for (const e of events) {
        if (ctx.values.json) console.log(JSON.stringify(e));
        else console.log(`${e.at}\t${e.kind}\t${JSON.stringify(e.detail)}`);
      }
      return 0;
    }),
};
