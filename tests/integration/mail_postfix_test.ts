/**
 * A real MTA in between: our sender -> Debian Postfix (smarthost, TLS verified both ways) -> our
 * receiver. Postfix prepends its Received trace field (RFC 5321 §4.4, as every MTA must); after
 * it, the message is byte for byte what we sent.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { missing } from "../support/peers.ts";
import { createMailBench, ourAddress, syntheticMessage } from "../support/mail_fixtures.ts";
import { postfixUnavailable, startPostfix } from "../support/mail_postfix.ts";
import { freePort } from "../support/appliance.ts";

const unavailable = postfixUnavailable();
if (unavailable) console.log(`skipping the Postfix relay test: ${unavailable}`);

/** Splits off the leading Received fields (with their folded lines) and hashes the rest. */
async function afterTraceFields(stream: ReadableStream<Uint8Array>) {
  const hash = createHash("sha256");
  let size = 0;
  let head = "";
  let inHead = true;
  const trace: string[] = [];
  for await (const chunk of stream) {
    if (!inHead) {
      hash.update(chunk);
      size += chunk.length;
      continue;
    }
    head += new TextDecoder("latin1").decode(chunk);
    while (inHead) {
      const eol = head.indexOf("\r\n");
      if (eol < 0) break;
      const line = head.slice(0, eol);
      if (/^Received:/i.test(line)) trace.push(line);
      else if (/^[ \t]/.test(line) && trace.length > 0) trace[trace.length - 1] += line;
      else {
        inHead = false;
        const rest = new Uint8Array([...head].map((c) => c.charCodeAt(0)));
        hash.update(rest);
        size += rest.length;
        head = "";
        break;
      }
      head = head.slice(eol + 2);
    }
  }
  return { trace, size, sha256: hash.digest("hex") };
}

Deno.test({
  name: "mail: our sender -> Postfix smarthost -> our receiver, byte-identical after the trace",
  ignore: unavailable !== null || missing("openssl", "postfix"),
  fn: async () => {
    const bench = await createMailBench();
    const receiver = await bench.startReceiver();
    const serverCert = join(bench.dir, "server.pem");
    const serverKey = join(bench.dir, "server.key");
    const ca = join(bench.dir, "ca.pem");
    await Deno.writeTextFile(serverCert, bench.serverCertPem);
    await Deno.writeTextFile(serverKey, bench.serverKeyPem);
    await Deno.writeTextFile(ca, bench.caPem);
    // Postfix reads its certificate and CA as root before dropping privileges, but the smtp
    // client reads the CA file as "postfix": make the bench readable.
    await Deno.chmod(bench.pki.dir, 0o755);
    await Deno.chmod(bench.dir, 0o755);
    const port = freePort();
    const postfix = await startPostfix({
      dir: join(bench.dir, "postfix"),
      port,
      relayDomain: "zkh-b.example",
      relayPort: receiver.port,
      caPath: ca,
      certPath: serverCert,
      keyPath: serverKey,
      messageSizeLimit: 64 * 1024 * 1024,
    });
    try {
      const message = syntheticMessage(12 * 1024 * 1024, 21);
      const sender = bench.sender(port, {
        smarthost: { host: "127.0.0.1", port, servername: "localhost" },
      });
      const result = await sender.send({
        to: ourAddress,
        messageId: "<p21@zkh-a.example>",
        raw: message.stream(),
      });
      assert.deepEqual(result.accepted, [ourAddress]);
      assert.match(result.response, /^250 2\.0\.0 Ok: queued as /);
      const deadline = Date.now() + 60_000;
      while (bench.stored.size === 0) {
        if (Date.now() > deadline) throw new Error(`not relayed; maillog:\n${await postfix.log()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const [[id, stored]] = [...bench.stored];
      assert.equal(stored.meta.mailFrom, "gateway@zkh-a.example");
      assert.deepEqual(stored.meta.recipients, [ourAddress]);
      assert.match(stored.meta.tls?.protocol ?? "", /^TLSv1\.[23]$/);
      const got = await afterTraceFields(await bench.spool.get(id));
      assert.equal(got.trace.length, 1, got.trace.join("\n"));
      assert.match(got.trace[0], /^Received: from gw\.zkh-a\.example .*by relay\.test\.example/);
      assert.match(got.trace[0], /with ESMTPS/);
      assert.deepEqual({ size: got.size, sha256: got.sha256 }, await message.digest());
      assert.match(await postfix.log(), /relay=localhost\[127\.0\.0\.1\]:\d+.*status=sent/);
    } finally {
      await postfix.stop();
      await receiver.close();
      await bench.cleanup();
    }
  },
});
