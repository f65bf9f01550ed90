/**
 * Wiring of the gateway-to-gateway relay (docs/relay.md): our S/MIME identity from the
 * configuration, the mail sender as the relay's transport, the SMTP listener whose store puts each
 * message in the encrypted spool and queues an "inbound" job (so processing runs from the stored
 * copy and resumes after a restart), the "peer" and "inbound" job handlers, and the sweeps that
 * settle delivery jobs on the peer's notifications and resend what stays unacknowledged.
 */
import { crlPaths, revocationFiles } from "./revocation_files.ts";
import { hostname } from "node:os";
import type { AuditTrail } from "../modules/audit/mod.ts";
import { BeeldpoortError, type Logger, subaddress } from "../modules/core/mod.ts";
import {
  createMailboxPoller,
  createMailReceiver,
  createMailSender,
  type MailHop,
  MailPermanentError,
  type MailReceiver,
  type MailStore,
  parseMailboxUrl,
} from "../modules/mail/mod.ts";
import {
  createRelay,
  MESSAGE_CHUNK_BYTES,
  type Relay,
  RelayNothingToSend,
  RelayRecipientUnusable,
  type RelayTransport,
  type TransferStateChange,
} from "../modules/relay/mod.ts";
import {
  type Certificate,
  loadCertificatePem,
  loadCertificatesPem,
  loadPkcs12,
  loadPrivateKeyPem,
  type PrivateKey,
} from "../modules/smime/mod.ts";
import {
  type JobHandler,
  TransferJobStateError,
  TransferPermanentError,
} from "../modules/transfer/mod.ts";
import type { Config } from "./config/schema.ts";
import { relayAuditor } from "./relay_audit.ts";
import { listenOn } from "./port_in_use.ts";
import { createRelayImport } from "./relay_import.ts";
import { createNoticeOutbox } from "./relay_notices.ts";
import { queueStored, requireStored } from "./spooled_jobs.ts";
import type { Services } from "./services.ts";

/** The relay is configured incompletely (e.g. a certificate without an address). */
export class RelayConfigError extends BeeldpoortError {
  readonly code = "RELAY_CONFIG";
}

/** Job kind of a stored inbound message waiting to be processed. */
export const inboundJobKind = "inbound";
/** The (breaker) destination name of inbound jobs. */
const inboundDestination = "mail-in";

/** `host[:port][/name]` -> a mail hop. */
export function parseMailHop(text: string): MailHop {
  const [address, servername] = text.split("/");
  const [host, port] = address.split(":");
  return { host, port: port ? Number(port) : undefined, servername: servername || undefined };
}

/** `a.example=host:port,b.example=host2` -> routes by domain. */
export function parseMailRoutes(text: string): Record<string, MailHop> {
  const routes: Record<string, MailHop> = {};
  for (const pair of text.split(",").filter(Boolean)) {
    const [domain, hop] = pair.split("=");
    routes[domain.trim().toLowerCase()] = parseMailHop(hop.trim());
  }
  return routes;
}

/** mail.imapUrl as the poller's host, port, security and mailbox; a bad URL is a config error. */
function mailboxOf(url: string): ReturnType<typeof parseMailboxUrl> {
  try {
    return parseMailboxUrl(url);
  } catch (error) {
    throw new RelayConfigError(`mail.imapUrl: ${(error as Error).message}`, { cause: error });
  }
}

/** The mailbox for a log line, without any user or password written into its URL. */
function mailboxForLog(at: ReturnType<typeof parseMailboxUrl>): string {
  return `${at.security === "tls" ? "imaps" : "imap"}://${at.host}:${at.port}/${at.mailbox}`;
}

/** Our S/MIME certificate and key from relay.certFile/keyFile or relay.keystoreFile; null: off. */
export async function loadRelayIdentity(
  config: Config,
): Promise<{ certificate: Certificate; key: PrivateKey; chain: readonly Certificate[] } | null> {
  const r = config.relay;
  if (r.keystoreFile) {
    const p12 = await loadPkcs12(r.keystoreFile, r.keystorePassword);
    return { certificate: p12.certificate, key: p12.key, chain: p12.chain };
  }
  if (r.certFile && r.keyFile) {
    return {
      certificate: await loadCertificatePem(r.certFile),
      key: await loadPrivateKeyPem(r.keyFile),
      chain: [],
    };
  }
  if (r.certFile || r.keyFile) {
    throw new RelayConfigError("relay.certFile and relay.keyFile must be set together");
  }
  return null;
}

