/**
 * A mail test bench: a test CA with a TLS server certificate for localhost/127.0.0.1, an
 * encrypted spool as the receiver's store, and synthetic messages in SMTP canonical form that are
 * generated twice (to send, to hash) rather than held in memory.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { createLogger, type Logger } from "../../modules/core/mod.ts";
import {
  createMailReceiver,
  createMailSender,
  type MailReceiver,
  type MailReceiverOptions,
  type MailSender,
  type MailSenderOptions,
  type MailStore,
  type ReceivedMailMeta,
} from "../../modules/mail/mod.ts";
import { createSpool, type Spool } from "../../modules/spool/mod.ts";
import { createTestPki, type TestPki } from "./smime_pki.ts";

export const ourAddress = "gateway@zkh-b.example";
export const senderAddress = "gateway@zkh-a.example";

/** What the store got, by spool id. */
export interface StoredMail {
  readonly meta: ReceivedMailMeta;
  readonly size: number;
  readonly sha256: string;
}

export interface MailBench {
  readonly pki: TestPki;
  readonly dir: string;
  readonly caPem: string;
  readonly serverCertPem: string;
  readonly serverKeyPem: string;
  /** A CA that did not sign the server certificate. */
  readonly otherCaPem: string;
  readonly spool: Spool;
  readonly stored: Map<string, StoredMail>;
  /** Puts into the spool (fsync) and records what arrived. */
  readonly store: MailStore;
  readonly log: Logger;
  /** Log lines written so far (JSON). */
  readonly logLines: string[];
  startReceiver(overrides?: Partial<MailReceiverOptions>): Promise<MailReceiver>;
  /** A sender that routes zkh-b.example to `receiver` (or `port`) as "localhost". */
  sender(port: number, overrides?: Partial<MailSenderOptions>): MailSender;
  /** Spool objects on disk (ids). */
  spoolIds(): Promise<string[]>;
  cleanup(): Promise<void>;
}

/** Builds the bench; call `cleanup`. */
export async function createMailBench(): Promise<MailBench> {
  const pki = await createTestPki();
  const server = await pki.issue("smtp-server", {
    subjectAltName: "DNS:localhost, IP:127.0.0.1",
    keyUsage: "critical, digitalSignature, keyEncipherment",
    extendedKeyUsage: "serverAuth",
  });
  const other = await pki.createCa("Someone Else CA");
  const dir = join(pki.dir, "mail");
  await Deno.mkdir(dir);
  const spool = await createSpool({
    dir: join(dir, "spool"),
    masterKey: crypto.getRandomValues(new Uint8Array(32)),
    durability: "fsync",
  });
  const stored = new Map<string, StoredMail>();
  const logLines: string[] = [];
  const log = createLogger({ level: "debug", sink: (line) => logLines.push(line) });
  const store: MailStore = async (meta, stream) => {
    const put = await spool.put(stream);
    stored.set(put.id, { meta, size: put.size, sha256: put.sha256 });
    return { id: put.id };
  };
  const bench: MailBench = {
    pki,
    dir,
    caPem: await Deno.readTextFile(pki.ca.certPath),
    serverCertPem: await Deno.readTextFile(server.certPath),
    serverKeyPem: await Deno.readTextFile(server.keyPath),
    otherCaPem: await Deno.readTextFile(other.certPath),
    spool,
    stored,
    store,
    log,
    logLines,
    startReceiver: (overrides = {}) =>
      createMailReceiver({
        host: "127.0.0.1",
        port: 0,
        tlsCert: bench.serverCertPem,
        tlsKey: bench.serverKeyPem,
        acceptedRecipients: [ourAddress],
        maxMessageBytes: 64 * 1024 * 1024,
        store,
        log: log.child({ module: "mail-receiver" }),
        ...overrides,
      }),
    sender: (port, overrides = {}) =>
      createMailSender({
        from: senderAddress,
        localName: "gw.zkh-a.example",
        trustedCas: [bench.caPem],
        routes: { "zkh-b.example": { host: "127.0.0.1", port, servername: "localhost" } },
        connectTimeoutMs: 10_000,
        log: log.child({ module: "mail-sender" }),
        ...overrides,
      }),
    async spoolIds() {
      const ids: string[] = [];
      for await (const id of spool.ids()) ids.push(id);
      return ids;
    },
    cleanup: () => pki.cleanup(),
  };
  return bench;
}

