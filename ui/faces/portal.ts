import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import {
  type PatientLink,
  PortalGrantInvalid,
  PortalLinkExpired,
  PortalLinkLocked,
  PortalLinkNotFound,
  PortalLinkRevoked,
  PortalPinWrong,
  PortalReconciliationInvalid,
} from "../../modules/portal/mod.ts";
import type { StudySummary } from "../../modules/studies/mod.ts";
import { type Env, remoteAddress } from "../app.ts";
import { errorPage } from "../pages/error.ts";
import { patientGonePage, patientLinkPage, portalPage, portalStudyPage } from "../pages/portal.ts";
import { type FacesContext, formFields, queueForStudy } from "./context.ts";

const caregiver = { roles: ["caregiver"] } as const;
const grantCookie = "bp_link";

/** The zip's file name: no patient data in it (it ends up in download folders and logs). */
function zipName(study: StudySummary): string {
  return `beeldpoort-${study.studyDate ?? "studie"}.zip`;
}

function zipResponse(stream: ReadableStream<Uint8Array>, name: string): Response {
  return new Response(stream, {
    headers: {
      "content-type": "application/zip",
      "content-disposition": `attachment; filename="${name}"`,
      "cache-control": "no-store",
    },
  });
}

/** The caregiver portal (inbox, reconciliation, import, download) and the patients' link pages. */
export function portalRoutes(f: FacesContext): void {
  const { route, deps } = f;
  const notFound = (c: Context<Env>) => c.html(errorPage(c.get("page"), "error.notFound"), 404);

  /** The signed-in caregiver's department (`user add --department`), or null. */
  async function departmentOf(c: Context<Env>): Promise<string | null> {
    const id = c.get("session")!.user.id;
    return (await deps.auth.listUsers()).find((u) => u.id === id)?.department ?? null;
  }

  /**
   * A received (mail) study the caregiver may see, or null: the portal shows nothing else. A
   * study addressed to another department is not theirs (ui/pages/portal.ts, the inbox).
   */
  async function receivedStudy(c: Context<Env>, uid: string): Promise<StudySummary | null> {
    const study = await deps.studies.getStudy(uid);
    if (!study || study.source !== "mail") return null;
    const mine = (await departmentOf(c))?.trim().toLowerCase();
    const to = await deps.portal.departmentOf(uid);
    return !mine || !to || to.toLowerCase() === mine ? study : null;
  }

  /** The inbound relay transfer that brought a study (its sender, and what to confirm), if any. */
  async function inboundTransfer(uid: string) {
    const transfers = await deps.relay?.listTransfers({ direction: "in", limit: 500 }) ?? [];
    return transfers.find((x) => x.studyInstanceUid === uid);
  }

  route.get("/portal", caregiver, async (c) => {
    const department = await departmentOf(c);
    const items = await deps.portal.inbox({ department });
    const senders = new Map<string, string>();
    const transfers = await deps.relay?.listTransfers({ direction: "in", limit: 500 }) ?? [];
    const lines = [];
    for (const item of items) {
      await f.viewed(c, item.study, "portal");
      const x = transfers.find((x) => x.studyInstanceUid === item.study.studyInstanceUid);
      const ura = x?.peerUra;
      if (ura && !senders.has(ura)) {
        senders.set(ura, (await deps.addressBook.get(ura))?.name ?? ura);
      }
      lines.push({ ...item, from: (ura && senders.get(ura)) || x?.peerAddress || "" });
    }
    return c.html(portalPage(c.get("page"), lines, department));
  });

  async function renderStudy(
    c: Context<Env>,
    study: StudySummary,
    extra: { message?: string; error?: string } = {},
    status: 200 | 400 = 200,
  ) {
    const query = c.req.query("q")?.trim() ?? "";
    const [match, candidates, jobs, report] = await Promise.all([
      deps.portal.reconciliations.match(study),
      query ? deps.portal.reconciliations.localPatients(query) : Promise.resolve([]),
      deps.transfer.list({ subject: study.studyInstanceUid, limit: 20 }),
      deps.portal.report(study.studyInstanceUid),
    ]);
    return c.html(
      portalStudyPage(c.get("page"), {
        study,
        match,
        query,
        candidates,
        importJobs: jobs.filter((j) =>
          j.kind === "dicom" && j.destination === deps.system.importDestination
        ),
        importDestination: deps.system.importDestination,
        hasReport: report !== null,
        ...extra,
      }),
      status,
    );
  }

  route.get("/portal/studies/:uid", caregiver, async (c) => {
    const study = await receivedStudy(c, c.req.param("uid") ?? "");
    if (!study) return notFound(c);
    await f.viewed(c, study, "portal-study");
    return await renderStudy(c, study);
  });

  route.post("/portal/studies/:uid/reconcile", caregiver, async (c) => {
    const study = await receivedStudy(c, c.req.param("uid") ?? "");
    if (!study) return notFound(c);
    const form = await formFields(c);
    const t = c.get("page").t;
    const decision = form.decision === "new" ? "new" : "existing";
    try {
      const r = await deps.portal.reconciliations.decide({
        studyInstanceUid: study.studyInstanceUid,
        decision,
        localPatientId: form.localPatientId ?? "",
        decidedBy: c.get("session")!.user.username,
      });
      await deps.studies.recordEvent(study.studyInstanceUid, "matched", {
        decision: r.decision,
        by: "caregiver",
      });
      await f.audit(c, {
        action: "patient-record",
        outcome: "success",
        patient: { id: study.patientId },
        object: { kind: "study", id: study.studyInstanceUid },
        detail: { decision: r.decision, localPatientId: r.localPatientId },
      });
      return await renderStudy(c, study, { message: t("portal.reconciled") });
    } catch (error) {
      if (!(error instanceof PortalReconciliationInvalid)) throw error;
      return await renderStudy(c, study, { error: t("portal.reconcileInvalid") }, 400);
    }
  });

  route.post("/portal/studies/:uid/import", caregiver, async (c) => {
    const study = await receivedStudy(c, c.req.param("uid") ?? "");
    if (!study) return notFound(c);
    const t = c.get("page").t;
    const destination = deps.system.importDestination;
    const match = await deps.portal.reconciliations.match(study);
    if (!destination || match.kind === "open") {
      return await renderStudy(c, study, { error: t("portal.reconcileFirst") }, 400);
    }
    const items = (await deps.studies.studyInstances(study.studyInstanceUid))
      .map((i) => i.sopInstanceUid);
    // With the transfer id the relay confirms the import to the sender once the job is delivered.
    const transfer = await inboundTransfer(study.studyInstanceUid);
    await queueForStudy(f, c, study, {
      kind: "dicom",
      destination,
      items,
      payload: {
        reason: "portal import",
        ...(transfer ? { relayTransferId: transfer.transferId } : {}),
      },
    }, "import");
    return await renderStudy(c, study, { message: t("portal.importQueued") });
  });

  route.get("/portal/studies/:uid/download", caregiver, async (c) => {
    const study = await receivedStudy(c, c.req.param("uid") ?? "");
    if (!study) return notFound(c);
    const { stream, instances } = await deps.portal.archive(study.studyInstanceUid);
    await f.audit(c, {
      action: "download",
      outcome: "success",
      patient: { id: study.patientId },
      object: { kind: "study", id: study.studyInstanceUid },
      detail: { instances, format: "zip+dicomdir" },
    });
    return zipResponse(stream, zipName(study));
  });

  // --- patient links (no sign-in: the token and the PIN) ---------------------------------------

  /** Records a patient's use of a link; the actor is the link, the patient is the study's. */
  const patientAudit = (
    c: Context<Env>,
    link: { id: string } | null,
    study: StudySummary | null,
    action: "view" | "download" | "login",
    outcome: "success" | "failure",
    detail: Record<string, string | number | boolean>,
  ) =>
    deps.audit.record({
      action,
      outcome,
      actor: {
        kind: "user",
        id: link ? `patient-link:${link.id}` : "patient-link",
        role: "patient",
      },
      sourceAddress: remoteAddress(c),
      patient: study ? { id: study.patientId } : undefined,
      object: study ? { kind: "study", id: study.studyInstanceUid } : undefined,
      detail,
    });

  const goneReason = (error: unknown): string | null =>
    error instanceof PortalLinkExpired
      ? "expired"
      : error instanceof PortalLinkRevoked
      ? "revoked"
      : error instanceof PortalLinkLocked
      ? "locked"
      : error instanceof PortalLinkNotFound
      ? "unknown"
      : null;

  async function gone(c: Context<Env>, error: unknown) {
    const reason = goneReason(error);
    if (!reason) throw error;
    await patientAudit(c, null, null, "view", "failure", { reason });
    return c.html(patientGonePage(c.get("page"), reason), reason === "unknown" ? 404 : 410);
  }

  /** The link with a valid grant, or null (then the PIN page is due). */
  async function grantedLink(c: Context<Env>, token: string): Promise<PatientLink | null> {
    const grant = getCookie(c, grantCookie);
    if (!grant) {
      await deps.portal.links.open(token); // throws when the link itself is unusable
      return null;
    }
    try {
      return await deps.portal.links.granted(token, grant);
    } catch (error) {
      if (error instanceof PortalGrantInvalid) return null;
      throw error;
    }
  }

  async function downloadPage(c: Context<Env>, token: string, link: PatientLink) {
    const study = await deps.studies.getStudy(link.studyInstanceUid);
    if (!study) return notFound(c);
    const [previews, report] = await Promise.all([
      deps.portal.previewInstances(study.studyInstanceUid),
      deps.portal.report(study.studyInstanceUid),
    ]);
    c.header("cache-control", "no-store");
    return c.html(patientLinkPage(c.get("page"), {
      token,
      granted: true,
      study,
      previews: previews.length,
      previewsEnabled: deps.portal.previewsEnabled,
      hasReport: report !== null,
    }));
  }

  route.get("/p/:token", "public", async (c) => {
    const token = c.req.param("token") ?? "";
    try {
      const link = await grantedLink(c, token);
      if (!link) return c.html(patientLinkPage(c.get("page"), { token, granted: false }));
      const study = await deps.studies.getStudy(link.studyInstanceUid);
      await patientAudit(c, link, study, "view", "success", { page: "patient-link" });
      return await downloadPage(c, token, link);
    } catch (error) {
      return await gone(c, error);
    }
  });

  route.post("/p/:token", "public", async (c) => {
    const token = c.req.param("token") ?? "";
    const t = c.get("page").t;
    const form = await formFields(c);
    try {
      const { link, grant } = await deps.portal.links.verifyPin(token, form.pin ?? "");
      const study = await deps.studies.getStudy(link.studyInstanceUid);
      await patientAudit(c, link, study, "login", "success", { factor: "pin" });
      setCookie(c, grantCookie, grant, {
        httpOnly: true,
        secure: true,
        sameSite: "Strict",
        path: `/p/${token}`,
      });
      return c.redirect(`/p/${encodeURIComponent(token)}`, 303);
    } catch (error) {
      if (error instanceof PortalPinWrong) {
        await patientAudit(c, null, null, "login", "failure", {
          reason: "pin",
          attemptsLeft: error.attemptsLeft,
        });
        return c.html(
          patientLinkPage(c.get("page"), {
            token,
            granted: false,
            error: t("patient.pinWrong", { left: String(error.attemptsLeft) }),
          }),
          401,
        );
      }
      if (error instanceof PortalLinkLocked) {
        await patientAudit(c, null, null, "login", "failure", { reason: "locked" });
        deleteCookie(c, grantCookie, { path: `/p/${token}` });
        return c.html(patientGonePage(c.get("page"), "locked"), 429);
      }
      return await gone(c, error);
    }
  });

  /** Runs `use` for a granted link; without a grant, back to the PIN page. */
  async function withGrant(
    c: Context<Env>,
    use: (link: PatientLink, study: StudySummary) => Promise<Response>,
  ): Promise<Response> {
    const token = c.req.param("token") ?? "";
    try {
      const link = await grantedLink(c, token);
      if (!link) return c.redirect(`/p/${encodeURIComponent(token)}`, 303);
      const study = await deps.studies.getStudy(link.studyInstanceUid);
      if (!study) return notFound(c);
      return await use(link, study);
    } catch (error) {
      return await gone(c, error);
    }
  }

  route.get("/p/:token/download", "public", (c) =>
    withGrant(c, async (link, study) => {
      const { stream, instances } = await deps.portal.archive(study.studyInstanceUid);
      await deps.portal.links.countDownload(link.id);
      await patientAudit(c, link, study, "download", "success", {
        instances,
        format: "zip+dicomdir",
      });
      return zipResponse(stream, zipName(study));
    }));

  route.get("/p/:token/report", "public", (c) =>
    withGrant(c, async (link, study) => {
      const report = await deps.portal.report(study.studyInstanceUid);
      if (!report) return notFound(c);
      await patientAudit(c, link, study, "download", "success", { format: "report-pdf" });
      return new Response(await deps.portal.open(report.spoolId), {
        headers: {
          "content-type": "application/pdf",
          "content-disposition": 'attachment; filename="verslag.pdf"',
          "cache-control": "no-store",
        },
      });
    }));

  route.get("/p/:token/preview/:n", "public", (c) =>
    withGrant(c, async (link, study) => {
      const n = Number.parseInt(c.req.param("n") ?? "", 10);
      const instances = await deps.portal.previewInstances(study.studyInstanceUid);
      const instance = instances[n];
      if (!instance) return notFound(c);
      const jpeg = await deps.portal.preview(instance.spoolId);
      if (!jpeg) return notFound(c);
      await patientAudit(c, link, study, "view", "success", { preview: n });
      return new Response(jpeg as Uint8Array<ArrayBuffer>, {
        headers: { "content-type": "image/jpeg", "cache-control": "private, no-store" },
      });
    }));
}
