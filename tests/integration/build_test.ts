import assert from "node:assert/strict";

const repo = new URL("../../", import.meta.url).pathname;

async function build(env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "scripts/build.ts"],
    cwd: repo,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { code: out.code, text };
}

Deno.test("build: a DENORT_BIN that does not exist is named and the build exits non-zero", async () => {
  const result = await build({ DENORT_BIN: "/nonexistent/denort" });
  assert.equal(result.code, 1);
  assert.match(result.text, /DENORT_BIN=\/nonexistent\/denort does not exist/);
});

Deno.test("build: produces dist/beeldpoort, or says clearly why it cannot", async () => {
  const result = await build({});
  if (result.code === 0) {
    assert.match(result.text, /wrote dist\/beeldpoort/);
    const version = await new Deno.Command(`${repo}dist/beeldpoort`, { args: ["version"] })
      .output();
    assert.match(new TextDecoder().decode(version.stdout), /^beeldpoort /);
  } else {
    assert.equal(result.code, 1);
    assert.match(result.text, /could not get the Deno runtime \(denort\)/);
    assert.match(result.text, /Set DENORT_BIN/);
  }
});
