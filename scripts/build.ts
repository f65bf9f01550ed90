/**
 * `deno task build`: compiles the appliance into one binary, dist/beeldpoort.
 *
 * `deno compile` needs the Deno runtime (denort) of the same version. It downloads it from Deno's
 * release server unless DENORT_BIN names a local copy. Where neither works, this says so plainly
 * and exits non-zero instead of leaving a half-built dist/.
 */
import { v8FlagsArgument } from "../appliance/runtime_flags.ts";

const output = "dist/beeldpoort";
const denort = Deno.env.get("DENORT_BIN");
if (denort) {
  try {
    Deno.statSync(denort);
  } catch {
    console.error(`build: DENORT_BIN=${denort} does not exist`);
    Deno.exit(1);
  }
}

Deno.mkdirSync("dist", { recursive: true });
const result = await new Deno.Command(Deno.execPath(), {
  args: [
    "compile",
    "-A",
    v8FlagsArgument(), // baked into the binary: it starts with the same heap settings
    "--include",
    "ui/static",
    "--output",
    output,
    "appliance/main.ts",
  ],
  env: { NO_COLOR: "1" },
  stdout: "inherit",
  stderr: "piped",
}).output();

const stderr = new TextDecoder().decode(result.stderr);
if (result.success) {
  await Deno.stderr.write(result.stderr);
  console.log(`build: wrote ${output} (${(Deno.statSync(output).size / 1e6).toFixed(0)} MB)`);
  Deno.exit(0);
}
if (/denort|dl\.deno\.land|download|dns|connect/i.test(stderr) && !denort) {
  console.error(
    [
      "build: deno compile could not get the Deno runtime (denort) it embeds into the binary.",
      "It downloads it from Deno's release server, which this machine cannot reach.",
      `Set DENORT_BIN to a local denort ${Deno.version.deno} binary and run the build again,`,
      "or run the appliance with `npx -y deno@2.9.6 task start` instead.",
      "",
      "deno compile said:",
      stderr.trim().split("\n").slice(0, 6).join("\n"),
    ].join("\n"),
  );
} else {
  console.error(`build: deno compile failed:\n${stderr}`);
}
Deno.exit(1);
