/** Helpers for the dicom integration tests: an in-process SCP that stores to a folder, dcmtk runs. */
import { createLogger } from "../../modules/core/mod.ts";
import {
  createDicomServer,
  type DicomServer,
  type DicomServerOptions,
  readPart10Header,
  type StoreRequest,
} from "../../modules/dicom/mod.ts";

/** What the test SCP saw. */
export interface ScpRecord {
  server: DicomServer;
  dir: string;
  logs: string[];
  /** SOP instance UIDs stored, in order. */
  stored: string[];
  /** Errors the dataset streams raised (the handler then stored nothing). */
  streamErrors: Error[];
  requests: Omit<StoreRequest, "dataset">[];
}

/**
 * Starts our SCP on 127.0.0.1:`port` with a handler that writes meta + dataset to
 * `<dir>/<sopInstanceUid>.dcm` (temp file, then rename; deleted when the stream errors).
 */
export function startTestScp(
  port: number,
  dir: string,
  overrides: Partial<DicomServerOptions> = {},
): ScpRecord {
  const logs: string[] = [];
  const record: Omit<ScpRecord, "server"> = {
    dir,
    logs,
    stored: [],
    streamErrors: [],
    requests: [],
  };
  const server = createDicomServer({
    host: "127.0.0.1",
    port,
    aeTitle: "BEELDPOORT",
    allowedSenders: ["*"],
    maxPduLength: 65536,
    log: createLogger({ level: "debug", sink: (line) => logs.push(line) }),
    store: async (request) => {
      const { dataset, ...rest } = request;
      record.requests.push(rest);
      const temp = `${dir}/.${request.sopInstanceUid}.part`;
      const file = await Deno.open(temp, { write: true, create: true, truncate: true });
      try {
        await file.write(request.meta);
        await dataset.pipeTo(file.writable); // closes the file
      } catch (error) {
        record.streamErrors.push(error as Error);
        await Deno.remove(temp).catch(() => {});
        throw error;
      }
      await Deno.rename(temp, `${dir}/${request.sopInstanceUid}.dcm`);
      record.stored.push(request.sopInstanceUid);
      return { status: 0 };
    },
    ...overrides,
  });
  return { server, ...record };
}

/** The dataset bytes of a Part-10 file: everything after its meta header. */
export function datasetBytes(path: string): Uint8Array {
  const bytes = Deno.readFileSync(path);
  return bytes.subarray(readPart10Header(bytes).datasetOffset);
}

/** Runs a dcmtk tool with Nagle off (TCP_NODELAY=1, see ARCHITECTURE.md runtime notes). */
export async function dcmtk(
  tool: string,
  args: string[],
): Promise<{ code: number; output: string }> {
  const out = await new Deno.Command(tool, {
    args,
    env: { TCP_NODELAY: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { code: out.code, output: text };
}

/** storescu of every file below `dir` (recursively) to Beeldpoort on `port` as `callingAe`. */
export function storescuDirectory(port: number, callingAe: string, dir: string) {
  return dcmtk("storescu", [
    "-aec",
    "BEELDPOORT",
    "-aet",
    callingAe,
    "+sd",
    "+r",
    "127.0.0.1",
    String(port),
    dir,
  ]);
}

/** Every file below `dir`, recursively. */
export function filesUnder(dir: string): string[] {
  return [...Deno.readDirSync(dir)].flatMap((e) =>
    e.isDirectory ? filesUnder(`${dir}/${e.name}`) : e.isFile ? [`${dir}/${e.name}`] : []
  );
}

/** Log lines (parsed) whose msg equals `msg`. */
export function logLines(logs: string[], msg: string): Record<string, unknown>[] {
  return logs.map((l) => JSON.parse(l)).filter((l) => l.msg === msg);
}

/** A raw TCP peer that speaks PDUs by hand, for tests of broken and hostile peers. */
export interface RawPeer {
  conn: Deno.TcpConn;
  send(bytes: Uint8Array): Promise<void>;
  /** The next PDU as [type, body], or null when the server closed the connection. */
  read(timeoutMs?: number): Promise<[number, Uint8Array] | null>;
  close(): void;
}

/** Opens a raw connection to `port` on 127.0.0.1. */
export async function rawPeer(port: number): Promise<RawPeer> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  let buffered = new Uint8Array(0);
  let closed = false;
  const fill = async (n: number, deadline: number): Promise<boolean> => {
    while (buffered.length < n) {
      const chunk = new Uint8Array(65536);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const got = await Promise.race([
        conn.read(chunk).catch(() => null),
        new Promise<"timeout">((
          r,
        ) => (timer = setTimeout(() => r("timeout"), deadline - Date.now()))),
      ]);
      clearTimeout(timer);
      if (got === "timeout") throw new Error("raw peer: timed out waiting for the server");
      if (got === null) return false;
      const next = new Uint8Array(buffered.length + got);
      next.set(buffered);
      next.set(chunk.subarray(0, got), buffered.length);
      buffered = next;
    }
    return true;
  };
  return {
    conn,
    send: async (bytes) => {
      let at = 0;
      while (at < bytes.length) at += await conn.write(bytes.subarray(at));
    },
    read: async (timeoutMs = 5000) => {
      const deadline = Date.now() + timeoutMs;
      if (!(await fill(6, deadline))) return null;
      const length = new DataView(buffered.buffer).getUint32(2);
      if (!(await fill(6 + length, deadline))) return null;
      const pdu: [number, Uint8Array] = [buffered[0], buffered.slice(6, 6 + length)];
      buffered = buffered.slice(6 + length);
      return pdu;
    },
    close: () => {
      if (closed) return;
      closed = true;
      try {
        conn.close();
      } catch {
        // already closed
      }
    },
  };
}