/** A running relay: what serve.ts stops, and what tests and the CLI may look at. */
export interface RunningRelay {
  relay: Relay;
  /** The SMTP listener's port, or null when mail.port is 0. */
  mailPort: number | null;
  stop(): Promise<void>;
}

/**
 * Starts the relay when an S/MIME identity is configured (null otherwise: "peer" jobs then wait).
 * Registers the "peer" and "inbound" handlers on the transfer queue; call before it starts.
 */
export async function startRelay(
  deps: { config: Config; services: Services; audit: AuditTrail; log: Logger },
): Promise<RunningRelay | null> {
  const { config, services } = deps;
  const log = deps.log.child({ module: "relay-wiring" });
  const identity = await loadRelayIdentity(config);
  if (!identity) {
    log.info("relay off: no S/MIME identity (relay.certFile or relay.keystoreFile)");
    return null;
  }
  const address = config.organization.mailAddress;
  if (!address || !config.organization.ura) {
    throw new RelayConfigError(
      "the relay needs organization.mailAddress and organization.ura besides its S/MIME identity",
    );
  }
  const { spool, studies, addressBook, transfer: queue } = services;
  const db = services.database.db;
  const crlFiles = crlPaths(config.relay.crlFiles);
  const crls = crlFiles.length > 0
    ? revocationFiles(crlFiles, deps.log.child({ module: "relay-crl" }))
    : null;
  const trustedCas = config.mail.trustedCaFile
    ? [Deno.readTextFileSync(config.mail.trustedCaFile)]
    : [];
  const sender = createMailSender({
    from: address,
    localName: hostname(),
    smarthost: config.mail.smarthost ? parseMailHop(config.mail.smarthost) : undefined,
    routes: parseMailRoutes(config.mail.routes),
    trustedCas,
    trustPublicCas: trustedCas.length === 0,
    keepConnectionsMs: config.mail.keepConnectionsSeconds * 1000,
    log: deps.log.child({ module: "mail-sender" }),
  });
  // A 5xx is final for the delivery job; anything else (4xx, TLS, network) retries with backoff.
  const transport: RelayTransport = {
    async send(mail) {
      try {
        await sender.send({
          to: mail.to,
          messageId: mail.messageId,
          raw: mail.raw instanceof Uint8Array ? ReadableStream.from([mail.raw]) : mail.raw,
        });
      } catch (error) {
        if (error instanceof MailPermanentError) {
          throw new TransferPermanentError(error.message, { cause: error });
        }
        throw error;
      }
    },
  };

  const imports = createRelayImport({ config, services, log });
  const settling = new Map<string, TransferStateChange>();
  const relay = createRelay({
    db,
    spool,
    studies,
    addressBook,
    transport,
    noticeTransport: createNoticeOutbox({
      spool,
      queue,
      transport,
      log: deps.log.child({ module: "relay-notices" }),
    }),
    identity: {
      ura: config.organization.ura,
      organizationName: config.organization.name || config.organization.ura,
      address,
      certificate: identity.certificate,
      key: identity.key,
      chain: identity.chain,
    },
    trustAnchors: config.relay.trustAnchorsFile
      ? await loadCertificatesPem(config.relay.trustAnchorsFile)
      : [],
    revocationLists: crls ? () => crls.current() : undefined,
    log: deps.log,
    partSizeBytes: config.xdm.partSizeBytes,
    onTransferComplete: (transfer) => imports.transferComplete(transfer),
    onPartStored: (part) => imports.partStored(part),
    onTransferState: async (change) => {
      settling.set(change.transferId, change);
      await settleJob(change);
    },
    audit: relayAuditor(deps.audit),
  });
  imports.attach(relay);

  /** Moves the "peer" job of a transfer (job id = transfer id) on with the peer's notification. */
  async function settleJob(change: TransferStateChange): Promise<boolean> {
    try {
      if (change.state === "failed") {
        await queue.reject(
          change.transferId,
          `refused by the peer: ${change.reasonCode ?? ""} ${change.reason ?? ""}`.trim(),
        );
      } else await queue.acknowledge(change.transferId);
      settling.delete(change.transferId);
      return true;
    } catch (error) {
      // Still running (the notification beat the handler's return): the sweep tries again.
      // Already settled, or no job of ours (a transfer sent by hand): nothing to do.
      const job = error instanceof TransferJobStateError
        ? await queue.get(change.transferId).catch(() => null)
        : null;
      if (job?.state !== "running") settling.delete(change.transferId);
      return false;
    }
  }

  const peerHandler: JobHandler = async ({ job, pending }) => {
    let recipientUra = job.destination;
    if (recipientUra.includes("@")) {
      const entry = await addressBook.findByAddress(recipientUra);
      if (!entry) {
        throw new TransferPermanentError(`${job.destination} is not in the address book`);
      }
      recipientUra = entry.ura;
    }
    const wanted = new Set(pending);
    // From the send form: the note travels inside the encryption; the department picks the
    // address-book endpoint (and so the recipient address B reads the department from).
    const { note, department } = job.payload as { note?: unknown; department?: unknown };
    try {
      await relay.sendTransfer({
        studyInstanceUid: job.subject ?? "",
        recipientUra,
        note: typeof note === "string" && note ? note : undefined,
        department: typeof department === "string" && department ? department : undefined,
        // The job id names the transfer, so a retry resumes it with the parts already sealed.
        transferId: job.id,
        instanceFilter: (i) => wanted.has(i.sopInstanceUid),
      });
    } catch (error) {
      if (error instanceof RelayRecipientUnusable || error instanceof RelayNothingToSend) {
        throw new TransferPermanentError(error.message, { cause: error });
      }
      throw error;
    }
    // The peer may have answered already (loopback, a resumed job): settle now, not at the sweep.
    const status = await relay.getTransfer(job.id);
    if (status?.state === "delivered" || status?.state === "imported") {
      settling.delete(job.id);
      return;
    }
    if (status?.state === "failed") {
      settling.delete(job.id);
      throw new TransferPermanentError(
        `refused by the peer: ${status.reasonCode ?? ""} ${status.reason ?? ""}`.trim(),
      );
    }
    return { waitForAck: true };
  };

  const inboundHandler: JobHandler = async ({ job }) => {
    const { spoolId, from, to } = job.payload as { spoolId: string; from: string; to: string };
    await requireStored(spool, spoolId, "message");
    // A message is at most mail.maxMessageBytes; the relay opens it in memory.
    const raw = await spool.readAll(spoolId);
    // The spool recorded the message's SHA-256 when it stored it: no second pass over 37 MB.
    const { sha256 } = await spool.stat(spoolId);
    const outcome = await relay.acceptMessage(raw, { from, to, sha256, handOver: true });
    log.info("inbound message processed", {
      jobId: job.id,
      kind: outcome.kind,
      ...(outcome.kind === "refused" ? { code: outcome.code } : {}),
      ...(outcome.kind === "part"
        ? {
          transferId: outcome.transferId,
          part: `${outcome.partNumber}/${outcome.partCount}`,
          complete: outcome.complete,
        }
        : {}),
    });
    if (outcome.kind === "part" && !outcome.repeated) {
      await recordDepartment(outcome.transferId, to);
    }
    await spool.delete(spoolId);
  };

  /**
   * The department a received study is for: the subaddress of the address the message came to
   * (RFC 5233, `gw+radiologie@zkh-b.example` -> "radiologie"); none for the plain address.
   */
  async function recordDepartment(transferId: string, to: string): Promise<void> {
    const department = subaddress(to).detail;
    if (!department) return;
    const uid = (await relay.getTransfer(transferId, "in"))?.studyInstanceUid;
    if (uid) await services.portal.assignDepartment(uid, department);
  }

  queue.register("peer", peerHandler);
  // One received message is opened at a time: each holds the message, its decrypted envelope and
  // the zip in memory (about 45 MB for a 10 MB part), and two at once on the one JavaScript thread
  // only interleave. In a lane of its own: in the shared slots the next part waited behind the
  // imports and notifications queued before it, some 110 ms a part on the relay benchmark, and
  // fell seconds behind the sender.
  queue.register(inboundJobKind, inboundHandler, { concurrency: 1, ownLane: true });

  // The SMTP listener and the mailbox poller store alike: durable in the spool (fsync with
  // spool.durability "fsync") and queued before the 250 or the deletion from the mailbox.
  const store: MailStore = async (meta, stream) => {
    const job = await queueStored(
      { spool, queue },
      stream,
      { chunkSize: MESSAGE_CHUNK_BYTES, handOver: true },
      (stored) => ({
        kind: inboundJobKind,
        destination: inboundDestination,
        subject: undefined,
        payload: {
          spoolId: stored.id,
          from: meta.mailFrom,
          to: meta.recipients[0] ?? address,
          bytes: stored.size,
        },
      }),
    );
    return { id: job.id };
  };

  let receiver: MailReceiver | null = null;
  if (config.mail.port) {
    const paths = services.paths;
    receiver = await listenOn(
      "mail.port",
      config.mail.host,
      config.mail.port,
      () =>
        createMailReceiver({
          host: config.mail.host,
          port: config.mail.port,
          tlsCert: Deno.readTextFileSync(config.mail.tlsCertFile || paths.tlsCert),
          tlsKey: Deno.readTextFileSync(config.mail.tlsKeyFile || paths.tlsKey),
          acceptedRecipients: [address],
          maxMessageBytes: config.mail.maxMessageBytes,
          rateLimit: config.mail.rateLimitPerMinute
            ? { messages: config.mail.rateLimitPerMinute }
            : undefined,
          serverName: hostname(),
          store,
          log: deps.log.child({ module: "mail-receiver" }),
        }),
    );
  }

  const mailboxAt = config.mail.imapUrl ? mailboxOf(config.mail.imapUrl) : null;
  const mailbox = mailboxAt
    ? createMailboxPoller({
      ...mailboxAt,
      user: config.mail.imapUser || address,
      password: config.mail.imapPassword,
      trustedCas,
      maxMessageBytes: config.mail.maxMessageBytes,
      address,
      intervalMs: config.mail.imapIntervalSeconds * 1000,
      store,
      log: deps.log.child({ module: "mailbox" }),
    })
    : null;

  const timeoutMs = config.relay.notificationTimeoutMinutes * 60_000;
  const sweepMs = 1_000;
  let sweeping: Promise<void> | null = null;
  const sweep = async () => {
    // Notifications that arrived while their job still ran.
    for (const change of [...settling.values()]) await settleJob(change);
    // Sent transfers without a notification for too long: alert, resend only what is missing.
    const now = Date.now();
    for (const t of await relay.listTransfers({ direction: "out", state: "sent" })) {
      const last = t.events
        .filter((e) => ["part-sent", "resent", "part-processed"].includes(e.kind))
        .map((e) => Date.parse(e.at)).reduce((a, b) => Math.max(a, b), Date.parse(t.createdAt));
      if (now - last < timeoutMs) continue;
      log.warn("no notification from the peer in time: resending the missing parts", {
        transferId: t.transferId,
        peerAddress: t.peerAddress,
        minutes: config.relay.notificationTimeoutMinutes,
      });
      await deps.audit.record({
        action: "send",
        outcome: "failure",
        actor: { kind: "system", id: "beeldpoort" },
        object: { kind: "study", id: t.studyInstanceUid ?? "" },
        detail: { transferId: t.transferId, peer: t.peerAddress, stage: "notification-timeout" },
      });
      await relay.resendMissing(t.transferId).catch((error) =>
        log.warn("resend failed; tried again at the next timeout", {
          transferId: t.transferId,
          error,
        })
      );
    }
  };
  const timer = setInterval(() => {
    sweeping ??= sweep().catch((error) => log.error("relay sweep failed", { error }))
      .finally(() => (sweeping = null));
  }, sweepMs);
  await imports.confirmPending();
  log.info("relay ready", {
    address,
    smtpPort: receiver?.port ?? null,
    mailbox: mailboxAt ? mailboxForLog(mailboxAt) : null,
    smarthost: config.mail.smarthost || null,
    importDestination: config.relay.importDestination || null,
    importPolicy: config.relay.importPolicy,
  });
  return {
    relay,
    mailPort: receiver?.port ?? null,
    async stop() {
      clearInterval(timer);
      await sweeping;
      sender.close();
      await receiver?.close();
      await mailbox?.close();
    },
  };
}
