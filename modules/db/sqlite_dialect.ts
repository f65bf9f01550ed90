import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { SqliteDialect } from "kysely";

/**
 * Pragmas every connection gets: WAL for concurrent readers, enforced foreign keys, and a busy
 * timeout so a second writer waits instead of failing with SQLITE_BUSY. In WAL mode `NORMAL`
 * keeps the database consistent but may lose the last commits in a power cut; `FULL` fsyncs the
 * WAL at every commit (measured on the ingest path: within the run-to-run noise of ~5%).
 */
const synchronousPragma = (durable: boolean) =>
  `PRAGMA synchronous = ${durable ? "FULL" : "NORMAL"}`;
const connectionPragmas = (durable: boolean) => [
  "PRAGMA journal_mode = WAL",
  synchronousPragma(durable),
  "PRAGMA foreign_keys = ON",
  "PRAGMA busy_timeout = 5000",
];

/**
 * How every transaction begins, Kysely's and commitUnflushed's. Kysely's own "begin" is DEFERRED: a
 * transaction that reads and then writes fails at once with "database is locked" (no busy wait)
 * when another process wrote in between, as two CLI commands migrating at the same time did beside
 * a running appliance. IMMEDIATE takes the write lock at BEGIN, where busy_timeout waits for it.
 */
const beginTransaction = "BEGIN IMMEDIATE";

/**
 * Kysely's SqliteDialect expects a better-sqlite3 shaped object; node:sqlite statements take spread
 * parameters and report columns instead of `reader`. This adapter bridges the two.
 */
export function nodeSqliteDialect(
  path: string,
  durable = true,
): {
  dialect: SqliteDialect;
  /**
   * Runs `statements` in one transaction committed with `synchronous = NORMAL` (no flush), then
   * restores the connection's setting. All synchronous: nothing else runs on the connection
   * meanwhile, so no other commit goes unflushed. Returns false, running nothing, while a
   * transaction is open on the connection (a Kysely one waiting across an await).
   */
  commitUnflushed(statements: readonly { sql: string; parameters: readonly unknown[] }[]): boolean;
} {
  const raw = new DatabaseSync(path);
  for (const pragma of connectionPragmas(durable)) raw.exec(pragma);
  const statements = new Map<string, StatementSync>();
  const prepare = (text: string) => {
    const sql = text === "begin" ? beginTransaction : text;
    let statement = statements.get(sql);
    if (!statement) {
      statement = raw.prepare(sql);
      statements.set(sql, statement);
    }
    const s = statement;
    const args = (p: readonly unknown[]) => p as SQLInputValue[];
    return {
      reader: s.columns().length > 0,
      all: (p: readonly unknown[]) => s.all(...args(p)),
      run: (p: readonly unknown[]) => s.run(...args(p)),
      iterate: (p: readonly unknown[]) => s.iterate(...args(p)),
    };
  };
  const database = {
    close: () => {
      statements.clear();
      if (raw.isOpen) raw.close();
    },
    prepare,
  };
  const commitUnflushed = (
    statements: readonly { sql: string; parameters: readonly unknown[] }[],
  ): boolean => {
    if (raw.isTransaction) return false;
    raw.exec(synchronousPragma(false));
    try {
      raw.exec(beginTransaction);
      try {
        for (const statement of statements) prepare(statement.sql).run(statement.parameters);
        raw.exec("COMMIT");
      } catch (error) {
        if (raw.isTransaction) raw.exec("ROLLBACK");
        throw error;
      }
    } finally {
      raw.exec(synchronousPragma(durable));
    }
    return true;
  };
  // deno-lint-ignore no-explicit-any
  return { dialect: new SqliteDialect({ database: database as any }), commitUnflushed };
}
