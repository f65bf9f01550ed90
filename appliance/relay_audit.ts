/**
 * The relay's audit hook onto the NEN 7513 trail: sending, receiving, refusing and importing a
 * study between gateways, with the peer gateway as the (system) actor. No patient data travels in
 * these events (the relay does not hand it over); the study UID identifies the record.
 */
import type { AuditAction, AuditTrail } from "../modules/audit/mod.ts";
import type { RelayAudit, RelayAuditEvent } from "../modules/relay/mod.ts";

const actions: Record<RelayAuditEvent["action"], AuditAction> = {
  "relay.sent": "send",
  "relay.delivered": "send",
  "relay.failed": "send",
  "relay.received": "receive",
  "relay.refused": "receive",
  "relay.imported": "import",
};

/** Records every relay step in the audit trail. */
export function relayAuditor(audit: AuditTrail): RelayAudit {
  return {
    async record(event) {
      const detail: Record<string, string | number> = { stage: event.action };
      if (event.transferId) detail.transferId = event.transferId;
      if (event.partNumber !== undefined) detail.partNumber = event.partNumber;
      if (event.messageId) detail.messageId = event.messageId;
      if (event.peerUra) detail.peerUra = event.peerUra;
      if (event.code) detail.code = event.code;
      if (event.reason) detail.reason = event.reason.slice(0, 500);
      await audit.record({
        action: actions[event.action],
        outcome: event.outcome,
        actor: { kind: "system", id: `mail:${event.peerAddress || "unknown"}` },
        object: event.studyInstanceUid
          ? { kind: "study", id: event.studyInstanceUid }
          : { kind: "message", id: event.messageId ?? event.transferId ?? "" },
        detail,
      });
    },
  };
}
