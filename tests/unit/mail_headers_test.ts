/** Outer headers (RFC 5322, RFC 8098) and next-hop selection (RFC 5321 §5.1, RFC 7505). */
import assert from "node:assert/strict";
import {
  MailFormatError,
  MailPermanentError,
  MailTemporaryError,
  newMessageId,
  outerHeaders,
  withOuterHeaders,
} from "../../modules/mail/mod.ts";
import { routesFor } from "../../modules/mail/routes.ts";
import { createRateLimiter } from "../../modules/mail/rate_limit.ts";

Deno.test("mail: outer headers in order, with an MDN request and no MIME-Version", () => {
  const headers = outerHeaders({
    from: "gateway@zkh-a.example",
    to: ["gateway@zkh-b.example"],
    subject: "Beeldpoort transfer 1/3",
    messageId: "<abc@zkh-a.example>",
    date: new Date(Date.UTC(2030, 0, 2, 3, 4, 5)),
    dispositionNotificationTo: "gateway@zkh-a.example",
  });
  assert.deepEqual(Object.entries(headers), [
    ["From", "gateway@zkh-a.example"],
    ["To", "gateway@zkh-b.example"],
    ["Subject", "Beeldpoort transfer 1/3"],
    ["Message-ID", "<abc@zkh-a.example>"],
    ["Date", "Wed, 02 Jan 2030 03:04:05 +0000"],
    ["Disposition-Notification-To", "gateway@zkh-a.example"],
  ]);
  assert.match(newMessageId("zkh-a.example"), /^<[0-9a-f-]{36}@zkh-a\.example>$/);
});

Deno.test("mail: header values that would inject lines or need encoding are refused", () => {
  const base = { from: "a@a.example", to: "b@b.example", messageId: "<x@a>" };
  assert.throws(() => outerHeaders({ ...base, subject: "x\r\nBcc: c@c.example" }), MailFormatError);
  assert.throws(() => outerHeaders({ ...base, subject: "Jansen, Ühlenbeck" }), MailFormatError);
  assert.throws(
    () => outerHeaders({ ...base, subject: "s", from: "A <a@a.example>" }),
    MailFormatError,
  );
  assert.throws(() => outerHeaders({ ...base, subject: "s", messageId: "x@a" }), MailFormatError);
});

Deno.test("mail: withOuterHeaders streams headers, MIME-Version, then the entity unchanged", async () => {
  const entity = new TextEncoder().encode("Content-Type: text/plain\r\n\r\nhello\r\n");
  const out = await new Response(
    withOuterHeaders({ From: "a@a.example" }, ReadableStream.from([entity])),
  ).text();
  assert.equal(
    out,
    "From: a@a.example\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nhello\r\n",
  );
});

Deno.test("mail: MX hosts by preference, implicit MX, null MX and lookup failures", async () => {
  const mx = (records: { exchange: string; priority: number }[] | string) => (_d: string) =>
    typeof records === "string"
      ? Promise.reject(Object.assign(new Error(records), { code: records }))
      : Promise.resolve(records);
  const hosts = await routesFor("b.example", {
    port: 25,
    resolveMx: mx([{ exchange: "mx2.b.example", priority: 20 }, {
      exchange: "mx1.b.example.",
      priority: 10,
    }]),
  });
  assert.deepEqual(hosts.map((h) => h.host), ["mx1.b.example", "mx2.b.example"]);
  assert.equal(hosts[0].servername, "mx1.b.example");
  assert.deepEqual(await routesFor("b.example", { port: 25, resolveMx: mx("ENODATA") }), [
    { host: "b.example", port: 25, servername: "b.example" },
  ]);
  await assert.rejects(
    routesFor("b.example", { port: 25, resolveMx: mx([{ exchange: ".", priority: 0 }]) }),
    MailPermanentError,
  );
  await assert.rejects(
    routesFor("b.example", { port: 25, resolveMx: mx("ENOTFOUND") }),
    MailPermanentError,
  );
  await assert.rejects(
    routesFor("b.example", { port: 25, resolveMx: mx("ESERVFAIL") }),
    MailTemporaryError,
  );
  assert.deepEqual(
    await routesFor("b.example", { port: 25, smarthost: { host: "relay.a.example", port: 587 } }),
    [{ host: "relay.a.example", port: 587, servername: "relay.a.example" }],
  );
});

Deno.test("mail: the rate limit slides with time", () => {
  const limiter = createRateLimiter(2, 60_000);
  assert.equal(limiter.take("10.0.0.1", 0), true);
  assert.equal(limiter.take("10.0.0.1", 1_000), true);
  assert.equal(limiter.take("10.0.0.1", 2_000), false);
  assert.equal(limiter.take("10.0.0.2", 2_000), true);
  assert.equal(limiter.exhausted("10.0.0.1", 59_999), true);
  assert.equal(limiter.take("10.0.0.1", 60_001), true);
});
