import assert from "node:assert/strict";
import { runCli, tempDir } from "../support/appliance.ts";

Deno.test("user add, list, disable and reset-totp from the CLI, each an audit event", async () => {
  using dir = tempDir();
  const cwd = dir.path;
  assert.equal((await runCli(["init"], { cwd })).code, 0);
  const added = await runCli(["user", "add", "zender", "--role", "sender"], { cwd });
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /^added zender \(sender\)\npassword: \S{20}\n$/);
  const badRole = await runCli(["user", "add", "x", "--role", "koning"], { cwd });
  assert.equal(badRole.code, 2);
  assert.equal(
    (await runCli(["user", "add", "dr.jansen", "--role", "caregiver", "--department", "SEH"], {
      cwd,
    })).code,
    0,
  );
  assert.equal((await runCli(["user", "disable", "zender"], { cwd })).code, 0);
  assert.equal((await runCli(["user", "reset-totp", "dr.jansen"], { cwd })).code, 0);
  const unknown = await runCli(["user", "disable", "niemand"], { cwd });
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no user niemand/);

  const listed = await runCli(["user", "list", "--json"], { cwd });
  const users = listed.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(
    users.map((u) => [u.username, u.role, u.disabled, u.totpEnrolled, u.department]),
    [["dr.jansen", "caregiver", false, false, "SEH"], ["zender", "sender", true, false, null]],
  );
  const audit = await runCli(["audit", "export"], { cwd });
  const changes = audit.stdout.trimEnd().split("\n").map((l) => JSON.parse(l))
    .filter((e) => e.action === "user-admin").map((e) => [e.object.id, e.detail.change]);
  assert.deepEqual(changes, [
    ["zender", "created"],
    ["dr.jansen", "created"],
    ["zender", "disabled"],
    ["dr.jansen", "totp reset"],
  ]);
});
