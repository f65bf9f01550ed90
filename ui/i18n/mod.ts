import { en } from "./en.ts";
import { type MessageKey, nl } from "./nl.ts";

/** Languages the UI speaks; Dutch is the default. */
export type Lang = "nl" | "en";

export const languages: readonly Lang[] = ["nl", "en"];

/** A translate function bound to one language; `{name}` placeholders are filled from `vars`. */
export type Translate = (key: MessageKey, vars?: Record<string, string>) => string;

/**
 * Returns the translate function for `lang`.
 *
 * @example
 * ```ts
 * translator("en")("dashboard.welcome", { user: "beheer", role: "admin" });
 * ```
 */
export function translator(lang: Lang): Translate {
  const table: Record<MessageKey, string> = lang === "en" ? en : nl;
  return (key, vars) =>
    table[key].replace(/\{(\w+)\}/g, (whole, name: string) => vars?.[name] ?? whole);
}

/** Whether `key` is a translation key (for labels built from data, such as a study state). */
export function isMessageKey(key: string): key is MessageKey {
  return key in nl;
}

/** Narrows an arbitrary string to a supported language, defaulting to Dutch. */
export function asLang(value: string | undefined | null): Lang {
  return value === "en" ? "en" : "nl";
}

export type { MessageKey };
