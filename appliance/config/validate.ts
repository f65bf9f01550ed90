import { ConfigError } from "../../modules/core/mod.ts";
import type { FieldSpec } from "./schema.ts";

/** Describes a raw value for an error message: its JSON type and (short) value. */
export function describeFound(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `an array ${JSON.stringify(value).slice(0, 60)}`;
  const shown = JSON.stringify(value);
  return `${typeof value} ${shown === undefined ? String(value) : shown.slice(0, 60)}`;
}

function isAeTitle(value: unknown): value is string {
  // PS3.5 6.2: AE is 1-16 characters of the default repertoire, no backslash or control
  // characters, and not only spaces.
  return typeof value === "string" && value.length >= 1 && value.length <= 16 &&
    /^[\x20-\x7e]+$/.test(value) && !value.includes("\\") && value.trim().length > 0;
}

function expectedText(spec: FieldSpec): string {
  switch (spec.type) {
    case "string":
      return spec.patternText ?? "a string";
    case "integer":
      return `an integer from ${spec.min} to ${spec.max}`;
    case "enum":
      return `one of ${spec.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "aeTitle":
      return "an AE title (1-16 printable characters, no backslash)";
    case "aeTitleList":
      return 'a list of AE titles, or ["*"] to allow any';
  }
}

/**
 * Checks one value against its spec; returns the value in its proper type or throws a
 * ConfigError naming `key`, `source`, what was expected and what was found.
 */
export function validateField(
  key: string,
  spec: FieldSpec,
  value: unknown,
  source: string,
): unknown {
  const fail = () => new ConfigError(key, source, expectedText(spec), describeFound(value));
  switch (spec.type) {
    case "string":
      if (typeof value !== "string") throw fail();
      if (spec.pattern && !spec.pattern.test(value)) throw fail();
      return value;
    case "integer":
      if (typeof value !== "number" || !Number.isInteger(value)) throw fail();
      if (value < spec.min || value > spec.max) throw fail();
      return value;
    case "enum":
      if (typeof value !== "string" || !spec.values.includes(value)) throw fail();
      return value;
    case "aeTitle":
      if (!isAeTitle(value)) throw fail();
      return value;
    case "aeTitleList":
      if (!Array.isArray(value)) throw fail();
      for (const item of value) if (item !== "*" && !isAeTitle(item)) throw fail();
      return value;
  }
}

/**
 * Turns an environment variable's text into the value type the spec expects, so validation can
 * report the same way for file and environment. Lists are comma-separated or a JSON array.
 */
export function parseEnvValue(spec: FieldSpec, text: string): unknown {
  switch (spec.type) {
    case "integer":
      return /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : text;
    case "aeTitleList": {
      const trimmed = text.trim();
      if (trimmed.startsWith("[")) {
        try {
          return JSON.parse(trimmed);
        } catch {
          return text;
        }
      }
      return trimmed === "" ? [] : trimmed.split(",").map((s) => s.trim());
    }
    default:
      return text;
  }
}
