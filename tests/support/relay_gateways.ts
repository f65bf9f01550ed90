/**
 * Two real gateways, "Ziekenhuis A" and "Ziekenhuis B", as `beeldpoort serve` processes on
 * loopback, each with its own data directory, S/MIME identity and SMTP listener, one demo CA (made
 * with openssl), a shared mCSD address book imported with `beeldpoort addressbook import`, and an
 * Orthanc behind B as B's import destination. A has a rule that sends every study from the AE
 * MODALITY to B's URA. Used by `deno task demo`, the relay integration tests and the relay bench.
 */
import { join } from "node:path";
import process from "node:process";
import { readPart10Header } from "../../modules/dicom/mod.ts";
import type { PayloadFormat } from "../../modules/addressbook/mod.ts";
import { loadCertificatePem } from "../../modules/smime/mod.ts";
import { type OrthancPeer, startOrthanc } from "../../scripts/peers/orthanc.ts";
import { machineStealSeconds } from "../../scripts/peers/process.ts";
import { type ApplianceProcess, freePort, startAppliance } from "./appliance.ts";
import { organisation, type Resource } from "./addressbook_fhir_server.ts";
import { cli, routingEnv } from "./routing_peers.ts";
import { createTestPki, type TestIdentity, type TestPki } from "./smime_pki.ts";

/** One gateway of the pair. */
export interface Gateway {
  name: string;
  ura: string;
  address: string;
  domain: string;
  aeTitle: string;
  dir: string;
  dicomPort: number;
  mailPort: number;
  env: Record<string, string>;
  identity: TestIdentity;
  /** The running process, or null while stopped. */
  app: ApplianceProcess | null;
  start(): Promise<void>;
  stop(signal?: Deno.Signal): Promise<void>;
  /** Runs `beeldpoort ARGS` against this gateway's data directory; throws on failure. */
  cli(...args: string[]): Promise<string>;
  /** The JSON log lines the running (and earlier) processes wrote, parsed. */
  logs(): Record<string, unknown>[];
}

export interface GatewayPairOptions {
  /** Extra environment for both gateways (e.g. short retry settings). */
  env?: Record<string, string>;
  envA?: Record<string, string>;
  envB?: Record<string, string>;
  /** The endpoint's maximum message size in the address book (drives the part size). */
  maxMessageBytes?: number;
  /** Start the gateways (default true); false leaves starting to the caller. */
  start?: boolean;
  /** A's rule that sends every study from MODALITY to B (default true; false: send by hand). */
  rule?: boolean;
  /**
   * Departments of B in the address book, each with its own endpoint at the subaddress
   * `gw+<department>@zkh-b.example` (RFC 5233), which B reads the department from.
   */
  departmentsB?: string[];
  /** What B's endpoints accept in the shared address book (default XDM only). */
  formatsB?: PayloadFormat[];
  /**
   * Whether the endpoints take binary parts inside the encryption (default true: both gateways
   * are Beeldpoort); false sends the XDM zip in base64, as to any other peer.
   */
  binaryContent?: boolean;
  /** Associations B's import into its Orthanc opens in parallel (destination "PACS"; default 1). */
  pacsAssociations?: number;
}

/** The demo's two gateways, their PKI and B's Orthanc. */
export interface GatewayPair {
  pki: TestPki;
  /** A TLS server certificate for 127.0.0.1/localhost from the demo CA (listeners, Postfix). */
  tls: TestIdentity;
  a: Gateway;
  b: Gateway;
  orthanc: OrthancPeer;
  root: string;
  close(): Promise<void>;
}

const encryptionAndSigning = ["aes-gcm", "aes-cbc"] as const;

/** The mCSD bundle both gateways import: one Organization and Endpoint per hospital. */
async function addressBookBundle(
  gateways: {
    id: string;
    ura: string;
    name: string;
    city: string;
    address: string;
    cert: string;
    departments: string[];
    formats: PayloadFormat[];
  }[],
  maxMessageBytes: number,
  binaryContent: boolean,
): Promise<Record<string, unknown>> {
  const resources: Resource[] = [];
  for (const g of gateways) {
    const der = (await loadCertificatePem(g.cert)).der;
    const endpoint = (id: string, address: string) => ({
      id,
      address,
      formats: g.formats,
      maxMessageBytes,
      contentEncryption: [...encryptionAndSigning],
      binaryContent,
      certificates: [{ der, use: "encryption" as const }, { der, use: "signing" as const }],
    });
    const [local, domain] = g.address.split("@");
    resources.push(...organisation({
      id: g.id,
      ura: g.ura,
      name: g.name,
      city: g.city,
      endpoints: [
        endpoint(`${g.id}-mail`, g.address),
        ...g.departments.map((d) => endpoint(`${g.id}-${d}`, `${local}+${d}@${domain}`)),
      ],
      services: g.departments.map((d) => ({
        id: `${g.id}-${d}-service`,
        name: d,
        endpointIds: [`${g.id}-${d}`],
      })),
    }));
  }
  return {
    resourceType: "Bundle",
    type: "collection",
    entry: resources.map((resource) => ({ resource })),
  };
}

