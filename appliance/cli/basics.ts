import { createLogger } from "../../modules/core/mod.ts";
import { printableConfig } from "../config/load.ts";
import { runDoctor } from "../doctor.ts";
import { initDataDirectory } from "../init.ts";
import { startAppliance } from "../serve.ts";
import { version } from "../version.ts";
import { type Command, configOption } from "./command.ts";

export const serveCommand: Command = {
  name: "serve",
  summary: "start the appliance (web UI; DICOM and mail as configured)",
  help: `Usage: beeldpoort serve [--config FILE] [--print-config]

Starts the appliance on the configured data directory, creating what is missing (master key,
self-signed web certificate, database). When no administrator exists yet, prints a one-time setup
URL. SIGINT or SIGTERM stop it gracefully.

Options:
  --print-config    print the effective configuration as JSON (secrets masked) and exit
`,
  options: { ...configOption, "print-config": { type: "boolean" } },
  async run(ctx) {
    const config = ctx.config();
    if (ctx.values["print-config"]) {
      console.log(JSON.stringify(printableConfig(config), null, 2));
      return 0;
    }
    const log = createLogger({ level: config.log.level });
    const appliance = await startAppliance(config, log);
    if (appliance.setupUrl) {
      console.log(
        `\nBeeldpoort is not set up yet. Open this one-time link to create the administrator:\n\n  ${appliance.setupUrl}\n`,
      );
    } else {
      console.log(`Beeldpoort is running: https://${config.http.host}:${appliance.httpPort}/`);
    }
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      Deno.addSignalListener(signal, () => {
        log.info("signal received", { signal });
        appliance.stop();
      });
    }
    await appliance.finished;
    return 0;
  },
};

export const initCommand: Command = {
  name: "init",
  summary: "prepare the data directory (keys, certificate, database) and exit",
  help: `Usage: beeldpoort init [--config FILE]

Creates the data directory (mode 700), the spool master key (mode 600), the self-signed web
certificate and the database, and applies migrations. Existing keys are never replaced.
`,
  options: configOption,
  async run(ctx) {
    const config = ctx.config();
    const log = createLogger({ level: config.log.level });
    const { paths, database, created } = await initDataDirectory(config, log);
    await database.close();
    console.log(
      created.length ? `Initialised ${paths.dir}` : `${paths.dir} was already initialised`,
    );
    return 0;
  },
};

export const doctorCommand: Command = {
  name: "doctor",
  summary: "check the installation and print what is wrong",
  help: `Usage: beeldpoort doctor [--config FILE]

Checks data directory permissions and filesystem, the spool master key, the database and its
migrations, the web certificate and its expiry, and whether the web and DICOM ports can be opened.
Changes nothing.
Exits 1 when a check fails.
`,
  options: configOption,
  async run(ctx) {
    const findings = await runDoctor(ctx.config());
    for (const f of findings) {
      console.log(`${f.status.toUpperCase().padEnd(4)}  ${f.check}: ${f.detail}`);
    }
    const failed = findings.filter((f) => f.status === "fail").length;
    console.log(failed ? `\n${failed} problem(s) found.` : "\nNo problems found.");
    return failed ? 1 : 0;
  },
};

export const versionCommand: Command = {
  name: "version",
  summary: "print the version",
  help: `Usage: beeldpoort version

Prints the version of Beeldpoort.
`,
  run() {
    console.log(`beeldpoort ${version} (deno ${Deno.version.deno})`);
    return Promise.resolve(0);
  },
};
