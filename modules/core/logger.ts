/** Log levels in increasing order of severity. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const levelRank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Structured fields attached to a log line. Values must be JSON-serialisable. */
export type LogFields = Record<string, unknown>;

/** A structured logger writing one JSON object per line. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line, e.g. `{ module: "dicom" }`. */
  child(fields: LogFields): Logger;
}

/**
 * Field names that may carry patient data. Ordinary logs never show them: the audit trail records
 * access to patient data instead. Matching is case-insensitive on the field name.
 */
const patientFieldPattern = /^(patient.*|bsn|.*birth.*|accession.*|.*name)$/i;
const allowedNameFields = new Set(["module", "name", "hostname", "username", "filename"]);

function redact(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [key, value] of Object.entries(fields)) {
    if (patientFieldPattern.test(key) && !allowedNameFields.has(key.toLowerCase())) {
      out[key] = "[redacted]";
    } else if (value instanceof Error) {
      out[key] = {
        name: value.name,
        message: value.message,
        code: (value as { code?: string }).code,
      };
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** Where log lines go; defaults to stderr so stdout stays free for command output. */
export type LogSink = (line: string) => void;

const encoder = new TextEncoder();
const stderrSink: LogSink = (line) => {
  Deno.stderr.writeSync(encoder.encode(line + "\n"));
};

/**
 * Creates a JSON-lines logger.
 *
 * @example
 * ```ts
 * const log = createLogger({ level: "info" }).child({ module: "dicom" });
 * log.info("association accepted", { callingAe: "CT1" });
 * ```
 */
export function createLogger(
  options: { level?: LogLevel; sink?: LogSink; fields?: LogFields } = {},
): Logger {
  const threshold = levelRank[options.level ?? "info"];
  const sink = options.sink ?? stderrSink;
  const base = options.fields ?? {};
  const write = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (levelRank[level] < threshold) return;
    const line = { ts: new Date().toISOString(), level, msg, ...redact({ ...base, ...fields }) };
    sink(JSON.stringify(line));
  };
  return {
    debug: (msg, fields) => write("debug", msg, fields),
    info: (msg, fields) => write("info", msg, fields),
    warn: (msg, fields) => write("warn", msg, fields),
    error: (msg, fields) => write("error", msg, fields),
    child: (fields) => createLogger({ level: options.level, sink, fields: { ...base, ...fields } }),
  };
}

/** Whether `value` names a log level. */
export function isLogLevel(value: string): value is LogLevel {
  return value in levelRank;
}
