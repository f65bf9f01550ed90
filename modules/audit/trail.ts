import type { Kysely, Selectable } from "kysely";
import { type Clock, type Logger, newId, systemClock } from "../core/mod.ts";
import type { AuditEventsTable, DatabaseSchema } from "../db/mod.ts";
import { atnaMessage, type AuditSource } from "./atna.ts";
import { genesisHash, rowHash } from "./chain.ts";
import {
  createSyslogSender,
  syslogMessage,
  type SyslogOptions,
  type SyslogSender,
} from "./syslog.ts";
import type { AuditEvent, AuditEventInput, ChainProblem, ChainReport } from "./types.ts";

/** What the audit trail needs. */
export interface AuditTrailOptions {
  db: Kysely<DatabaseSchema>;
  log: Logger;
  clock?: Clock;
  /** Who we are in exported messages (AuditSourceID, and the hospital as AuditEnterpriseSiteID). */
  source?: AuditSource;
  /** Forward every event to this collector; absent: events stay local. */
  syslog?: SyslogOptions;
  /** Events older than this are removed by `prune`; 0 keeps everything. */
  retentionDays?: number;
}

type Row = Selectable<AuditEventsTable>;

// settings keys: where the chain starts after pruning, and the newest row (so deleting the last
// rows is noticed too).
const anchorKey = "audit_anchor";
const headKey = "audit_head";

