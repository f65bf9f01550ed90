import { join } from "node:path";
import { createLogger, systemClock } from "../../modules/core/mod.ts";
import { openServices } from "../services.ts";
import { createStudyRetention } from "../study_retention.ts";
import { type Command, configOption } from "./command.ts";

export const studiesListCommand: Command = {
  name: "studies list",
  summary: "list the indexed studies",
  help: `Usage: beeldpoort studies list [--json] [--limit N] [--config FILE]

Lists the studies in the index, most recently received first. With --json, prints one JSON object
per line with studyInstanceUid, patientId, instances, bytes, state, modalities, callingAe and the
receive times. The table (without --json) leaves patient names out.

Options:
  --json            one JSON object per line
  --limit N         at most N studies (default 1000)
`,
  options: { ...configOption, json: { type: "boolean" }, limit: { type: "string" } },
  async run(ctx) {
    const config = ctx.config();
    const services = await openServices(config, createLogger({ level: "warn" }));
    try {
      const limit = ctx.values.limit ? Number(ctx.values.limit) : 1000;
      const studies = await services.studies.listStudies({ limit });
      if (ctx.values.json) {
        for (const s of studies) {
          const { patientName: _name, ...rest } = s;
          console.log(JSON.stringify(rest));
        }
        return 0;
      }
      console.log(
        ["STUDY INSTANCE UID", "PATIENT ID", "INSTANCES", "MB", "STATE", "RECEIVED"].join("\t"),
      );
      for (const s of studies) {
        console.log([
          s.studyInstanceUid,
          s.patientId,
          s.instances,
          (s.bytes / 1e6).toFixed(1),
          s.state,
          s.lastReceivedAt,
        ].join("\t"));
      }
      return 0;
    } finally {
      await services.close();
    }
  },
};

export const studiesExportCommand: Command = {
  name: "studies export",
  summary: "write a study's DICOM files, decrypted, to a directory",
  help: `Usage: beeldpoort studies export STUDY_UID DIR [--config FILE]

Writes every instance of the study as a Part-10 file named <SOPInstanceUID>.dcm into DIR (created
when missing), decrypted and byte for byte as stored. Each file is checked against the SHA-256
recorded when it arrived. This is also the fallback to burn a study to media by hand.
`,
  options: configOption,
  positionals: { min: 2, max: 2 },
  async run(ctx) {
    const [studyUid, dir] = ctx.positionals;
    const config = ctx.config();
    const services = await openServices(config, createLogger({ level: "warn" }));
    try {
      const instances = await services.studies.studyInstances(studyUid);
      if (instances.length === 0) {
        console.error(`beeldpoort studies export: no study ${studyUid} in the index`);
        return 1;
      }
      Deno.mkdirSync(dir, { recursive: true });
      let bytes = 0;
      for (const [i, instance] of instances.entries()) {
        const path = join(dir, `${instance.sopInstanceUid}.dcm`);
        const file = await Deno.open(path, { write: true, create: true, truncate: true });
        await (await services.spool.get(instance.spoolId)).pipeTo(file.writable);
        bytes += instance.size;
        Deno.stderr.writeSync(new TextEncoder().encode(`\r${i + 1}/${instances.length} files`));
      }
      console.error("");
      console.log(`exported ${instances.length} files (${(bytes / 1e6).toFixed(1)} MB) to ${dir}`);
      return 0;
    } finally {
      await services.close();
    }
  },
};

export const studiesRetentionCommand: Command = {
  name: "studies retention",
  summary: "remove the studies past studies.retentionDays now, or show which would go",
  help: `Usage: beeldpoort studies retention [--dry-run] [--days N] [--config FILE]

Does now what the running appliance does every hour: removes each study on which nothing has
happened for studies.retentionDays days (its images from the spool, the study from the index, one
audit event each), unless one of its jobs is open or a patient link to it is valid. Prints one line
per study past the period: removed (or, with --dry-run, would be removed) or kept and why.

Options:
  --dry-run         remove nothing; show what would go
  --days N          use N days instead of studies.retentionDays (e.g. to free disk space now)
`,
  options: { ...configOption, "dry-run": { type: "boolean" }, days: { type: "string" } },
  async run(ctx) {
    const config = ctx.config();
    const days = ctx.values.days === undefined
      ? config.studies.retentionDays
      : Number(ctx.values.days);
    if (ctx.values.days === undefined && days === 0) {
      console.error(
        "beeldpoort studies retention: studies.retentionDays is 0 (keep all); give --days N to remove older studies",
      );
      return 2;
    }
    if (!Number.isInteger(days) || days < 1) {
      console.error("beeldpoort studies retention: --days takes a whole number of days from 1");
      return 2;
    }
    const log = createLogger({ level: "warn" });
    const services = await openServices(config, log);
    try {
      const dryRun = Boolean(ctx.values["dry-run"]);
      const retention = createStudyRetention({
        db: services.database.db,
        spool: services.spool,
        audit: services.audit,
        clock: systemClock,
        log,
        retentionDays: days,
      });
      const gone = dryRun ? "would be removed" : "removed";
      const sweep = await retention.sweep({
        dryRun,
        onStudy: (s) =>
          console.log(
            s.kept
              ? `${s.studyInstanceUid}\tkept: ${s.kept}`
              : `${s.studyInstanceUid}\t${gone}: ${s.instances} instances, ${
                (s.bytes! / 1e6).toFixed(1)
              } MB`,
          ),
      });
      const jobs = dryRun ? "" : `, ${sweep.jobs} finished jobs of no study removed`;
      console.log(
        `${sweep.removed} studies ${gone} (${(sweep.bytes / 1e6).toFixed(1)} MB), ` +
          `${sweep.kept} kept${jobs}; retention ${days} days`,
      );
      return 0;
    } finally {
      await services.close();
    }
  },
};
