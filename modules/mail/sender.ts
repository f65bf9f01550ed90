/**
 * Outbound SMTP: one pre-built message (the S/MIME layer builds it) delivered byte-identical over
 * STARTTLS, to the recipient domain's MX hosts or through a smarthost, with every failure sorted
 * into "retry later" or "give up" for the transfer queue.
 */
import { rootCertificates } from "node:tls";
import type { Logger } from "../core/mod.ts";
import { type CheckedMessage, checkedMessage } from "./canonical.ts";
import { CanonicalMessageConnection } from "./connection.ts";
import {
  MailFormatError,
  MailPermanentError,
  MailSendError,
  MailTemporaryError,
  MailTlsError,
} from "./errors.ts";
import { type MailHop, type MailRoute, routesFor } from "./routes.ts";
import { createSessionCache } from "./session_cache.ts";

/** How to reach other gateways. */
export interface MailSenderOptions {
  /** Our envelope sender (MAIL FROM, RFC 5321 §4.1.1.2); bounces and DSNs go here. */
  readonly from: string;
  /** Our name in EHLO (RFC 5321 §4.1.1.1): this gateway's host name. */
  readonly localName: string;
  /** Send everything through this relay instead of looking up MX hosts. */
  readonly smarthost?: MailHop;
  /** Fixed next hops by recipient domain (tests, or peers without usable MX records). */
  readonly routes?: Readonly<Record<string, MailHop>>;
  /** Port for MX hosts and for hops without a port; default 25. */
  readonly port?: number;
  /**
   * Refuse to send unless STARTTLS succeeded with a verified certificate (RFC 3207). Default true;
   * false only for a smarthost on the same machine.
   */
  readonly requireTls?: boolean;
  /** PEM certificates the server's chain must lead to. */
  readonly trustedCas: readonly string[];
  /** Also trust the public CAs bundled with the runtime (peers with public certificates). */
  readonly trustPublicCas?: boolean;
  /** Connect + greeting timeout, default 30 s; idle timeout during the exchange, default 5 min. */
  readonly connectTimeoutMs?: number;
  readonly socketTimeoutMs?: number;
  /**
   * Keep a connection open this long after a message for the next one to the same host (see
   * session_cache.ts); 0 or absent: one connection per message. Call `close` when done.
   */
  readonly keepConnectionsMs?: number;
  /** Replaces node:dns resolveMx (tests). */
  readonly resolveMx?: (domain: string) => Promise<{ exchange: string; priority: number }[]>;
  readonly log: Logger;
}

/** One message to send. */
export interface MailMessage {
  /** Envelope recipients (RCPT TO), all in one domain unless a smarthost is set. */
  readonly to: string | readonly string[];
  /** The Message-ID inside `raw`, for logs and for matching notifications. */
  readonly messageId: string;
  /**
   * The complete message, sent as is: CRLF line breaks, ending in CRLF. A stream is read once; a
   * file path can be retried on the next MX host even after a failure mid-transfer.
   */
  readonly raw: ReadableStream<Uint8Array> | string;
}

/** A recipient the server refused while others were accepted. */
export interface RejectedRecipient {
  readonly address: string;
  readonly responseCode?: number;
  readonly response?: string;
  readonly temporary: boolean;
}

/** What the server said when it took the message. */
export interface MailSendResult {
  readonly messageId: string;
  readonly accepted: string[];
  readonly rejected: RejectedRecipient[];
  /** The final reply to DATA, e.g. "250 2.0.0 Ok: queued as 4Fx...". */
  readonly response: string;
  /** The host that took it. */
  readonly host: string;
}

/** Sends messages; see `createMailSender`. */
export interface MailSender {
  send(message: MailMessage): Promise<MailSendResult>;
  /** Quits the connections kept open for reuse (`keepConnectionsMs`). */
  close(): void;
}

interface NodemailerError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  rejected?: string[];
  rejectedErrors?: NodemailerError[];
  recipient?: string;
}

/** What nodemailer's connection reports after the server took the message. */
interface SentInfo {
  accepted?: unknown[];
  rejectedErrors?: unknown[];
  response: string;
}

const tlsCodes = /CERT|SELF_SIGNED|UNABLE_TO_|ALTNAME|HOSTNAME|TLS|SSL/i;

