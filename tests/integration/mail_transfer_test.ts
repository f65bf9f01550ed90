/**
 * Our sender to our receiver over STARTTLS with a test CA: what `store` gets is byte for byte what
 * was sent, for a 30 MB message with dot lines, from a stream and from a file.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { missing } from "../support/peers.ts";
import { createMailBench, ourAddress, syntheticMessage } from "../support/mail_fixtures.ts";
import { createSmimeFixture, mimeEntity } from "../support/smime_fixture.ts";
import { newMessageId, outerHeaders } from "../../modules/mail/mod.ts";
import { fastStuffingCount } from "../../modules/mail/connection.ts";
import { open, seal } from "../../modules/smime/mod.ts";

const ignore = missing("openssl");

Deno.test({
  name: "mail: a 30 MB message arrives byte-identical over STARTTLS and is durable before the 250",
  ignore,
  fn: async () => {
    const bench = await createMailBench();
    const receiver = await bench.startReceiver();
    try {
      const message = syntheticMessage(30 * 1024 * 1024, 7);
      const expected = await message.digest();
      const fastBefore = fastStuffingCount();
      const result = await bench.sender(receiver.port).send({
        to: ourAddress,
        messageId: "<m7@zkh-a.example>",
        raw: message.stream(),
      });
      assert.deepEqual(result.accepted, [ourAddress]);
      assert.deepEqual(result.rejected, []);
      // The dots went through our stuffing, not nodemailer's byte loop (see mail/connection.ts).
      assert.equal(fastStuffingCount(), fastBefore + 1);
      const id = result.response.match(/stored as (\S+)/)?.[1];
      assert.ok(id, result.response);
      assert.match(result.response, /^250 2\.6\.0 Ok: stored as /);
      // The 250 came after the spool put resolved: the object is on disk and reads back whole.
      const stored = bench.stored.get(id);
      assert.ok(stored);
      assert.equal(stored.size, expected.size);
      assert.equal(stored.sha256, expected.sha256);
      assert.deepEqual(await bench.spool.verify(id), expected);
      assert.equal(stored.meta.mailFrom, "gateway@zkh-a.example");
      assert.deepEqual(stored.meta.recipients, [ourAddress]);
      assert.equal(stored.meta.clientName, "gw.zkh-a.example");
      assert.match(stored.meta.tls?.protocol ?? "", /^TLSv1\.[23]$/);
    } finally {
      await receiver.close();
      await bench.cleanup();
    }
  },
});

Deno.test({
  name: "mail: a message sent from a file path arrives byte-identical",
  ignore,
  fn: async () => {
    const bench = await createMailBench();
    const receiver = await bench.startReceiver();
    try {
      const message = syntheticMessage(2 * 1024 * 1024, 8);
      const path = join(bench.dir, "part.eml");
      await Deno.writeFile(path, message.stream());
      const result = await bench.sender(receiver.port).send({
        to: ourAddress,
        messageId: "<m8@zkh-a.example>",
        raw: path,
      });
      const id = result.response.match(/stored as (\S+)/)![1];
      assert.deepEqual(await bench.spool.verify(id), await message.digest());
    } finally {
      await receiver.close();
      await bench.cleanup();
    }
  },
});

Deno.test({
  name: "mail: an S/MIME message sealed with our outer headers arrives and opens",
  ignore,
  fn: async () => {
    const bench = await createMailBench();
    const f = await createSmimeFixture();
    const receiver = await bench.startReceiver();
    try {
      const messageId = newMessageId("zkh-a.example");
      const content = mimeEntity(256 * 1024);
      const sealed = await seal({
        content,
        signerCert: f.alice.cert,
        signerKey: f.alice.key,
        recipients: [f.bob.cert],
        headers: outerHeaders({
          from: "gateway@zkh-a.example",
          to: ourAddress,
          subject: "Beeldpoort transfer 1/1",
          messageId,
          dispositionNotificationTo: "gateway@zkh-a.example",
        }),
      });
      const result = await bench.sender(receiver.port).send({
        to: ourAddress,
        messageId,
        raw: ReadableStream.from([sealed]),
      });
      const id = result.response.match(/stored as (\S+)/)![1];
      const received = await new Response(await bench.spool.get(id)).bytes();
      assert.deepEqual(received, sealed);
      const head = new TextDecoder().decode(received.subarray(0, 400));
      assert.match(head, new RegExp(`^From: gateway@zkh-a\\.example\r\nTo: ${ourAddress}\r\n`));
      assert.match(head, /\r\nDisposition-Notification-To: gateway@zkh-a\.example\r\nMIME-Version/);
      const opened = await open({
        message: received,
        recipientKey: f.bob.key,
        recipientCert: f.bob.cert,
        trustAnchors: [f.ca],
      });
      assert.deepEqual(opened.content, content);
    } finally {
      await receiver.close();
      await bench.cleanup();
      await f.pki.cleanup();
    }
  },
});
