/**
 * The relay's outbox for notifications (MDNs). Sending one means a new SMTP connection to the peer
 * and waiting until the peer has stored it: about 0.2 s on loopback, and the peer may be down. An
 * inbound part that waited for that held up every part behind it, so a sealed notification is put
 * in the spool and queued as a "notice" job instead: durable, retried with the queue's backoff
 * and breaker, and sent beside the processing of the next part.
 */
import type { Logger } from "../modules/core/mod.ts";
import { MESSAGE_CHUNK_BYTES, type RelayTransport } from "../modules/relay/mod.ts";
import type { Spool } from "../modules/spool/mod.ts";
import {
  type JobHandler,
  TransferPermanentError,
  type TransferQueue,
} from "../modules/transfer/mod.ts";
import { queueStored, requireStored } from "./spooled_jobs.ts";

/** Job kind of a sealed notification waiting to be sent. */
export const noticeJobKind = "notice";

interface NoticePayload {
  spoolId: string;
  to: string;
  from: string;
  messageId: string;
}

/**
 * Registers the "notice" handler on `queue` (before it starts) and returns the transport the relay
 * hands its notifications to: it resolves once the notification is stored and queued.
 */
export function createNoticeOutbox(
  deps: { spool: Spool; queue: TransferQueue; transport: RelayTransport; log: Logger },
): RelayTransport {
  const { spool, queue, transport, log } = deps;

  const handler: JobHandler = async ({ job }) => {
    const notice = job.payload as unknown as NoticePayload;
    await requireStored(spool, notice.spoolId, "notification");
    try {
      const { to, from, messageId } = notice;
      await transport.send({ to, from, messageId, raw: await spool.get(notice.spoolId) });
    } catch (error) {
      // Refused for good: the job is given up, and nothing will read the stored copy again.
      if (error instanceof TransferPermanentError) await spool.delete(notice.spoolId);
      throw error;
    }
    await spool.delete(notice.spoolId);
  };
  queue.register(noticeJobKind, handler);

  return {
    async send(mail) {
      const raw = mail.raw instanceof Uint8Array ? ReadableStream.from([mail.raw]) : mail.raw;
      await queueStored({ spool, queue }, raw, { chunkSize: MESSAGE_CHUNK_BYTES }, (stored) => {
        const payload: NoticePayload = {
          spoolId: stored.id,
          to: mail.to,
          from: mail.from,
          messageId: mail.messageId,
        };
        return {
          kind: noticeJobKind,
          // One breaker per peer mailbox: a peer that is down holds only its own notifications.
          destination: `notice:${mail.to}`,
          subject: undefined,
          payload: { ...payload },
        };
      });
      log.debug("notification queued", { to: mail.to, messageId: mail.messageId });
    },
  };
}