/** Sorts a nodemailer failure into our named errors (RFC 5321 §4.2.1: 4yz temporary, 5yz not). */
function classify(e: unknown, host: string): MailSendError {
  if (e instanceof MailSendError) return e;
  const err = e as NodemailerError;
  if (err?.cause instanceof MailFormatError) return err.cause;
  const details = { responseCode: err?.responseCode, response: err?.response, host };
  const message = err?.message ?? String(e);
  if (err?.code === "ETLS" || (!err?.responseCode && tlsCodes.test(`${err?.code} ${message}`))) {
    return new MailTlsError(`TLS with ${host} refused: ${message}`, details, { cause: e });
  }
  if (err?.code === "EENVELOPE" && err.rejectedErrors?.length) {
    const codes = err.rejectedErrors.map((r) => r.responseCode ?? 0);
    const permanent = codes.every((c) => c >= 500);
    const first = err.rejectedErrors[0];
    const text = `${host} refused ${err.rejected?.join(", ")}: ${first.response ?? first.message}`;
    const d = { responseCode: first.responseCode, response: first.response, host };
    return permanent
      ? new MailPermanentError(text, d, { cause: e })
      : new MailTemporaryError(text, d, { cause: e });
  }
  if (err?.responseCode && err.responseCode >= 500) {
    return new MailPermanentError(`${host} refused the message: ${message}`, details, { cause: e });
  }
  // 4xx, refused/reset/timed-out connections, DNS trouble: all worth another try later.
  return new MailTemporaryError(`sending to ${host} failed: ${message}`, details, { cause: e });
}

function domainOf(address: string): string {
  const at = address.lastIndexOf("@");
  if (at < 1) throw new MailPermanentError(`"${address}" is not an address`);
  return address.slice(at + 1).toLowerCase();
}

/**
 * Runs one nodemailer step (`run` calls `done` once) and settles with it, or with the first error
 * or close of the connection meanwhile; the listeners go when the step ends, so a connection kept
 * for reuse does not collect them.
 */
function whileOpen<T>(
  connection: CanonicalMessageConnection,
  run: (done: (error?: Error | null, value?: T) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onEnd = () => reject(new Error("connection closed"));
    const cleanUp = () => {
      connection.off("error", reject);
      connection.off("end", onEnd);
    };
    connection.on("error", reject);
    connection.once("end", onEnd);
    run((error, value) => {
      cleanUp();
      error ? reject(error) : resolve(value as T);
    });
  });
}

/**
 * Creates a sender. Each `send` opens a connection (or takes one kept open, `keepConnectionsMs`),
 * insists on STARTTLS with a certificate that verifies against `trustedCas` and names the host,
 * and sends `raw` unchanged.
 *
 * @example
 * ```ts
 * const sender = createMailSender({
 *   from: "gateway@zkh-a.example", localName: "gw.zkh-a.example",
 *   trustedCas: [await Deno.readTextFile("peers-ca.pem")], log,
 * });
 * try {
 *   const result = await sender.send({ to: "gateway@zkh-b.example", messageId, raw: "part1.eml" });
 *   console.log(result.response);
 * } catch (e) {
 *   if (e instanceof MailTemporaryError) retryLater(); else if (e instanceof MailPermanentError) fail();
 * }
 * ```
 */
