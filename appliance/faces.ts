/**
 * Wiring of the UI's faces: the portal service, and the appliance's own state the UI shows
 * (effective DICOM settings, disk space, certificate expiry, C-ECHO, the dry run's study facts).
 */
import { X509Certificate } from "node:crypto";
import type { Logger } from "../modules/core/mod.ts";
import { cEcho } from "../modules/dicom/mod.ts";
import { createPortal, type Portal } from "../modules/portal/mod.ts";
import type { FacesDeps, SystemView } from "../ui/faces/deps.ts";
import { addressBookSources } from "./addressbook_sources.ts";
import type { Config } from "./config/schema.ts";
import { studyFacts } from "./delivery.ts";
import type { Services } from "./services.ts";

/** The portal over the shared services, with the configured link policy. */
export function openPortal(
  services: Pick<Services, "database" | "studies" | "spool">,
  config: Config,
): Portal {
  return createPortal({
    db: services.database.db,
    studies: services.studies,
    spool: services.spool,
    links: { validDays: config.portal.linkDays, pinAttempts: config.portal.pinAttempts },
    previewTool: dcmj2pnmAvailable() ? "dcmj2pnm" : null,
  });
}

/** dcmtk's dcmj2pnm renders the patient page's JPEG previews; without it there are none. */
function dcmj2pnmAvailable(): boolean {
  try {
    return new Deno.Command("dcmj2pnm", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** Free and total bytes of the file system holding `dir` (`df`, as Deno has no statfs). */
async function diskSpace(dir: string): Promise<{ freeBytes: number; totalBytes: number } | null> {
  try {
    const out = await new Deno.Command("df", {
      args: ["-P", "-B1", dir],
      stdout: "piped",
      stderr: "null",
    }).output();
    const fields = new TextDecoder().decode(out.stdout).trim().split("\n").pop()!.split(/\s+/);
    const total = Number(fields[1]);
    const free = Number(fields[3]);
    return Number.isFinite(total) && Number.isFinite(free)
      ? { freeBytes: free, totalBytes: total }
      : null;
  } catch {
    return null;
  }
}

function certificateExpiry(name: string, path: string): { name: string; notAfter: string }[] {
  try {
    const cert = new X509Certificate(Deno.readTextFileSync(path));
    return [{ name, notAfter: new Date(cert.validTo).toISOString() }];
  } catch {
    return [];
  }
}

/** What the faces need, built from the services and the configuration. */
export function facesDeps(
  services: Services,
  config: Config,
  log: Logger,
): FacesDeps {
  const system: SystemView = {
    dicom: {
      aeTitle: config.dicom.aeTitle,
      host: config.dicom.host,
      port: config.dicom.port,
      tlsPort: config.dicom.tlsPort,
      allowedSenders: config.dicom.allowedSenders,
      maxAssociations: config.dicom.maxAssociations,
    },
    retention: {
      auditDays: config.audit.retentionDays,
      studyDays: config.studies.retentionDays,
      linkDays: config.portal.linkDays,
      pinAttempts: config.portal.pinAttempts,
    },
    addressBookSources: addressBookSources(config).map((s) => s.name),
    importDestination: config.portal.importDestination,
    disk: () => diskSpace(services.paths.dir),
    certificates: () =>
      Promise.resolve([
        ...certificateExpiry("web (HTTPS)", services.paths.tlsCert),
        ...(config.dicom.tlsPort && config.dicom.tlsCertFile
          ? certificateExpiry("DICOM TLS", config.dicom.tlsCertFile)
          : []),
      ]),
    echo: (d) => {
      log.info("C-ECHO from the settings page", { destination: d.name, aeTitle: d.aeTitle });
      return cEcho({
        host: d.host,
        port: d.port,
        calledAe: d.aeTitle,
        callingAe: d.callingAe ?? config.dicom.aeTitle,
      });
    },
    studyFacts: (uid) =>
      studyFacts({
        studies: services.studies,
        spool: services.spool,
        calledAe: config.dicom.aeTitle,
      }, uid),
  };
  return {
    transfer: services.transfer,
    router: services.router,
    addressBook: services.addressBook,
    portal: services.portal,
    system,
  };
}
