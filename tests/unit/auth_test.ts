import assert from "node:assert/strict";
import { fixedClock } from "../../modules/core/mod.ts";
import { migrateToLatest, openDatabase } from "../../modules/db/mod.ts";
import {
  base32Decode,
  base32Encode,
  createAuthService,
  decideAccess,
  lockoutDelayMs,
  passwordProblem,
  SetupTokenInvalid,
  totpCode,
  TotpCodeWrong,
  WeakPassword,
} from "../../modules/auth/mod.ts";

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
  assert.equal(session.stage, "enrol", "an admin enrols TOTP before anything else");
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

Deno.test("password policy: length, the user name, common passwords", () => {
  assert.equal(passwordProblem("elf tekens!"), "too_short");
  assert.equal(passwordProblem("beheer-is-de-baas", "beheer"), "contains_username");
  assert.equal(passwordProblem("Wachtwoord123"), "too_common");
  assert.equal(passwordProblem("aaaaaaaaaaaaaaaa"), "too_common");
  assert.equal(passwordProblem("paard batterij nietje", "beheer"), null);
});

Deno.test("TOTP matches the RFC 6238 appendix B vectors (SHA-1) and base32 round-trips", () => {
  const secret = base32Encode(new TextEncoder().encode("12345678901234567890"));
  assert.equal(secret, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  assert.deepEqual(new TextDecoder().decode(base32Decode(secret)), "12345678901234567890");
  const vectors: [number, string][] = [
    [59, "94287082"],
    [1111111109, "07081804"],
    [1111111111, "14050471"],
    [1234567890, "89005924"],
    [2000000000, "69279037"],
    [20000000000, "65353130"],
  ];
  for (const [seconds, code] of vectors) {
    assert.equal(totpCode(secret, new Date(seconds * 1000), 8), code, `T=${seconds}`);
  }
});

Deno.test("login, session lookup, absolute and idle expiry, logout and logout everywhere", async () => {
  const { database, auth, clock } = await setup();
  await auth.createUser("zender", "een lang wachtwoord", "sender");
  assert.equal((await auth.login("zender", "verkeerd wachtwoord")).kind, "failed");
  assert.equal((await auth.login("niemand", "een lang wachtwoord")).kind, "failed");
  const result = await auth.login("zender", "een lang wachtwoord");
  assert.equal(result.kind, "session");
  const session = result.kind === "session" ? result.session : assert.fail();
  assert.equal(session.stage, "full");
  const found = await auth.session(session.cookieValue);
  assert.equal(found?.user.username, "zender");
  assert.equal(found?.csrfToken, session.csrfToken);
  const stored = await database.db.selectFrom("sessions").select("id_hash").execute();
  assert.ok(stored.every((s) => s.id_hash !== session.cookieValue), "cookie value is not stored");
  await auth.logout(session.cookieValue);
  assert.equal(await auth.session(session.cookieValue), null);

  // idle: 29 minutes between requests keeps it alive for hours; 30 minutes ends it
  const busy = await auth.login("zender", "een lang wachtwoord");
  const cookie = busy.kind === "session" ? busy.session.cookieValue : assert.fail();
  for (let i = 0; i < 8; i++) {
    clock.advance(29 * 60_000);
    assert.ok(await auth.session(cookie), `request ${i} within the idle time`);
  }
  clock.advance(30 * 60_000);
  assert.equal(await auth.session(cookie), null, "30 minutes idle ends the session");

  // absolute: however busy, 12 hours after sign-in it ends
  const long = await auth.login("zender", "een lang wachtwoord");
  const longCookie = long.kind === "session" ? long.session.cookieValue : assert.fail();
  for (let elapsed = 0; elapsed < 12 * 60; elapsed += 20) {
    assert.ok(await auth.session(longCookie), `${elapsed} minutes in`);
    clock.advance(20 * 60_000);
  }
  assert.equal(await auth.session(longCookie), null, "12 hours after sign-in it ends");

  const a = await auth.login("zender", "een lang wachtwoord");
  const b = await auth.login("zender", "een lang wachtwoord");
  const user = a.kind === "session" ? a.session.user : assert.fail();
  assert.equal(await auth.logoutEverywhere(user.id), 2);
  for (const r of [a, b]) {
    assert.equal(await auth.session(r.kind === "session" ? r.session.cookieValue : ""), null);
  }
  await database.close();
});

Deno.test("brute force: five failures lock the account with doubling backoff, even for the right password", async () => {
  const { database, auth, clock } = await setup();
  await auth.createUser("zender", "een lang wachtwoord", "sender");
  for (let i = 1; i <= 4; i++) {
    assert.equal((await auth.login("zender", `fout wachtwoord ${i}`)).kind, "failed");
  }
  const fifth = await auth.login("zender", "fout wachtwoord 5");
  assert.equal(fifth.kind, "locked");
  assert.equal(
    fifth.kind === "locked" ? fifth.until.getTime() - clock.now().getTime() : 0,
    60_000,
  );
  assert.equal((await auth.login("zender", "een lang wachtwoord")).kind, "locked");
  clock.advance(60_000);
  const sixth = await auth.login("zender", "fout wachtwoord 6");
  assert.equal(sixth.kind === "locked" && sixth.until.getTime() - clock.now().getTime(), 120_000);
  clock.advance(120_000);
  assert.equal((await auth.login("zender", "een lang wachtwoord")).kind, "session");
  // success resets the counter: the next failure is free again
  assert.equal((await auth.login("zender", "fout wachtwoord 7")).kind, "failed");
  assert.deepEqual(
    [4, 5, 6, 7, 11, 30].map((n) => lockoutDelayMs(n)),
    [0, 60_000, 120_000, 240_000, 3600_000, 3600_000],
  );
  await database.close();
});

Deno.test("TOTP: an admin enrols, then signs in with password and code; codes are not reusable", async () => {
  const { database, auth, clock } = await setup();
  await auth.createUser("beheer", "een lang wachtwoord", "admin");
  const first = await auth.login("beheer", "een lang wachtwoord");
  const enrolCookie = first.kind === "session" && first.session.stage === "enrol"
    ? first.session.cookieValue
    : assert.fail("admin without TOTP must enrol");
  const { secret, uri } = auth.newTotpEnrolment("beheer");
  assert.match(uri, new RegExp(`^otpauth://totp/Beeldpoort:beheer\\?secret=${secret}&issuer=`));
  await assert.rejects(
    auth.confirmTotpEnrolment(enrolCookie, secret, "000000"),
    TotpCodeWrong,
  );
  const full = await auth.confirmTotpEnrolment(enrolCookie, secret, totpCode(secret, clock.now()));
  assert.equal(full.stage, "full");
  assert.equal(await auth.session(enrolCookie), null, "the half-way cookie is replaced");

  clock.advance(60_000);
  const second = await auth.login("beheer", "een lang wachtwoord");
  const cookie = second.kind === "session" && second.session.stage === "totp"
    ? second.session.cookieValue
    : assert.fail("enrolled user owes a code");
  assert.equal((await auth.session(cookie))?.stage, "totp");
  assert.equal((await auth.verifyTotp(cookie, "123456")).kind, "failed");
  const code = totpCode(secret, clock.now());
  const ok = await auth.verifyTotp(cookie, code);
  assert.equal(ok.kind === "session" && ok.session.stage, "full");

  const third = await auth.login("beheer", "een lang wachtwoord");
  const again = third.kind === "session" ? third.session.cookieValue : assert.fail();
  assert.equal((await auth.verifyTotp(again, code)).kind, "failed", "the same code twice");

  await auth.resetTotp("beheer");
  const afterReset = await auth.login("beheer", "een lang wachtwoord");
  assert.equal(afterReset.kind === "session" && afterReset.session.stage, "enrol");
  await database.close();
});

Deno.test("route access: public, roles, half-way sessions sent on, others forbidden", () => {
  const session = (role: "admin" | "sender", stage: "full" | "totp" | "enrol") => ({
    csrfToken: "x",
    stage,
    user: { id: "1", username: "u", role },
  });
  assert.deepEqual(decideAccess("public", null), { kind: "allow" });
  assert.deepEqual(decideAccess({ roles: ["sender"] }, null), { kind: "sign-in" });
  assert.deepEqual(decideAccess({ roles: ["sender"] }, session("sender", "full")), {
    kind: "allow",
  });
  assert.deepEqual(decideAccess({ roles: ["admin"] }, session("sender", "full")), {
    kind: "forbidden",
  });
  assert.deepEqual(decideAccess({ roles: ["admin"] }, session("admin", "totp")), {
    kind: "continue",
    stage: "totp",
  });
  assert.deepEqual(
    decideAccess({ roles: ["admin"], stages: ["totp"] }, session("admin", "full")),
    { kind: "forbidden" },
  );
});
