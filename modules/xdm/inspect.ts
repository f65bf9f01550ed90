/** inspectXdm: the CLI's `xdm inspect FILE.zip`: every check as a line an operator can read. */
import { BeeldpoortError } from "../core/mod.ts";
import { readXdm } from "./read.ts";
import type { XdmLimits } from "./zip_read.ts";

export interface XdmCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface XdmInspection {
  ok: boolean;
  checks: XdmCheck[];
  /** Counts and transfer facts only: no patient data, so it can be printed and logged. */
  summary: {
    submissionSets: number;
    documents: number;
    dicomDocuments: number;
    manifests: number;
    bytes: number;
    transferId?: string;
    partNumber?: number;
    partCount?: number;
    studyInstanceUid?: string;
  };
}

const describe = (err: unknown) =>
  err instanceof BeeldpoortError ? `${err.name} (${err.code}): ${err.message}` : String(err);

/** Opens, parses and verifies an XDM zip; never throws for a bad package, reports instead. */
export async function inspectXdm(path: string, limits?: XdmLimits): Promise<XdmInspection> {
  const checks: XdmCheck[] = [];
  const summary: XdmInspection["summary"] = {
    submissionSets: 0,
    documents: 0,
    dicomDocuments: 0,
    manifests: 0,
    bytes: 0,
  };
  let pkg;
  try {
    pkg = await readXdm(path, limits);
  } catch (err) {
    checks.push({ name: "zip and METADATA.XML", ok: false, detail: describe(err) });
    return { ok: false, checks, summary };
  }
  try {
    checks.push({
      name: "zip structure",
      ok: true,
      detail:
        `${pkg.entryNames.length} entries; no traversal, absolute, symlink or duplicate names`,
    });
    summary.submissionSets = pkg.submissionSets.length;
    summary.documents = pkg.documents.length;
    summary.dicomDocuments = pkg.documents.filter((d) => d.mimeType === "application/dicom").length;
    summary.manifests = pkg.documents.filter((d) => d.isManifest).length;
    checks.push({
      name: "METADATA.XML",
      ok: true,
      detail: `${summary.submissionSets} submission set(s), ${summary.documents} document(s)`,
    });
    for (const name of ["README.TXT", "INDEX.HTM"]) {
      const present = pkg.entryNames.some((e) => e.toUpperCase() === name);
      checks.push({
        name,
        ok: present,
        detail: present ? "present" : "missing (ITI-32 requires it)",
      });
    }
    checks.push({
      name: "KOS manifest",
      ok: summary.manifests > 0,
      detail: summary.manifests > 0 ? `${summary.manifests} present` : "no KOS manifest listed",
    });
    if (pkg.transfer) {
      Object.assign(summary, pkg.transfer);
      checks.push({
        name: "transfer part",
        ok: true,
        detail:
          `transfer ${pkg.transfer.transferId}, part ${pkg.transfer.partNumber} of ${pkg.transfer.partCount}`,
      });
    }
    let failed = 0;
    for (const doc of pkg.documents) {
      try {
        for await (const chunk of pkg.openDocument(doc)) summary.bytes += chunk.length;
      } catch (err) {
        failed++;
        checks.push({ name: `document ${doc.entryName}`, ok: false, detail: describe(err) });
      }
    }
    checks.push({
      name: "document hashes and sizes",
      ok: failed === 0,
      detail: `${pkg.documents.length - failed} of ${pkg.documents.length} match METADATA.XML`,
    });
  } finally {
    pkg.close();
  }
  // README/INDEX are required of a creator; their absence is reported but does not fail a package.
  const ok = checks.every((c) => c.ok || c.name === "README.TXT" || c.name === "INDEX.HTM");
  return { ok, checks, summary };
}
