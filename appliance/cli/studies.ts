import { join } from "node:path";
import { createLogger } from "../../modules/core/mod.ts";
import { openServices } from "../services.ts";
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
