/** Helpers for the routing integration tests and the forward benchmark: an appliance set up with
 * one destination and one rule, and polling of its CLI. */
import { dicomEnv, freePort, runCli, startAppliance } from "./appliance.ts";
import type { ApplianceProcess } from "./appliance.ts";

/** Environment for a fast appliance: loopback DICOM, any sender, short quiet period and retries. */
export function routingEnv(dicomPort: number, extra: Record<string, string> = {}) {
  return {
    ...dicomEnv(dicomPort, "*"),
    BEELDPOORT_SPOOL__DURABILITY: "os",
    BEELDPOORT_STUDIES__QUIETPERIODSECONDS: "1",
    BEELDPOORT_STUDIES__CHECKINTERVALMS: "100",
    BEELDPOORT_TRANSFER__RETRYBASESECONDS: "1",
    BEELDPOORT_TRANSFER__LEASESECONDS: "2",
    BEELDPOORT_TRANSFER__BREAKERFAILURES: "20",
    ...extra,
  };
}

/** Runs a CLI command in `cwd` and throws with its output when it fails. */
export async function cli(cwd: string, env: Record<string, string>, ...args: string[]) {
  const result = await runCli(args, { cwd, env });
  if (result.code !== 0) {
    throw new Error(`beeldpoort ${args.join(" ")}: exit ${result.code}\n${result.stderr}`);
  }
  return result.stdout;
}

/** Initialises the data directory, adds destination DEST and one rule, starts the appliance. */
export async function applianceWithRule(
  cwd: string,
  options: {
    destination: { aeTitle: string; port: number; associations?: number };
    rule: Record<string, unknown>;
    env?: Record<string, string>;
  },
): Promise<{ app: ApplianceProcess; dicomPort: number; env: Record<string, string> }> {
  const dicomPort = freePort();
  const env = routingEnv(dicomPort, options.env);
  await cli(cwd, env, "init");
  const d = options.destination;
  await cli(
    cwd,
    env,
    "destinations",
    "add",
    "DEST",
    d.aeTitle,
    "127.0.0.1",
    String(d.port),
    "--associations",
    String(d.associations ?? 1),
  );
  Deno.writeTextFileSync(`${cwd}/rule.json`, JSON.stringify(options.rule));
  await cli(cwd, env, "rules", "add", `${cwd}/rule.json`);
  const app = await startAppliance(cwd, env);
  return { app, dicomPort, env };
}

/** A job as `jobs list --json` prints it. */
export interface ListedJob {
  id: string;
  state: string;
  attempts: number;
  destination: string;
  items: { total: number; done: number };
  payload: Record<string, unknown>;
}

/** The jobs of a study, oldest first. */
export async function jobsOf(cwd: string, env: Record<string, string>, studyUid: string) {
  const out = await cli(cwd, env, "jobs", "list", "--json", "--study", studyUid);
  return out.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as ListedJob).reverse();
}

/** Polls `probe` every 100 ms until it returns a value, or throws after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
}
