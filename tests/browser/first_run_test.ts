import assert from "node:assert/strict";
import { startAppliance, tempDir } from "../support/appliance.ts";
import { nextTotpCode } from "../support/auth_browser.ts";
import { launchChromium } from "../support/browser.ts";
import { totpCode } from "../../modules/auth/mod.ts";
import { missing } from "../support/peers.ts";

Deno.test({
  name:
    "first-run setup in Chromium: the admin sets a password, lands on the dashboard, signs out and in",
  ignore: missing("chromium"),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    using dir = tempDir();
    const app = await startAppliance(dir.path);
    const browser = await launchChromium();
    try {
      const context = await browser.newContext({
        ignoreHTTPSErrors: true,
        viewport: { width: 1366, height: 768 },
      });
      const page = await context.newPage();

      await page.goto(app.setupUrl!);
      assert.equal(await page.textContent("h1"), "Eerste inrichting");
      assert.equal(await page.getAttribute("html", "lang"), "nl");
      await page.fill("#username", "beheer");
      await page.fill("#password", "kort");
      await page.fill("#password2", "kort");
      // the browser's own minlength check must not hide our server-side policy: bypass it
      await page.$eval("form", (f) => f.setAttribute("novalidate", ""));
      await page.click("button[type=submit]");
      assert.match(await page.textContent("[role=alert]") ?? "", /minstens 12 tekens/);

      await page.fill("#username", "beheer");
      await page.fill("#password", "lang-genoeg-wachtwoord");
      await page.fill("#password2", "lang-genoeg-wachtwoord");
      await page.click("button[type=submit]");
      // an admin must enrol TOTP before anything else
      await page.waitForURL(/\/totp\/enrol$/);
      assert.equal(await page.textContent("h1"), "Tweestapsverificatie instellen");
      const secret = (await page.textContent("#totp-secret"))!.trim();
      assert.match(secret, /^[A-Z2-7]{32}$/);
      assert.equal(
        await page.textContent("#otpauth-uri"),
        `otpauth://totp/Beeldpoort:beheer?secret=${secret}&issuer=Beeldpoort&algorithm=SHA1&digits=6&period=30`,
      );
      // the QR code is an image the page's CSP allows (data: SVG), rendered at its full size
      assert.equal(
        await page.$eval(
          "img.qr",
          (img) => (img as unknown as { naturalWidth: number }).naturalWidth > 0,
        ),
        true,
      );
      await page.fill("#code", "000000");
      await page.click("form[action='/totp/enrol'] button[type=submit]");
      assert.match(await page.textContent("[role=alert]") ?? "", /Deze code klopt niet/);
      await page.fill("#code", totpCode(secret, new Date()));
      await page.click("form[action='/totp/enrol'] button[type=submit]");
      await page.waitForURL(/\/dashboard$/);
      assert.equal(await page.textContent("h1"), "Overzicht");
      assert.match(await page.textContent(".welcome") ?? "", /Aangemeld als beheer \(admin\)/);

      const cookies = await context.cookies();
      const session = cookies.find((c) => c.name === "bp_session");
      assert.ok(session?.httpOnly && session.secure && session.sameSite === "Strict");

      await page.click("text=English");
      assert.equal(await page.textContent("h1"), "Dashboard");
      assert.equal(await page.getAttribute("html", "lang"), "en");

      // the setup link is single-use
      const reuse = await page.goto(app.setupUrl!);
      assert.equal(reuse?.status(), 403);

      await page.goto(new URL("/dashboard", app.baseUrl).href);
      await page.click(`text="Sign out"`);
      await page.waitForURL(/\/login$/);
      await page.fill("#username", "beheer");
      await page.fill("#password", "fout-wachtwoord-123");
      await page.click("button[type=submit]");
      assert.match(await page.textContent("[role=alert]") ?? "", /wrong/);
      await page.fill("#username", "beheer");
      await page.fill("#password", "lang-genoeg-wachtwoord");
      await page.click("button[type=submit]");
      await page.waitForURL(/\/login\/totp$/);
      await page.fill("#code", nextTotpCode(secret));
      await page.click("button[type=submit]");
      await page.waitForURL(/\/dashboard$/);
      assert.equal(await page.textContent("h1"), "Dashboard");
    } finally {
      await browser.close();
      await app.stop();
    }
  },
});