const encoder = new TextEncoder();

/**
 * A synthetic message of about `bytes` bytes in canonical form (CRLF, 76-character base64 lines),
 * deterministic for a given `seed`, with dot lines that SMTP must stuff and unstuff (RFC 5321
 * §4.5.2). `stream()` can be called any number of times; `digest()` hashes one pass.
 */
export function syntheticMessage(bytes: number, seed = 1, messageId = `<m${seed}@zkh-a.example>`) {
  const head = encoder.encode(
    `From: ${senderAddress}\r\nTo: ${ourAddress}\r\nSubject: test ${seed}\r\n` +
      `Message-ID: ${messageId}\r\nMIME-Version: 1.0\r\n` +
      `Content-Type: text/plain\r\n\r\n.\r\n..leading dots\r\n.\r\n`,
  );
  // One block of base64 lines from a seeded generator, repeated with a counter line between.
  let x = seed * 2654435761 >>> 0;
  const random = new Uint8Array(57 * 1024);
  for (let i = 0; i < random.length; i++) {
    x ^= x << 13, x ^= x >>> 17, x ^= x << 5;
    random[i] = x & 0xff;
  }
  const b64 = btoa(String.fromCharCode(...random.subarray(0, 57 * 1024)));
  let text = "";
  for (let i = 0; i < b64.length; i += 76) text += b64.slice(i, i + 76) + "\r\n";
  const block = encoder.encode(text);
  const stream = () => {
    let sent = 0;
    let n = 0;
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) {
          controller.enqueue(head);
          sent += head.length;
          return;
        }
        if (sent >= bytes) return controller.close();
        const line = encoder.encode(`.${n++}\r\n`);
        controller.enqueue(line);
        controller.enqueue(block);
        sent += line.length + block.length;
      },
    }, { highWaterMark: 0 });
  };
  return {
    stream,
    async digest(): Promise<{ size: number; sha256: string }> {
      const hash = createHash("sha256");
      let size = 0;
      for await (const chunk of stream()) {
        hash.update(chunk);
        size += chunk.length;
      }
      return { size, sha256: hash.digest("hex") };
    },
  };
}

/** A hand-driven SMTP client for the cases nodemailer will not produce (half a DATA, no TLS). */
export interface SmtpDialog {
  /** Sends a command line (CRLF added) and returns the complete reply. */
  command(line: string): Promise<string>;
  /** Reads one complete reply (e.g. the greeting). */
  reply(): Promise<string>;
  write(bytes: Uint8Array): Promise<void>;
  /** Upgrades with STARTTLS, verifying against `caPem` as "localhost". */
  startTls(caPem: string): Promise<void>;
  close(): void;
}

/** Connects to 127.0.0.1:`port`. */
export async function smtpDialog(port: number): Promise<SmtpDialog> {
  let conn: Deno.Conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let buffered = "";
  const decoder = new TextDecoder();
  const buf = new Uint8Array(16 * 1024);
  const reply = async (): Promise<string> => {
    // RFC 5321 §4.2.1: a multiline reply ends with the line whose code is followed by a space.
    while (true) {
      const lines = buffered.split("\r\n");
      const last = lines.findIndex((l) => /^\d{3} /.test(l));
      if (last >= 0) {
        const text = lines.slice(0, last + 1).join("\r\n");
        buffered = lines.slice(last + 1).join("\r\n");
        return text;
      }
      const n = await conn.read(buf);
      if (n === null) throw new Error(`connection closed; so far: ${buffered}`);
      buffered += decoder.decode(buf.subarray(0, n));
    }
  };
  const write = async (bytes: Uint8Array) => {
    for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
  };
  return {
    reply,
    write,
    async command(line) {
      await write(encoder.encode(line + "\r\n"));
      return await reply();
    },
    async startTls(caPem) {
      conn = await Deno.startTls(conn as Deno.TcpConn, { hostname: "localhost", caCerts: [caPem] });
    },
    close() {
      try {
        conn.close();
      } catch { /* already closed */ }
    },
  };
}
