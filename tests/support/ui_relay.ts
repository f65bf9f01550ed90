/**
 * The faces against two real gateways (tests/support/relay_gateways.ts): the pair set up for
 * sending by hand (no rule at A), B's radiology department in the address book at its own
 * subaddress, B holding studies whose BSN it does not know (relay.importPolicy "bsn") and
 * importing into its Orthanc from the portal. Used by tests/browser/ui_relay_test.ts and
 * `deno task screenshots`.
 */
import type { Page } from "playwright-core";
import { createGatewayPair, type Gateway, type GatewayPair } from "./relay_gateways.ts";

/** B's department in the address book (endpoint gw+radiologie@zkh-b.example). */
export const departmentB = "radiologie";

/** Starts the pair under `root` (the caller removes it after `pair.close()`). */
export function startUiPair(
  root: string,
  envA: Record<string, string> = {},
): Promise<GatewayPair> {
  return createGatewayPair(root, {
    rule: false,
    envA,
    departmentsB: [departmentB],
    envB: {
      BEELDPOORT_RELAY__IMPORTDESTINATION: "PACS",
      BEELDPOORT_RELAY__IMPORTPOLICY: "bsn",
      BEELDPOORT_PORTAL__IMPORTDESTINATION: "PACS",
    },
  });
}

/** Adds a user with `beeldpoort user add` and returns the generated password. */
export async function addUser(
  gateway: Gateway,
  name: string,
  role: "sender" | "caregiver" | "admin",
  department?: string,
): Promise<string> {
  const out = await gateway.cli(
    "user",
    "add",
    name,
    "--role",
    role,
    ...(department ? ["--department", department] : []),
  );
  const password = /password: (\S+)/.exec(out)?.[1];
  if (!password) throw new Error(`no password in: ${out}`);
  return password;
}

/** Reloads `url` until `selector`'s text matches `pattern` (the pages are server-rendered). */
export async function waitForText(
  page: Page,
  url: string,
  selector: string,
  pattern: RegExp,
  timeoutMs = 60_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = "";
  while (Date.now() < deadline) {
    const response = await page.goto(url);
    text = response?.ok() ? (await page.textContent(selector).catch(() => null)) ?? "" : "";
    if (pattern.test(text)) return text;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${selector} at ${url} never matched ${pattern}; last: ${text}`);
}

/**
 * The send flow at A from the study page up to the review page: B as recipient (searched as you
 * type), B's department, the note. The caller checks the review and clicks `#confirm-send`.
 */
export async function reviewSendToB(
  page: Page,
  pair: GatewayPair,
  studyUid: string,
  note: string,
): Promise<void> {
  const studyUrl = `${pair.a.app!.baseUrl}/studies/${studyUid}`;
  await waitForText(page, studyUrl, "[data-timeline]", /Ontvangen/);
  await page.click("text=Versturen naar ziekenhuis");
  await page.waitForSelector("#recipient-q[data-island=ready]");
  await page.fill("#recipient-q", "zieken");
  await page.waitForSelector(`#r-${pair.b.ura}`);
  await page.check(`#r-${pair.b.ura}`);
  await page.fill("#department", departmentB);
  await page.fill("#note", note);
  await page.click("#send-form button[type=submit]");
}
