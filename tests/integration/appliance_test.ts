import assert from "node:assert/strict";
import { clientTrusting, freePort, runCli, startAppliance, tempDir } from "../support/appliance.ts";
import { checkRevocationLists } from "../../appliance/doctor.ts";
import { missing } from "../support/peers.ts";
import { createTestPki } from "../support/smime_pki.ts";

Deno.test("serve on a fresh directory creates keys, database and certificate, and answers /healthz", async () => {
  using dir = tempDir();
  const app = await startAppliance(dir.path);
  try {
    assert.match(app.setupUrl ?? "", /^https:\/\/127\.0\.0\.1:\d+\/setup\?token=[\w-]{43}$/);
    const key = Deno.statSync(`${dir.path}/data/keys/master.key`);
    assert.equal(key.size, 32);
    assert.equal(key.mode! & 0o777, 0o600);
    assert.equal(Deno.statSync(`${dir.path}/data`).mode! & 0o777, 0o700);
    using client = clientTrusting(`${dir.path}/data`);
    const response = await fetch(`${app.baseUrl}/healthz`, { client });
    assert.equal(response.status, 200);
    const body = await response.json();
    assert.equal(body.status, "ok");
    assert.equal(body.database, "ok");
    assert.equal(body.version, "0.1.0");
    assert.equal(typeof body.uptimeSeconds, "number");
    assert.match(response.headers.get("content-security-policy") ?? "", /default-src 'self'/);
  } finally {
    await app.stop();
  }
});

Deno.test("SIGTERM and SIGINT stop the appliance gracefully with exit code 0", async () => {
  using dir = tempDir();
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    const app = await startAppliance(dir.path);
    const status = await app.stop(signal);
    assert.equal(status.code, 0, app.output().stderr);
    const log = app.output().stderr;
    assert.match(log, new RegExp(`"signal received","signal":"${signal}"`));
    assert.match(log, /"msg":"stopped"/);
  }
});

Deno.test("a second start reuses the data directory: same key, no new setup of existing files", async () => {
  using dir = tempDir();
  const first = await startAppliance(dir.path);
  await first.stop();
  const key = Deno.readFileSync(`${dir.path}/data/keys/master.key`);
  const cert = Deno.readTextFileSync(`${dir.path}/data/tls/web.crt`);
  const second = await startAppliance(dir.path);
  await second.stop();
  assert.deepEqual(Deno.readFileSync(`${dir.path}/data/keys/master.key`), key);
  assert.equal(Deno.readTextFileSync(`${dir.path}/data/tls/web.crt`), cert);
  assert.doesNotMatch(second.output().stderr, /"msg":"created"/);
  assert.doesNotMatch(second.output().stderr, /database migrated/);
});

Deno.test("a corrupted config file stops start-up with the file named and no port opened", async () => {
  using dir = tempDir();
  const port = freePort();
  Deno.writeTextFileSync(`${dir.path}/beeldpoort.json`, '{ "http": { "port": 8443, }');
  const result = await runCli(["serve"], {
    cwd: dir.path,
    env: { BEELDPOORT_HTTP__PORT: String(port) },
  });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /beeldpoort\.json: expected valid JSON, found/);
  assert.throws(() => Deno.statSync(`${dir.path}/data`), Deno.errors.NotFound);

  Deno.writeTextFileSync(`${dir.path}/beeldpoort.json`, '{ "http": { "port": "achtduizend" } }');
  const typed = await runCli(["serve"], { cwd: dir.path });
  assert.equal(typed.code, 1);
  assert.match(
    typed.stderr,
    /configuration key "http\.port" in beeldpoort\.json: expected an integer from 0 to 65535, found string "achtduizend"/,
  );
});

Deno.test("a port another process holds stops start-up with its key and address named", async () => {
  using dir = tempDir();
  for (const key of ["HTTP", "DICOM"]) {
    using held = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (held.addr as Deno.NetAddr).port;
    const result = await runCli(["serve"], {
      cwd: dir.path,
      env: {
        BEELDPOORT_HTTP__HOST: "127.0.0.1",
        BEELDPOORT_HTTP__PORT: String(key === "HTTP" ? port : freePort()),
        BEELDPOORT_DICOM__HOST: "127.0.0.1",
        BEELDPOORT_DICOM__PORT: String(key === "DICOM" ? port : freePort()),
        BEELDPOORT_MAIL__PORT: "0",
      },
    });
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(`beeldpoort: ${key.toLowerCase()}\\.port 127\\.0\\.0\\.1:${port} is in use`),
    );
    assert.doesNotMatch(result.stderr, /Uncaught/);
  }
});

Deno.test("a bad environment override names the variable's key and the variable", async () => {
  using dir = tempDir();
  const result = await runCli(["serve", "--print-config"], {
    cwd: dir.path,
    env: { BEELDPOORT_SPOOL__DURABILITY: "sometimes" },
  });
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /"spool\.durability" in environment BEELDPOORT_SPOOL__DURABILITY: expected one of "fsync", "os", found string "sometimes"/,
  );
});

