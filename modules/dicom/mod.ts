/**
 * DICOM: header reading for the index (more: upper layer, DIMSE, SCP and SCU).
 *
 * @example
 * ```ts
 * const header = readInstanceHeader(part10Prefix);
 * ```
 * @module
 */
export { isValidBsn, readInstanceHeader } from "./header.ts";
export type { InstanceHeader } from "./header.ts";
