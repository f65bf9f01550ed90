import { readTransfer, readTransfers, type TransferStatus } from "../../modules/relay/mod.ts";
import { type Command, configOption, withServices } from "./command.ts";

function direction(value: unknown): "in" | "out" | undefined {
  return value === "in" || value === "out" ? value : undefined;
}

function summary(t: TransferStatus): string {
  const done = t.parts.filter((p) => p.state === "processed" || p.state === "stored").length;
  return [
    t.transferId,
    t.direction,
    t.state,
    t.peerUra ?? "-",
    t.peerAddress,
    `${done}/${t.partCount ?? "?"} parts`,
    `${t.instanceCount ?? 0} instances`,
    t.updatedAt,
  ].join("\t");
}

export const relayTransfersCommand: Command = {
  name: "relay transfers",
  summary: "list transfers to and from other gateways",
  help: `Usage: beeldpoort relay transfers [--direction in|out] [--state S] [--json] [--config FILE]

Lists the gateway-to-gateway transfers, newest first: id, direction, state (out: packing, sent,
delivered, imported, failed; in: receiving, received, imported), peer, parts acknowledged or
stored, instances. An outbound transfer's id is the id of its delivery job (\`jobs show\`). With
--json, one JSON object per line with parts and timeline (no patient data).

Options:
  --direction D     only "in" or "out"
  --state S         only transfers in state S
  --json            one JSON object per line
`,
  options: {
    ...configOption,
    direction: { type: "string" },
    state: { type: "string" },
    json: { type: "boolean" },
  },
  run: (ctx) =>
    withServices(ctx, async ({ database }) => {
      const transfers = await readTransfers(database.db, {
        direction: direction(ctx.values.direction),
        state: ctx.values.state as TransferStatus["state"] | undefined,
        limit: 1000,
      });
      for (const t of transfers) console.log(ctx.values.json ? JSON.stringify(t) : summary(t));
      return 0;
    }),
};

export const relayShowCommand: Command = {
  name: "relay show",
  summary: "show one transfer with its parts and timeline",
  help: `Usage: beeldpoort relay show TRANSFER_ID [--direction in|out] [--json] [--config FILE]

Prints a transfer (outbound unless --direction in; the other direction is tried when there is
none), its parts with state and attempts, and its timeline. Exits 1 when there is no such
transfer.

Options:
  --direction D     "in" or "out"
  --json            as one JSON object
`,
  options: { ...configOption, direction: { type: "string" }, json: { type: "boolean" } },
  positionals: { min: 1, max: 1 },
  run: (ctx) =>
    withServices(ctx, async ({ database }) => {
      const id = ctx.positionals[0];
      const first = direction(ctx.values.direction) ?? "out";
      const t = await readTransfer(database.db, id, first) ??
        (ctx.values.direction ? undefined : await readTransfer(database.db, id, "in"));
      if (!t) {
        console.error(`beeldpoort relay show: no transfer ${id}`);
        return 1;
      }
      if (ctx.values.json) {
        console.log(JSON.stringify(t));
        return 0;
      }
      console.log(summary(t));
      if (t.reason) console.log(`reason: ${t.reasonCode ?? ""} ${t.reason}`);
      for (const p of t.parts) {
        console.log(
          `  part ${p.partNumber}/${p.partCount}\t${p.state}\t${p.instanceCount} instances\t${p.bytes} bytes\t${p.attempts} attempt(s)\t${p.messageId}`,
        );
      }
      for (const e of t.events) {
        console.log(
          `  ${e.at}\t${e.kind}${e.partNumber ? ` part ${e.partNumber}` : ""}${
            e.detail ? `\t${e.detail}` : ""
          }`,
        );
      }
      return 0;
    }),
};
