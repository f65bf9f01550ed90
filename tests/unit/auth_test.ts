import assert from "node:assert/strict";
import { fixedClock } from "../../modules/core/mod.ts";
import { migrateToLatest, openDatabase } from "../../modules/db/mod.ts";
import { createAuthService, SetupTokenInvalid, WeakPassword } from "../../modules/auth/mod.ts";

async function setup() {
  const database = openDatabase({ kind: "sqlite", path: ":memory:" });
  await migrateToLatest(database);
  const clock = fixedClock(new Date("2026-11-21T10:00:00Z"));
  return { database, clock, auth: createAuthService({ db: database.db, clock }) };
}

Deno.test("first-run setup token is single use, replaced by a newer one and creates the admin", async () => {
  const { database, auth } = await setup();
  assert.equal(await auth.hasAdmin(), false);
  const old = await auth.issueSetupToken();
  const token = await auth.issueSetupToken();
  assert.equal(await auth.checkSetupToken(old), false);
  await assert.rejects(auth.completeSetup(token, "beheer", "kort"), WeakPassword);
  const session = await auth.completeSetup(token, "beheer", "een lang wachtwoord");
  assert.equal(session.user.role, "admin");
  assert.equal(await auth.hasAdmin(), true);
  await assert.rejects(
    auth.completeSetup(token, "tweede", "een lang wachtwoord"),
    SetupTokenInvalid,
  );
  const row = await database.db.selectFrom("users").select("password_hash")
    .executeTakeFirstOrThrow();
  assert.match(row.password_hash, /^scrypt\$32768\$8\$1\$/);
  assert.ok(!row.password_hash.includes("een lang wachtwoord"));
  await database.close();
});

Deno.test("setup tokens expire after a day", async () => {
  const { database, auth, clock } = await setup();
  const token = await auth.issueSetupToken();
  clock.advance(24 * 3600_000 + 1);
  assert.equal(await auth.checkSetupToken(token), false);
  await assert.rejects(
    auth.completeSetup(token, "beheer", "een lang wachtwoord"),
    SetupTokenInvalid,
  );
  await database.close();
});

Deno.test("login, session lookup, expiry and logout", async () => {
  const { database, auth, clock } = await setup();
  await auth.createUser("zender", "een lang wachtwoord", "sender");
  assert.equal(await auth.login("zender", "verkeerd wachtwoord"), null);
  assert.equal(await auth.login("niemand", "een lang wachtwoord"), null);
  const session = await auth.login("zender", "een lang wachtwoord");
  assert.ok(session);
  const found = await auth.session(session.cookieValue);
  assert.equal(found?.user.username, "zender");
  assert.equal(found?.csrfToken, session.csrfToken);
  const stored = await database.db.selectFrom("sessions").select("id_hash").execute();
  assert.ok(stored.every((s) => s.id_hash !== session.cookieValue), "cookie value is not stored");

  await auth.logout(session.cookieValue);
  assert.equal(await auth.session(session.cookieValue), null);

  const second = await auth.login("zender", "een lang wachtwoord");
  clock.advance(12 * 3600_000);
  assert.equal(await auth.session(second!.cookieValue), null);
  await database.close();
});
