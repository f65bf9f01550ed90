/**
 * Inbound SMTP, built like a careful MTA: STARTTLS before MAIL, only our own addresses, a size
 * limit (RFC 1870), a rate limit per client address, and the 250 to DATA only once `store` has
 * made the message durable (RFC 5321 §6.1: after the 250 the message is our responsibility).
 */
import type { AddressInfo } from "node:net";
import { SMTPServer, type SMTPServerSession } from "smtp-server";
import { type Logger, subaddress } from "../core/mod.ts";
import { installFastDataScan } from "./data_scan.ts";
import { dataStreamView } from "./data_stream.ts";
import { createRateLimiter } from "./rate_limit.ts";

/** The envelope and connection of a received message; goes to `store` with the bytes. */
export interface ReceivedMailMeta {
  /** smtp-server's id for the connection, for correlating logs. */
  readonly sessionId: string;
  /** MAIL FROM ("" for the null sender of a bounce). */
  readonly mailFrom: string;
  /** The accepted RCPT TO addresses. */
  readonly recipients: string[];
  readonly remoteAddress: string;
  /** What the client called itself in EHLO/HELO. */
  readonly clientName: string;
  /** The TLS protocol and cipher, or null for a cleartext session (when allowed). */
  readonly tls: { protocol: string; cipher: string } | null;
  readonly receivedAt: Date;
}

/**
 * Makes a received message durable. Resolve only once the bytes are safely stored (fsync); reject
 * to have the client try again later (451). When `stream` errors (client gone, over the limit),
 * keep nothing and reject.
 */
/**
 * Stores one message. The stream's chunks are copies the store owns (out of smtp-server's
 * buffers): it may free each once used (the spool's `handOver`).
 */
export type MailStore = (
  meta: ReceivedMailMeta,
  stream: ReadableStream<Uint8Array>,
) => Promise<{ id: string }>;

/** How the listener behaves. */
export interface MailReceiverOptions {
  /** Address to listen on, e.g. "0.0.0.0" or "127.0.0.1". */
  readonly host: string;
  /** 25 in production; 0 picks a free port (see `MailReceiver.port`). */
  readonly port: number;
  /** PEM certificate chain and key offered with STARTTLS. */
  readonly tlsCert: string;
  readonly tlsKey: string;
  /** Our own addresses; any other RCPT TO gets 550. Compared case-insensitively. */
  readonly acceptedRecipients: readonly string[];
  /** Announced with SIZE (RFC 1870); a larger message is refused with 552 and not kept. */
  readonly maxMessageBytes: number;
  /** Refuse MAIL until STARTTLS succeeded (530, RFC 3207 §4); default true. */
  readonly requireTls?: boolean;
  /** At most `messages` per client address per `windowMs` (default one minute). */
  readonly rateLimit?: { readonly messages: number; readonly windowMs?: number };
  /** Concurrent connections; default 20. */
  readonly maxConnections?: number;
  /** Our name in the greeting and EHLO reply. */
  readonly serverName?: string;
  /**
   * Idle time allowed while the client owes us input; default 5 minutes (RFC 5321 §4.5.3.2.7).
   * Also how long a TLS client that vanished mid-DATA holds its connection: Deno 2.9.6 does not
   * report the peer's close on a STARTTLS socket whose reading was paused for backpressure
   * (measured), so only this timeout ends it. Nothing of such a message is stored either way.
   */
  readonly socketTimeoutMs?: number;
  readonly store: MailStore;
  readonly log: Logger;
}

/** A listening receiver. */
export interface MailReceiver {
  readonly host: string;
  readonly port: number;
  /** Stops accepting, waits for connections to finish (at most `graceMs`, default 10 s). */
  close(): Promise<void>;
}

interface SmtpReplyError extends Error {
  responseCode: number;
}

function reply(responseCode: number, message: string): SmtpReplyError {
  return Object.assign(new Error(message), { responseCode });
}

/**
 * Starts the SMTP listener.
 *
 * @example
 * ```ts
 * const receiver = await createMailReceiver({
 *   host: "0.0.0.0", port: 25, tlsCert, tlsKey,
 *   acceptedRecipients: ["gateway@zkh-b.example"], maxMessageBytes: 40_000_000,
 *   rateLimit: { messages: 600 },
 *   store: async (meta, stream) => ({ id: (await spool.put(stream)).id }),
 *   log,
 * });
 * // ... later
 * await receiver.close();
 * ```
 */
