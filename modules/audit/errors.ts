import { BeeldpoortError } from "../core/mod.ts";

/** The syslog collector could not be reached or refused the connection. */
export class SyslogUnavailable extends BeeldpoortError {
  readonly code = "AUDIT_SYSLOG_UNAVAILABLE";
}

/** Audit options are unusable (e.g. TLS without a CA to trust). */
export class AuditConfigInvalid extends BeeldpoortError {
  readonly code = "AUDIT_CONFIG_INVALID";
}
