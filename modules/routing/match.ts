import type { Matcher, RuleFilter } from "./types.ts";

/** Names operators use for groups of SOP classes (PS3.4 B.5). */
export const sopClassAliases: Record<string, string[]> = {
  // Grayscale, color, pseudo-color, blending, XA/XRF, advanced blending, ... presentation states
  PR: ["1.2.840.10008.5.1.4.1.1.11.*"],
  // X-Ray, Radiopharmaceutical, Patient and Enhanced X-Ray Radiation Dose SR
  DOSE: [
    "1.2.840.10008.5.1.4.1.1.88.67",
    "1.2.840.10008.5.1.4.1.1.88.68",
    "1.2.840.10008.5.1.4.1.1.88.73",
    "1.2.840.10008.5.1.4.1.1.88.76",
  ],
  SR: ["1.2.840.10008.5.1.4.1.1.88.*"],
  KO: ["1.2.840.10008.5.1.4.1.1.88.59"],
};

function patterns(entries: string[]): string[] {
  return entries.flatMap((e) => sopClassAliases[e] ?? [e]);
}

function matchesClass(uid: string, pattern: string): boolean {
  return pattern.endsWith(".*") ? uid.startsWith(pattern.slice(0, -1)) : uid === pattern;
}

/**
 * Whether a SOP class passes a rule's filter: in `includeSopClasses` when given, and not in
 * `excludeSopClasses`.
 *
 * @example
 * ```ts
 * passesFilter("1.2.840.10008.5.1.4.1.1.11.1", { excludeSopClasses: ["PR"] }); // false
 * ```
 */
export function passesFilter(sopClassUid: string, filter: RuleFilter | undefined): boolean {
  if (!filter) return true;
  if (filter.includeSopClasses) {
    if (!patterns(filter.includeSopClasses).some((p) => matchesClass(sopClassUid, p))) {
      return false;
    }
  }
  if (filter.excludeSopClasses) {
    if (patterns(filter.excludeSopClasses).some((p) => matchesClass(sopClassUid, p))) return false;
  }
  return true;
}

/** Whether one value satisfies a matcher; a missing value matches nothing. */
export function matchesValue(matcher: Matcher, value: string | null | undefined): boolean {
  if (value === null || value === undefined) return false;
  if (typeof matcher === "string") return value === matcher;
  if (Array.isArray(matcher)) return matcher.includes(value);
  if ("equals" in matcher) return matchesValue(matcher.equals, value);
  return new RegExp(matcher.regex, matcher.ignoreCase ? "i" : "").test(value);
}

/** A matcher in words, for dry-run reasons. */
export function describeMatcher(matcher: Matcher): string {
  if (typeof matcher === "string") return JSON.stringify(matcher);
  if (Array.isArray(matcher)) return `one of ${JSON.stringify(matcher)}`;
  if ("equals" in matcher) return describeMatcher(matcher.equals);
  return `/${matcher.regex}/${matcher.ignoreCase ? "i" : ""}`;
}
