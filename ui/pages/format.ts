import type { Translate } from "../i18n/mod.ts";
import { isMessageKey } from "../i18n/mod.ts";

/** Bytes as megabytes with one decimal. */
export function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

/** An ISO timestamp as "YYYY-MM-DD HH:MM" (UTC, as stored). */
export function when(iso: string | null | undefined): string {
  return iso ? iso.slice(0, 16).replace("T", " ") : "";
}

/** A DICOM date YYYYMMDD as YYYY-MM-DD. */
export function dicomDate(da: string | null | undefined): string {
  return da && /^\d{8}$/.test(da) ? `${da.slice(0, 4)}-${da.slice(4, 6)}-${da.slice(6)}` : da ?? "";
}

/** The translated label of a state or event kind, or the raw word when there is none. */
export function label(t: Translate, prefix: string, value: string): string {
  const key = `${prefix}.${value}`;
  return isMessageKey(key) ? t(key) : value;
}

/** A DICOM person name (PS3.5 6.2: family^given^middle^prefix^suffix) as people write it. */
export function personName(pn: string | null | undefined): string {
  if (!pn) return "";
  const [family = "", given = "", middle = "", prefix = "", suffix = ""] = pn.split("=")[0]
    .split("^");
  const first = [prefix, given, middle].filter(Boolean).join(" ");
  return [family, [first, suffix].filter(Boolean).join(" ")].filter(Boolean).join(", ");
}
