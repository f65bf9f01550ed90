/** The house rules, enforced in CI: deno check, lint and fmt stay clean across the repository. */
import assert from "node:assert/strict";

const repo = new URL("../../", import.meta.url).pathname;

async function deno(args: string[]): Promise<{ code: number; output: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: repo,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, output: decode(out.stdout) + decode(out.stderr) };
}

Deno.test("deno check passes for every entry point, including code only the CLI runs", async () => {
  const result = await deno(["check", "appliance/", "modules/", "ui/", "scripts/", "tests/"]);
  assert.equal(result.code, 0, result.output.slice(-3000));
});

Deno.test("deno lint is clean", async () => {
  const result = await deno(["lint"]);
  assert.equal(result.code, 0, result.output.slice(-3000));
});

Deno.test("deno fmt --check is clean", async () => {
  const result = await deno(["fmt", "--check"]);
  assert.equal(result.code, 0, result.output.slice(-3000));
});

Deno.test("a module imports only its own files and other modules' mod.ts, never appliance/ or ui/", () => {
  const modules = `${repo}modules/`;
  const problems: string[] = [];
  const walk = (dir: string, module: string) => {
    for (const entry of Deno.readDirSync(dir)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) walk(path, module);
      if (!entry.isFile || !entry.name.endsWith(".ts")) continue;
      for (const [, spec] of Deno.readTextFileSync(path).matchAll(/from\s+"(\.[^"]+)"/g)) {
        const target = new URL(spec, `file://${path}`).pathname;
        const own = target.startsWith(`${modules}${module}/`);
        const otherFace = /^[a-z]+\/mod\.ts$/.test(target.slice(modules.length));
        if (!own && !otherFace) problems.push(`${path.slice(repo.length)} imports ${spec}`);
      }
    }
  };
  for (const entry of Deno.readDirSync(modules)) {
    if (entry.isDirectory) walk(`${modules}${entry.name}`, entry.name);
  }
  assert.deepEqual(problems, []);
});