Deno.test("serve --print-config prints the effective configuration with overrides applied", async () => {
  using dir = tempDir();
  Deno.writeTextFileSync(`${dir.path}/site.json`, JSON.stringify({ dicom: { aeTitle: "ZHA_GW" } }));
  const result = await runCli(["serve", "--print-config"], {
    cwd: dir.path,
    env: {
      BEELDPOORT_CONFIG: "site.json",
      BEELDPOORT_HTTP__PORT: "8081",
      BEELDPOORT_DICOM__ALLOWEDSENDERS: "CT1,MR2",
    },
  });
  assert.equal(result.code, 0, result.stderr);
  const config = JSON.parse(result.stdout);
  assert.equal(config.http.port, 8081);
  assert.equal(config.dicom.aeTitle, "ZHA_GW");
  assert.deepEqual(config.dicom.allowedSenders, ["CT1", "MR2"]);
  assert.equal(config.data.dir, "./data");
  assert.throws(() => Deno.statSync(`${dir.path}/data`), Deno.errors.NotFound);
});

Deno.test("doctor passes on an initialised directory and names a missing key file", async () => {
  using dir = tempDir();
  const env = {
    BEELDPOORT_HTTP__PORT: String(freePort()),
    BEELDPOORT_DICOM__PORT: String(freePort()),
  };
  const init = await runCli(["init"], { cwd: dir.path, env });
  assert.equal(init.code, 0, init.stderr);
  const healthy = await runCli(["doctor"], { cwd: dir.path, env });
  assert.equal(healthy.code, 0, healthy.stdout);
  assert.match(healthy.stdout, /No problems found/);
  assert.match(healthy.stdout, /ok\s+encryption: OpenSSL \(libcrypto\.so/i);
  assert.match(healthy.stdout, /ok\s+study retention: 30 days after a study's last activity/i);
  // ok or warn by the disk this runs on (tests/unit/spool_filesystem_test.ts), never a failure.
  assert.match(healthy.stdout, /^(OK|WARN)\s+data filesystem: \S+/m);
  const keepAll = await runCli(["doctor"], {
    cwd: dir.path,
    env: { ...env, BEELDPOORT_STUDIES__RETENTIONDAYS: "0" },
  });
  assert.equal(keepAll.code, 0, keepAll.stdout); // a warning, not a failure
  assert.match(keepAll.stdout, /WARN\s+study retention: studies\.retentionDays is 0/);
  const fallback = await runCli(["doctor"], {
    cwd: dir.path,
    env: { ...env, BP_DEV_CRYPTO: "node" },
  });
  assert.equal(fallback.code, 0, fallback.stdout); // a warning, not a failure
  assert.match(fallback.stdout, /WARN\s+encryption: node:crypto fallback, much slower/);

  Deno.removeSync(`${dir.path}/data/keys/master.key`);
  const broken = await runCli(["doctor"], { cwd: dir.path, env });
  assert.equal(broken.code, 1);
  assert.match(
    broken.stdout,
    /FAIL\s+spool master key: missing key file .*data\/keys\/master\.key/,
  );
});

Deno.test("doctor reports a port in use and a world-writable data directory", async () => {
  using dir = tempDir();
  const init = await runCli(["init"], { cwd: dir.path });
  assert.equal(init.code, 0, init.stderr);
  Deno.chmodSync(`${dir.path}/data`, 0o777);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const busy = (listener.addr as Deno.NetAddr).port;
    const result = await runCli(["doctor"], {
      cwd: dir.path,
      env: { BEELDPOORT_HTTP__PORT: String(busy), BEELDPOORT_DICOM__PORT: String(freePort()) },
    });
    assert.equal(result.code, 1);
    assert.match(result.stdout, /FAIL\s+web UI port: 127\.0\.0\.1:\d+ is in use/);
    assert.match(
      result.stdout,
      /FAIL\s+data directory: .* writable by group or others \(mode 777\)/,
    );
  } finally {
    listener.close();
  }
});

Deno.test("every command answers --help, and version prints the version", async () => {
  for (const command of ["serve", "init", "doctor", "version"]) {
    const result = await runCli([command, "--help"]);
    assert.equal(result.code, 0, command);
    assert.match(result.stdout, new RegExp(`^Usage: beeldpoort ${command}`), command);
  }
  const version = await runCli(["version"]);
  assert.match(version.stdout, /^beeldpoort 0\.1\.0 \(deno 2\.9\.6\)/);
  const unknown = await runCli(["frobnicate"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
});

Deno.test({
  name: "doctor reads each relay.crlFiles list: revocations and next update, out of date, unusable",
  ignore: missing("openssl"),
  fn: async () => {
    using dir = tempDir();
    const pki = await createTestPki();
    try {
      const leaf = await pki.issue("revoked-leaf", { email: "x@zkh-x.example" });
      await pki.ca.revoke(leaf);
      const crl = await pki.ca.crl();
      const garbage = `${dir.path}/not-a-crl.pem`;
      Deno.writeTextFileSync(garbage, "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n");
      const [fresh, broken, absent] = checkRevocationLists(
        [crl, garbage, `${dir.path}/absent.crl`],
        new Date(),
      );
      assert.equal(fresh.status, "ok", fresh.detail);
      assert.match(fresh.detail, /^1 revoked, next update \d{4}-/);
      assert.equal(broken.status, "fail");
      assert.match(broken.detail, /cannot be used: /);
      assert.equal(absent.status, "fail");
      const [late] = checkRevocationLists([crl], new Date(Date.now() + 31 * 86400_000));
      assert.equal(late.status, "warn");
      assert.match(late.detail, /^out of date since .*: fetch it again$/);
    } finally {
      await pki.cleanup();
    }
  },
});
