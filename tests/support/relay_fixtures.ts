/**
 * Two gateways in one process for the relay tests: "Ziekenhuis A" and "Ziekenhuis B", each with its
 * own database, spool, keys and address book (manual entries for each other), joined by an
 * in-memory mail network whose queue the test delivers, reorders, duplicates or drops.
 */
import { join } from "node:path";
import { createLogger } from "../../modules/core/mod.ts";
import { type Database, migrateToLatest, openDatabase } from "../../modules/db/mod.ts";
import {
  type AddressBook,
  createAddressBook,
  type PayloadFormat,
} from "../../modules/addressbook/mod.ts";
import { readInstanceHeader } from "../../modules/dicom/mod.ts";
import {
  type AcceptOutcome,
  type CompletedTransfer,
  createRelay,
  type OutgoingMail,
  type Relay,
  type RelayAuditEvent,
  type RelayIdentity,
  type RelayOptions,
} from "../../modules/relay/mod.ts";
import {
  type Certificate,
  loadCertificatePem,
  loadPrivateKeyPem,
} from "../../modules/smime/mod.ts";
import { createSpool, type Spool } from "../../modules/spool/mod.ts";
import { createStudyIndex, type StudyIndex } from "../../modules/studies/mod.ts";
import { createTestPki, type TestIdentity, type TestPki } from "./smime_pki.ts";
import { testKey } from "./spool_fixtures.ts";

/** A mail as it crossed the network. */
export interface CapturedMail {
  to: string;
  from: string;
  messageId: string;
  raw: Uint8Array;
}

/** The in-memory network: sent mail waits in `queue` until the test delivers it. */
export class MailNetwork {
  readonly queue: CapturedMail[] = [];
  readonly captured: CapturedMail[] = [];
  readonly outcomes: { mail: CapturedMail; outcome: AcceptOutcome }[] = [];
  readonly gateways = new Map<string, Relay>();

  transportFor() {
    return {
      send: async (mail: OutgoingMail) => {
        const raw = mail.raw instanceof Uint8Array
          ? mail.raw
          : new Uint8Array(await new Response(mail.raw).arrayBuffer());
        const captured = { to: mail.to, from: mail.from, messageId: mail.messageId, raw };
        this.captured.push(captured);
        this.queue.push(captured);
      },
    };
  }

  /** Delivers one mail to the gateway it is addressed to. */
  async deliver(mail: CapturedMail): Promise<AcceptOutcome> {
    const gateway = this.gateways.get(mail.to);
    if (!gateway) throw new Error(`no gateway at ${mail.to}`);
    const outcome = await gateway.acceptMessage(mail.raw, { from: mail.from, to: mail.to });
    this.outcomes.push({ mail, outcome });
    return outcome;
  }

  /**
   * Delivers until the queue is empty (answers included). `arrange` may reorder, duplicate or
   * drop each batch taken from the queue.
   */
  async deliverAll(arrange?: (batch: CapturedMail[]) => CapturedMail[]): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.queue.length);
      for (const mail of arrange ? arrange(batch) : batch) await this.deliver(mail);
    }
  }

  /** Takes the queued mail without delivering it. */
  take(): CapturedMail[] {
    return this.queue.splice(0, this.queue.length);
  }
}

/** One gateway with everything it owns. */
export interface TestGateway {
  name: string;
  ura: string;
  address: string;
  dir: string;
  database: Database;
  spool: Spool;
  studies: StudyIndex;
  addressBook: AddressBook;
  identity: RelayIdentity & { files: TestIdentity };
  relay: Relay;
  completed: CompletedTransfer[];
  audit: RelayAuditEvent[];
  /** How many coming `onTransferComplete` calls fail, as a crash before the import would. */
  faults: { completions: number };
  /** A second relay over the same stores with other options (e.g. another signing key). */
  relayWith(overrides: Partial<RelayIdentity>, extra?: Partial<RelayOptions>): Relay;
}

/** Two gateways that know each other, and their shared PKI. */
export interface RelayPair {
  pki: TestPki;
  ca: Certificate;
  network: MailNetwork;
  a: TestGateway;
  b: TestGateway;
  cleanup(): Promise<void>;
}

async function loadIdentity(files: TestIdentity) {
  return {
    certificate: await loadCertificatePem(files.certPath),
    key: await loadPrivateKeyPem(files.keyPath),
  };
}

