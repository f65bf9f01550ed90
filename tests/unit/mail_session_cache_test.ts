/**
 * The SMTP session cache: a kept session comes back to the next taker of its hop, and is quit when
 * it idles too long, is too old, is one too many, or the cache closes; one the server ended is
 * forgotten.
 */
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { createSessionCache } from "../../modules/mail/session_cache.ts";

/** A stand-in session: the cache only calls quit and listens for "end". */
class FakeSession extends EventEmitter {
  quits = 0;
  constructor(readonly name: string) {
    super();
  }
  quit() {
    this.quits++;
  }
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("session cache: a kept session is taken again for its hop only, most recent first", () => {
  const cache = createSessionCache<FakeSession>({ idleMs: 60_000 });
  const a = new FakeSession("a");
  const b = new FakeSession("b");
  assert.equal(cache.take("peer:25/peer"), undefined);
  cache.keep("peer:25/peer", a);
  cache.keep("peer:25/peer", b);
  assert.equal(cache.take("other:25/other"), undefined);
  assert.equal(cache.idleCount(), 2);
  assert.equal(cache.take("peer:25/peer"), b);
  assert.equal(cache.take("peer:25/peer"), a);
  assert.equal(cache.take("peer:25/peer"), undefined);
  assert.equal(a.quits + b.quits, 0);
  // A taken session is the taker's: its "end" no longer concerns the cache.
  assert.equal(a.listenerCount("end"), 0);
  cache.close();
});

Deno.test("session cache: an idle session is quit after idleMs and not handed out", async () => {
  const cache = createSessionCache<FakeSession>({ idleMs: 30 });
  const a = new FakeSession("a");
  cache.keep("peer", a);
  await wait(80);
  assert.equal(a.quits, 1);
  assert.equal(cache.take("peer"), undefined);
  assert.equal(cache.idleCount(), 0);
});

Deno.test("session cache: a session the server ended is forgotten, without a quit", () => {
  const cache = createSessionCache<FakeSession>({ idleMs: 60_000 });
  const a = new FakeSession("a");
  cache.keep("peer", a);
  a.emit("end");
  assert.equal(cache.take("peer"), undefined);
  assert.equal(a.quits, 0);
  cache.close();
});

Deno.test("session cache: one over maxIdlePerHop is quit at once; other hops have their own", () => {
  const cache = createSessionCache<FakeSession>({ idleMs: 60_000, maxIdlePerHop: 1 });
  const a = new FakeSession("a");
  const b = new FakeSession("b");
  const c = new FakeSession("c");
  cache.keep("peer", a);
  cache.keep("peer", b);
  cache.keep("other", c);
  assert.deepEqual([a.quits, b.quits, c.quits], [0, 1, 0]);
  assert.equal(cache.take("peer"), a);
  assert.equal(cache.take("other"), c);
  cache.close();
});

Deno.test("session cache: a session past maxAgeMs since first kept is quit instead of kept", async () => {
  const cache = createSessionCache<FakeSession>({ idleMs: 60_000, maxAgeMs: 40 });
  const a = new FakeSession("a");
  cache.keep("peer", a);
  assert.equal(cache.take("peer"), a);
  await wait(60);
  cache.keep("peer", a);
  assert.equal(a.quits, 1);
  assert.equal(cache.take("peer"), undefined);
  cache.close();
});

Deno.test("session cache: close quits every idle session, and sessions kept later", () => {
  const cache = createSessionCache<FakeSession>({ idleMs: 60_000 });
  const a = new FakeSession("a");
  const b = new FakeSession("b");
  cache.keep("peer", a);
  cache.keep("other", b);
  cache.close();
  assert.deepEqual([a.quits, b.quits], [1, 1]);
  assert.equal(cache.idleCount(), 0);
  const c = new FakeSession("c");
  cache.keep("peer", c);
  assert.equal(c.quits, 1);
  assert.equal(cache.take("peer"), undefined);
});
