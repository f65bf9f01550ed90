/**
 * Who may do what over HTTP: one table lists every route with the roles that may use it, and the
 * test drives each route as each role (and anonymously) against the real HTTP app.
 */
import assert from "node:assert/strict";
import { createHttpApp } from "../../appliance/http.ts";
import { routePolicies } from "../../ui/policy.ts";
import { createAuditTrail } from "../../modules/audit/mod.ts";
import { createAuthService, type Role, totpCode } from "../../modules/auth/mod.ts";
import { createLogger, fixedClock } from "../../modules/core/mod.ts";
import { migrateToLatest, openDatabase } from "../../modules/db/mod.ts";
import { createStudyIndex } from "../../modules/studies/mod.ts";
import { facesForTest } from "../support/ui_faces.ts";

const origin = "https://bp.test";
const password = "een lang wachtwoord";
const studyUid = "2.25.4711";
const forbiddenText = "U heeft geen toegang tot deze pagina.";

/** Every route, a concrete request for it, and exactly who may use it ("public": anyone). */
const expected: {
  route: string;
  path?: string;
  form?: Record<string, string>;
  allowed: "public" | Role[];
  /** Allowed use ends the session (and so also redirects to /login). */
  signsOut?: true;
}[] = [
  { route: "GET /healthz", allowed: "public" },
  { route: "GET /static/:name", path: "/static/app.css", allowed: "public" },
  { route: "GET /", allowed: "public" },
  { route: "GET /setup", allowed: "public" },
  { route: "POST /setup", form: { token: "wrong" }, allowed: "public" },
  { route: "GET /login", allowed: "public" },
  { route: "POST /login", form: { username: "x", password: "y" }, allowed: "public" },
  // only for a session that has passed the password and owes a code
  { route: "GET /login/totp", allowed: [] },
  { route: "POST /login/totp", form: { code: "000000" }, allowed: [] },
  { route: "GET /totp/enrol", allowed: ["admin", "sender", "caregiver", "auditor"] },
  {
    route: "POST /totp/enrol",
    form: { secret: "JBSWY3DPEHPK3PXP", code: "000000" },
    allowed: ["admin", "sender", "caregiver", "auditor"],
  },
  { route: "POST /logout", allowed: ["admin", "sender", "caregiver", "auditor"], signsOut: true },
  {
    route: "POST /logout/all",
    allowed: ["admin", "sender", "caregiver", "auditor"],
    signsOut: true,
  },
  { route: "GET /dashboard", allowed: ["admin", "sender"] },
  { route: "GET /studies/:uid", path: `/studies/${studyUid}`, allowed: ["admin", "sender"] },
  { route: "GET /portal", allowed: ["caregiver"] },
  { route: "GET /audit", allowed: ["auditor"] },
  { route: "GET /users", allowed: ["admin"] },
  {
    route: "POST /users",
    form: { username: "nieuw", role: "sender", password },
    allowed: ["admin"],
  },
  { route: "POST /users/:username/disable", path: "/users/ander/disable", allowed: ["admin"] },
  {
    route: "POST /users/:username/reset-totp",
    path: "/users/ander/reset-totp",
    allowed: ["admin"],
  },
  { route: "GET /studies", path: "/studies?patientId=ROL", allowed: ["admin", "sender"] },
  {
    route: "GET /studies/:uid/progress.json",
    path: `/studies/${studyUid}/progress.json`,
    allowed: ["admin", "sender"],
  },
  { route: "GET /send", path: `/send?study=${studyUid}&q=x`, allowed: ["sender"] },
  { route: "GET /api/recipients", path: "/api/recipients?q=x", allowed: ["sender"] },
  { route: "POST /send/review", form: { study: studyUid }, allowed: ["sender"] },
  { route: "POST /send", form: { study: studyUid }, allowed: ["sender"] },
  { route: "POST /studies/:uid/resend", path: `/studies/${studyUid}/resend`, allowed: ["sender"] },
  { route: "POST /jobs/:id/retry", path: "/jobs/none/retry", allowed: ["admin", "sender"] },
  { route: "POST /jobs/:id/cancel", path: "/jobs/none/cancel", allowed: ["admin", "sender"] },
  { route: "POST /jobs/:id/redirect", path: "/jobs/none/redirect", allowed: ["admin", "sender"] },
  { route: "POST /studies/:uid/links", path: `/studies/${studyUid}/links`, allowed: ["sender"] },
  { route: "POST /links/:id/revoke", path: "/links/none/revoke", allowed: ["sender"] },
  { route: "GET /settings", allowed: ["admin"] },
  { route: "POST /settings/destinations", form: { name: "bad name" }, allowed: ["admin"] },
  {
    route: "POST /settings/destinations/:name/echo",
    path: "/settings/destinations/none/echo",
    allowed: ["admin"],
  },
  { route: "POST /settings/rules", form: { rule: "{" }, allowed: ["admin"] },
  {
    route: "POST /settings/rules/:id/toggle",
    path: "/settings/rules/none/toggle",
    allowed: ["admin"],
  },
  { route: "POST /settings/addressbook/sync", allowed: ["admin"] },
  {
    route: "GET /portal/studies/:uid",
    path: `/portal/studies/${studyUid}`,
    allowed: ["caregiver"],
  },
  {
    route: "POST /portal/studies/:uid/reconcile",
    path: `/portal/studies/${studyUid}/reconcile`,
    allowed: ["caregiver"],
  },
  {
    route: "POST /portal/studies/:uid/import",
    path: `/portal/studies/${studyUid}/import`,
    allowed: ["caregiver"],
  },
  {
    route: "GET /portal/studies/:uid/download",
    path: `/portal/studies/${studyUid}/download`,
    allowed: ["caregiver"],
  },
  // patient links: no sign-in, the token and the PIN decide
  { route: "GET /p/:token", path: "/p/unknown", allowed: "public" },
  { route: "POST /p/:token", path: "/p/unknown", form: { pin: "000000" }, allowed: "public" },
  { route: "GET /p/:token/download", path: "/p/unknown/download", allowed: "public" },
  { route: "GET /p/:token/report", path: "/p/unknown/report", allowed: "public" },
  { route: "GET /p/:token/preview/:n", path: "/p/unknown/preview/0", allowed: "public" },
];

