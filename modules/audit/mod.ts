/**
 * The NEN 7513 audit trail: who (user or system) did what to whose data, when, from where, to
 * which object and with what outcome. Append-only and hash-chained; exported as DICOM audit
 * messages (PS3.15 A.5) over syslog (RFC 5424 over TLS per RFC 5425, or UDP per RFC 5426).
 *
 * @example
 * ```ts
 * const audit = createAuditTrail({ db: database.db, log });
 * await audit.record({
 *   action: "view",
 *   outcome: "success",
 *   actor: { kind: "user", id: "dr.jansen", role: "caregiver" },
 *   sourceAddress: "10.1.2.3",
 *   patient: { id: "PAT-1", bsn: "999999990" },
 *   object: { kind: "study", id: "1.2.3" },
 * });
 * ```
 * @module
 */
export { createAuditTrail } from "./trail.ts";
export type { AuditTrail, AuditTrailOptions } from "./trail.ts";
export type {
  AuditAction,
  AuditActor,
  AuditEvent,
  AuditEventInput,
  AuditOutcome,
  ChainProblem,
  ChainReport,
} from "./types.ts";
export { atnaMessage } from "./atna.ts";
export type { AuditSource } from "./atna.ts";
export { createSyslogSender, syslogMessage } from "./syslog.ts";
export type { SyslogOptions, SyslogSender } from "./syslog.ts";
export { AuditConfigInvalid, SyslogUnavailable } from "./errors.ts";
