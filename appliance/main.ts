import { parseArgs } from "node:util";
import { BeeldpoortError } from "../modules/core/mod.ts";
import {
  addressbookImportCommand,
  addressbookSearchCommand,
  addressbookShowCommand,
  addressbookSyncCommand,
} from "./cli/addressbook.ts";
import { auditExportCommand, auditVerifyCommand } from "./cli/audit.ts";
import { doctorCommand, initCommand, serveCommand, versionCommand } from "./cli/basics.ts";
import type { Command } from "./cli/command.ts";
import {
  destinationsAddCommand,
  destinationsEchoCommand,
  destinationsListCommand,
  destinationsRemoveCommand,
  jobsCancelCommand,
  jobsListCommand,
  jobsRedirectCommand,
  jobsRetryCommand,
  jobsShowCommand,
  rulesAddCommand,
  rulesDisableCommand,
  rulesEnableCommand,
  rulesListCommand,
  rulesTestCommand,
  studiesTimelineCommand,
} from "./cli/routing.ts";
import { relayShowCommand, relayTransfersCommand } from "./cli/relay.ts";
import { smimeOpenCommand, smimeSealCommand } from "./cli/smime.ts";
import {
  studiesExportCommand,
  studiesListCommand,
  studiesRetentionCommand,
} from "./cli/studies.ts";
import {
  userAddCommand,
  userDisableCommand,
  userListCommand,
  userResetTotpCommand,
} from "./cli/user.ts";
import { xdmInspectCommand, xdmPackCommand } from "./cli/xdm.ts";
import { loadConfig } from "./config/load.ts";
import { version } from "./version.ts";

/** Every command; `beeldpoort <name> --help` prints its help. */
const commands: Command[] = [
  serveCommand,
  initCommand,
  doctorCommand,
  versionCommand,
  studiesListCommand,
  studiesExportCommand,
  studiesRetentionCommand,
  studiesTimelineCommand,
  rulesListCommand,
  rulesAddCommand,
  rulesTestCommand,
  rulesDisableCommand,
  rulesEnableCommand,
  destinationsListCommand,
  destinationsAddCommand,
  destinationsEchoCommand,
  destinationsRemoveCommand,
  jobsListCommand,
  jobsShowCommand,
  jobsRetryCommand,
  jobsCancelCommand,
  jobsRedirectCommand,
  relayTransfersCommand,
  relayShowCommand,
  xdmPackCommand,
  xdmInspectCommand,
  smimeSealCommand,
  smimeOpenCommand,
  addressbookSyncCommand,
  addressbookImportCommand,
  addressbookSearchCommand,
  addressbookShowCommand,
  userAddCommand,
  userListCommand,
  userDisableCommand,
  userResetTotpCommand,
  auditVerifyCommand,
  auditExportCommand,
];

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return `beeldpoort ${version}: gateway for exchanging imaging studies between hospitals

Usage: beeldpoort <command> [options]

Commands:
${commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join("\n")}

Run \`beeldpoort <command> --help\` for the options of a command.
Configuration: --config FILE, else $BEELDPOORT_CONFIG, else ./beeldpoort.json when present;
every key can be overridden by BEELDPOORT_<SECTION>__<KEY> (e.g. BEELDPOORT_HTTP__PORT=8081).
`;
}

/** A command's help with the options every command shares appended. */
function fullHelp(command: Command): string {
  let text = command.help.trimEnd();
  if (!/\nOptions:/.test(text)) text += "\n\nOptions:";
  if (command.options && "config" in command.options) {
    text += "\n  --config FILE     configuration file (JSON)";
  }
  return text + "\n  -h, --help        this help\n";
}

/** Finds the command named by the first one or two words of `argv`. */
function findCommand(argv: string[]): { command: Command; rest: string[] } | null {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(" ");
    const command = commands.find((c) => c.name === name);
    if (command) return { command, rest: argv.slice(words) };
  }
  return null;
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || ["help", "--help", "-h"].includes(argv[0])) {
    console.log(usage());
    return argv.length === 0 ? 2 : 0;
  }
  const found = findCommand(argv);
  if (!found) {
    console.error(`beeldpoort: unknown command "${argv.slice(0, 2).join(" ")}"\n\n${usage()}`);
    return 2;
  }
  const { command, rest } = found;
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...command.options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
    });
  } catch (error) {
    console.error(
      `beeldpoort ${command.name}: ${(error as Error).message}\n\n${fullHelp(command)}`,
    );
    return 2;
  }
  if (parsed.values.help) {
    console.log(fullHelp(command));
    return 0;
  }
  const { min, max } = command.positionals ?? { min: 0, max: 0 };
  if (parsed.positionals.length < min || parsed.positionals.length > max) {
    console.error(`beeldpoort ${command.name}: wrong number of arguments\n\n${fullHelp(command)}`);
    return 2;
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  return await command.run({
    values,
    positionals: parsed.positionals,
    config: () => loadConfig({ explicitFile: values.config as string | undefined }).config,
  });
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
