import assert from "node:assert/strict";
import { fixedClock } from "../../modules/core/mod.ts";
import { migrateToLatest, openDatabase } from "../../modules/db/mod.ts";
import {
  createPortal,
  PortalGrantInvalid,
  PortalLinkExpired,
  PortalLinkLocked,
  PortalLinkNotFound,
  PortalLinkRevoked,
  PortalPinWrong,
} from "../../modules/portal/mod.ts";
import type { Spool } from "../../modules/spool/mod.ts";
import type { StudyIndex } from "../../modules/studies/mod.ts";

async function portal() {
  const database = openDatabase({ kind: "sqlite", path: ":memory:" });
  await migrateToLatest(database);
  const clock = fixedClock(new Date("2026-03-01T09:00:00Z"));
  const p = createPortal({
    db: database.db,
    studies: {} as StudyIndex, // links never touch the index
    spool: {} as Spool,
    clock,
    links: { validDays: 14, pinAttempts: 3, grantMinutes: 30 },
    previewTool: null,
  });
  return { database, clock, links: p.links };
}

Deno.test("a link opens with its PIN, expires after its days, and its grant after 30 minutes", async () => {
  const { database, clock, links } = await portal();
  const { link, token, pin } = await links.create("2.25.1", "laborant");
  assert.match(pin, /^\d{6}$/);
  assert.equal(link.expiresAt, "2026-03-15T09:00:00.000Z");
  const { grant } = await links.verifyPin(token, pin);
  assert.equal((await links.granted(token, grant)).id, link.id);
  await assert.rejects(links.granted(token, "not-a-grant"), PortalGrantInvalid);
  clock.advance(31 * 60_000);
  await assert.rejects(links.granted(token, grant), PortalGrantInvalid);
  clock.advance(14 * 86_400_000);
  await assert.rejects(links.open(token), PortalLinkExpired);
  await assert.rejects(links.verifyPin(token, pin), PortalLinkExpired);
  await assert.rejects(links.open("no-such-token"), PortalLinkNotFound);
  await database.close();
});

Deno.test("wrong PINs count down and lock the link; the right PIN then fails too", async () => {
  const { database, links } = await portal();
  const { token, pin } = await links.create("2.25.1", "laborant");
  const wrong = pin === "000000" ? "111111" : "000000";
  for (const left of [2, 1]) {
    await assert.rejects(links.verifyPin(token, wrong), (e) => {
      assert.ok(e instanceof PortalPinWrong);
      assert.equal(e.attemptsLeft, left);
      return true;
    });
  }
  await assert.rejects(links.verifyPin(token, wrong), PortalLinkLocked);
  await assert.rejects(links.verifyPin(token, pin), PortalLinkLocked);
  const [stored] = await links.list("2.25.1");
  assert.deepEqual([stored.status, stored.failedPins], ["locked", 3]);
  await database.close();
});

Deno.test("a revoked link refuses PIN and grant; downloads are counted", async () => {
  const { database, links } = await portal();
  const { link, token, pin } = await links.create("2.25.1", "laborant", 2);
  const { grant } = await links.verifyPin(token, pin);
  await links.countDownload(link.id);
  await links.countDownload(link.id);
  const revoked = await links.revoke(link.id, "laborant");
  assert.deepEqual([revoked.status, revoked.revokedBy, revoked.downloads], [
    "revoked",
    "laborant",
    2,
  ]);
  await assert.rejects(links.verifyPin(token, pin), PortalLinkRevoked);
  await assert.rejects(links.granted(token, grant), PortalLinkRevoked);
  // token and PIN are stored only as hashes
  const row = await database.db.selectFrom("portal_links").selectAll().executeTakeFirstOrThrow();
  assert.ok(!JSON.stringify(row).includes(token) && !JSON.stringify(row).includes(`"${pin}"`));
  await database.close();
});
