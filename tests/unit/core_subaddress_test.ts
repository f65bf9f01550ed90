import assert from "node:assert/strict";
import { subaddress } from "../../modules/core/mod.ts";

Deno.test("subaddress: RFC 5233 detail split off, mailbox lower-cased", () => {
  assert.deepEqual(subaddress("GW+Radiologie@ZKH-B.example"), {
    mailbox: "gw@zkh-b.example",
    detail: "radiologie",
  });
  assert.deepEqual(subaddress("gw@zkh-b.example"), { mailbox: "gw@zkh-b.example", detail: null });
  assert.deepEqual(subaddress("gw+@zkh-b.example"), { mailbox: "gw@zkh-b.example", detail: null });
  assert.deepEqual(subaddress("not-an-address"), { mailbox: "not-an-address", detail: null });
});
