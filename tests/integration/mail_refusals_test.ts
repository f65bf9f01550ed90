/**
 * What the receiver refuses and how the sender reports it: 550 for a stranger's address, 552 for
 * an oversized message, 451 when the store fails, 530 without STARTTLS, 450/421 over the rate
 * limit, an untrusted certificate, a non-canonical message, a client gone mid-DATA. Each refusal
 * keeps nothing, and the sender's error class says whether to retry.
 */
import assert from "node:assert/strict";
import { missing } from "../support/peers.ts";
import { freePort } from "../support/appliance.ts";
import {
  createMailBench,
  type MailBench,
  ourAddress,
  smtpDialog,
  syntheticMessage,
} from "../support/mail_fixtures.ts";
import {
  MailFormatError,
  MailPermanentError,
  MailTemporaryError,
  MailTlsError,
} from "../../modules/mail/mod.ts";

const ignore = missing("openssl");

/** Nothing kept: no object, no temporary file left behind by an aborted put. */
async function assertNothingStored(bench: MailBench) {
  assert.deepEqual(await bench.spoolIds(), []);
  assert.deepEqual(await bench.spool.sweepTemporary(), { removed: 0 });
  assert.equal(bench.stored.size, 0);
}

const small = (seed: number) => syntheticMessage(64 * 1024, seed);

