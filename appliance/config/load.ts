import { ConfigError } from "../../modules/core/mod.ts";
import { type Config, configSchema, envNameFor } from "./schema.ts";
import { describeFound, parseEnvValue, validateField } from "./validate.ts";

/** Where the configuration came from, for messages and `--print-config`. */
export interface LoadedConfig {
  config: Config;
  /** The config file read, or null when only defaults and environment apply. */
  file: string | null;
}

const defaultConfigFile = "beeldpoort.json";

function setPath(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split(".");
  let node = target;
  for (const part of parts.slice(0, -1)) {
    node[part] ??= {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]] = value;
}

/** Flattens `{ http: { port: 1 } }` into `[["http.port", 1]]`, keeping non-object leaves. */
function flatten(value: unknown, prefix: string, out: [string, unknown][]): void {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) {
      flatten(v, prefix ? `${prefix}.${k}` : k, out);
    }
  } else {
    out.push([prefix, value]);
  }
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    throw new ConfigError("(file)", path, "a readable JSON file", String(error));
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError("(file)", path, "valid JSON", (error as Error).message);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new ConfigError("(root)", path, "a JSON object", describeFound(parsed));
  }
  return parsed as Record<string, unknown>;
}

/**
 * Builds the effective configuration: defaults, then the config file, then `BEELDPOORT_*`
 * environment variables. Throws ConfigError on the first bad value, before anything else starts.
 *
 * The file is `explicitFile`, else `$BEELDPOORT_CONFIG`, else `./beeldpoort.json` when present.
 *
 * @example
 * ```ts
 * const { config } = loadConfig({ env: { BEELDPOORT_HTTP__PORT: "8081" } });
 * ```
 */
export function loadConfig(
  options: { explicitFile?: string; env?: Record<string, string> } = {},
): LoadedConfig {
  const env = options.env ?? Deno.env.toObject();
  let file: string | null = options.explicitFile ?? env.BEELDPOORT_CONFIG ?? null;
  if (file === null) {
    try {
      Deno.statSync(defaultConfigFile);
      file = defaultConfigFile;
    } catch {
      file = null;
    }
  }

  const values = new Map<string, unknown>();
  for (const [key, spec] of Object.entries(configSchema)) values.set(key, spec.default);

  if (file !== null) {
    const entries: [string, unknown][] = [];
    flatten(readConfigFile(file), "", entries);
    for (const [key, raw] of entries) {
      const spec = configSchema[key];
      if (!spec) {
        throw new ConfigError(key, file, "a known key (see README: Configuration)", "unknown key");
      }
      values.set(key, validateField(key, spec, raw, file));
    }
  }

  const envNames = new Map(Object.keys(configSchema).map((key) => [envNameFor(key), key]));
  for (const [name, text] of Object.entries(env)) {
    if (!name.startsWith("BEELDPOORT_") || name === "BEELDPOORT_CONFIG") continue;
    const key = envNames.get(name);
    if (!key) {
      throw new ConfigError(name, "the environment", "a known BEELDPOORT_ variable", "unknown");
    }
    const spec = configSchema[key];
    values.set(key, validateField(key, spec, parseEnvValue(spec, text), `environment ${name}`));
  }

  const config: Record<string, unknown> = {};
  for (const [key, value] of values) setPath(config, key, value);
  return { config: config as unknown as Config, file };
}

/** The effective configuration as printable JSON, with secret values masked. */
export function printableConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const entries: [string, unknown][] = [];
  flatten(config, "", entries);
  for (const [key, value] of entries) {
    setPath(out, key, configSchema[key]?.secret ? "********" : value);
  }
  return out;
}
