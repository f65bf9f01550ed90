/**
 * The mailbox poller against a real Dovecot: messages a hospital's mail server delivered into the
 * gateway's mailbox end up in the encrypted spool byte for byte and leave the mailbox only once
 * stored; a failing store, an oversize message, a wrong password and an untrusted certificate each
 * lose nothing and say what happened.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import {
  createMailboxPoller,
  MailboxError,
  type MailboxOptions,
  type MailStore,
  REFUSED_KEYWORD,
} from "../../modules/mail/mod.ts";
import {
  createMailBench,
  type MailBench,
  ourAddress,
  senderAddress,
  syntheticMessage,
} from "../support/mail_fixtures.ts";
import { type Dovecot, dovecotUnavailable, startDovecot } from "../support/mail_dovecot.ts";
import { freePort } from "../support/appliance.ts";

const unavailable = dovecotUnavailable();
const password = "imap-test-wachtwoord";

/** A delivered message: what the final MTA adds (Return-Path, Delivered-To) and a body. */
async function delivered(bytes: number, seed: number, to = ourAddress): Promise<Uint8Array> {
  const head = new TextEncoder().encode(
    `Return-Path: <${senderAddress}>\r\nDelivered-To: ${to}\r\n`,
  );
  const body = new Uint8Array(
    await new Response(syntheticMessage(bytes, seed).stream()).arrayBuffer(),
  );
  const message = new Uint8Array(head.length + body.length);
  message.set(head);
  message.set(body, head.length);
  return message;
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

async function withDovecot(fn: (bench: MailBench, dovecot: Dovecot) => Promise<void>) {
  const bench = await createMailBench();
  // Dovecot's own users read the certificate and reach the mail directory.
  const dir = join(bench.dir, "dovecot");
  await Deno.mkdir(dir);
  for (const path of [bench.pki.dir, bench.dir, dir]) await Deno.chmod(path, 0o755);
  const server = await bench.pki.issue("imap-server", {
    subjectAltName: "DNS:localhost, IP:127.0.0.1",
    keyUsage: "critical, digitalSignature, keyEncipherment",
    extendedKeyUsage: "serverAuth",
  });
  const dovecot = await startDovecot({
    dir,
    user: ourAddress,
    password,
    certPath: server.certPath,
    keyPath: server.keyPath,
  });
  try {
    await fn(bench, dovecot);
  } finally {
    await dovecot.stop();
    await bench.cleanup();
  }
}

async function append(dovecot: Dovecot, bench: MailBench, messages: Uint8Array[]) {
  const client = await dovecot.client(bench.caPem);
  try {
    for (const message of messages) await client.append("INBOX", Buffer.from(message));
  } finally {
    await client.logout();
  }
}

function pollerOptions(
  bench: MailBench,
  dovecot: Dovecot,
  overrides: Partial<MailboxOptions> = {},
): MailboxOptions {
  return {
    host: "127.0.0.1",
    port: dovecot.imapPort,
    security: "starttls",
    user: ourAddress,
    password,
    trustedCas: [bench.caPem],
    maxMessageBytes: 40_000_000,
    address: ourAddress,
    intervalMs: 3_600_000,
    pollAtStart: false,
    store: bench.store,
    log: bench.log.child({ module: "mailbox" }),
    ...overrides,
  };
}

Deno.test({
  name: "mailbox (Dovecot): every message stored byte for byte, then gone from the mailbox",
  ignore: unavailable !== null,
  async fn() {
    await withDovecot(async (bench, dovecot) => {
      const messages = [
        await delivered(150_000, 1),
        await delivered(3_000_000, 2, "gateway+radiologie@zkh-b.example"),
        await delivered(12_000_000, 3),
      ];
      await append(dovecot, bench, messages);
      assert.equal(await dovecot.count(bench.caPem), 3);
      const poller = createMailboxPoller(pollerOptions(bench, dovecot));
      try {
        assert.deepEqual(await poller.poll(), { stored: 3, refused: 0, failed: 0 });
      } finally {
        await poller.close();
      }
      assert.equal(await dovecot.count(bench.caPem), 0);
      const stored = [...bench.stored.values()];
      assert.deepEqual(stored.map((s) => s.sha256).sort(), messages.map(sha256).sort());
      assert.deepEqual(
        stored.map((s) => s.size).sort((a, b) => a - b),
        messages.map((m) => m.length),
      );
      // The envelope as delivered: the sender from Return-Path, the department's subaddress kept.
      assert.deepEqual(stored.map((s) => s.meta.mailFrom), [
        senderAddress,
        senderAddress,
        senderAddress,
      ]);
      assert.deepEqual(
        stored.map((s) => s.meta.recipients[0]).sort(),
        [
          ourAddress,
          ourAddress,
          "gateway+radiologie@zkh-b.example",
        ].sort(),
      );
    });
  },
});

Deno.test({
  name: "mailbox (Dovecot): a store that fails leaves the message in the mailbox for the next poll",
  ignore: unavailable !== null,
  async fn() {
    await withDovecot(async (bench, dovecot) => {
      const message = await delivered(500_000, 4);
      await append(dovecot, bench, [message]);
      let full = true;
      const store: MailStore = (meta, stream) => {
        if (full) {
          return stream.cancel().then(() => {
            throw new Error("ENOSPC: no space left on device (simulated)");
          });
        }
        return bench.store(meta, stream);
      };
      const poller = createMailboxPoller(
        pollerOptions(bench, dovecot, { store, security: "tls", port: dovecot.imapsPort }),
      );
      try {
        assert.deepEqual(await poller.poll(), { stored: 0, refused: 0, failed: 1 });
        assert.equal(await dovecot.count(bench.caPem), 1);
        assert.equal(bench.stored.size, 0);
        const warning = bench.logLines.map((l) => JSON.parse(l)).find((l) =>
          l.msg.startsWith("mailbox message not stored")
        );
        assert.match(JSON.stringify(warning), /ENOSPC/);
        full = false;
        assert.deepEqual(await poller.poll(), { stored: 1, refused: 0, failed: 0 });
      } finally {
        await poller.close();
      }
      assert.equal(await dovecot.count(bench.caPem), 0);
      assert.deepEqual([...bench.stored.values()].map((s) => s.sha256), [sha256(message)]);
    });
  },
});

Deno.test({
  name: "mailbox (Dovecot): a message over the limit is not fetched, stays marked, is refused once",
  ignore: unavailable !== null,
  async fn() {
    await withDovecot(async (bench, dovecot) => {
      const small = await delivered(100_000, 5);
      await append(dovecot, bench, [await delivered(2_500_000, 6), small]);
      const poller = createMailboxPoller(
        pollerOptions(bench, dovecot, { maxMessageBytes: 1_000_000 }),
      );
      try {
        assert.deepEqual(await poller.poll(), { stored: 1, refused: 1, failed: 0 });
        assert.deepEqual(await poller.poll(), { stored: 0, refused: 0, failed: 0 });
      } finally {
        await poller.close();
      }
      assert.deepEqual([...bench.stored.values()].map((s) => s.sha256), [sha256(small)]);
      const client = await dovecot.client(bench.caPem);
      try {
        const lock = await client.getMailboxLock("INBOX");
        try {
          const left = await client.fetchAll("1:*", { uid: true, size: true, flags: true });
          assert.equal(left.length, 1);
          assert.ok(left[0].size! > 2_500_000);
          assert.ok(left[0].flags?.has(REFUSED_KEYWORD), `flags ${[...left[0].flags ?? []]}`);
        } finally {
          lock.release();
        }
      } finally {
        await client.logout();
      }
      const refusal = bench.logLines.map((l) => JSON.parse(l)).filter((l) =>
        l.msg.startsWith("mailbox message over mail.maxMessageBytes")
      );
      assert.equal(refusal.length, 1);
      assert.equal(refusal[0].level, "error");
      assert.equal(refusal[0].limit, 1_000_000);
    });
  },
});

Deno.test({
  name:
    "mailbox (Dovecot): a wrong password, an untrusted certificate, no server: named, nothing taken",
  ignore: unavailable !== null,
  async fn() {
    await withDovecot(async (bench, dovecot) => {
      await append(dovecot, bench, [await delivered(100_000, 7)]);
      const attempts: [Partial<MailboxOptions>, MailboxError["reason"], RegExp][] = [
        [{ password: "fout" }, "login", /refused the login of "gateway@zkh-b\.example"/],
        [{ trustedCas: [bench.otherCaPem] }, "tls", /no verified TLS/],
        [
          { trustedCas: [bench.otherCaPem], security: "tls", port: dovecot.imapsPort },
          "tls",
          /no verified TLS/,
        ],
        [
          { port: freePort() },
          "connect",
          /cannot reach/,
        ],
      ];
      for (const [overrides, reason, message] of attempts) {
        const poller = createMailboxPoller(pollerOptions(bench, dovecot, overrides));
        try {
          await assert.rejects(poller.poll(), (error: unknown) => {
            assert.ok(error instanceof MailboxError, String(error));
            assert.equal(error.reason, reason, error.message);
            assert.match(error.message, message);
            return true;
          });
        } finally {
          await poller.close();
        }
      }
      assert.equal(await dovecot.count(bench.caPem), 1);
      assert.equal(bench.stored.size, 0);
    });
  },
});