/**
 * Sets up both gateways (init, address book, B's import destination, A's rule) and starts them
 * with Orthanc. `root` is a directory the caller owns and removes.
 */
export async function createGatewayPair(
  root: string,
  options: GatewayPairOptions = {},
): Promise<GatewayPair> {
  const pki = await createTestPki();
  const tls = await pki.issue("gateway-tls", {
    subjectAltName: "DNS:localhost, IP:127.0.0.1",
    keyUsage: "critical, digitalSignature, keyEncipherment",
    extendedKeyUsage: "serverAuth, clientAuth",
  });
  const orthanc = await startOrthanc({
    dir: join(root, "orthanc-b"),
    httpPort: freePort(),
    dicomPort: freePort(),
  });
  const specs = [
    { id: "zkh-a", name: "Ziekenhuis A", ura: "00000011", city: "Amsterdam", ae: "ZKH_A" },
    { id: "zkh-b", name: "Ziekenhuis B", ura: "00000022", city: "Breda", ae: "ZKH_B" },
  ];
  const mailPorts = specs.map(() => freePort());
  const gateways: Gateway[] = [];
  for (const [i, spec] of specs.entries()) {
    const domain = `${spec.id}.example`;
    const address = `gw@${domain}`;
    const identity = await pki.issue(`${spec.id}-smime`, { email: address });
    const dir = join(root, spec.id);
    await Deno.mkdir(dir, { recursive: true });
    const dicomPort = freePort();
    const other = specs[1 - i];
    const env = routingEnv(dicomPort, {
      BEELDPOORT_DICOM__AETITLE: spec.ae,
      BEELDPOORT_ORGANIZATION__URA: spec.ura,
      BEELDPOORT_ORGANIZATION__NAME: spec.name,
      BEELDPOORT_ORGANIZATION__MAILADDRESS: address,
      BEELDPOORT_MAIL__HOST: "127.0.0.1",
      BEELDPOORT_MAIL__PORT: String(mailPorts[i]),
      BEELDPOORT_MAIL__TLSCERTFILE: tls.certPath,
      BEELDPOORT_MAIL__TLSKEYFILE: tls.keyPath,
      BEELDPOORT_MAIL__TRUSTEDCAFILE: pki.ca.certPath,
      BEELDPOORT_MAIL__ROUTES: `${other.id}.example=127.0.0.1:${mailPorts[1 - i]}/localhost`,
      BEELDPOORT_RELAY__CERTFILE: identity.certPath,
      BEELDPOORT_RELAY__KEYFILE: identity.keyPath,
      BEELDPOORT_RELAY__TRUSTANCHORSFILE: pki.ca.certPath,
      BEELDPOORT_LOG__LEVEL: "info",
      ...options.env,
      ...(i === 0 ? options.envA : options.envB),
    });
    // Lines of earlier runs of the gateway (parsed when it stopped), and of the running one.
    const earlierLogs: Record<string, unknown>[] = [];
    let runLogs = jsonLines();
    const gateway: Gateway = {
      name: spec.name,
      ura: spec.ura,
      address,
      domain,
      aeTitle: spec.ae,
      dir,
      dicomPort,
      mailPort: mailPorts[i],
      env,
      identity,
      app: null,
      async start() {
        gateway.app = await startAppliance(dir, env);
      },
      async stop(signal = "SIGTERM") {
        if (!gateway.app) return;
        await gateway.app.stop(signal);
        // A last line without its line break is complete now that the process has ended.
        earlierLogs.push(...runLogs.read(`${gateway.app.output().stderr}\n`));
        runLogs = jsonLines();
        gateway.app = null;
      },
      cli: (...args) => cli(dir, env, ...args),
      logs: () => [...earlierLogs, ...runLogs.read(gateway.app?.output().stderr ?? "")],
    };
    gateways.push(gateway);
  }
  const [a, b] = gateways;
  const bundle = await addressBookBundle(
    specs.map((s, i) => ({
      id: s.id,
      ura: s.ura,
      name: s.name,
      city: s.city,
      address: gateways[i].address,
      cert: gateways[i].identity.certPath,
      departments: i === 1 ? options.departmentsB ?? [] : [],
      formats: i === 1 ? options.formatsB ?? ["xdm"] : ["xdm"],
    })),
    options.maxMessageBytes ?? 50_000_000,
    options.binaryContent ?? true,
  );
  const bundlePath = join(root, "addressbook.json");
  await Deno.writeTextFile(bundlePath, JSON.stringify(bundle, null, 2));
  for (const g of gateways) {
    await g.cli("init");
    await g.cli("addressbook", "import", bundlePath);
  }
  await b.cli(
    "destinations",
    "add",
    "PACS",
    orthanc.aeTitle,
    "127.0.0.1",
    String(orthanc.dicomPort),
    ...(options.pacsAssociations ? ["--associations", String(options.pacsAssociations)] : []),
  );
  if (options.rule ?? true) {
    const rulePath = join(root, "rule-a.json");
    await Deno.writeTextFile(
      rulePath,
      JSON.stringify({
        name: "Studies from MODALITY to Ziekenhuis B",
        match: { callingAe: "MODALITY" },
        actions: [{ type: "send", recipient: b.ura }],
      }),
    );
    await a.cli("rules", "add", rulePath);
  }
  const pair: GatewayPair = {
    pki,
    tls,
    a,
    b,
    orthanc,
    root,
    async close() {
      await Promise.all([a.stop(), b.stop()]);
      await orthanc.stop();
      await pki.cleanup();
    },
  };
  if (options.start ?? true) {
    try {
      await Promise.all([a.start(), b.start()]);
    } catch (error) {
      await pair.close();
      throw error;
    }
  }
  return pair;
}

