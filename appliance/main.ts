import { parseArgs } from "node:util";
import { BeeldpoortError, createLogger } from "../modules/core/mod.ts";
import { loadConfig, printableConfig } from "./config/load.ts";
import { runDoctor } from "./doctor.ts";
import { initDataDirectory } from "./init.ts";
import { startAppliance } from "./serve.ts";
import { version } from "./version.ts";

const usage = `beeldpoort ${version}: gateway for exchanging imaging studies between hospitals

Usage: beeldpoort <command> [options]

Commands:
  serve     start the appliance (web UI; DICOM and mail as configured)
  init      prepare the data directory (keys, certificate, database) and exit
  doctor    check the installation and print what is wrong
  version   print the version

Run \`beeldpoort <command> --help\` for the options of a command.
Configuration: --config FILE, else $BEELDPOORT_CONFIG, else ./beeldpoort.json when present;
every key can be overridden by BEELDPOORT_<SECTION>__<KEY> (e.g. BEELDPOORT_HTTP__PORT=8081).
`;

const commandHelp: Record<string, string> = {
  serve: `Usage: beeldpoort serve [--config FILE] [--print-config]

Starts the appliance on the configured data directory, creating what is missing (master key,
self-signed web certificate, database). When no administrator exists yet, prints a one-time setup
URL. SIGINT or SIGTERM stop it gracefully.

Options:
  --config FILE     configuration file (JSON)
  --print-config    print the effective configuration as JSON (secrets masked) and exit
  -h, --help        this help
`,
  init: `Usage: beeldpoort init [--config FILE]

Creates the data directory (mode 700), the spool master key (mode 600), the self-signed web
certificate and the database, and applies migrations. Existing keys are never replaced.

Options:
  --config FILE     configuration file (JSON)
  -h, --help        this help
`,
  doctor: `Usage: beeldpoort doctor [--config FILE]

Checks data directory permissions, the spool master key, the database and its migrations, the web
certificate and its expiry, and whether the web and DICOM ports can be opened. Changes nothing.
Exits 1 when a check fails.

Options:
  --config FILE     configuration file (JSON)
  -h, --help        this help
`,
  version: `Usage: beeldpoort version

Prints the version of Beeldpoort.
`,
};

function parse(args: string[]) {
  return parseArgs({
    args,
    options: {
      config: { type: "string" },
      "print-config": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: false,
  }).values;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === "help" || command === "--help" || command === "-h") {
    console.log(usage);
    return command ? 0 : 2;
  }
  if (!(command in commandHelp)) {
    console.error(`beeldpoort: unknown command "${command}"\n\n${usage}`);
    return 2;
  }
  let options: ReturnType<typeof parse>;
  try {
    options = parse(rest);
  } catch (error) {
    console.error(`beeldpoort ${command}: ${(error as Error).message}\n\n${commandHelp[command]}`);
    return 2;
  }
  if (options.help) {
    console.log(commandHelp[command]);
    return 0;
  }
  if (command === "version") {
    console.log(`beeldpoort ${version} (deno ${Deno.version.deno})`);
    return 0;
  }

  const { config, file } = loadConfig({ explicitFile: options.config });
  const log = createLogger({ level: config.log.level });

  switch (command) {
    case "serve": {
      if (options["print-config"]) {
        console.log(JSON.stringify(printableConfig(config), null, 2));
        return 0;
      }
      log.info("configuration loaded", { file: file ?? "(defaults and environment)" });
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
    }
    case "init": {
      const { paths, database, created } = await initDataDirectory(config, log);
      await database.close();
      console.log(
        created.length ? `Initialised ${paths.dir}` : `${paths.dir} was already initialised`,
      );
      return 0;
    }
    case "doctor": {
      const findings = await runDoctor(config);
      for (const f of findings) {
        console.log(`${f.status.toUpperCase().padEnd(4)}  ${f.check}: ${f.detail}`);
      }
      const failed = findings.filter((f) => f.status === "fail").length;
      console.log(failed ? `\n${failed} problem(s) found.` : "\nNo problems found.");
      return failed ? 1 : 0;
    }
  }
  return 2;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    if (error instanceof BeeldpoortError) {
      console.error(`beeldpoort: ${error.message}`);
      Deno.exit(1);
    }
    throw error;
  }
}

export { main };
