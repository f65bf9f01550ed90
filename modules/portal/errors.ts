import { BeeldpoortError } from "../core/mod.ts";

/** No link has this token (or the link id is unknown). */
export class PortalLinkNotFound extends BeeldpoortError {
  readonly code = "PORTAL_LINK_NOT_FOUND";
}

/** The link was valid until its expiry date. */
export class PortalLinkExpired extends BeeldpoortError {
  readonly code = "PORTAL_LINK_EXPIRED";
}

/** Staff revoked the link. */
export class PortalLinkRevoked extends BeeldpoortError {
  readonly code = "PORTAL_LINK_REVOKED";
}

/** Too many wrong PINs: the link opens no more (staff can make a new one). */
export class PortalLinkLocked extends BeeldpoortError {
  readonly code = "PORTAL_LINK_LOCKED";
}

/** The PIN was wrong; `attemptsLeft` more tries before the link locks. */
export class PortalPinWrong extends BeeldpoortError {
  readonly code = "PORTAL_PIN_WRONG";
  constructor(readonly attemptsLeft: number) {
    super(`wrong PIN; ${attemptsLeft} attempt(s) left`);
  }
}

/** The patient's access (after the PIN) is missing, expired or for another link. */
export class PortalGrantInvalid extends BeeldpoortError {
  readonly code = "PORTAL_GRANT_INVALID";
}

/** A reconciliation decision that cannot be recorded (unknown study or patient, decided before). */
export class PortalReconciliationInvalid extends BeeldpoortError {
  readonly code = "PORTAL_RECONCILIATION_INVALID";
}

/** A study that is not in the index. */
export class PortalStudyNotFound extends BeeldpoortError {
  readonly code = "PORTAL_STUDY_NOT_FOUND";
}
