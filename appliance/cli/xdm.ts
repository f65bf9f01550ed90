import { BeeldpoortError } from "../../modules/core/mod.ts";
import { inspectXdm } from "../../modules/xdm/mod.ts";
import type { Config } from "../config/schema.ts";
import { packStudyDirectory } from "../study_directory.ts";
import { type Command, configOption } from "./command.ts";

/** The sender's identity is not configured, so no package can name its author. */
export class SenderNotConfigured extends BeeldpoortError {
  readonly code = "SENDER_NOT_CONFIGURED";
}

function sender(config: Config) {
  const { ura, name, mailAddress } = config.organization;
  if (!ura || !mailAddress) {
    throw new SenderNotConfigured(
      "set organization.ura and organization.mailAddress in the configuration (the sender of every package)",
    );
  }
  return { ura, organizationName: name || `URA ${ura}`, email: mailAddress };
}

export const xdmPackCommand: Command = {
  name: "xdm pack",
  summary: "pack a folder with one study into IHE XDM zip file(s)",
  help:
    `Usage: beeldpoort xdm pack --study-dir DIR --to ADDRESS --out FILE.zip [--report FILE] [--note TEXT]

Packs every DICOM Part-10 file under DIR (one study) as IHE XDM: README.TXT, INDEX.HTM,
IHE_XDM/SUBSET01/METADATA.XML, the images with a Key Object Selection manifest, the report and the
note. When the study is larger than xdm.partSizeBytes it becomes several complete packages,
FILE.part01ofNN.zip and so on, each carrying the transfer id, its part number and the part count.
The sender is organization.ura / organization.mailAddress from the configuration.

Options:
  --study-dir DIR   folder with the study's Part-10 files (searched recursively)
  --to ADDRESS      mail address of the receiving gateway (intendedRecipient)
  --out FILE.zip    where to write the package
  --report FILE     report to include (.pdf, .txt, or .dcm for a DICOM SR / encapsulated PDF)
  --note TEXT       free text for the receiving caregiver (reason for referral, addressee)
  --bsn BSN         the patient's BSN when the DICOM headers do not carry it
  --part-size BYTES override xdm.partSizeBytes
`,
  options: {
    ...configOption,
    "study-dir": { type: "string" },
    to: { type: "string" },
    out: { type: "string" },
    report: { type: "string" },
    note: { type: "string" },
    bsn: { type: "string" },
    "part-size": { type: "string" },
  },
  async run(ctx) {
    const { values } = ctx;
    for (const required of ["study-dir", "to", "out"]) {
      if (typeof values[required] !== "string") {
        console.error(`beeldpoort xdm pack: --${required} is required\n\n${this.help}`);
        return 2;
      }
    }
    const config = ctx.config();
    const result = await packStudyDirectory(values["study-dir"] as string, {
      out: values.out as string,
      reportPath: values.report as string | undefined,
      note: values.note as string | undefined,
      patient: values.bsn ? { bsn: values.bsn as string } : undefined,
      sender: sender(config),
      recipient: { email: values.to as string },
      partSizeBytes: values["part-size"] ? Number(values["part-size"]) : config.xdm.partSizeBytes,
    });
    for (const part of result.parts) {
      const note = part.oversized ? "  (one instance larger than the part size)" : "";
      console.log(
        `${part.path}\tpart ${part.partNumber}/${part.partCount}\t${part.bytes} bytes${note}`,
      );
    }
    console.log(
      `transfer ${result.transferId}: ${result.instanceCount} instances in ${result.parts.length} part(s)`,
    );
    return 0;
  },
};

export const xdmInspectCommand: Command = {
  name: "xdm inspect",
  summary: "check an XDM zip and print every check",
  help: `Usage: beeldpoort xdm inspect FILE.zip

Opens an XDM package (ours or anyone's) and runs every check: zip structure (no path traversal,
absolute paths, symlinks, duplicate names or zip bombs), METADATA.XML present and valid, every
document's size and SHA-1 as listed. Prints a summary without patient data and one line per check.
Exits 1 when any check fails.
`,
  positionals: { min: 1, max: 1 },
  async run(ctx) {
    const inspection = await inspectXdm(ctx.positionals[0]);
    console.log(JSON.stringify(inspection.summary));
    for (const check of inspection.checks) {
      console.log(`${check.ok ? "OK  " : "FAIL"}  ${check.name}: ${check.detail}`);
    }
    return inspection.ok ? 0 : 1;
  },
};
