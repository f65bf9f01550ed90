import type { ParseArgsConfig } from "node:util";
import { createLogger } from "../../modules/core/mod.ts";
import type { Config } from "../config/schema.ts";
import { openServices, type Services } from "../services.ts";

/** What a command gets when it runs. */
export interface CommandContext {
  /** Parsed option values (strings and booleans as declared). */
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  /** Loads the configuration (defaults, file from --config or the environment, overrides). */
  config(): Config;
}

/** One CLI command, e.g. `serve` or `studies list`. Names are part of the operator contract. */
export interface Command {
  name: string;
  summary: string;
  /** The full --help text, starting with "Usage: beeldpoort <name>". */
  help: string;
  options?: ParseArgsConfig["options"];
  /** Exact number of positional arguments, or a range. */
  positionals?: { min: number; max: number };
  run(ctx: CommandContext): Promise<number>;
}

/** The --config option most commands share. */
export const configOption = { config: { type: "string" } } as const;

/** Runs `work` with the services open, and closes them after; returns its exit code. */
export async function withServices(
  ctx: CommandContext,
  work: (services: Services) => Promise<number>,
): Promise<number> {
  const config = ctx.config();
  const services = await openServices(config, createLogger({ level: config.log.level }));
  try {
    return await work(services);
  } finally {
    await services.close();
  }
}
