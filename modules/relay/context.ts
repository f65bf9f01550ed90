/** What outbound and inbound share: options, clock, audit, timeline, and sealing a notification. */
import { type Clock, type Logger, newToken, systemClock } from "../core/mod.ts";
import type { Endpoint } from "../addressbook/mod.ts";
import {
  Certificate,
  type ContentAlgorithm,
  type PrivateKey,
  revocationAmong,
  seal,
} from "../smime/mod.ts";
import { buildDispositionReport, type DispositionNotice } from "./mdn.ts";
import { type Direction, recordEvent } from "./store.ts";
import type { RelayAuditEvent, RelayOptions } from "./types.ts";

export interface RelayContext {
  readonly options: RelayOptions;
  readonly log: Logger;
  readonly clock: Clock;
  readonly signer: { certificate: Certificate; key: PrivateKey };
  readonly productLine: string;
  now(): string;
  /** RFC 5322 §3.3 date-time. */
  mailDate(): string;
  /** A fresh Message-ID in our domain (RFC 5322 §3.6.4). */
  messageId(label: string): string;
  /** Adds to the transfer's timeline, inside the transaction `q` when given. */
  event(
    direction: Direction,
    transferId: string,
    kind: string,
    extra?: { partNumber?: number; detail?: string },
    q?: RelayOptions["db"],
  ): Promise<void>;
  audit(event: Omit<RelayAuditEvent, "at">): Promise<void>;
  /** The certificate and content encryption to use for a peer endpoint. */
  encryptionFor(
    endpoint: Endpoint,
  ): Promise<{ certificate: Certificate; algorithm: ContentAlgorithm }>;
  /** Seals and sends an MDN to a peer address we know; false when we cannot (unknown peer). */
  sendNotice(to: string, notice: DispositionNotice, subject: string): Promise<boolean>;
}

export function createContext(options: RelayOptions): RelayContext {
  const clock = options.clock ?? systemClock;
  const log = options.log.child({ module: "relay" });
  const identity = options.identity;
  const signer = {
    certificate: identity.signingCertificate ?? identity.certificate,
    key: identity.signingKey ?? identity.key,
  };
  const domain = identity.address.split("@")[1] ?? "localhost";
  const product = options.product ?? { name: "Beeldpoort", version: "0.1", vendor: "Beeldpoort" };
  const productLine = `${product.name} ${product.version}`;
  const now = () => clock.now().toISOString();

  const encryptionFor = async (endpoint: Endpoint) => {
    const at = clock.now();
    const lists = (await options.revocationLists?.()) ?? [];
    const valid = endpoint.certificates
      .filter((c) => c.use === "encryption" && c.notBefore <= at && at < c.notAfter)
      .sort((a, b) => b.notAfter.getTime() - a.notAfter.getTime());
    // A revoked key may be in other hands: never encrypt patient data for it.
    const revoked: string[] = [];
    const info = valid.find((c) => {
      const date = revocationAmong(new Certificate(c.der), options.trustAnchors, lists, at)?.date;
      if (date) revoked.push(`${c.fingerprint.slice(0, 16)} revoked on ${date.toISOString()}`);
      return !date;
    });
    if (!info) {
      const why = revoked.length > 0 ? ` (${revoked.join("; ")})` : "";
      throw new Error(`no valid encryption certificate for ${endpoint.address}${why}`);
    }
    // An endpoint that does not say it opens AES-GCM gets CBC, which every peer must open.
    const algorithm: ContentAlgorithm = endpoint.contentEncryption.includes("aes-gcm")
      ? "aes-256-gcm"
      : "aes-256-cbc";
    return { certificate: new Certificate(info.der), algorithm };
  };

  const context: RelayContext = {
    options,
    log,
    clock,
    signer,
    productLine,
    now,
    mailDate: () => clock.now().toUTCString().replace(/GMT$/, "+0000"),
    messageId: (label) => `<${label}.${newToken(9)}@${domain}>`,
    event: (direction, transferId, kind, extra = {}, q = options.db) =>
      recordEvent(q, { direction, transferId, kind, at: now(), ...extra }),
    async audit(event) {
      await options.audit?.record({ ...event, at: now() });
    },
    encryptionFor,
    async sendNotice(to, notice, subject) {
      const entry = await options.addressBook.findByAddress(to);
      const endpoint = entry?.endpoints.find((e) => e.address === to);
      let target;
      try {
        target = endpoint ? await encryptionFor(endpoint) : undefined;
      } catch {
        target = undefined;
      }
      if (!target) {
        log.warn("notification not sent: no encryption certificate for the peer", {
          to,
          originalMessageId: notice.originalMessageId,
        });
        return false;
      }
      const content = buildDispositionReport(notice, {
        address: identity.address,
        product: productLine,
      });
      const messageId = context.messageId(`mdn.${notice.transferId ?? "message"}`);
      // RFC 8098 §2.1: an MDN never asks for an MDN, so no Disposition-Notification-To here.
      const raw = await seal({
        content,
        signerCert: signer.certificate,
        signerKey: signer.key,
        signerChain: identity.chain,
        recipients: [target.certificate],
        algorithm: target.algorithm,
        headers: {
          From: identity.address,
          To: to,
          Subject: subject,
          "Message-ID": messageId,
          Date: context.mailDate(),
        },
      });
      const transport = options.noticeTransport ?? options.transport;
      await transport.send({ to, from: identity.address, messageId, raw });
      return true;
    },
  };
  return context;
}
