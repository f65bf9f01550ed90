/**
 * An in-process appliance for the faces' browser tests and the screenshot script, and synthetic
 * demo data (no real patients): address-book hospitals with real test certificates, local and
 * received studies, a report, and jobs in several states.
 */
import type { Page } from "playwright-core";
import { readInstanceHeader } from "../../modules/dicom/mod.ts";
import { createLogger } from "../../modules/core/mod.ts";
import type { Services } from "../../appliance/services.ts";
import { loadConfig } from "../../appliance/config/load.ts";
import { type RunningAppliance, startAppliance } from "../../appliance/serve.ts";
import { createTestCa } from "./addressbook_certs.ts";
import { newUid, syntheticCt } from "./dicom_fixtures.ts";

/** A running in-process gateway and where its data lives. */
export interface UiGateway {
  app: RunningAppliance;
  services: Services;
  baseUrl: string;
  dir: string;
  stop(): Promise<void>;
}

/** Starts the appliance in this process on free ports with a fresh data directory. */
export async function startUiGateway(env: Record<string, string> = {}): Promise<UiGateway> {
  const dir = await Deno.makeTempDir({ prefix: "bp-ui-" });
  const { config } = loadConfig({
    env: {
      BEELDPOORT_DATA__DIR: dir,
      BEELDPOORT_HTTP__PORT: "0",
      BEELDPOORT_DICOM__HOST: "127.0.0.1",
      BEELDPOORT_DICOM__PORT: "0",
      BEELDPOORT_DICOM__ALLOWEDSENDERS: "CT_ZAAL3",
      BEELDPOORT_SPOOL__DURABILITY: "os",
      BEELDPOORT_ADDRESSBOOK__SYNCINTERVALMINUTES: "10080",
      BEELDPOORT_PORTAL__IMPORTDESTINATION: "PACS",
      ...env,
    },
  });
  const app = await startAppliance(config, createLogger({ level: "error" }));
  return {
    app,
    services: app.services,
    baseUrl: `https://127.0.0.1:${app.httpPort}`,
    dir,
    async stop() {
      await app.stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Users of every role (the admin enrols TOTP on first sign-in through the browser). */
export const demoPassword = "een lang demo-wachtwoord";

export async function createDemoUsers(services: Services): Promise<void> {
  await services.auth.createUser("beheer", demoPassword, "admin");
  await services.auth.createUser("laborant", demoPassword, "sender");
  await services.auth.createUser("zorgverlener", demoPassword, "caregiver", {
    department: "radiologie",
  });
}

/** Signs in a user without TOTP (sender, caregiver) from the login page. */
export async function signInAs(
  page: Page,
  baseUrl: string,
  username: string,
  password = demoPassword,
): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.fill("#username", username);
  await page.fill("#password", password);
  await page.click("main button[type=submit]");
  await page.waitForLoadState();
}

/** One synthetic study stored as the DICOM intake (source "dicom") or the relay ("mail") would. */
export interface DemoStudy {
  studyInstanceUid: string;
  sopInstanceUids: string[];
  /** The exact bytes of each stored instance, by SOP Instance UID. */
  bytes: Map<string, Uint8Array>;
}

export async function storeStudy(services: Services, options: {
  source: "dicom" | "mail";
  patientId: string;
  patientName: string;
  description: string;
  accession: string;
  studyDate: string;
  instances: number;
  series?: number;
  callingAe?: string;
  size?: number;
}): Promise<DemoStudy> {
  const studyUid = newUid();
  const seriesUids = Array.from({ length: options.series ?? 1 }, () => newUid());
  const out: DemoStudy = { studyInstanceUid: studyUid, sopInstanceUids: [], bytes: new Map() };
  for (let i = 0; i < options.instances; i++) {
    const seriesIndex = Math.floor((i * seriesUids.length) / options.instances);
    const bytes = syntheticCt({
      studyUid,
      seriesUid: seriesUids[seriesIndex],
      sopUid: newUid(),
      rows: options.size ?? 64,
      cols: options.size ?? 64,
      patientId: options.patientId,
      patientName: options.patientName,
      accessionNumber: options.accession,
      studyDate: options.studyDate,
      studyDescription: options.description,
      seriesNumber: seriesIndex + 1,
      instanceNumber: i + 1,
    });
    const header = readInstanceHeader(bytes);
    const stored = await services.spool.put(ReadableStream.from([bytes]));
    await services.studies.recordInstance({
      header,
      sopInstanceUid: header.sopInstanceUid!,
      sopClassUid: header.sopClassUid!,
      transferSyntaxUid: header.transferSyntaxUid!,
      callingAe: options.callingAe ?? (options.source === "mail" ? "MAIL" : "CT_ZAAL3"),
      size: stored.size,
      sha256: stored.sha256,
      spoolId: stored.id,
      source: options.source,
    });
    out.sopInstanceUids.push(header.sopInstanceUid!);
    out.bytes.set(header.sopInstanceUid!, bytes);
  }
  return out;
}

/** A one-page PDF (just enough for a viewer), as a received report would be. */
export function tinyPdf(text: string): Uint8Array {
  const body = `BT /F1 18 Tf 72 720 Td (${text}) Tj ET`;
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
    `<< /Length ${body.length} >>\nstream\n${body}\nendstream`,
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
  ];
  let pdf = "%PDF-1.4\n";
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(pdf.length);
    pdf += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = pdf.length;
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${
    offsets.map((o) => `${String(o).padStart(10, "0")} 00000 n \n`).join("")
  }trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return new TextEncoder().encode(pdf);
}

/** Records a received report for a study, as the relay does for an inbound XDM document. */
export async function storeReport(services: Services, studyInstanceUid: string): Promise<void> {
  const pdf = tinyPdf("Verslag (synthetisch)");
  const stored = await services.spool.put(ReadableStream.from([pdf]));
  const now = new Date().toISOString();
  const transferId = `demo-${studyInstanceUid.slice(-8)}`;
  await services.database.db.insertInto("relay_transfers").values({
    direction: "in",
    id: transferId,
    study_instance_uid: studyInstanceUid,
    peer_ura: "00000002",
    peer_address: "beeldpoort@ziekenhuis-b.test",
    format: "xdm",
    state: "received",
    part_count: 1,
    instance_count: null,
    reason: null,
    reason_code: null,
    patient_json: null,
    created_at: now,
    updated_at: now,
  }).execute();
  await services.database.db.insertInto("relay_documents").values({
    transfer_id: transferId,
    document_id: `${transferId}-report`,
    spool_id: stored.id,
    mime_type: "application/pdf",
    title: "Verslag",
    size: stored.size,
    created_at: now,
  }).execute();
}

/** Address-book hospitals with valid encryption certificates (a throw-away test CA). */
export async function addDemoHospitals(services: Services): Promise<() => Promise<void>> {
  const ca = await createTestCa();
  const hospitals = [
    { ura: "00000002", name: "Ziekenhuis Oost", city: "Deventer" },
    { ura: "00000003", name: "Medisch Centrum West", city: "Leiden" },
    { ura: "00000004", name: "Streekziekenhuis Noord", city: "Assen" },
  ];
  const year = 365 * 86_400_000;
  for (const h of hospitals) {
    const address = `beeldpoort@${h.name.toLowerCase().replaceAll(" ", "-")}.test`;
    const cert = await ca.issue({
      commonName: address,
      email: address,
      ura: h.ura,
      use: "encryption",
      notBefore: new Date(Date.now() - 86_400_000),
      notAfter: new Date(Date.now() + year),
    });
    await services.addressBook.addManualEntry({
      ura: h.ura,
      name: h.name,
      city: h.city,
      departments: [],
      endpoints: [{
        address,
        formats: ["xdm"],
        contentEncryption: [],
        certificates: [{ der: cert.der, use: "encryption" }],
      }],
    });
  }
  return () => ca.cleanup();
}
