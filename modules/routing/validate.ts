import { isDicomKeyword } from "../dicom/mod.ts";
import { RoutingDefinitionInvalid } from "./errors.ts";
import { sopClassAliases } from "./match.ts";
import type { Destination, RuleDefinition } from "./types.ts";

const aeTitle = /^[\x20-\x5b\x5d-\x7e]{1,16}$/; // PS3.5 6.2 AE: no backslash, 16 characters
const matchFields = ["callingAe", "calledAe", "modality", "studyDescription", "referringPhysician"];

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function checkMatcher(path: string, value: unknown, problems: string[]): void {
  if (typeof value === "string") return;
  if (Array.isArray(value)) {
    if (!value.every((v) => typeof v === "string")) problems.push(`${path}: list of strings only`);
    return;
  }
  if (isObject(value) && "equals" in value) {
    checkMatcher(`${path}.equals`, value.equals, problems);
    return;
  }
  if (isObject(value) && typeof value.regex === "string") {
    try {
      new RegExp(value.regex);
    } catch (error) {
      problems.push(`${path}.regex: ${(error as Error).message}`);
    }
    return;
  }
  problems.push(`${path}: a string, a list, { "equals": ... } or { "regex": ... }`);
}

function checkSopClasses(path: string, value: unknown, problems: string[]): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) {
    problems.push(`${path}: a list`);
    return;
  }
  for (const entry of value) {
    if (
      typeof entry !== "string" ||
      !(Object.hasOwn(sopClassAliases, entry) || /^\d+(\.\d+)*(\.\*)?$/.test(entry))
    ) {
      problems.push(
        `${path}: ${JSON.stringify(entry)} is no SOP Class UID, UID.* prefix or alias (${
          Object.keys(sopClassAliases).join(", ")
        })`,
      );
    }
  }
}

/**
 * Checks a rule as written by an operator and returns it; throws RoutingDefinitionInvalid listing
 * every problem. `destinationNames` are the configured DICOM destinations.
 *
 * @example
 * ```ts
 * const rule = validateRule(JSON.parse(text), ["PACS"]);
 * ```
 */
export function validateRule(input: unknown, destinationNames: string[]): RuleDefinition {
  const problems: string[] = [];
  if (!isObject(input)) throw new RoutingDefinitionInvalid(["the rule must be a JSON object"]);
  const known = [
    "name",
    "enabled",
    "position",
    "trigger",
    "match",
    "actions",
    "filter",
    "priority",
  ];
  for (const key of Object.keys(input)) {
    if (!known.includes(key)) problems.push(`${key}: unknown field`);
  }
  if (typeof input.name !== "string" || input.name.trim() === "") {
    problems.push("name: a non-empty string");
  }
  if (input.enabled !== undefined && typeof input.enabled !== "boolean") {
    problems.push("enabled: true or false");
  }
  if (input.position !== undefined && !Number.isInteger(input.position)) {
    problems.push("position: an integer");
  }
  if (input.trigger !== undefined && !["settled", "complete"].includes(input.trigger as string)) {
    problems.push('trigger: "settled" or "complete"');
  }
  if (input.priority !== undefined && !["urgent", "routine"].includes(input.priority as string)) {
    problems.push('priority: "urgent" or "routine"');
  }
  if (input.match !== undefined) {
    if (!isObject(input.match)) problems.push("match: an object");
    else {
      for (const [key, value] of Object.entries(input.match)) {
        if (key === "tags") {
          if (!isObject(value)) problems.push("match.tags: an object of keyword: matcher");
          else {
            for (const [keyword, matcher] of Object.entries(value)) {
              if (!isDicomKeyword(keyword)) {
                problems.push(`match.tags.${keyword}: not a DICOM keyword`);
              }
              checkMatcher(`match.tags.${keyword}`, matcher, problems);
            }
          }
        } else if (matchFields.includes(key)) checkMatcher(`match.${key}`, value, problems);
        else problems.push(`match.${key}: unknown field (${[...matchFields, "tags"].join(", ")})`);
      }
    }
  }
  if (!Array.isArray(input.actions) || input.actions.length === 0) {
    problems.push("actions: a non-empty list");
  } else {
    input.actions.forEach((action: unknown, i: number) => {
      const path = `actions[${i}]`;
      if (!isObject(action)) problems.push(`${path}: an object`);
      else if (action.type === "forward") {
        if (typeof action.destination !== "string") {
          problems.push(`${path}.destination: a destination name`);
        } else if (!destinationNames.includes(action.destination)) {
          problems.push(`${path}.destination: no destination "${action.destination}"`);
        }
      } else if (action.type === "send") {
        if (typeof action.recipient !== "string" || action.recipient.trim() === "") {
          problems.push(`${path}.recipient: an address-book recipient (mail address or URA)`);
        }
      } else problems.push(`${path}.type: "forward" or "send"`);
    });
  }
  if (input.filter !== undefined) {
    if (!isObject(input.filter)) problems.push("filter: an object");
    else {
      for (const key of Object.keys(input.filter)) {
        if (!["excludeSopClasses", "includeSopClasses"].includes(key)) {
          problems.push(`filter.${key}: unknown field`);
        }
      }
      checkSopClasses("filter.excludeSopClasses", input.filter.excludeSopClasses, problems);
      checkSopClasses("filter.includeSopClasses", input.filter.includeSopClasses, problems);
    }
  }
  if (problems.length > 0) throw new RoutingDefinitionInvalid(problems);
  return input as unknown as RuleDefinition;
}

/**
 * Checks a destination definition and returns it; throws RoutingDefinitionInvalid.
 *
 * @example
 * ```ts
 * validateDestination({ name: "PACS", kind: "dicom", aeTitle: "PACS", host: "10.0.0.5", port: 104 });
 * ```
 */
export function validateDestination(input: unknown): Destination {
  const problems: string[] = [];
  if (!isObject(input)) throw new RoutingDefinitionInvalid(["a destination is a JSON object"]);
  if (typeof input.name !== "string" || !/^[A-Za-z0-9._-]{1,64}$/.test(input.name)) {
    problems.push("name: 1-64 letters, digits, dot, dash or underscore");
  }
  if (input.kind !== "dicom") problems.push('kind: "dicom"');
  if (typeof input.aeTitle !== "string" || !aeTitle.test(input.aeTitle)) {
    problems.push("aeTitle: 1-16 characters, no backslash");
  }
  if (
    input.callingAe !== undefined && (typeof input.callingAe !== "string" ||
      !aeTitle.test(input.callingAe))
  ) problems.push("callingAe: 1-16 characters, no backslash");
  if (typeof input.host !== "string" || !/^[0-9A-Za-z.:\-\[\]]+$/.test(input.host)) {
    problems.push("host: a host name or IP address");
  }
  if (
    !Number.isInteger(input.port) || (input.port as number) < 1 || (input.port as number) > 65535
  ) {
    problems.push("port: 1-65535");
  }
  if (
    input.associations !== undefined && (!Number.isInteger(input.associations) ||
      (input.associations as number) < 1 || (input.associations as number) > 16)
  ) {
    problems.push("associations: 1-16");
  }
  const known = [
    "name",
    "kind",
    "aeTitle",
    "host",
    "port",
    "callingAe",
    "associations",
    "description",
  ];
  for (const key of Object.keys(input)) {
    if (!known.includes(key)) problems.push(`${key}: unknown field`);
  }
  if (problems.length > 0) throw new RoutingDefinitionInvalid(problems);
  return input as unknown as Destination;
}
