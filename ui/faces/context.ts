import type { Context, Handler } from "hono";
import type { Access } from "../../modules/auth/mod.ts";
import type { AuditEventInput } from "../../modules/audit/mod.ts";
import type { Logger } from "../../modules/core/mod.ts";
import type { StudySummary } from "../../modules/studies/mod.ts";
import type { EnqueueRequest, TransferJob } from "../../modules/transfer/mod.ts";
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

/**
 * Queues a job about `study` the way every UI action does: the job, its "queued" step on the
 * study's timeline (routing records its own; the queue leaves "queued" to the caller), and the
 * audit event of the user who asked.
 */
export async function queueForStudy(
  f: FacesContext,
  c: Context<Env>,
  study: StudySummary,
  request: EnqueueRequest & { items: string[] },
  action: "send" | "import",
  detail: Record<string, string | number | boolean> = {},
): Promise<TransferJob> {
  const job = await f.deps.transfer.enqueue({ ...request, subject: study.studyInstanceUid });
  await f.deps.studies.recordEvent(study.studyInstanceUid, "queued", {
    jobId: job.id,
    destination: job.destination,
    kind: job.kind,
    itemsTotal: request.items.length,
  });
  await f.audit(c, {
    action,
    outcome: "success",
    patient: { id: study.patientId },
    object: { kind: "study", id: study.studyInstanceUid },
    detail: {
      destination: job.destination,
      instances: request.items.length,
      jobId: job.id,
      ...detail,
    },
  });
  return job;
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

/**
 * Names people read for job destinations: a "peer" job's destination is a URA, shown as the
 * hospital's name from the address book; anything else (a DICOM destination) as it is.
 */
export async function destinationNames(
  f: FacesContext,
  destinations: Iterable<string>,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const d of new Set(destinations)) {
    const entry = /^\d{8}$/.test(d) ? await f.deps.addressBook.get(d) : null;
    out[d] = entry?.name ?? d;
  }
  return out;
}
