import assert from "node:assert/strict";
import { configSchema } from "../../appliance/config/schema.ts";

const readme = Deno.readTextFileSync(new URL("../../README.md", import.meta.url));

Deno.test("README documents every configuration key with its default", () => {
  for (const [key, spec] of Object.entries(configSchema)) {
    const row = readme.split("\n").find((line) => line.startsWith(`| \`${key}\` `));
    assert.ok(row, `README has no row for ${key}`);
    if (typeof spec.default === "string" && spec.default !== "") {
      assert.ok(row.includes(`\`${spec.default}\``), `README default of ${key}`);
    }
    if (typeof spec.default === "number") assert.ok(row.includes(`\`${spec.default}\``), key);
  }
});

Deno.test("README gives the two commands and CI runs exactly the test command", () => {
  assert.match(readme, /npx -y deno@2\.9\.6 task start/);
  assert.match(readme, /npx -y deno@2\.9\.6 task test/);
  const ci = Deno.readTextFileSync(new URL("../../.ci/run", import.meta.url));
  assert.match(ci, /^exec npx -y deno@2\.9\.6 task test$/m);
});