async function setup() {
  const database = openDatabase({ kind: "sqlite", path: ":memory:" });
  await migrateToLatest(database);
  const clock = fixedClock(new Date("2026-11-21T10:00:00Z"));
  const logLines: string[] = [];
  const log = createLogger({ sink: (line) => logLines.push(line) });
  const auth = createAuthService({ db: database.db, clock });
  const audit = createAuditTrail({ db: database.db, log, clock });
  const studies = createStudyIndex({ db: database.db, duplicatePolicy: "ignore", log, clock });
  await studies.recordInstance({
    header: { studyInstanceUid: studyUid, seriesInstanceUid: "2.25.4712", patientId: "ROL-1" },
    sopInstanceUid: "2.25.4713",
    sopClassUid: "1.2.840.10008.5.1.4.1.1.2",
    transferSyntaxUid: "1.2.840.10008.1.2.1",
    callingAe: "CT1",
    size: 10,
    sha256: "00",
    spoolId: "s1",
    source: "dicom",
  });
  const spoolDir = Deno.makeTempDirSync({ prefix: "bp-routes-" });
  const faces = await facesForTest({ db: database.db, studies, log, clock, spoolDir });
  const app = createHttpApp({
    database,
    auth,
    audit,
    studies,
    log,
    startedAt: clock.now(),
    ...faces,
  });
  const secrets = new Map<string, string>();
  for (const role of ["admin", "sender", "caregiver", "auditor"] as const) {
    await auth.createUser(role, password, role, { department: "radiologie" });
  }
  await auth.createUser("ander", password, "sender");

  /** A fully signed-in session of `role` (an admin enrols TOTP the first time, then uses it). */
  async function signIn(role: Role): Promise<{ cookie: string; csrf: string }> {
    clock.advance(30_000); // each admin sign-in uses a fresh TOTP step
    const result = await auth.login(role, password);
    if (result.kind !== "session") throw new Error(`${role} could not sign in`);
    let session = result.session;
    if (session.stage === "enrol") {
      const { secret } = auth.newTotpEnrolment(role);
      secrets.set(role, secret);
      session = await auth.confirmTotpEnrolment(
        session.cookieValue,
        secret,
        totpCode(secret, clock.now()),
      );
    } else if (session.stage === "totp") {
      const verified = await auth.verifyTotp(
        session.cookieValue,
        totpCode(secrets.get(role)!, clock.now()),
      );
      if (verified.kind !== "session") throw new Error("TOTP refused");
      session = verified.session;
    }
    return { cookie: session.cookieValue, csrf: session.csrfToken };
  }

  function request(
    method: string,
    path: string,
    session: { cookie: string; csrf: string } | null,
    form: Record<string, string> = {},
    options: { csrf?: string | null; header?: boolean } = {},
  ): Promise<Response> {
    const headers = new Headers({ origin });
    // anonymous forms carry the pre-session cookie's token (double submit)
    const csrf = options.csrf === undefined ? (session?.csrf ?? "anon-token") : options.csrf;
    headers.set("cookie", session ? `bp_session=${session.cookie}` : "bp_csrf=anon-token");
    let body: URLSearchParams | undefined;
    if (method === "POST") {
      body = new URLSearchParams(form);
      if (csrf !== null && !options.header) body.set("csrf", csrf);
      if (csrf !== null && options.header) headers.set("x-csrf-token", csrf);
      headers.set("content-type", "application/x-www-form-urlencoded");
    }
    return Promise.resolve(app.request(`${origin}${path}`, { method, headers, body }));
  }
  const close = database.close.bind(database);
  database.close = async () => {
    await close();
    Deno.removeSync(spoolDir, { recursive: true });
  };
  return { database, app, auth, audit, clock, signIn, request, logLines };
}

