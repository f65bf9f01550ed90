/**
 * Connection reuse between our sender and our receiver: consecutive messages share one SMTP
 * session, and a kept session the server dropped (unnoticed, or by its idle timeout) costs no
 * message: the next one goes out on a fresh session, exactly once.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { missing } from "../support/peers.ts";
import { createMailBench, ourAddress, syntheticMessage } from "../support/mail_fixtures.ts";
import type { MailSender } from "../../modules/mail/mod.ts";

const ignore = missing("openssl");

/** Sends message `seed` and returns the session id the receiver stored it under. */
async function sendOne(
  bench: Awaited<ReturnType<typeof createMailBench>>,
  sender: MailSender,
  seed: number,
): Promise<string> {
  const message = syntheticMessage(300 * 1024, seed);
  const result = await sender.send({
    to: ourAddress,
    messageId: `<m${seed}@zkh-a.example>`,
    raw: message.stream(),
  });
  const id = result.response.match(/stored as (\S+)/)![1];
  const stored = bench.stored.get(id)!;
  assert.equal(stored.sha256, (await message.digest()).sha256);
  return stored.meta.sessionId;
}

Deno.test({
  name: "mail reuse: three messages in a row share one SMTP session; without reuse, three",
  ignore,
  fn: async () => {
    const bench = await createMailBench();
    const receiver = await bench.startReceiver();
    const reusing = bench.sender(receiver.port, { keepConnectionsMs: 10_000 });
    const plain = bench.sender(receiver.port);
    try {
      const kept = [await sendOne(bench, reusing, 1), await sendOne(bench, reusing, 2)];
      kept.push(await sendOne(bench, reusing, 3));
      assert.equal(new Set(kept).size, 1, `sessions ${kept}`);
      const fresh = [await sendOne(bench, plain, 4), await sendOne(bench, plain, 5)];
      fresh.push(await sendOne(bench, plain, 6));
      assert.equal(new Set(fresh).size, 3, `sessions ${fresh}`);
      assert.equal((await bench.spoolIds()).length, 6);
    } finally {
      reusing.close();
      await receiver.close();
      await bench.cleanup();
    }
  },
});

/**
 * A TCP relay in front of the receiver whose `cut` drops the server side of every connection and
 * leaves the client side open until the client next writes: a server that went away while the
 * client's kept session still looked open.
 */
async function startCuttingProxy(targetPort: number) {
  const pairs = new Set<{ client: net.Socket; server: net.Socket }>();
  const proxy = net.createServer((client) => {
    const server = net.connect(targetPort, "127.0.0.1");
    const pair = { client, server };
    pairs.add(pair);
    client.pipe(server);
    server.pipe(client);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      server.destroy();
    };
    client.on("error", end).on("close", end);
    server.on("error", end).on("close", end);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  return {
    port: (proxy.address() as net.AddressInfo).port,
    connections: () => pairs.size,
    cut() {
      for (const pair of pairs) {
        pairs.delete(pair);
        pair.server.unpipe(pair.client);
        pair.client.unpipe(pair.server);
        pair.server.removeAllListeners("close").on("close", () => {}).destroy();
        pair.client.removeAllListeners("data");
        pair.client.once("data", () => pair.client.destroy());
        // unpipe left the socket paused: without this the client's next command is never read.
        pair.client.resume();
      }
    },
    close: () => new Promise<void>((resolve) => proxy.close(() => resolve())),
  };
}

Deno.test({
  name: "mail reuse: a kept session the server dropped unnoticed: the next message goes out once",
  ignore,
  fn: async () => {
    const bench = await createMailBench();
    const receiver = await bench.startReceiver();
    const proxy = await startCuttingProxy(receiver.port);
    const sender = bench.sender(proxy.port, { keepConnectionsMs: 10_000 });
    try {
      const first = await sendOne(bench, sender, 1);
      proxy.cut();
      const second = await sendOne(bench, sender, 2);
      assert.notEqual(second, first);
      assert.ok(
        bench.logLines.some((l) => l.includes("cached smtp session gone, reconnecting")),
        "the sender noticed the dead session and reconnected",
      );
      assert.equal((await bench.spoolIds()).length, 2);
      // And the new session is kept in turn.
      assert.equal(await sendOne(bench, sender, 3), second);
    } finally {
      sender.close();
      await proxy.close();
      await receiver.close();
      await bench.cleanup();
    }
  },
});

Deno.test({
  name: "mail reuse: a kept session the server closed on its idle timeout is replaced",
  ignore,
  fn: async () => {
    const bench = await createMailBench();
    const receiver = await bench.startReceiver({ socketTimeoutMs: 300 });
    const sender = bench.sender(receiver.port, { keepConnectionsMs: 10_000 });
    try {
      const first = await sendOne(bench, sender, 1);
      await new Promise((resolve) => setTimeout(resolve, 900));
      const second = await sendOne(bench, sender, 2);
      assert.notEqual(second, first);
      assert.equal((await bench.spoolIds()).length, 2);
    } finally {
      sender.close();
      await receiver.close();
      await bench.cleanup();
    }
  },
});
