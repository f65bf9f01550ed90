import { createLogger } from "../../modules/core/mod.ts";
import { openServices } from "../services.ts";
import { type Command, configOption } from "./command.ts";
import { cliActor } from "./user.ts";

export const auditVerifyCommand: Command = {
  name: "audit verify",
  summary: "check the audit trail's hash chain",
  help: `Usage: beeldpoort audit verify [--config FILE]

Walks the audit trail from its oldest row and recomputes every hash. Prints "audit trail intact"
with the number of events, or each problem with its row number: a row changed after it was written,
a row that does not follow the one before it, or rows that were removed. Exit status 1 on any.
`,
  options: configOption,
  async run(ctx) {
    const services = await openServices(ctx.config(), createLogger({ level: "warn" }));
    try {
      const report = await services.audit.verify();
      if (report.ok) {
        console.log(
          `audit trail intact: ${report.checked} events (rows ${report.firstSeq ?? "-"}..${
            report.lastSeq ?? "-"
          })`,
        );
      } else {
        console.log(`audit trail BROKEN: ${report.problems.length} problem(s)`);
        for (const p of report.problems) console.log(`${p.kind}\trow ${p.seq}\t${p.message}`);
      }
      await services.audit.record({
        action: "audit-read",
        outcome: report.ok ? "success" : "failure",
        actor: cliActor(),
        detail: { command: "verify", problems: report.problems.length },
      });
      return report.ok ? 0 : 1;
    } finally {
      await services.close();
    }
  },
};

export const auditExportCommand: Command = {
  name: "audit export",
  summary: "write the audit trail as JSON lines or DICOM audit messages",
  help: `Usage: beeldpoort audit export [--format jsonl|atna] [--out FILE] [--config FILE]

Writes every audit event, oldest first, to standard output or FILE: as JSON lines (default) or as
DICOM audit messages (PS3.15 A.5, the IHE ATNA format), one XML document per line.

Options:
  --format F        jsonl (default) or atna
  --out FILE        write to FILE instead of standard output
`,
  options: { ...configOption, format: { type: "string" }, out: { type: "string" } },
  async run(ctx) {
    const format = String(ctx.values.format ?? "jsonl");
    if (format !== "jsonl" && format !== "atna") {
      console.error("beeldpoort audit export: --format must be jsonl or atna");
      return 2;
    }
    const services = await openServices(ctx.config(), createLogger({ level: "warn" }));
    try {
      const out = ctx.values.out
        ? (await Deno.open(String(ctx.values.out), { write: true, create: true, truncate: true }))
          .writable
        : Deno.stdout.writable;
      // export first, then record that it happened (the export ends with the event before it)
      await services.audit.export(format).pipeTo(out, { preventClose: !ctx.values.out });
      await services.audit.record({
        action: "audit-read",
        outcome: "success",
        actor: cliActor(),
        detail: { command: "export", format },
      });
      return 0;
    } finally {
      await services.close();
    }
  },
};