export function createMailSender(options: MailSenderOptions): MailSender {
  const port = options.port ?? 25;
  const requireTls = options.requireTls ?? true;
  const ca = [...options.trustedCas, ...(options.trustPublicCas ? rootCertificates : [])];
  const log = options.log;

  const sessions = options.keepConnectionsMs
    ? createSessionCache<CanonicalMessageConnection>({ idleMs: options.keepConnectionsMs })
    : null;

  /** Connects, reads the greeting, says EHLO and completes STARTTLS (nodemailer's `connect`). */
  function open(route: MailRoute): Promise<CanonicalMessageConnection> {
    const connection = new CanonicalMessageConnection({
      host: route.host,
      port: route.port,
      secure: false,
      requireTLS: requireTls,
      ignoreTLS: false,
      name: options.localName,
      connectionTimeout: options.connectTimeoutMs ?? 30_000,
      greetingTimeout: options.connectTimeoutMs ?? 30_000,
      socketTimeout: options.socketTimeoutMs ?? 300_000,
      tls: {
        ca,
        servername: route.servername,
        rejectUnauthorized: true,
        minVersion: "TLSv1.2",
      },
    });
    // Kept for the connection's life: a late error (during QUIT, while cached) must not go
    // uncaught. Errors during a transaction reach its own listener too.
    connection.on("error", (error: Error) => {
      log.debug("smtp connection error", { host: route.host, port: route.port, error });
    });
    return whileOpen<void>(connection, (done) => connection.connect(done))
      .then(() => connection, (error) => {
        connection.close();
        throw error;
      });
  }

  /** One mail transaction on an open connection: MAIL FROM, RCPT TO, DATA, the final reply. */
  function transact(
    connection: CanonicalMessageConnection,
    to: string[],
    message: CheckedMessage,
  ): Promise<SentInfo> {
    return whileOpen<SentInfo>(
      connection,
      (done) =>
        connection.send(
          { from: options.from, to },
          message.stream,
          (error, info) => done(error, info as SentInfo),
        ),
    );
  }

  async function attempt(
    route: MailRoute,
    to: string[],
    message: MailMessage,
  ): Promise<SentInfo> {
    const hop = `${route.host}:${route.port}/${route.servername}`;
    const cached = sessions?.take(hop);
    const checked = checkedMessage(message.raw);
    let connection: CanonicalMessageConnection | undefined = cached;
    try {
      connection ??= await open(route);
      const info = await transact(connection, to, checked);
      // QUIT after a delivery (RFC 5321 §4.1.1.10), unless the next message may use it.
      if (sessions) sessions.keep(hop, connection);
      else connection.quit();
      return info;
    } catch (e) {
      // After a failure the socket just closes.
      connection?.close();
      const error = classify(e, route.host);
      // A cached session the server dropped in the meantime (its idle timeout, a restart) is no
      // reason to wait for the next retry: the message is unread, so it goes out on a new one.
      if (cached && error.temporary && !checked.started()) {
        log.info("cached smtp session gone, reconnecting", { host: route.host, port: route.port });
        return attempt(route, to, message);
      }
      throw Object.assign(error, { started: checked.started() });
    }
  }

  return {
    async send(message) {
      const to = typeof message.to === "string" ? [message.to] : [...message.to];
      if (to.length === 0) throw new MailPermanentError("no recipients");
      const domains = new Set(to.map(domainOf));
      if (domains.size > 1 && !options.smarthost) {
        throw new MailPermanentError(
          `recipients in ${domains.size} domains; send once per domain`,
        );
      }
      const routes = await routesFor([...domains][0], {
        smarthost: options.smarthost,
        routes: options.routes,
        port,
        resolveMx: options.resolveMx,
      });
      let last: MailSendError | undefined;
      for (const route of routes) {
        try {
          const info = await attempt(route, to, message);
          const rejectedErrors = (info.rejectedErrors ?? []) as NodemailerError[];
          const result: MailSendResult = {
            messageId: message.messageId,
            accepted: (info.accepted ?? []).map(String),
            rejected: rejectedErrors.map((r) => ({
              address: r.recipient ?? "",
              responseCode: r.responseCode,
              response: r.response,
              temporary: (r.responseCode ?? 400) < 500,
            })),
            response: info.response,
            host: route.host,
          };
          log.info("mail sent", {
            messageId: message.messageId,
            host: route.host,
            port: route.port,
            accepted: result.accepted.length,
            rejected: result.rejected.length,
            response: info.response,
          });
          return result;
        } catch (e) {
          const error = e as MailSendError & { started: boolean };
          log.warn("mail not sent", {
            messageId: message.messageId,
            host: route.host,
            port: route.port,
            error,
            temporary: error.temporary,
          });
          last = error;
          // Another MX host only helps for a temporary failure, and only while the message can
          // still be read from the start (RFC 5321 §5.1: try the next host on failure).
          const rereadable = typeof message.raw === "string" || !error.started;
          if (!error.temporary || !rereadable) break;
        }
      }
      if (typeof message.raw !== "string") await message.raw.cancel().catch(() => {});
      throw last ?? new MailTemporaryError("no host to send to");
    },
    close() {
      sessions?.close();
    },
  };
}
