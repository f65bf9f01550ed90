import type { AuditTrail } from "../modules/audit/mod.ts";
import type { AfterStore } from "./dicom_intake.ts";

/** One receive event per study, sender and address within this window (not one per image). */
const receiveWindowMs = 10 * 60_000;

/**
 * The after-store hook that records NEN 7513 "receive" events: who sent (the calling AE, a system
 * actor), from where, whose data (patient id, BSN when the header has one) and which study. A
 * 500-image study gives one event, not 500; a study that arrives again later gives another.
 */
export function receiveAuditor(audit: AuditTrail, now: () => number = Date.now): AfterStore {
  const seen = new Map<string, number>();
  return async (request, header) => {
    const study = header.studyInstanceUid ?? "";
    const key = `${request.remoteAddress}|${request.callingAe}|${study}`;
    const t = now();
    const last = seen.get(key);
    if (last !== undefined && t - last < receiveWindowMs) return;
    if (seen.size > 10_000) {
      for (const [k, at] of seen) if (t - at >= receiveWindowMs) seen.delete(k);
    }
    await audit.record({
      action: "receive",
      outcome: "success",
      actor: { kind: "system", id: `dicom:${request.callingAe}` },
      sourceAddress: request.remoteAddress,
      patient: { id: header.patientId, bsn: header.bsn },
      object: { kind: "study", id: study },
      detail: { calledAe: request.calledAe, firstSopInstanceUid: request.sopInstanceUid },
    });
    seen.set(key, t);
  };
}
