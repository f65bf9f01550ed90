/**
 * Mail from other gateways fetched from a mailbox over IMAP (RFC 9051), for hospitals whose own
 * mail server receives it. A poll takes the mailbox's messages oldest first, hands each to the same
 * `store` as the SMTP listener, and deletes it from the mailbox only once `store` resolved (the
 * message is durable): a message is always in the mailbox, in our spool, or in both. A crash
 * between the two leaves it in both; the next poll fetches it again, and the relay takes each part
 * once. A message over the size limit is not fetched: it gets the keyword `$BeeldpoortRefused` and
 * stays for the mail administrator, with an error line in the log.
 */
import { ImapFlow } from "imapflow";
import { isIP } from "node:net";
import type { Readable } from "node:stream";
import { BeeldpoortError, type Logger } from "../core/mod.ts";
import type { MailStore, ReceivedMailMeta } from "./receiver.ts";

/** The keyword a refused message carries in the mailbox (RFC 9051 §2.3.2 keywords). */
export const REFUSED_KEYWORD = "$BeeldpoortRefused";

/** Where the mailbox is and how to log in. */
export interface MailboxOptions {
  readonly host: string;
  readonly port: number;
  /** "tls": TLS from the first byte (imaps, port 993); "starttls": STARTTLS required (143). */
  readonly security: "tls" | "starttls";
  /** The name the server's certificate must carry; default `host`. */
  readonly servername?: string;
  readonly user: string;
  readonly password: string;
  /** Default "INBOX". */
  readonly mailbox?: string;
  /** PEM CA certificates the server's certificate must chain to; empty: the system's CAs. */
  readonly trustedCas: readonly string[];
  /** Larger messages are refused (left in the mailbox, marked). */
  readonly maxMessageBytes: number;
  /** Our address: the recipient of a message whose headers name no delivery address. */
  readonly address: string;
  /** Time between the end of one poll and the start of the next. */
  readonly intervalMs: number;
  readonly store: MailStore;
  readonly log: Logger;
  /** Poll right away (default) or only after the first interval (tests that poll by hand). */
  readonly pollAtStart?: boolean;
  /** Connecting and each server answer; default 30 s. */
  readonly timeoutMs?: number;
}

/** What one poll did. */
export interface MailboxPoll {
  /** Stored and deleted from the mailbox. */
  stored: number;
  /** Over the size limit: marked and left in the mailbox (counted once, when marked). */
  refused: number;
  /** Could not be stored this time (left in the mailbox for the next poll). */
  failed: number;
}

/** The poller the appliance runs. */
export interface MailboxPoller {
  /** Polls now; waits for a poll already running and then runs one more. */
  poll(): Promise<MailboxPoll>;
  /** Stops the timer; a running poll finishes the message it is on and stops. */
  close(): Promise<void>;
}