async function createGateway(
  name: string,
  ura: string,
  address: string,
  seed: number,
  pki: TestPki,
  ca: Certificate,
  network: MailNetwork,
  partSizeBytes: number,
): Promise<TestGateway> {
  const dir = await Deno.makeTempDir({ prefix: `bp-relay-${seed}-` });
  const log = createLogger({ level: "error" });
  const database = openDatabase({ kind: "sqlite", path: join(dir, "db.sqlite") });
  await migrateToLatest(database);
  const spool = await createSpool({
    dir: join(dir, "spool"),
    masterKey: testKey(seed),
    durability: "os",
  });
  const studies = createStudyIndex({ db: database.db, duplicatePolicy: "ignore", log });
  const addressBook = createAddressBook({ db: database.db, sources: [], log });
  const files = await pki.issue(`gw-${seed}`, { email: address });
  const identity = { ura, organizationName: name, address, files, ...(await loadIdentity(files)) };
  const completed: CompletedTransfer[] = [];
  const audit: RelayAuditEvent[] = [];
  const faults = { completions: 0 };
  const relayWith = (overrides: Partial<RelayIdentity>, extra: Partial<RelayOptions> = {}) =>
    createRelay({
      db: database.db,
      spool,
      studies,
      addressBook,
      transport: network.transportFor(),
      identity: { ...identity, ...overrides },
      trustAnchors: [ca],
      log,
      partSizeBytes,
      onTransferComplete: (transfer) => {
        if (faults.completions > 0) {
          faults.completions--;
          return Promise.reject(new Error("simulated crash before the import"));
        }
        completed.push(transfer);
        return Promise.resolve();
      },
      audit: { record: (event) => void audit.push(event) },
      ...extra,
    });
  const relay = relayWith({});
  network.gateways.set(address, relay);
  return {
    name,
    ura,
    address,
    dir,
    database,
    spool,
    studies,
    addressBook,
    identity,
    relay,
    completed,
    audit,
    faults,
    relayWith,
  };
}

/** Lists `peer` in `gateway`'s address book with the given certificates (default: its own). */
export async function listPeer(
  gateway: TestGateway,
  peer: TestGateway,
  options: {
    certificates?: { certificate: Certificate; use?: "encryption" | "signing" }[];
    contentEncryption?: ("aes-gcm" | "aes-cbc")[];
    maxMessageBytes?: number;
    /** What the peer's endpoint accepts (default XDM only). */
    formats?: PayloadFormat[];
    /** The peer takes binary parts inside the encryption (default: not listed, so no). */
    binaryContent?: boolean;
  } = {},
): Promise<void> {
  const certificates = options.certificates ?? [{ certificate: peer.identity.certificate }];
  await gateway.addressBook.addManualEntry({
    ura: peer.ura,
    name: peer.name,
    departments: [],
    endpoints: [{
      address: peer.address,
      formats: options.formats ?? ["xdm"],
      maxMessageBytes: options.maxMessageBytes ?? 25_000_000,
      contentEncryption: options.contentEncryption ?? ["aes-gcm", "aes-cbc"],
      binaryContent: options.binaryContent,
      certificates: certificates.map((c) => ({ der: c.certificate.der, use: c.use })),
    }],
  });
}

/** Builds Ziekenhuis A and B, each listing the other. */
export async function createRelayPair(
  options: { partSizeBytes?: number } = {},
): Promise<RelayPair> {
  const pki = await createTestPki();
  const ca = await loadCertificatePem(pki.ca.certPath);
  const network = new MailNetwork();
  const partSize = options.partSizeBytes ?? 20_000_000;
  const a = await createGateway(
    "Ziekenhuis A",
    "00000011",
    "gw@zkh-a.example",
    1,
    pki,
    ca,
    network,
    partSize,
  );
  const b = await createGateway(
    "Ziekenhuis B",
    "00000022",
    "gw@zkh-b.example",
    2,
    pki,
    ca,
    network,
    partSize,
  );
  await listPeer(a, b);
  await listPeer(b, a);
  return {
    pki,
    ca,
    network,
    a,
    b,
    async cleanup() {
      for (const g of [a, b]) {
        await g.database.close();
        await Deno.remove(g.dir, { recursive: true });
      }
      await pki.cleanup();
    },
  };
}

/** Stores Part-10 files in a gateway's spool and index, as the DICOM intake would. */
export async function ingest(gateway: TestGateway, files: Iterable<Uint8Array>): Promise<void> {
  for (const bytes of files) {
    const header = readInstanceHeader(bytes);
    const stored = await gateway.spool.put(ReadableStream.from([bytes]));
    await gateway.studies.recordInstance({
      header,
      sopInstanceUid: header.sopInstanceUid!,
      sopClassUid: header.sopClassUid!,
      transferSyntaxUid: header.transferSyntaxUid!,
      callingAe: "MODALITY",
      size: stored.size,
      sha256: stored.sha256,
      spoolId: stored.id,
      source: "dicom",
    });
  }
}

/** Every instance of a study in a gateway's spool, by SOP Instance UID. */
export async function exportStudy(
  gateway: TestGateway,
  studyInstanceUid: string,
): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const instance of await gateway.studies.studyInstances(studyInstanceUid)) {
    const stream = await gateway.spool.get(instance.spoolId);
    out.set(instance.sopInstanceUid, new Uint8Array(await new Response(stream).arrayBuffer()));
  }
  return out;
}