/** The environment B needs to import received studies into its Orthanc straight away. */
export const importIntoPacs = {
  BEELDPOORT_RELAY__IMPORTDESTINATION: "PACS",
  BEELDPOORT_RELAY__IMPORTPOLICY: "auto",
};

/** Sends a directory of Part-10 files into a gateway as the modality "MODALITY" would. */
export function storescuInto(gateway: Gateway, dir: string): Promise<void> {
  return storescuTo(gateway.dicomPort, gateway.aeTitle, dir);
}

/** storescu of a directory as AE "MODALITY" to 127.0.0.1:port, Nagle off. */
export async function storescuTo(port: number, calledAe: string, dir: string): Promise<void> {
  const out = await new Deno.Command("storescu", {
    args: ["-aec", calledAe, "-aet", "MODALITY", "+sd", "+r", "127.0.0.1", String(port), dir],
    env: { TCP_NODELAY: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`storescu failed: ${new TextDecoder().decode(out.stderr)}`);
}

/**
 * Parses the JSON lines of a log that only grows, each line once: journeys read both gateways'
 * logs ten times a second, and parsing all of them each time took the benchmark's process 2 s of
 * CPU while it shared the cores with the relay it measures (4000 instances).
 */
function jsonLines(): { read(text: string): Record<string, unknown>[] } {
  const parsed: Record<string, unknown>[] = [];
  let consumed = 0;
  return {
    read(text) {
      const end = text.lastIndexOf("\n") + 1;
      if (end > consumed) {
        for (const line of text.slice(consumed, end).split("\n")) {
          if (line.startsWith("{")) parsed.push(JSON.parse(line));
        }
        consumed = end;
      }
      return parsed.slice();
    },
  };
}

/** How many instances Orthanc holds. */
export async function orthancCount(orthanc: OrthancPeer): Promise<number> {
  const stats = await orthanc.rest("/statistics") as { CountInstances: number };
  return stats.CountInstances;
}

/**
 * Compares every sent file's dataset bytes with the instance Orthanc stored (its Part-10 meta
 * header is its own; the dataset must be ours, byte for byte). Returns the number identical.
 */
export async function identicalInOrthanc(
  orthanc: OrthancPeer,
  sent: { sopUid: string; path: string }[],
): Promise<number> {
  let identical = 0;
  for (const { sopUid, path } of sent) {
    const found = await orthanc.rest("/tools/lookup", { method: "POST", body: sopUid }) as {
      ID: string;
      Type: string;
    }[];
    const instance = found.find((f) => f.Type === "Instance");
    if (!instance) continue;
    const response = await fetch(`${orthanc.httpUrl}/instances/${instance.ID}/file`);
    const theirs = new Uint8Array(await response.arrayBuffer());
    const ours = Deno.readFileSync(path);
    const a = ours.subarray(readPart10Header(ours).datasetOffset);
    const b = theirs.subarray(readPart10Header(theirs).datasetOffset);
    if (a.length === b.length && a.every((byte, i) => byte === b[i])) identical++;
  }
  return identical;
}

/** An outbound or inbound transfer as `relay transfers --json` prints it. */
export interface ListedTransfer {
  transferId: string;
  direction: "in" | "out";
  state: string;
  /** "xdm" or "dicom-email". */
  format: string;
  partCount?: number;
  instanceCount?: number;
  reason?: string;
  reasonCode?: string;
  parts: { partNumber: number; state: string; attempts: number }[];
  events: { at: string; kind: string; detail?: string }[];
}

/** The transfers of a gateway (newest first). */
export async function transfersOf(
  gateway: Gateway,
  direction: "in" | "out",
): Promise<ListedTransfer[]> {
  const out = await gateway.cli("relay", "transfers", "--json", "--direction", direction);
  return out.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

/** Log lines of a gateway whose msg is one of `messages`. */
export function logged(gateway: Gateway, ...messages: string[]): Record<string, unknown>[] {
  return gateway.logs().filter((l) => messages.includes(String(l.msg)));
}

/** What one journey from the modality at A into B's PACS gave. */
export interface JourneyResult {
  sent: number;
  imported: number;
  identical: boolean;
  confirmed: boolean;
  seconds: number;
  /** From the end of the modality's send (last instance into A) to the last instance in B's PACS. */
  relaySeconds: number;
  /** Peak RSS (VmHWM) of each gateway process at the end, in bytes. */
  peakRss: { a: number | null; b: number | null };
  /**
   * CPU seconds each process used between the last instance into A and the last into Orthanc;
   * `driver` is this process (it shares the machine's cores with the others), `steal` the time
   * the hypervisor ran other guests instead (machine-wide).
   */
  relayCpuSeconds: { a: number; b: number; orthanc: number; driver: number; steal: number };
  /** A's outbound transfer as it ended. */
  transfer: ListedTransfer | undefined;
  /**
   * How many outbound transfers A made: 1, unless the modality's send paused longer than A's quiet
   * period and A took the study as complete more than once (then `confirmed` needs them all).
   */
  transfers: number;
}

/** CPU seconds (user + system) this process has used. */
function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

const stepMessages: Record<string, (l: Record<string, unknown>) => string> = {
  "study routed": (l) => `study settled; delivery job ${(l.jobs as string[]).join(", ")} queued`,
  "mail sent": (l) => `mail ${l.messageId} handed to ${l.host}:${l.port}`,
  "smtp message stored": (l) => `SMTP: ${l.bytes} bytes stored in the encrypted spool (${l.id})`,
  "inbound message processed": (l) =>
    l.kind === "part"
      ? `part ${l.part} of transfer ${l.transferId} verified and stored${
        l.complete ? ": all parts in" : ""
      }`
      : `${l.kind} processed${l.code ? ` (${l.code})` : ""}`,
  "received study queued for import": (l) =>
    `study queued for import into ${l.destination} (${l.instances} instances)`,
  "import confirmed to the sender": (l) => `import confirmed to ${l.peer}`,
  "transfer attempt failed; will retry": (l) => `delivery attempt failed, retry: ${l.error}`,
  "message refused": (l) => `message refused: ${l.code}`,
};

/**
 * Sends `study` into A with storescu and waits until B's Orthanc has every instance and A's
 * transfer is `imported` (the delivery confirmed), printing each step through `onStep`. Then
 * compares every instance in Orthanc with the file sent.
 */
export async function runJourney(
  pair: GatewayPair,
  study: { dir: string; sopUids: string[]; files: string[] },
  options: {
    onStep?: (line: string) => void;
    timeoutMs?: number;
    /** Runs once the modality's send has ended (e.g. to bring B back up). */
    afterSend?: () => Promise<void>;
    /** Compare every instance in Orthanc with the file sent (default true). */
    verify?: boolean;
  } = {},
): Promise<JourneyResult> {
  const step = options.onStep ?? (() => {});
  const started = performance.now();
  const startedAt = Date.now();
  const seen = new Map<Gateway, number>();
  const since = () => ((performance.now() - started) / 1000).toFixed(1).padStart(6);
  const report = () => {
    const fresh: { ts: string; line: string }[] = [];
    for (const g of [pair.a, pair.b]) {
      const lines = g.logs();
      for (const l of lines.slice(seen.get(g) ?? 0)) {
        const describe = stepMessages[String(l.msg)];
        if (describe) fresh.push({ ts: String(l.ts), line: `${g.name}: ${describe(l)}` });
      }
      seen.set(g, lines.length);
    }
    // Both logs in the order things happened.
    for (const { ts, line } of fresh.sort((x, y) => x.ts.localeCompare(y.ts))) {
      const at = ((Date.parse(ts) - startedAt) / 1000).toFixed(1).padStart(6);
      step(`${at} s  ${line}`);
    }
  };
  report();
  step(`${since()} s  modality -> ${pair.a.name}: storescu ${study.files.length} instances`);
  await storescuInto(pair.a, study.dir);
  step(`${since()} s  ${pair.a.name}: received ${study.files.length} instances (DICOM C-STORE)`);
  const received = performance.now();
  const cpu = () => ({
    a: pair.a.app?.cpuSeconds() ?? 0,
    b: pair.b.app?.cpuSeconds() ?? 0,
    orthanc: pair.orthanc.process.cpuSeconds() ?? 0,
    driver: ownCpuSeconds(),
    steal: machineStealSeconds() ?? 0,
  });
  const cpuAtReceived = cpu();
  let cpuAtStored = cpuAtReceived;
  let stored = 0;
  await options.afterSend?.();
  const deadline = Date.now() + (options.timeoutMs ?? 180_000);
  let imported = 0;
  let transfer: ListedTransfer | undefined;
  let lastCount = -1;
  let lastCheck = 0;
  while (Date.now() < deadline) {
    report();
    imported = await orthancCount(pair.orthanc);
    if (imported >= study.files.length && !stored) {
      stored = performance.now();
      cpuAtStored = cpu();
    }
    if (imported !== lastCount) {
      step(`${since()} s  ${pair.b.name}: Orthanc holds ${imported}/${study.files.length}`);
      lastCount = imported;
    }
    const confirmedLogged = logged(pair.b, "import confirmed to the sender").length > 0;
    if (imported >= study.files.length && confirmedLogged && Date.now() - lastCheck > 500) {
      lastCheck = Date.now();
      transfer = (await transfersOf(pair.a, "out"))[0];
      if (transfer?.state === "imported" || transfer?.state === "failed") break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  report();
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  const outbound = await transfersOf(pair.a, "out");
  transfer ??= outbound[0];
  const confirmed = outbound.length > 0 && outbound.every((t) => t.state === "imported");
  const peakRss = { a: pair.a.app?.peakRss() ?? null, b: pair.b.app?.peakRss() ?? null };
  step(`${since()} s  ${pair.a.name}: transfer ${transfer?.transferId} is ${transfer?.state}`);
  const identicalCount = options.verify === false ? imported : await identicalInOrthanc(
    pair.orthanc,
    study.sopUids.map((sopUid, i) => ({ sopUid, path: study.files[i] })),
  );
  step(`${since()} s  ${identicalCount}/${study.files.length} instances byte-identical in Orthanc`);
  return {
    sent: study.files.length,
    imported,
    identical: identicalCount === study.files.length && imported === study.files.length,
    confirmed,
    seconds,
    relaySeconds: stored ? Math.round(stored - received) / 1000 : NaN,
    peakRss,
    relayCpuSeconds: {
      a: Math.round((cpuAtStored.a - cpuAtReceived.a) * 10) / 10,
      b: Math.round((cpuAtStored.b - cpuAtReceived.b) * 10) / 10,
      orthanc: Math.round((cpuAtStored.orthanc - cpuAtReceived.orthanc) * 10) / 10,
      driver: Math.round((cpuAtStored.driver - cpuAtReceived.driver) * 10) / 10,
      steal: Math.round((cpuAtStored.steal - cpuAtReceived.steal) * 10) / 10,
    },
    transfer,
    transfers: outbound.length,
  };
}
