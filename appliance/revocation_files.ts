/**
 * The CRL files of `relay.crlFiles`, read again whenever one changes on disk (the hospital's own
 * job downloads its CAs' lists; no restart needed). A file that is missing or cannot be parsed
 * keeps the lists it last gave, with an error in the log: a failed download must not quietly
 * forget a revocation.
 */
import type { Logger } from "../modules/core/mod.ts";
import { parseRevocationLists, type RevocationList } from "../modules/smime/mod.ts";

/** `relay.crlFiles` split into paths. */
export function crlPaths(setting: string): string[] {
  return setting.split(",").map((p) => p.trim()).filter(Boolean);
}

export function revocationFiles(paths: readonly string[], log: Logger) {
  const files = new Map<string, { stamp: string; lists: RevocationList[] }>();

  async function refresh(path: string): Promise<void> {
    let stamp: string;
    try {
      const info = await Deno.stat(path);
      stamp = `${info.mtime?.getTime()}:${info.size}`;
    } catch (error) {
      if (files.get(path)?.stamp !== "missing") {
        log.error("CRL file unreadable; its last lists stay in use", { path, error });
      }
      files.set(path, { stamp: "missing", lists: files.get(path)?.lists ?? [] });
      return;
    }
    if (files.get(path)?.stamp === stamp) return;
    try {
      const lists = parseRevocationLists(await Deno.readFile(path));
      files.set(path, { stamp, lists });
      log.info("CRL file read", {
        path,
        lists: lists.length,
        revoked: lists.reduce((n, l) => n + l.revoked.size, 0),
        nextUpdate: lists.map((l) => l.nextUpdate?.toISOString() ?? null),
      });
    } catch (error) {
      log.error("CRL file cannot be parsed; its last lists stay in use", { path, error });
      files.set(path, { stamp, lists: files.get(path)?.lists ?? [] });
    }
  }

  return {
    /** The lists of every file as it is on disk now. */
    async current(): Promise<RevocationList[]> {
      for (const path of paths) await refresh(path);
      return [...files.values()].flatMap((f) => f.lists);
    },
  };
}
