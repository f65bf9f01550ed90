/**
 * SMTP transport between gateways, and nothing more: `createMailSender` delivers a pre-built
 * message byte-identical over verified STARTTLS (MX lookup or smarthost) and says whether a failure
 * is worth a retry; `createMailReceiver` listens with STARTTLS, size and rate limits, accepts only
 * our own addresses and answers 250 only after `store` made the message durable. The relay
 * protocol (S/MIME, parts, notifications) lives in modules/relay.
 *
 * @example
 * ```ts
 * import { createMailReceiver, createMailSender, newMessageId, outerHeaders } from "../mail/mod.ts";
 * const receiver = await createMailReceiver({
 *   host: "127.0.0.1", port: 2525, tlsCert, tlsKey, acceptedRecipients: ["gw@b.example"],
 *   maxMessageBytes: 40_000_000, store: async (_meta, s) => ({ id: (await spool.put(s)).id }), log,
 * });
 * const sender = createMailSender({
 *   from: "gw@a.example", localName: "gw.a.example", trustedCas: [caPem], log,
 *   routes: { "b.example": { host: "127.0.0.1", port: receiver.port, servername: "localhost" } },
 * });
 * const messageId = newMessageId("a.example");
 * const headers = outerHeaders({ from: "gw@a.example", to: "gw@b.example", subject: "Beeldpoort", messageId });
 * const raw = await seal({ content, signerCert, signerKey, recipients: [peer], headers });
 * await sender.send({ to: "gw@b.example", messageId, raw: ReadableStream.from([raw]) });
 * ```
 * @module
 */
export { createMailSender } from "./sender.ts";
export type {
  MailMessage,
  MailSender,
  MailSenderOptions,
  MailSendResult,
  RejectedRecipient,
} from "./sender.ts";
export type { MailHop } from "./routes.ts";
export { createMailReceiver } from "./receiver.ts";
export type { MailReceiver, MailReceiverOptions, MailStore, ReceivedMailMeta } from "./receiver.ts";
export { newMessageId, outerHeaders, rfc5322Date, withOuterHeaders } from "./headers.ts";
export type { OuterHeaderOptions } from "./headers.ts";
export {
  MailFormatError,
  MailPermanentError,
  MailReceiveAborted,
  MailSendError,
  MailTemporaryError,
  MailTlsError,
} from "./errors.ts";
export type { SmtpReply } from "./errors.ts";
export { createMailboxPoller, MailboxError, parseMailboxUrl, REFUSED_KEYWORD } from "./mailbox.ts";
export type { MailboxOptions, MailboxPoll, MailboxPoller } from "./mailbox.ts";
