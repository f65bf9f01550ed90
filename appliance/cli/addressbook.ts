import {
  formatEntryDetails,
  formatSearchResultJson,
  importFhirBundle,
  type SyncRun,
} from "../../modules/addressbook/mod.ts";
import { type Command, configOption, withServices } from "./command.ts";

function printRun(run: SyncRun): void {
  const counts = `+${run.added} ~${run.changed} -${run.removed}` +
    (run.rejected ? `, ${run.rejected} refused` : "");
  console.log(`${run.source}\t${run.mode}\t${run.status}\t${counts}\t${run.durationMs} ms`);
  for (const problem of run.problems) console.log(`  ${JSON.stringify(problem)}`);
}

export const addressbookSyncCommand: Command = {
  name: "addressbook sync",
  summary: "synchronise the address book from its sources now",
  help: `Usage: beeldpoort addressbook sync [--full] [--config FILE]

Fetches care providers from every configured source (addressbook.fhirUrl, addressbook.ldapUrl,
addressbook.bundleFile) and updates the cached book. A source that fails keeps its last good copy;
the run is recorded with counts added/changed/removed and its errors. Exits 1 when a source failed.

Options:
  --full            a full sync (also removes organisations the source no longer lists)
`,
  options: { ...configOption, full: { type: "boolean" } },
  run: (ctx) =>
    withServices(ctx, async ({ addressBook }) => {
      const runs = await addressBook.sync({ full: !!ctx.values.full });
      if (runs.length === 0) console.log("no address-book sources configured");
      runs.forEach(printRun);
      return runs.some((r) => r.status === "failed") ? 1 : 0;
    }),
};

export const addressbookImportCommand: Command = {
  name: "addressbook import",
  summary: "import an mCSD FHIR Bundle (JSON) into the address book",
  help: `Usage: beeldpoort addressbook import FILE [--config FILE]

Imports the Organization, HealthcareService and Endpoint resources of an mCSD FHIR Bundle in JSON
(type searchset, collection or transaction), as a directory export gives them. Imported entries
rank below manual entries and above synchronised ones.
`,
  options: configOption,
  positionals: { min: 1, max: 1 },
  run: (ctx) =>
    withServices(ctx, async ({ addressBook }) => {
      const parsed = importFhirBundle(JSON.parse(Deno.readTextFileSync(ctx.positionals[0])));
      for (const problem of parsed.problems) console.log(`skipped: ${JSON.stringify(problem)}`);
      printRun(await addressBook.importEntries(parsed.entries));
      return 0;
    }),
};

export const addressbookSearchCommand: Command = {
  name: "addressbook search",
  summary: "search care providers by name, city, URA or department",
  help: `Usage: beeldpoort addressbook search TEXT [--json] [--limit N] [--config FILE]

Searches the cached address book; names match fuzzily with Dutch diacritics folded. With --json,
prints one JSON object per line with name, ura, address (the gateway's mail address), formats,
usable and, when not usable, reason.

Options:
  --json            one JSON object per line
  --limit N         at most N results (default 20)
`,
  options: { ...configOption, json: { type: "boolean" }, limit: { type: "string" } },
  positionals: { min: 1, max: 1 },
  run: (ctx) =>
    withServices(ctx, async ({ addressBook }) => {
      const limit = ctx.values.limit ? Number(ctx.values.limit) : 20;
      for (const entry of await addressBook.search(ctx.positionals[0], { limit })) {
        const line = formatSearchResultJson(entry);
        if (ctx.values.json) console.log(JSON.stringify(line));
        else {
          const usable = line.usable ? "bruikbaar" : `niet bruikbaar: ${line.reason}`;
          console.log(`${line.ura}\t${line.name}\t${line.address ?? "-"}\t${usable}`);
        }
      }
      return 0;
    }),
};

export const addressbookShowCommand: Command = {
  name: "addressbook show",
  summary: "show one care provider with endpoints and certificates",
  help: `Usage: beeldpoort addressbook show URA [--config FILE]

Prints the entry for URA: departments, endpoints (mail address, formats, maximum message size,
encryption), certificates with validity, and whether it can be chosen as a recipient and why not.
Exits 1 when the URA is not in the book.
`,
  options: configOption,
  positionals: { min: 1, max: 1 },
  run: (ctx) =>
    withServices(ctx, async ({ addressBook }) => {
      const entry = await addressBook.get(ctx.positionals[0]);
      if (!entry) {
        console.error(
          `beeldpoort addressbook show: no care provider with URA ${ctx.positionals[0]}`,
        );
        return 1;
      }
      console.log(formatEntryDetails(entry));
      return 0;
    }),
};