Deno.test({
  name: "mail refusals",
  ignore,
  fn: async (t) => {
    const bench = await createMailBench();
    try {
      await t.step("a recipient that is not ours: 550 at RCPT, permanent", async () => {
        const receiver = await bench.startReceiver();
        try {
          const error = await rejection(
            bench.sender(receiver.port).send({
              to: "someone@zkh-b.example",
              messageId: "<r1@zkh-a.example>",
              raw: small(1).stream(),
            }),
          );
          assert.ok(error instanceof MailPermanentError, String(error));
          assert.equal(error.code, "MAIL_PERMANENT");
          assert.equal(error.responseCode, 550);
          assert.equal(error.temporary, false);
          await assertNothingStored(bench);
        } finally {
          await receiver.close();
        }
      });

      await t.step("a message over maxMessageBytes: 552, permanent, nothing kept", async () => {
        const receiver = await bench.startReceiver({ maxMessageBytes: 1024 * 1024 });
        try {
          const error = await rejection(
            bench.sender(receiver.port).send({
              to: ourAddress,
              messageId: "<r2@zkh-a.example>",
              raw: syntheticMessage(3 * 1024 * 1024, 2).stream(),
            }),
          );
          assert.ok(error instanceof MailPermanentError, String(error));
          assert.equal(error.responseCode, 552);
          await assertNothingStored(bench);
          // The connection is still usable afterwards: a small message goes through.
          const ok = await bench.sender(receiver.port).send({
            to: ourAddress,
            messageId: "<r2b@zkh-a.example>",
            raw: small(3).stream(),
          });
          assert.equal(ok.accepted.length, 1);
          await cleanSpool(bench);
        } finally {
          await receiver.close();
        }
      });

      await t.step("a store that fails: 451, temporary, the sender may retry", async () => {
        const receiver = await bench.startReceiver({
          store: async (_meta, stream) => {
            const reader = stream.getReader();
            await reader.read();
            await reader.cancel();
            throw new Error("disk full");
          },
        });
        try {
          const error = await rejection(
            bench.sender(receiver.port).send({
              to: ourAddress,
              messageId: "<r3@zkh-a.example>",
              raw: syntheticMessage(2 * 1024 * 1024, 4).stream(),
            }),
          );
          assert.ok(error instanceof MailTemporaryError, String(error));
          assert.equal(error.code, "MAIL_TEMPORARY");
          assert.equal(error.responseCode, 451);
          assert.equal(error.temporary, true);
        } finally {
          await receiver.close();
        }
      });

      // Over TLS, Deno 2.9.6 reports the vanished client only at the idle timeout (see
      // MailReceiverOptions.socketTimeoutMs); over plain TCP at once. Both keep nothing.
      for (const tls of [true, false]) {
        await t.step(
          `a client that disconnects mid-DATA (${tls ? "TLS" : "plain"}): nothing stored`,
          async () => {
            let settled: Promise<unknown> | undefined;
            const receiver = await bench.startReceiver({
              requireTls: tls,
              socketTimeoutMs: tls ? 1500 : 60_000,
              store: (meta, stream) => {
                const put = bench.store(meta, stream);
                settled = put.catch((e) => e);
                return put;
              },
            });
            try {
              const c = await smtpDialog(receiver.port);
              assert.match(await c.reply(), /^220 /);
              assert.match(await c.command("EHLO client.example"), /STARTTLS/);
              if (tls) {
                assert.match(await c.command("STARTTLS"), /^220 /);
                await c.startTls(bench.caPem);
                assert.match(await c.command("EHLO client.example"), /^250/);
              }
              assert.match(await c.command("MAIL FROM:<gateway@zkh-a.example>"), /^250 /);
              assert.match(await c.command(`RCPT TO:<${ourAddress}>`), /^250 /);
              assert.match(await c.command("DATA"), /^354 /);
              // Written by hand, so no dot lines (this client does not stuff them).
              const lines = new TextEncoder().encode(
                "Subject: cut off\r\n\r\n" + "A".repeat(76) + "\r\n",
              );
              for (let i = 0; i < 10_000; i++) await c.write(lines);
              c.close();
              await waitUntil(() => settled !== undefined);
              const started = Date.now();
              assert.equal((await settled as Error).name, "MailReceiveAborted");
              if (!tls) assert.ok(Date.now() - started < 1000);
              await assertNothingStored(bench);
            } finally {
              await receiver.close();
            }
          },
        );
      }

      await t.step("MAIL before STARTTLS: 530", async () => {
        const receiver = await bench.startReceiver();
        try {
          const c = await smtpDialog(receiver.port);
          await c.reply();
          await c.command("EHLO client.example");
          assert.match(await c.command("MAIL FROM:<gateway@zkh-a.example>"), /^530 5\.7\.0 /);
          c.close();
        } finally {
          await receiver.close();
        }
      });

      await t.step(
        "a certificate from a CA we do not trust: MailTlsError, nothing sent",
        async () => {
          const receiver = await bench.startReceiver();
          try {
            const error = await rejection(
              bench.sender(receiver.port, { trustedCas: [bench.otherCaPem] }).send({
                to: ourAddress,
                messageId: "<r6@zkh-a.example>",
                raw: small(6).stream(),
              }),
            );
            assert.ok(error instanceof MailTlsError, String(error));
            assert.equal(error.code, "MAIL_TLS");
            assert.equal(error.temporary, true);
            // A certificate that does not name the host we asked for is refused the same way.
            const wrongName = await rejection(
              bench.sender(receiver.port, {
                routes: {
                  "zkh-b.example": {
                    host: "127.0.0.1",
                    port: receiver.port,
                    servername: "mx.other",
                  },
                },
              }).send({ to: ourAddress, messageId: "<r6b@zkh-a.example>", raw: small(6).stream() }),
            );
            assert.ok(wrongName instanceof MailTlsError, String(wrongName));
            await assertNothingStored(bench);
          } finally {
            await receiver.close();
          }
        },
      );

      await t.step(
        "a message that is not CRLF-canonical: MailFormatError, nothing kept",
        async () => {
          const receiver = await bench.startReceiver();
          try {
            const sender = bench.sender(receiver.port);
            for (
              const text of [
                "Subject: bare LF\n\nbody\r\n",
                "Subject: no final CRLF\r\n\r\nbody",
                "Subject: bare CR\r\n\r\nbo\rdy\r\n",
              ]
            ) {
              const error = await rejection(sender.send({
                to: ourAddress,
                messageId: "<r7@zkh-a.example>",
                raw: ReadableStream.from([new TextEncoder().encode(text)]),
              }));
              assert.ok(error instanceof MailFormatError, `${text}: ${error}`);
              assert.equal(error.temporary, false);
            }
            await new Promise((r) => setTimeout(r, 200));
            await assertNothingStored(bench);
          } finally {
            await receiver.close();
          }
        },
      );

      await t.step("nobody listening: temporary", async () => {
        const error = await rejection(
          bench.sender(freePort()).send({
            to: ourAddress,
            messageId: "<r8@zkh-a.example>",
            raw: small(8).stream(),
          }),
        );
        assert.ok(error instanceof MailTemporaryError, String(error));
        assert.ok(!(error instanceof MailTlsError));
      });

      await t.step("over the rate limit: 421 at connect, 450 at MAIL", async () => {
        const receiver = await bench.startReceiver({ rateLimit: { messages: 2 } });
        try {
          const sender = bench.sender(receiver.port);
          const send = (seed: number) =>
            sender.send({ to: ourAddress, messageId: `<l${seed}@a>`, raw: small(seed).stream() });
          await send(10);
          await send(11);
          const third = await rejection(send(12));
          assert.ok(third instanceof MailTemporaryError, String(third));
          assert.equal(third.responseCode, 421);
          assert.equal(bench.stored.size, 2);
          await cleanSpool(bench);
        } finally {
          await receiver.close();
        }
        // Within one connection, the transaction over the limit gets 450 at MAIL.
        const second = await bench.startReceiver({ rateLimit: { messages: 2 } });
        try {
          const c = await smtpDialog(second.port);
          await c.reply();
          await c.command("EHLO client.example");
          await c.command("STARTTLS");
          await c.startTls(bench.caPem);
          await c.command("EHLO client.example");
          for (let i = 0; i < 2; i++) {
            assert.match(await c.command("MAIL FROM:<gateway@zkh-a.example>"), /^250 /);
            assert.match(await c.command("RSET"), /^250 /);
          }
          assert.match(await c.command("MAIL FROM:<gateway@zkh-a.example>"), /^450 /);
          c.close();
        } finally {
          await second.close();
        }
      });
    } finally {
      await bench.cleanup();
    }
  },
});

async function rejection(promise: Promise<unknown>): Promise<MailTemporaryError | Error> {
  try {
    await promise;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection");
}

async function waitUntil(probe: () => boolean, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function cleanSpool(bench: MailBench) {
  for (const id of await bench.spoolIds()) await bench.spool.delete(id);
  bench.stored.clear();
}