Deno.test("every route declares who may use it, and the table below lists exactly those routes", async () => {
  const { app, database } = await setup();
  const registered = new Set(
    app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`),
  );
  const declared = routePolicies(app);
  const undeclared = [...registered].filter((key) => !declared.has(key));
  assert.deepEqual(undeclared, [], "routes without a declared policy");
  assert.deepEqual([...registered].sort(), expected.map((e) => e.route).sort());
  for (const e of expected) {
    const access = declared.get(e.route)!;
    if (e.allowed === "public") assert.equal(access, "public", e.route);
    else assert.notEqual(access, "public", e.route);
  }
  await database.close();
});

Deno.test("each role can use exactly its routes: others get 403, anonymous users the sign-in page", async () => {
  const { database, auth, signIn, request } = await setup();
  const roles: Role[] = ["admin", "sender", "caregiver", "auditor"];
  const reusable = new Map<Role, { cookie: string; csrf: string }>();
  for (const role of roles) reusable.set(role, await signIn(role));
  const gets = expected.filter((e) => e.route.startsWith("GET"));
  const posts = expected.filter((e) => e.route.startsWith("POST"));
  for (const e of [...gets, ...posts]) {
    const [method, route] = e.route.split(" ");
    const path = e.path ?? route;
    for (const who of [null, ...roles]) {
      // a POST may end the session (sign out, disable): give each one a fresh session
      const session = who === null
        ? null
        : method === "POST"
        ? await signIn(who)
        : reusable.get(who)!;
      const response = await request(method, path, session, e.form);
      const text = await response.text();
      const label = `${e.route} as ${who ?? "anonymous"}: ${response.status}`;
      const forbidden = response.status === 403 && text.includes(forbiddenText);
      if (e.allowed === "public" || (who !== null && e.allowed.includes(who))) {
        assert.ok(!forbidden, `${label} must be allowed`);
        if (e.signsOut) {
          assert.equal(await auth.session(session!.cookie), null, `${label} signed out`);
        } else if (e.allowed !== "public") {
          assert.notEqual(response.headers.get("location"), "/login", `${label} must be allowed`);
        }
        assert.ok(response.status < 500, label);
      } else if (who === null) {
        assert.equal(response.status, 303, label);
        assert.equal(response.headers.get("location"), "/login", label);
      } else {
        assert.ok(forbidden, `${label} must be refused`);
      }
    }
  }
  await database.close();
});

Deno.test("a session still owing its TOTP code reaches only the code page", async () => {
  const { database, auth, signIn, request } = await setup();
  await signIn("admin"); // enrols
  const half = await auth.login("admin", password);
  const session = half.kind === "session" && half.session.stage === "totp"
    ? { cookie: half.session.cookieValue, csrf: half.session.csrfToken }
    : assert.fail();
  for (const path of ["/dashboard", "/users", "/totp/enrol"]) {
    const response = await request("GET", path, session);
    assert.equal(response.status, 303, path);
    assert.equal(response.headers.get("location"), "/login/totp", path);
  }
  assert.equal((await request("GET", "/login/totp", session)).status, 200);
  await database.close();
});

Deno.test("CSRF: a state-changing request without the session's token, or with another, is refused", async () => {
  const { database, auth, signIn, request } = await setup();
  const session = await signIn("sender");
  for (const csrf of [null, "", "another-token"]) {
    const response = await request("POST", "/logout", session, {}, { csrf });
    assert.equal(response.status, 403, `token ${csrf}`);
    assert.match(await response.text(), /Dit formulier is verlopen/);
  }
  assert.ok(await auth.session(session.cookie), "the refused requests did not sign out");
  const viaHeader = await request("POST", "/logout", session, {}, { header: true });
  assert.equal(viaHeader.status, 303);
  assert.equal(await auth.session(session.cookie), null);
  // before sign-in, the pre-session token is checked the same way
  const login = await request("POST", "/login", null, { username: "sender", password }, {
    csrf: null,
  });
  assert.equal(login.status, 403);
  await database.close();
});

Deno.test("Origin check: a form from another site or without Origin is a named 403 and a warning, not a 500", async () => {
  const { database, app, logLines } = await setup();
  for (const from of ["https://elders.example", null]) {
    const headers = new Headers({
      cookie: "bp_csrf=anon-token",
      "content-type": "application/x-www-form-urlencoded",
    });
    if (from) headers.set("origin", from);
    const body = new URLSearchParams({ username: "sender", password, csrf: "anon-token" });
    const response = await app.request(`${origin}/login`, { method: "POST", headers, body });
    assert.equal(response.status, 403, `origin ${from}`);
    assert.match(await response.text(), /Origin-controle/);
  }
  const refused = logLines.map((line) => JSON.parse(line)).filter((l) => l.path === "/login");
  assert.deepEqual(refused.map((l) => [l.level, l.msg, l.status, l.origin]), [
    ["warn", "request refused", 403, "https://elders.example"],
    ["warn", "request refused", 403, "(none)"],
  ]);
  await database.close();
});

Deno.test("sessions expire over HTTP: 30 minutes idle, and sign out everywhere ends all", async () => {
  const { database, clock, signIn, request } = await setup();
  const a = await signIn("sender");
  const b = await signIn("sender");
  clock.advance(29 * 60_000);
  assert.equal((await request("GET", "/dashboard", a)).status, 200);
  clock.advance(30 * 60_000);
  const expired = await request("GET", "/dashboard", a);
  assert.equal(expired.headers.get("location"), "/login");
  const c = await signIn("sender");
  assert.equal((await request("POST", "/logout/all", c)).status, 303);
  assert.equal((await request("GET", "/dashboard", b)).headers.get("location"), "/login");
  await database.close();
});

Deno.test("views and sign-ins are audit events with who, from where, whose data and which object", async () => {
  const { database, audit, signIn, request } = await setup();
  const session = await signIn("sender");
  await request("GET", `/studies/${studyUid}`, session);
  await request("POST", "/login", null, { username: "sender", password: "fout wachtwoord" });
  const events = await audit.list(10);
  const view = events.find((e) => e.action === "view")!;
  assert.deepEqual(
    [view.actor, view.patient.id, view.object, view.outcome],
    [
      { kind: "user", id: "sender", role: "sender" },
      "ROL-1",
      { kind: "study", id: studyUid },
      "success",
    ],
  );
  const failed = events.find((e) => e.action === "login")!;
  assert.deepEqual([failed.actor.id, failed.outcome, failed.detail], ["sender", "failure", {
    reason: "password",
  }]);
  assert.equal((await audit.verify()).ok, true);
  await database.close();
});
