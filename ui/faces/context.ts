import type { Context, Handler } from "hono";
import type { Access } from "../../modules/auth/mod.ts";
import type { AuditEventInput } from "../../modules/audit/mod.ts";
import type { Logger } from "../../modules/core/mod.ts";
import type { StudySummary } from "../../modules/studies/mod.ts";
import type { Env, UiDeps } from "../app.ts";

type Register = (path: string, access: Access, ...handlers: Handler<Env>[]) => void;

/** What a group of routes is registered with: the policy-declaring router and shared helpers. */
export interface FacesContext {
  route: { get: Register; post: Register };
  deps: UiDeps;
  log: Logger;
  audit(c: Context<Env>, event: Omit<AuditEventInput, "actor" | "sourceAddress">): Promise<unknown>;
  viewed(c: Context<Env>, study: StudySummary, page: string): Promise<unknown>;
}

/** A form's text fields (the last value of each name). */
export async function formFields(c: Context<Env>): Promise<Record<string, string>> {
  const body = await c.req.parseBody();
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === "string") out[k] = v;
  return out;
}

/** All values of a repeated form field (checkboxes). */
export async function formList(c: Context<Env>, name: string): Promise<string[]> {
  const value = (await c.req.parseBody({ all: true }))[name];
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.filter((v): v is string => typeof v === "string");
}
