import assert from "node:assert/strict";
import { ConfigError } from "../../modules/core/mod.ts";
import { loadConfig, printableConfig } from "../../appliance/config/load.ts";
import { configSchema, envNameFor } from "../../appliance/config/schema.ts";
import { tempDir } from "../support/appliance.ts";

function writeConfig(dir: string, value: unknown): string {
  const path = `${dir}/config.json`;
  Deno.writeTextFileSync(path, typeof value === "string" ? value : JSON.stringify(value));
  return path;
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  assert.fail("expected a ConfigError");
}

Deno.test("defaults apply when there is no file and no environment", () => {
  const { config, file } = loadConfig({ explicitFile: undefined, env: {} });
  assert.equal(file === null || file === "beeldpoort.json", true);
  assert.equal(config.http.host, "127.0.0.1");
  assert.equal(config.http.port, 8443);
  assert.equal(config.dicom.aeTitle, "BEELDPOORT");
  assert.deepEqual(config.dicom.allowedSenders, []);
  assert.equal(config.spool.durability, "fsync");
});

Deno.test("the file overrides defaults and the environment overrides the file", () => {
  using dir = tempDir();
  const path = writeConfig(dir.path, {
    http: { port: 9000, host: "0.0.0.0" },
    dicom: { aeTitle: "ZH_GW" },
  });
  const { config, file } = loadConfig({
    explicitFile: path,
    env: { BEELDPOORT_HTTP__PORT: "9100", BEELDPOORT_DICOM__ALLOWEDSENDERS: '["CT1","*"]' },
  });
  assert.equal(file, path);
  assert.equal(config.http.port, 9100);
  assert.equal(config.http.host, "0.0.0.0");
  assert.equal(config.dicom.aeTitle, "ZH_GW");
  assert.deepEqual(config.dicom.allowedSenders, ["CT1", "*"]);
});

Deno.test("BEELDPOORT_CONFIG names the file", () => {
  using dir = tempDir();
  const path = writeConfig(dir.path, { log: { level: "debug" } });
  const { config, file } = loadConfig({ env: { BEELDPOORT_CONFIG: path } });
  assert.equal(file, path);
  assert.equal(config.log.level, "debug");
});

Deno.test("a bad value names key, file, expectation and what was found", () => {
  using dir = tempDir();
  const cases: [unknown, string, RegExp][] = [
    [{ http: { port: 70000 } }, "http.port", /an integer from 0 to 65535, found number 70000/],
    [{ http: { port: 80.5 } }, "http.port", /found number 80\.5/],
    [{ dicom: { aeTitle: "THIS_IS_LONGER_THAN_16" } }, "dicom.aeTitle", /AE title \(1-16/],
    [{ dicom: { aeTitle: "BACK\\SLASH" } }, "dicom.aeTitle", /no backslash/],
    [{ dicom: { allowedSenders: "CT1" } }, "dicom.allowedSenders", /found string "CT1"/],
    [{ dicom: { allowedSenders: ["CT1", ""] } }, "dicom.allowedSenders", /a list of AE titles/],
    [{ spool: { durability: "never" } }, "spool.durability", /one of "fsync", "os"/],
    [{ data: { dir: 5 } }, "data.dir", /found number 5/],
    [{ htp: { port: 1 } }, "htp.port", /expected a known key .* found unknown key/],
  ];
  for (const [value, key, message] of cases) {
    const path = writeConfig(dir.path, value);
    const error = configError(() => loadConfig({ explicitFile: path, env: {} }));
    assert.equal(error.key, key);
    assert.equal(error.source, path);
    assert.match(error.message, message);
    assert.ok(error.message.includes(path));
  }
});

Deno.test("broken JSON and a non-object root are named", () => {
  using dir = tempDir();
  const broken = configError(() =>
    loadConfig({ explicitFile: writeConfig(dir.path, '{"http": {'), env: {} })
  );
  assert.equal(broken.expected, "valid JSON");
  const array = configError(() =>
    loadConfig({ explicitFile: writeConfig(dir.path, "[1]"), env: {} })
  );
  assert.equal(array.key, "(root)");
  const absent = configError(() => loadConfig({ explicitFile: `${dir.path}/nope.json`, env: {} }));
  assert.equal(absent.expected, "a readable JSON file");
});

Deno.test("environment values are typed and unknown BEELDPOORT_ variables refused", () => {
  const bad = configError(() => loadConfig({ env: { BEELDPOORT_HTTP__PORT: "80a" } }));
  assert.equal(bad.key, "http.port");
  assert.equal(bad.source, "environment BEELDPOORT_HTTP__PORT");
  assert.match(bad.found, /string "80a"/);
  const unknown = configError(() => loadConfig({ env: { BEELDPOORT_HTTP__PROT: "1" } }));
  assert.equal(unknown.key, "BEELDPOORT_HTTP__PROT");
  const { config } = loadConfig({ env: { BEELDPOORT_DICOM__ALLOWEDSENDERS: " CT1 , MR2 " } });
  assert.deepEqual(config.dicom.allowedSenders, ["CT1", "MR2"]);
});

Deno.test("every key has an environment name in the documented form", () => {
  assert.equal(envNameFor("http.port"), "BEELDPOORT_HTTP__PORT");
  assert.equal(envNameFor("data.dir"), "BEELDPOORT_DATA__DIR");
  for (const key of Object.keys(configSchema)) {
    assert.match(envNameFor(key), /^BEELDPOORT_[A-Z]+(__[A-Z]+)+$/);
  }
});

Deno.test("printable config masks secret keys", () => {
  const { config } = loadConfig({ env: {} });
  configSchema["http.tlsKeyFile"].secret = true;
  try {
    const printed = printableConfig({ ...config, http: { ...config.http, tlsKeyFile: "/k.pem" } });
    assert.equal((printed.http as Record<string, unknown>).tlsKeyFile, "********");
    assert.equal((printed.http as Record<string, unknown>).port, 8443);
  } finally {
    delete configSchema["http.tlsKeyFile"].secret;
  }
});
