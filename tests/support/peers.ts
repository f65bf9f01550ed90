/** Helpers for tests that talk to real peers (dcmtk, Orthanc, openssl, xmllint, chromium). */
import { hasCommand } from "../../scripts/system_packages.ts";

export { hasCommand };

/**
 * Whether a test must be skipped because `commands` are missing; prints the stated reason once.
 * Use as `Deno.test({ name, ignore: missing("storescu"), fn })`.
 */
export function missing(...commands: string[]): boolean {
  const absent = commands.filter((c) => !hasCommand(c));
  if (absent.length > 0) {
    console.log(
      `skipping: ${absent.join(", ")} not installed (run the test command as root to install)`,
    );
  }
  return absent.length > 0;
}

/** The shared reference folder beside the repository, or null on a stranger's machine. */
export function sharedReference(): string | null {
  const path = new URL("../../../shared/reference/", import.meta.url).pathname;
  try {
    if (Deno.statSync(path).isDirectory) return path;
  } catch {
    // absent on a stranger's machine
  }
  if (!warnedShared) {
    console.log(`skipping: ${path} is absent (the schemas live beside the repository, not in it)`);
    warnedShared = true;
  }
  return null;
}
let warnedShared = false;
