import type { Context } from "hono";
import { RecipientNotUsable } from "../../modules/addressbook/mod.ts";
import { NotFoundError } from "../../modules/core/mod.ts";
import { PortalLinkNotFound } from "../../modules/portal/mod.ts";
import type { StudySummary } from "../../modules/studies/mod.ts";
import {
  type TransferJob,
  TransferJobNotFound,
  TransferJobStateError,
} from "../../modules/transfer/mod.ts";
import type { Env } from "../app.ts";
import { hourlyBuckets } from "../pages/chart.ts";
import { dashboardPage } from "../pages/dashboard.ts";
import { errorPage } from "../pages/error.ts";
import { label } from "../pages/format.ts";
import { sendPage, sendReviewPage, type SeriesChoice } from "../pages/send.ts";
import { linkCreatedPage, studiesPage, studyPage, type TimelineEntry } from "../pages/study.ts";
import {
  destinationNames,
  type FacesContext,
  formFields,
  formList,
  queueForStudy,
} from "./context.ts";

const staff = { roles: ["admin", "sender"] } as const;
const sender = { roles: ["sender"] } as const;

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Dashboard, study search and timeline, the send flow, job actions and patient links. */
export function studyRoutes(f: FacesContext): void {
  const { route, deps } = f;
  const notFound = (c: Context<Env>) => c.html(errorPage(c.get("page"), "error.notFound"), 404);

  route.get("/dashboard", staff, async (c) => {
    const now = new Date();
    const dayAgo = new Date(now.getTime() - 86_400_000).toISOString();
    // Tiles, attention list and delivery times over all jobs: a gateway receiving from peers has a
    // job per part, so the latest 1000 jobs can be a few studies' worth and hide an older dead job.
    const [counts, recent, doneToday, jobCounts, attention, disk, certificates, syncRuns] =
      await Promise.all([
        deps.studies.stateCounts(),
        deps.studies.listStudies({ limit: 1000 }),
        deps.transfer.summaries({ state: "done", updatedSince: dayAgo }),
        deps.transfer.stateCounts(),
        deps.transfer.list({ state: ["dead", "failed"], limit: 10 }),
        deps.system.disk(),
        deps.system.certificates(),
        deps.addressBook.syncRuns(50),
      ]);
    const { labels, bucket } = hourlyBuckets(now);
    const imagesPerHour = Array<number>(24).fill(0);
    for (const s of recent) {
      const i = bucket(s.lastReceivedAt);
      if (i >= 0) imagesPerHour[i] += s.instances;
    }
    const latencies: number[][] = Array.from({ length: 24 }, () => []);
    for (const j of doneToday) {
      // Delivery time is that of deliveries (to a PACS or a hospital), not of mail processed here.
      if (!["dicom", "peer"].includes(j.kind)) continue;
      const i = bucket(j.updatedAt);
      if (i >= 0) latencies[i].push((Date.parse(j.updatedAt) - Date.parse(j.createdAt)) / 1000);
    }
    const shown = recent.slice(0, 20);
    // NEN 7513: the overview shows patient ids, so showing it is an access to those patients.
    for (const study of shown) await f.viewed(c, study, "dashboard");
    return c.html(dashboardPage(c.get("page"), {
      counts,
      jobCounts,
      recent: shown,
      hours: labels,
      imagesPerHour,
      latencyPerHour: latencies.map((l) => {
        const m = median(l);
        return m === null ? null : Math.round(m * 10) / 10;
      }),
      disk,
      certificates: certificates.map((x) => ({
        ...x,
        daysLeft: Math.floor((Date.parse(x.notAfter) - now.getTime()) / 86_400_000),
      })),
      syncRuns,
      sources: deps.system.addressBookSources,
      attention,
      destinationNames: await destinationNames(f, attention.map((j) => j.destination)),
    }));
  });

  route.get("/studies", staff, async (c) => {
    const q = c.req.query();
    const query = {
      patientId: q.patientId?.trim() ?? "",
      patientName: q.patientName?.trim() ?? "",
      date: q.date?.trim() ?? "",
      accession: q.accession?.trim() ?? "",
    };
    const studies = await deps.studies.listStudies({
      limit: 200,
      patientId: query.patientId || undefined,
      patientName: query.patientName || undefined,
      studyDate: query.date ? query.date.replaceAll("-", "") : undefined,
      accessionNumber: query.accession || undefined,
    });
    for (const study of studies) await f.viewed(c, study, "search");
    return c.html(studiesPage(c.get("page"), query, studies));
  });

  async function timeline(study: StudySummary): Promise<TimelineEntry[]> {
    const events = await deps.studies.timeline(study.studyInstanceUid);
    const out: TimelineEntry[] = [];
    if (!events.some((e) => e.kind === "received")) {
      out.push({
        at: study.firstReceivedAt,
        kind: "received",
        text: `${study.callingAe}`,
      });
    }
    const names = await destinationNames(
      f,
      events.map((e) => (e.detail as Record<string, unknown>).destination).filter(
        (d): d is string => typeof d === "string",
      ),
    );
    for (const e of events) {
      const d = e.detail as Record<string, unknown>;
      const parts: string[] = [];
      if (d.destination) parts.push(`→ ${names[String(d.destination)] ?? d.destination}`);
      if (typeof d.itemsDone === "number") parts.push(`${d.itemsDone}/${d.itemsTotal ?? "?"}`);
      if (d.rule) parts.push(String(d.rule));
      if (d.error) parts.push(String(d.error));
      out.push({ at: e.at, kind: e.kind, text: parts.join(" · ") });
    }
    if (deps.relay) {
      const transfers = (await deps.relay.listTransfers({ limit: 200 }))
        .filter((x) => x.studyInstanceUid === study.studyInstanceUid);
      for (const x of transfers) {
        // People read the hospital's name; the address is for the admin (relay show).
        const peer = (x.peerUra && (await deps.addressBook.get(x.peerUra))?.name) ||
          x.peerAddress;
        const arrow = x.direction === "out" ? "→" : "←";
        for (const e of x.events) {
          const part = e.partNumber ? ` · ${e.partNumber}/${x.partCount ?? "?"}` : "";
          const why = ["held", "failed"].includes(e.kind) && e.detail ? ` · ${e.detail}` : "";
          out.push({ at: e.at, kind: e.kind, text: `${arrow} ${peer}${part}${why}` });
        }
      }
    }
    return out.sort((a, b) => a.at.localeCompare(b.at));
  }

  async function renderStudy(
    c: Context<Env>,
    study: StudySummary,
    extra: { message?: string; error?: string } = {},
    status: 200 | 400 | 409 = 200,
  ) {
    const role = c.get("session")!.user.role;
    const [events, jobs, links, destinations] = await Promise.all([
      timeline(study),
      deps.transfer.list({ subject: study.studyInstanceUid, limit: 50 }),
      deps.portal.links.list(study.studyInstanceUid),
      deps.router.listDestinations(),
    ]);
    return c.html(
      studyPage(c.get("page"), {
        study,
        timeline: events,
        jobs,
        links,
        destinations: destinations.map((d) => d.name),
        destinationNames: await destinationNames(f, jobs.map((j) => j.destination)),
        canSend: role === "sender",
        canOperate: true,
        ...extra,
      }),
      status,
    );
  }

  route.get("/studies/:uid", staff, async (c) => {
    const study = await deps.studies.getStudy(c.req.param("uid") ?? "");
    if (!study) return notFound(c);
    await f.viewed(c, study, "study");
    const done = c.req.query("sent");
    return await renderStudy(c, study, {
      message: done ? c.get("page").t("send.queued") : undefined,
    });
  });

  /** The island on the study page polls this while a job runs. */
  route.get("/studies/:uid/progress.json", staff, async (c) => {
    const uid = c.req.param("uid") ?? "";
    const jobs = await deps.transfer.list({ subject: uid, limit: 50 });
    const t = c.get("page").t;
    return c.json({
      running: jobs.some((j) => ["queued", "running", "waiting-ack"].includes(j.state)),
      jobs: jobs.map((j) => ({
        id: j.id,
        state: j.state,
        stateLabel: label(t, "jobstate", j.state),
        done: j.items.done,
        total: j.items.total,
        text: t("job.items", { done: String(j.items.done), total: String(j.items.total) }),
      })),
    });
  });

  // --- send flow -------------------------------------------------------------------------------

  async function seriesOf(
    uid: string,
  ): Promise<{ series: SeriesChoice[]; bySeries: Map<string, string[]> }> {
    const instances = await deps.studies.studyInstances(uid);
    const series = new Map<string, SeriesChoice>();
    const bySeries = new Map<string, string[]>();
    for (const i of instances) {
      let s = series.get(i.seriesInstanceUid);
      if (!s) {
        s = {
          seriesInstanceUid: i.seriesInstanceUid,
          number: series.size + 1,
          instances: 0,
          bytes: 0,
        };
        series.set(i.seriesInstanceUid, s);
        bySeries.set(i.seriesInstanceUid, []);
      }
      s.instances++;
      s.bytes += i.size;
      bySeries.get(i.seriesInstanceUid)!.push(i.sopInstanceUid);
    }
    return { series: [...series.values()], bySeries };
  }

  async function searchRecipients(text: string) {
    if (!text.trim()) return [];
    return await deps.addressBook.search(text, { usableOnly: true, limit: 15 });
  }

  route.get("/send", sender, async (c) => {
    const study = await deps.studies.getStudy(c.req.query("study") ?? "");
    if (!study) return notFound(c);
    const q = c.req.query("q") ?? "";
    const { series } = await seriesOf(study.studyInstanceUid);
    await f.viewed(c, study, "send");
    return c.html(sendPage(c.get("page"), {
      study,
      series,
      query: q,
      results: await searchRecipients(q),
      chosen: { series: [], recipient: "", note: "" },
    }));
  });

  /** Search as you type (the island on the send page); the same search as the no-script form. */
  route.get("/api/recipients", sender, async (c) => {
    const hits = await searchRecipients(c.req.query("q") ?? "");
    return c.json(hits.map((e) => ({ ura: e.ura, name: e.name, city: e.city ?? null })));
  });

  /** Reads and checks the send form; returns what would leave, or the page with the problem. */
  async function readSendForm(c: Context<Env>) {
    const form = await formFields(c);
    const chosenSeries = await formList(c, "series");
    const study = await deps.studies.getStudy(form.study ?? "");
    if (!study) return { response: notFound(c) };
    const t = c.get("page").t;
    const { series, bySeries } = await seriesOf(study.studyInstanceUid);
    const note = (form.note ?? "").slice(0, 2000);
    const department = (form.department ?? "").trim().slice(0, 100);
    const again = async (key: Parameters<typeof t>[0]) => ({
      response: c.html(
        sendPage(c.get("page"), {
          study,
          series,
          query: "",
          results: form.recipient
            ? (await deps.addressBook.get(form.recipient).then((e) => (e ? [e] : [])))
            : [],
          chosen: { series: chosenSeries, recipient: form.recipient ?? "", note, department },
          error: t(key),
        }),
        400,
      ),
    });
    if (!form.recipient) return await again("send.pickRecipient");
    const picked = series.filter((s) => chosenSeries.includes(s.seriesInstanceUid));
    if (picked.length === 0) return await again("send.pickSeries");
    let recipient;
    try {
      // A department picks that department's endpoint (its address tells the recipient whom for).
      recipient = await deps.addressBook.recipient(form.recipient, {
        department: department || undefined,
      });
    } catch (error) {
      if (error instanceof RecipientNotUsable || error instanceof NotFoundError) {
        return await again("send.recipientUnusable");
      }
      throw error;
    }
    const items = picked.flatMap((s) => bySeries.get(s.seriesInstanceUid)!);
    return {
      study,
      recipient,
      note,
      department,
      series: picked.map((s) => s.seriesInstanceUid),
      items,
      bytes: picked.reduce((n, s) => n + s.bytes, 0),
    };
  }

  route.post("/send/review", sender, async (c) => {
    const r = await readSendForm(c);
    if ("response" in r) return r.response;
    return c.html(sendReviewPage(c.get("page"), {
      study: r.study,
      recipient: r.recipient,
      series: r.series,
      instances: r.items.length,
      bytes: r.bytes,
      note: r.note,
      department: r.department,
    }));
  });

  route.post("/send", sender, async (c) => {
    const r = await readSendForm(c);
    if ("response" in r) return r.response;
    const uid = r.study.studyInstanceUid;
    const job = await queueForStudy(f, c, r.study, {
      kind: "peer",
      destination: r.recipient.ura,
      items: r.items,
      payload: {
        studyInstanceUid: uid,
        recipientUra: r.recipient.ura,
        note: r.note,
        ...(r.department ? { department: r.department } : {}),
      },
    }, "send");
    f.log.info("send queued from the UI", { jobId: job.id, recipientUra: r.recipient.ura });
    return c.redirect(`/studies/${encodeURIComponent(uid)}?sent=${job.id}`, 303);
  });

  /** Resend what the recipient does not have yet: instances no earlier job to it delivered. */
  route.post("/studies/:uid/resend", sender, async (c) => {
    const study = await deps.studies.getStudy(c.req.param("uid") ?? "");
    if (!study) return notFound(c);
    const t = c.get("page").t;
    const peerJobs = (await deps.transfer.list({ subject: study.studyInstanceUid }))
      .filter((j) => j.kind === "peer");
    const last = peerJobs[0];
    if (!last) return await renderStudy(c, study, { error: t("study.nothingSent") }, 409);
    const delivered = new Set<string>();
    for (const j of peerJobs.filter((j) => j.destination === last.destination)) {
      for (const i of await deps.transfer.items(j.id)) if (i.done) delivered.add(i.item);
    }
    const active = peerJobs.find((j) =>
      j.destination === last.destination && ["queued", "running", "waiting-ack"].includes(j.state)
    );
    if (active) return await renderStudy(c, study, { error: t("study.stillSending") }, 409);
    const missing = (await deps.studies.studyInstances(study.studyInstanceUid))
      .map((i) => i.sopInstanceUid).filter((u) => !delivered.has(u));
    if (missing.length === 0) {
      return await renderStudy(c, study, { message: t("study.nothingMissing") });
    }
    await queueForStudy(
      f,
      c,
      study,
      {
        kind: "peer",
        destination: last.destination,
        items: missing,
        payload: { ...last.payload, resendOf: last.id },
      },
      "send",
      { resendOf: last.id },
    );
    return c.redirect(`/studies/${encodeURIComponent(study.studyInstanceUid)}`, 303);
  });

  // --- job actions -----------------------------------------------------------------------------

  for (const action of ["retry", "cancel", "redirect"] as const) {
    route.post(`/jobs/:id/${action}`, staff, async (c) => {
      const id = c.req.param("id") ?? "";
      const form = await formFields(c);
      let job: TransferJob;
      try {
        const before = await deps.transfer.get(id);
        if (action === "redirect") {
          const to = (form.destination ?? "").trim();
          if (before.kind === "dicom") await deps.router.getDestination(to);
          else await deps.addressBook.recipient(to);
          job = await deps.transfer.redirect(id, to);
        } else {
          job = await deps.transfer[action](id);
        }
      } catch (error) {
        if (error instanceof TransferJobNotFound) return notFound(c);
        const subject = await deps.transfer.get(id).then((j) => j.subject).catch(() => null);
        const study = subject ? await deps.studies.getStudy(subject) : null;
        if (!study) throw error;
        return await renderStudy(c, study, {
          error: error instanceof TransferJobStateError
            ? c.get("page").t("job.notNow")
            : c.get("page").t("job.badDestination"),
        }, 409);
      }
      const study = job.subject ? await deps.studies.getStudy(job.subject) : null;
      await f.audit(c, {
        action: job.kind === "peer" ? "send" : "export",
        outcome: "success",
        patient: study ? { id: study.patientId } : undefined,
        object: { kind: "transfer-job", id },
        detail: { operator: action, destination: job.destination, state: job.state },
      });
      return c.redirect(
        job.subject ? `/studies/${encodeURIComponent(job.subject)}` : "/dashboard",
        303,
      );
    });
  }

  // --- patient links ---------------------------------------------------------------------------

  route.post("/studies/:uid/links", sender, async (c) => {
    const study = await deps.studies.getStudy(c.req.param("uid") ?? "");
    if (!study) return notFound(c);
    const form = await formFields(c);
    const days = Math.min(90, Math.max(1, Number.parseInt(form.days ?? "", 10) || 14));
    const user = c.get("session")!.user;
    const { link, token, pin } = await deps.portal.links.create(
      study.studyInstanceUid,
      user.username,
      days,
    );
    await f.audit(c, {
      action: "export",
      outcome: "success",
      patient: { id: study.patientId },
      object: { kind: "patient-link", id: link.id },
      detail: { change: "link created", days, studyInstanceUid: study.studyInstanceUid },
    });
    const url = `${new URL(c.req.url).origin}/p/${token}`;
    c.header("cache-control", "no-store"); // the PIN is on this page, once
    return c.html(linkCreatedPage(c.get("page"), study, url, pin, link.expiresAt));
  });

  route.post("/links/:id/revoke", sender, async (c) => {
    const user = c.get("session")!.user;
    try {
      const link = await deps.portal.links.revoke(c.req.param("id") ?? "", user.username);
      const study = await deps.studies.getStudy(link.studyInstanceUid);
      await f.audit(c, {
        action: "export",
        outcome: "success",
        patient: study ? { id: study.patientId } : undefined,
        object: { kind: "patient-link", id: link.id },
        detail: { change: "link revoked" },
      });
      return c.redirect(`/studies/${encodeURIComponent(link.studyInstanceUid)}`, 303);
    } catch (error) {
      if (error instanceof PortalLinkNotFound) return notFound(c);
      throw error;
    }
  });
}