function toEvent(row: Row): AuditEvent {
  return {
    seq: row.seq,
    id: row.id,
    occurredAt: row.occurred_at,
    action: row.action as AuditEvent["action"],
    outcome: row.outcome as AuditEvent["outcome"],
    actor: {
      kind: row.actor_kind as "user" | "system",
      id: row.actor_id,
      ...(row.actor_role ? { role: row.actor_role } : {}),
    },
    sourceAddress: row.source_address,
    patient: { id: row.patient_id, bsn: row.patient_bsn },
    object: row.object_kind && row.object_id ? { kind: row.object_kind, id: row.object_id } : null,
    detail: row.detail ? JSON.parse(row.detail) : null,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/**
 * The NEN 7513 audit trail: append-only, hash-chained events in the database, verification,
 * export (JSON lines or DICOM audit XML), retention, and forwarding over syslog with the database
 * as the queue while the collector is down.
 *
 * @example
 * ```ts
 * const audit = createAuditTrail({ db: database.db, log });
 * await audit.record({ action: "login", outcome: "success", actor: { kind: "user", id: "beheer" } });
 * (await audit.verify()).ok; // true
 * ```
 */
export function createAuditTrail(options: AuditTrailOptions) {
  const { db } = options;
  const clock = options.clock ?? systemClock;
  const log = options.log.child({ module: "audit" });
  const source = options.source ?? { sourceId: "BEELDPOORT" };
  let sender: SyslogSender | null = null;
  let wake: (() => void) | null = null;
  let dirty = false;
  let stopped = true;
  let loop: Promise<void> | null = null;
  // Appends are serialised in this process; the transaction guards against other processes.
  let tail: Promise<unknown> = Promise.resolve();

  async function readSetting(key: string): Promise<{ seq: number; hash: string } | null> {
    const row = await db.selectFrom("settings").select("value").where("key", "=", key)
      .executeTakeFirst();
    return row ? JSON.parse(row.value) : null;
  }

  function append(input: AuditEventInput): Promise<AuditEvent> {
    const run = tail.then(() =>
      db.transaction().execute(async (tx) => {
        const last = await tx.selectFrom("audit_events").select(["seq", "hash"])
          .orderBy("seq", "desc").limit(1).executeTakeFirst();
        const anchorRow = last ? null : await tx.selectFrom("settings").select("value")
          .where("key", "=", anchorKey).executeTakeFirst();
        const anchor = anchorRow
          ? JSON.parse(anchorRow.value) as { seq: number; hash: string }
          : null;
        const row: Row = {
          seq: last ? last.seq + 1 : (anchor?.seq ?? 0) + 1,
          id: newId(clock.now().getTime()),
          occurred_at: clock.now().toISOString(),
          action: input.action,
          outcome: input.outcome,
          actor_kind: input.actor.kind,
          actor_id: input.actor.id,
          actor_role: input.actor.role ?? null,
          source_address: input.sourceAddress ?? null,
          patient_id: input.patient?.id ?? null,
          patient_bsn: input.patient?.bsn ?? null,
          object_kind: input.object?.kind ?? null,
          object_id: input.object?.id ?? null,
          detail: input.detail ? JSON.stringify(input.detail) : null,
          prev_hash: last?.hash ?? anchor?.hash ?? genesisHash,
          hash: "",
        };
        row.hash = rowHash(row);
        await tx.insertInto("audit_events").values(row).execute();
        const head = JSON.stringify({ seq: row.seq, hash: row.hash });
        await tx.insertInto("settings").values({
          key: headKey,
          value: head,
          updated_at: row.occurred_at,
        })
          .onConflict((oc) =>
            oc.column("key").doUpdateSet({ value: head, updated_at: row.occurred_at })
          )
          .execute();
        if (options.syslog) await tx.insertInto("audit_outbox").values({ seq: row.seq }).execute();
        return toEvent(row);
      })
    );
    tail = run.catch(() => {});
    return run;
  }

  async function verify(): Promise<ChainReport> {
    const anchor = await readSetting(anchorKey);
    const head = await readSetting(headKey);
    const problems: ChainProblem[] = [];
    let expectedSeq = (anchor?.seq ?? 0) + 1;
    let prev = anchor?.hash ?? genesisHash;
    let checked = 0;
    let firstSeq: number | null = null;
    let lastSeq: number | null = null;
    for (let after = 0;;) {
      const rows = await db.selectFrom("audit_events").selectAll().where("seq", ">", after)
        .orderBy("seq").limit(1000).execute();
      if (rows.length === 0) break;
      for (const row of rows) {
        firstSeq ??= row.seq;
        lastSeq = row.seq;
        checked++;
        if (row.seq !== expectedSeq) {
          problems.push({
            kind: "missing",
            seq: expectedSeq,
            message: `rows ${expectedSeq}..${
              row.seq - 1
            } are missing (deleted before event ${row.id})`,
          });
        } else if (row.prev_hash !== prev) {
          problems.push({
            kind: "broken",
            seq: row.seq,
            message: `row ${row.seq} (${row.id}) does not follow the row before it`,
          });
        }
        if (rowHash(row) !== row.hash) {
          problems.push({
            kind: "edited",
            seq: row.seq,
            message:
              `row ${row.seq} (${row.id}, ${row.occurred_at}) was changed after it was written`,
          });
        }
        prev = row.hash;
        expectedSeq = row.seq + 1;
      }
      after = rows[rows.length - 1].seq;
    }
    if (head && head.seq >= expectedSeq) {
      problems.push({
        kind: "missing",
        seq: expectedSeq,
        message: `rows ${expectedSeq}..${head.seq} are missing (the newest rows were deleted)`,
      });
    } else if (head && lastSeq === head.seq && prev !== head.hash) {
      problems.push({
        kind: "broken",
        seq: head.seq,
        message: `the newest row ${head.seq} was replaced`,
      });
    }
    return { ok: problems.length === 0, checked, firstSeq, lastSeq, problems };
  }

  /** Events in order, a page at a time, as a stream of encoded lines or messages. */
  function exportStream(format: "jsonl" | "atna"): ReadableStream<Uint8Array> {
    const encoder = new TextEncoder();
    let after = 0;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        const rows = await db.selectFrom("audit_events").selectAll().where("seq", ">", after)
          .orderBy("seq").limit(500).execute();
        if (rows.length === 0) return controller.close();
        after = rows[rows.length - 1].seq;
        const text = rows.map((row) => {
          const event = toEvent(row);
          return (format === "jsonl" ? JSON.stringify(event) : atnaMessage(event, source)) + "\n";
        }).join("");
        controller.enqueue(encoder.encode(text));
      },
    });
  }

  async function prune(): Promise<number> {
    const days = options.retentionDays ?? 0;
    if (days <= 0) return 0;
    const cutoff = new Date(clock.now().getTime() - days * 86400_000).toISOString();
    const removed = await db.transaction().execute(async (tx) => {
      const last = await tx.selectFrom("audit_events").select(["seq", "hash"])
        .where("occurred_at", "<", cutoff).orderBy("seq", "desc").limit(1).executeTakeFirst();
      if (!last) return 0;
      const anchor = JSON.stringify({ seq: last.seq, hash: last.hash });
      const now = clock.now().toISOString();
      await tx.insertInto("settings").values({ key: anchorKey, value: anchor, updated_at: now })
        .onConflict((oc) => oc.column("key").doUpdateSet({ value: anchor, updated_at: now }))
        .execute();
      await tx.deleteFrom("audit_outbox").where("seq", "<=", last.seq).execute();
      const result = await tx.deleteFrom("audit_events").where("seq", "<=", last.seq)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    });
    if (removed > 0) {
      await append({
        action: "audit-prune",
        outcome: "success",
        actor: { kind: "system", id: "beeldpoort" },
        detail: { removed, retentionDays: days },
      });
      log.info("audit trail pruned", { removed, retentionDays: days });
    }
    return removed;
  }

  /** Sends what the outbox holds, oldest first; stops at the first failure. Returns how many. */
  async function flush(): Promise<number> {
    if (!options.syslog) return 0;
    sender ??= createSyslogSender(options.syslog);
    let sent = 0;
    for (;;) {
      const rows = await db.selectFrom("audit_outbox")
        .innerJoin("audit_events", "audit_events.seq", "audit_outbox.seq")
        .selectAll("audit_events").orderBy("audit_outbox.seq").limit(100).execute();
      if (rows.length === 0) return sent;
      for (const row of rows) {
        const event = toEvent(row);
        try {
          await sender.send(
            syslogMessage(atnaMessage(event, source), new Date(event.occurredAt), {
              hostname: options.syslog.hostname,
              appName: options.syslog.appName,
            }),
          );
        } catch (error) {
          await db.updateTable("audit_outbox").set((eb) => ({
            attempts: eb("attempts", "+", 1),
            last_error: (error as Error).message,
          })).where("seq", "=", row.seq).execute();
          throw error;
        }
        await db.deleteFrom("audit_outbox").where("seq", "=", row.seq).execute();
        sent++;
      }
    }
  }

  return {
    /**
     * Appends one event and (when forwarding) queues it for the collector. Resolves once the event
     * is in the database: callers await it before they answer, so no access goes unrecorded.
     */
    async record(input: AuditEventInput): Promise<AuditEvent> {
      const event = await append(input);
      dirty = true;
      wake?.();
      return event;
    },

    /** Walks the whole chain and says where it is broken, edited or missing rows. */
    verify,

    /** The newest events first, for the auditor's page. */
    async list(limit = 100): Promise<AuditEvent[]> {
      const rows = await db.selectFrom("audit_events").selectAll().orderBy("seq", "desc")
        .limit(limit).execute();
      return rows.map(toEvent);
    },

    /** Every event in order: JSON lines, or one DICOM audit message (XML) per line. */
    export: exportStream,

    /** Removes events older than the retention period, keeping the chain verifiable. */
    prune,

    flush,

    /** How many events wait for the collector. */
    async queued(): Promise<number> {
      const row = await db.selectFrom("audit_outbox").select((eb) => eb.fn.countAll().as("n"))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    /**
     * Forwards queued events in the background: at once after each `record`, and while the
     * collector is down again after a backoff (1 s doubling to 60 s). No-op without syslog options.
     */
    startForwarding(): void {
      if (!options.syslog || !stopped) return;
      stopped = false;
      loop = (async () => {
        let backoff = 1000;
        let warned = false;
        while (!stopped) {
          let delay = 60_000;
          dirty = false;
          try {
            const sent = await flush();
            if (warned && sent > 0) log.info("syslog collector reachable again", { sent });
            warned = false;
            backoff = 1000;
          } catch (error) {
            if (!warned) log.warn("syslog collector unreachable; events stay queued", { error });
            warned = true;
            delay = backoff;
            backoff = Math.min(backoff * 2, 60_000);
          }
          if (stopped) break;
          if (dirty && !warned) continue; // recorded while we were sending
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, delay);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = null;
        }
      })();
    },

    /** Stops forwarding (queued events stay for the next start) and closes the connection. */
    async stop(): Promise<void> {
      stopped = true;
      wake?.();
      await loop;
      loop = null;
      sender?.close();
      sender = null;
    },
  };
}

/** The audit trail's interface. */
export type AuditTrail = ReturnType<typeof createAuditTrail>;
