import assert from "node:assert/strict";
import { v8FlagsArgument } from "../../appliance/runtime_flags.ts";
import { applianceRunFlags } from "../../scripts/peers/process.ts";

const denoJson = JSON.parse(
  Deno.readTextFileSync(new URL("../../deno.json", import.meta.url)),
) as { tasks: Record<string, string> };

Deno.test("deno task start runs the appliance with its V8 settings", () => {
  const start = denoJson.tasks.start.split(" ");
  assert.ok(start.includes(v8FlagsArgument()), denoJson.tasks.start);
  assert.ok(start.indexOf(v8FlagsArgument()) < start.indexOf("appliance/main.ts"));
});

Deno.test("appliances started by tests merge BP_DEV_RUN_FLAGS' V8 flags into one --v8-flags", () => {
  const before = Deno.env.get("BP_DEV_RUN_FLAGS");
  try {
    Deno.env.set("BP_DEV_RUN_FLAGS", "--v8-flags=--prof,--logfile=/tmp/p.log --inspect");
    assert.deepEqual(applianceRunFlags(), [
      "--inspect",
      v8FlagsArgument(["--prof", "--logfile=/tmp/p.log"]),
    ]);
    Deno.env.delete("BP_DEV_RUN_FLAGS");
    assert.deepEqual(applianceRunFlags(), [v8FlagsArgument()]);
  } finally {
    if (before === undefined) Deno.env.delete("BP_DEV_RUN_FLAGS");
    else Deno.env.set("BP_DEV_RUN_FLAGS", before);
  }
});