export async function createMailReceiver(options: MailReceiverOptions): Promise<MailReceiver> {
  const log = options.log;
  const requireTls = options.requireTls ?? true;
  const accepted = new Set(options.acceptedRecipients.map((a) => a.toLowerCase()));
  const limiter = options.rateLimit
    ? createRateLimiter(options.rateLimit.messages, options.rateLimit.windowMs ?? 60_000)
    : null;

  installFastDataScan();
  const server = new SMTPServer({
    secure: false,
    key: options.tlsKey,
    cert: options.tlsCert,
    minVersion: "TLSv1.2",
    name: options.serverName,
    size: options.maxMessageBytes,
    rejectOversized: true,
    // Gateways do not authenticate with passwords: the S/MIME signature says who sent a message.
    disabledCommands: ["AUTH"],
    authOptional: true,
    hideENHANCEDSTATUSCODES: false,
    disableReverseLookup: true,
    maxClients: options.maxConnections ?? 20,
    socketTimeout: options.socketTimeoutMs ?? 300_000,
    closeTimeout: 10_000,
    logger: false,

    onConnect(session, callback) {
      if (limiter?.exhausted(session.remoteAddress)) {
        log.warn("smtp client over its rate limit", { remoteAddress: session.remoteAddress });
        return callback(reply(421, "Too many messages from your address, try again later"));
      }
      callback();
    },

    onMailFrom(_address, session, callback) {
      if (requireTls && !session.secure) {
        return callback(reply(530, "Must issue a STARTTLS command first"));
      }
      if (limiter && !limiter.take(session.remoteAddress)) {
        log.warn("smtp client over its rate limit", { remoteAddress: session.remoteAddress });
        return callback(reply(450, "Too many messages from your address, try again later"));
      }
      callback();
    },

    onRcptTo(address, session, callback) {
      // RFC 5233: a subaddress of an accepted address is accepted (a department's address).
      if (!accepted.has(subaddress(address.address).mailbox)) {
        log.info("smtp recipient refused", {
          recipient: address.address,
          remoteAddress: session.remoteAddress,
        });
        return callback(reply(550, "No such recipient here"));
      }
      callback();
    },

    onData(data, session, callback) {
      const view = dataStreamView(data, options.maxMessageBytes);
      const meta = metaOf(session);
      const started = performance.now();
      options.store(meta, view.stream).then(
        ({ id }) => {
          if (!view.complete()) {
            // The store said yes to a message it did not read to the end: not a 250.
            log.error("smtp store resolved before the message ended", { id, ...logFields(meta) });
            return callback(reply(451, "Local error in processing, try again later"));
          }
          log.info("smtp message stored", {
            id,
            bytes: view.bytes(),
            ms: Math.round(performance.now() - started),
            ...logFields(meta),
          });
          callback(null, `Ok: stored as ${id}`);
        },
        (error) => {
          const aborted = view.aborted();
          if (aborted?.reason === "too-large") {
            // rejectOversized makes smtp-server answer 552 whatever we pass.
            log.info("smtp message over the size limit", logFields(meta));
            return callback(reply(552, aborted.message));
          }
          if (aborted) {
            log.warn("smtp message abandoned mid-DATA", {
              reason: aborted.reason,
              ...logFields(meta),
            });
            return callback(reply(451, aborted.message));
          }
          // RFC 5321 §4.2.3 451: the sender keeps the message and tries again later.
          log.error("smtp store failed", { error, ...logFields(meta) });
          callback(reply(451, "Local error in processing, try again later"));
        },
      );
    },
  });

  // Without a listener, one client's TLS alert or reset is an uncaught error that ends the
  // process (measured on Deno 2.9.6, see stack-feasibility §3). Log it and carry on.
  server.on("error", (e: Error & { code?: string; remoteAddress?: string }) => {
    log.warn("smtp connection error", {
      error: e,
      code: e.code,
      remoteAddress: e.remoteAddress,
    });
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.server.once("error", onError);
    server.listen(options.port, options.host, () => {
      server.server.off("error", onError);
      resolve();
    });
  });
  const address = server.server.address() as AddressInfo;
  log.info("smtp listening", { host: options.host, port: address.port, requireTls });
  return {
    host: options.host,
    port: address.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function metaOf(session: SMTPServerSession): ReceivedMailMeta {
  const tls = session.tlsOptions;
  return {
    sessionId: session.id,
    mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
    recipients: session.envelope.rcptTo.map((r) => r.address),
    remoteAddress: session.remoteAddress,
    clientName: String(session.hostNameAppearsAs || ""),
    tls: tls ? { protocol: String(tls.version ?? ""), cipher: String(tls.name ?? "") } : null,
    receivedAt: new Date(),
  };
}

function logFields(meta: ReceivedMailMeta) {
  return {
    sessionId: meta.sessionId,
    mailFrom: meta.mailFrom,
    recipients: meta.recipients,
    remoteAddress: meta.remoteAddress,
  };
}
