/**
 * Broken and hostile clients must not take the receiver down (on Deno a TLS alert without an
 * error listener ends the process, stack-feasibility §3): a client that aborts the STARTTLS
 * handshake because it does not trust us, garbage instead of a ClientHello, an HTTP request, a
 * reset mid-handshake. After each, the next real message still goes through.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { missing } from "../support/peers.ts";
import {
  createMailBench,
  ourAddress,
  smtpDialog,
  syntheticMessage,
} from "../support/mail_fixtures.ts";

Deno.test({
  name: "mail: the receiver survives TLS alerts and broken clients and keeps delivering",
  ignore: missing("openssl"),
  fn: async () => {
    const bench = await createMailBench();
    const receiver = await bench.startReceiver();
    const sender = bench.sender(receiver.port);
    let seed = 0;
    const deliver = async () => {
      const message = syntheticMessage(256 * 1024, ++seed);
      const result = await sender.send({
        to: ourAddress,
        messageId: `<b${seed}@zkh-a.example>`,
        raw: message.stream(),
      });
      const id = result.response.match(/stored as (\S+)/)![1];
      assert.deepEqual(await bench.spool.verify(id), await message.digest());
    };
    try {
      await deliver();

      // openssl does not trust our certificate and aborts the handshake with an alert.
      const otherCa = join(bench.dir, "other-ca.pem");
      await Deno.writeTextFile(otherCa, bench.otherCaPem);
      const sClient = await new Deno.Command("openssl", {
        args: [
          "s_client",
          "-starttls",
          "smtp",
          "-connect",
          `127.0.0.1:${receiver.port}`,
          "-servername",
          "localhost",
          "-CAfile",
          otherCa,
          "-verify_return_error",
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(sClient.success, false);
      assert.match(
        new TextDecoder().decode(sClient.stderr),
        /verify error|certificate verify failed/,
      );
      await deliver();

      // Garbage where the ClientHello should be.
      const garbage = await smtpDialog(receiver.port);
      await garbage.reply();
      await garbage.command("EHLO broken.example");
      assert.match(await garbage.command("STARTTLS"), /^220 /);
      await garbage.write(crypto.getRandomValues(new Uint8Array(4096)));
      garbage.close();
      await deliver();

      // A TLS record header that promises more than it sends, then a reset.
      const half = await smtpDialog(receiver.port);
      await half.reply();
      await half.command("EHLO half.example");
      await half.command("STARTTLS");
      await half.write(new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc]));
      half.close();
      await deliver();

      // Someone pointing a browser at the SMTP port.
      const http = await smtpDialog(receiver.port);
      await http.reply();
      assert.match(await http.command("GET / HTTP/1.1"), /^421 /);
      http.close();
      await deliver();

      assert.equal(bench.stored.size, 5);
      assert.ok(bench.logLines.some((l) => l.includes('"smtp connection error"')));
    } finally {
      await receiver.close();
      await bench.cleanup();
    }
  },
});
