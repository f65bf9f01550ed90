/** Browser steps for the auth flows: first-run setup with TOTP enrolment, sign-in with a code. */
import type { Page } from "playwright-core";
import { totpCode } from "../../modules/auth/mod.ts";

/**
 * A code the server accepts once the current step's code is used: RFC 6238 allows one step of
 * drift, and replay protection refuses the step already used.
 */
export function nextTotpCode(secret: string): string {
  return totpCode(secret, new Date(Date.now() + 30_000));
}

/**
 * Completes first-run setup in `page` and enrols TOTP as an admin must; returns the TOTP secret
 * read from the enrolment page. Ends on the dashboard.
 */
export async function setUpAdmin(
  page: Page,
  setupUrl: string,
  username = "beheer",
  password = "lang-genoeg-wachtwoord",
): Promise<string> {
  await page.goto(setupUrl);
  await page.fill("#username", username);
  await page.fill("#password", password);
  await page.fill("#password2", password);
  await page.click("button[type=submit]");
  await page.waitForURL(/\/totp\/enrol$/);
  const secret = (await page.textContent("#totp-secret"))!.trim();
  await page.fill("#code", totpCode(secret, new Date()));
  await page.click("form[action='/totp/enrol'] button[type=submit]");
  await page.waitForURL(/\/dashboard$/);
  return secret;
}

/** Signs in with a password and, when asked, a TOTP code for `secret`. */
export async function signIn(
  page: Page,
  username: string,
  password: string,
  secret?: string,
): Promise<void> {
  await page.fill("#username", username);
  await page.fill("#password", password);
  await page.click("button[type=submit]");
  if (secret) {
    await page.waitForURL(/\/login\/totp$/);
    await page.fill("#code", nextTotpCode(secret));
    await page.click("button[type=submit]");
  }
}
