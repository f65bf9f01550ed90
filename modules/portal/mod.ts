/**
 * The portal: what caregivers and patients see of received studies. The caregiver inbox with
 * patient reconciliation (pick the local patient or confirm a new one when the BSN did not
 * match), study downloads as a zip with a DICOMDIR (PS3.10) and the report, and patient links:
 * a token in the URL plus a PIN given separately, with expiry, revocation, lockout after wrong
 * PINs and a download counter. Everything streams from the spool.
 *
 * @example
 * ```ts
 * const portal = createPortal({ db: database.db, studies, spool });
 * const { token, pin } = await portal.links.create(studyUid, "radioloog");
 * const { grant } = await portal.links.verifyPin(token, pin);
 * const { stream } = await portal.archive(studyUid);
 * ```
 * @module
 */

/**
 * Creates the portal service over the database, study index and spool.
 *
 * @example
 * ```ts
 * const portal = createPortal({ db: database.db, studies, spool, links: { validDays: 14 } });
 * ```
 */
export { createPortal } from "./service.ts";
export type { InboxItem, Portal, PortalOptions } from "./service.ts";
export type { LinkPolicy, NewPatientLink, PatientLink } from "./links.ts";
export type { LocalPatient, PatientMatch, Reconciliation } from "./reconcile.ts";

/**
 * A DICOMDIR for one study's files (Explicit VR Little Endian, defined lengths).
 *
 * @example
 * ```ts
 * const bytes = buildDicomdir({ patientId: "P1", studyInstanceUid }, files, "2.25.1");
 * ```
 */
export { buildDicomdir } from "./dicomdir.ts";
export type { DicomdirFile, DicomdirStudy } from "./dicomdir.ts";

/**
 * The File ID (and zip path) of an instance: DICOM/Snnnn/Innnnn.
 *
 * @example
 * ```ts
 * fileIdFor(0, 0); // ["DICOM", "S0001", "I00001"]
 * ```
 */
export { fileIdFor } from "./archive.ts";

/**
 * Named errors: links not found, expired, revoked, locked; a wrong PIN; an invalid grant or
 * reconciliation; an unknown study.
 *
 * @example
 * ```ts
 * try { await portal.links.open(token); } catch (e) { if (e instanceof PortalLinkExpired) gone(); }
 * ```
 */
export {
  PortalGrantInvalid,
  PortalLinkExpired,
  PortalLinkLocked,
  PortalLinkNotFound,
  PortalLinkRevoked,
  PortalPinWrong,
  PortalReconciliationInvalid,
  PortalStudyNotFound,
} from "./errors.ts";