/** The mailbox could not be reached or read: connection, TLS, login or mailbox. */
export class MailboxError extends BeeldpoortError {
  readonly code = "MAIL_MAILBOX";
  constructor(
    readonly reason: "connect" | "tls" | "login" | "mailbox",
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A downloaded message was larger than announced and the limit. */
class MailboxMessageTooLarge extends BeeldpoortError {
  readonly code = "MAIL_MAILBOX_TOO_LARGE";
}

/** Fetched per IMAP partial request: fewer round trips than imapflow's 64 KiB for 10+ MB parts. */
const DOWNLOAD_CHUNK_BYTES = 1 << 20;

/** `imaps://host[:port][/mailbox]` (TLS) or `imap://host[:port][/mailbox]` (STARTTLS required). */
export function parseMailboxUrl(
  text: string,
): { host: string; port: number; security: "tls" | "starttls"; mailbox: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RangeError(`not a mailbox URL: ${text}`);
  }
  const security = url.protocol === "imaps:" ? "tls" : url.protocol === "imap:" ? "starttls" : null;
  if (!security || !url.hostname) {
    throw new RangeError(`a mailbox URL is imaps://host[:port]/mailbox or imap://...: ${text}`);
  }
  const mailbox = decodeURIComponent(url.pathname.replace(/^\//, "")) || "INBOX";
  return {
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port: url.port ? Number(url.port) : security === "tls" ? 993 : 143,
    security,
    mailbox,
  };
}

/**
 * Starts polling: the first poll right away, then every `intervalMs` after the previous one ended.
 * A poll that fails (server down, login refused) is logged and tried again at the next interval.
 *
 * @example
 * ```ts
 * const poller = createMailboxPoller({
 *   ...parseMailboxUrl("imaps://mail.zkh-b.example/INBOX"), user: "beeldpoort", password,
 *   trustedCas: [], maxMessageBytes: 50_000_000, address: "gateway@zkh-b.example",
 *   intervalMs: 60_000, store, log,
 * });
 * // ... later
 * await poller.close();
 * ```
 */
export function createMailboxPoller(options: MailboxOptions): MailboxPoller {
  const log = options.log;
  let running: Promise<MailboxPoll> | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const poll = async (): Promise<MailboxPoll> => {
    while (running) await running.catch(() => {});
    running = pollMailbox(options, () => closed);
    try {
      return await running;
    } finally {
      running = null;
    }
  };

  const schedule = (delayMs: number) => {
    if (closed) return;
    timer = setTimeout(async () => {
      try {
        const result = await poll();
        if (result.stored || result.refused || result.failed) {
          log.info("mailbox polled", { ...result });
        }
      } catch (error) {
        log.warn("mailbox poll failed; trying again at the next interval", {
          error,
          reason: error instanceof MailboxError ? error.reason : undefined,
        });
      }
      schedule(options.intervalMs);
    }, delayMs);
  };
  schedule(options.pollAtStart === false ? options.intervalMs : 0);

  return {
    poll,
    async close() {
      closed = true;
      clearTimeout(timer);
      await running?.catch(() => {});
    },
  };
}

/** One poll: connect, take every message, log out. */
async function pollMailbox(options: MailboxOptions, stopping: () => boolean): Promise<MailboxPoll> {
  const log = options.log;
  const mailbox = options.mailbox ?? "INBOX";
  const timeoutMs = options.timeoutMs ?? 30_000;
  const client = new ImapFlow({
    host: options.host,
    port: options.port,
    secure: options.security === "tls",
    doSTARTTLS: options.security === "starttls" ? true : undefined,
    // SNI takes names only; an IP address is checked against the certificate's IP entries.
    servername: options.servername ?? (isIP(options.host) ? undefined : options.host),
    tls: {
      ca: options.trustedCas.length ? [...options.trustedCas] : undefined,
      rejectUnauthorized: true,
      minVersion: "TLSv1.2",
    },
    auth: { user: options.user, pass: options.password },
    logger: false,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: 10 * timeoutMs,
    disableAutoIdle: true,
  });
  // A dropped connection is reported through the command that was waiting on it.
  client.on("error", () => {});
  try {
    await client.connect();
  } catch (error) {
    throw connectError(error, options);
  }
  const result: MailboxPoll = { stored: 0, refused: 0, failed: 0 };
  try {
    let lock;
    try {
      lock = await client.getMailboxLock(mailbox);
    } catch (error) {
      throw new MailboxError("mailbox", `cannot open mailbox "${mailbox}": ${messageOf(error)}`, {
        cause: error,
      });
    }
    try {
      const uids = await client.search({ deleted: false, unKeyword: REFUSED_KEYWORD }, {
        uid: true,
      }) || [];
      if (uids.length === 0) return result;
      const messages = await client.fetchAll(uids, {
        uid: true,
        size: true,
        envelope: true,
        internalDate: true,
        headers: ["return-path", "delivered-to"],
      }, { uid: true });
      messages.sort((a, b) => a.uid - b.uid);
      for (const message of messages) {
        if (stopping()) break; // shutting down: the rest waits in the mailbox
        const fields = {
          uid: message.uid,
          bytes: message.size,
          messageId: message.envelope?.messageId,
        };
        if ((message.size ?? 0) > options.maxMessageBytes) {
          await client.messageFlagsAdd(String(message.uid), [REFUSED_KEYWORD], { uid: true });
          log.error("mailbox message over mail.maxMessageBytes: not fetched, left marked", {
            ...fields,
            limit: options.maxMessageBytes,
            keyword: REFUSED_KEYWORD,
          });
          result.refused++;
          continue;
        }
        const meta = metaOf(message, options);
        try {
          const { id } = await storeMessage(client, message.uid, meta, options);
          log.info("mailbox message stored", { id, ...fields });
        } catch (error) {
          log.warn("mailbox message not stored; it stays in the mailbox for the next poll", {
            ...fields,
            error,
          });
          result.failed++;
          continue;
        }
        // Only now is it ours: gone from the mailbox (UID EXPUNGE where the server has UIDPLUS).
        await client.messageDelete(String(message.uid), { uid: true });
        result.stored++;
      }
      return result;
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/** Downloads one message into `store`; the stream's chunks are copies the store may free. */
async function storeMessage(
  client: ImapFlow,
  uid: number,
  meta: ReceivedMailMeta,
  options: MailboxOptions,
): Promise<{ id: string }> {
  const download = await client.download(String(uid), undefined, {
    uid: true,
    chunkSize: DOWNLOAD_CHUNK_BYTES,
    maxBytes: options.maxMessageBytes + 1,
  });
  if (!download?.content) throw new MailboxError("mailbox", `message ${uid} is gone`);
  const source = download.content as Readable;
  let bytes = 0;
  const iterator = source[Symbol.asyncIterator]();
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) return controller.close();
      const chunk = next.value as Uint8Array;
      bytes += chunk.length;
      if (bytes > options.maxMessageBytes) {
        throw new MailboxMessageTooLarge(`message ${uid} is over ${options.maxMessageBytes} bytes`);
      }
      // A copy: imapflow's buffers may be views of a larger one, and the store frees what it gets.
      controller.enqueue(new Uint8Array(chunk));
    },
    async cancel() {
      await iterator.return?.(); // the finally below destroys the source either way
    },
  }, { highWaterMark: 0 });
  try {
    return await options.store(meta, stream);
  } finally {
    source.destroy();
  }
}

interface FetchedMessage {
  uid: number;
  size?: number;
  internalDate?: Date | string;
  envelope?: { from?: { address?: string }[]; messageId?: string };
  headers?: Uint8Array;
}

/**
 * The envelope as the mail server recorded it at delivery: Return-Path (RFC 5321 §4.4) for the
 * sender, Delivered-To for the recipient (a department's subaddress survives in it).
 */
function metaOf(message: FetchedMessage, options: MailboxOptions): ReceivedMailMeta {
  const headers = new TextDecoder().decode(message.headers ?? new Uint8Array());
  const header = (name: string) =>
    headers.match(new RegExp(`^${name}:[ \\t]*<?([^>\\r\\n]*)>?`, "im"))?.[1].trim();
  const received = message.internalDate ? new Date(message.internalDate) : new Date();
  return {
    sessionId: `imap:${message.uid}`,
    mailFrom: header("return-path") ?? message.envelope?.from?.[0]?.address ?? "",
    recipients: [header("delivered-to") || options.address],
    remoteAddress: options.host,
    clientName: "imap",
    tls: null,
    receivedAt: Number.isNaN(received.getTime()) ? new Date() : received,
  };
}

function connectError(error: unknown, options: MailboxOptions): MailboxError {
  const e = error as { authenticationFailed?: boolean; code?: string; message?: string };
  const where = `${options.host}:${options.port}`;
  if (e?.authenticationFailed) {
    return new MailboxError(
      "login",
      `the mailbox at ${where} refused the login of "${options.user}"`,
      {
        cause: error,
      },
    );
  }
  const code = e?.code ?? "";
  if (
    /CERT|SELF_SIGNED|TLS|SSL|ALTNAME|UNABLE_TO_/.test(code) ||
    /certificate|TLS|STARTTLS/i.test(e?.message ?? "")
  ) {
    return new MailboxError(
      "tls",
      `no verified TLS to the mailbox at ${where}: ${messageOf(error)}`,
      {
        cause: error,
      },
    );
  }
  return new MailboxError("connect", `cannot reach the mailbox at ${where}: ${messageOf(error)}`, {
    cause: error,
  });
}

function messageOf(error: unknown): string {
  const e = error as { message?: string; code?: string; responseText?: string };
  return [e?.responseText || e?.message, e?.code].filter(Boolean).join(" ") || String(error);
}
