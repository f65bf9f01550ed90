/**
 * Message Disposition Notifications (RFC 8098) between gateways. Our choices:
 * - a part verified and stored: `Disposition: automatic-action/MDN-sent-automatically; processed`
 *   with the extension field `Beeldpoort-Stage: processed` (RFC 8098 §3.3 extension-field);
 * - the study imported into the receiver's PACS: again `processed`, with `Beeldpoort-Stage:
 *   imported`, so a peer that only knows RFC 8098 still reads a success;
 * - a refusal: `deleted/error` with an `Error:` field in words (RFC 8098 §3.2.6.3, §3.2.7; also what
 *   ITI-32 §3.32.4.1.2.3 expects) and `Beeldpoort-Stage: refused`, `Beeldpoort-Reason-Code`.
 * `Beeldpoort-Transfer-Id` and `Beeldpoort-Part: n/m` name the part; correlation is by
 * `Original-Message-ID`. Reading is lenient (standards.md §1.6): a notification is a failure when its
 * disposition type is deleted/failed/denied or a modifier mentions error or failure.
 */
import { RelayMalformed } from "./errors.ts";
import { buildPart, mediaType, type MimePart, newBoundary, parsePart, splitParts } from "./mime.ts";

/** What one notification says. */
export interface DispositionNotice {
  originalMessageId: string;
  /** processed: the part is verified and stored; imported: the study is in the PACS. */
  stage: "processed" | "imported" | "refused";
  transferId?: string;
  partNumber?: number;
  partCount?: number;
  /** For refusals: the stable error code and the reason in words. */
  code?: string;
  reason?: string;
}

const ascii = (text: string) => text.replace(/[^\x20-\x7e]/g, "?").slice(0, 900);

/** Whether a (decrypted, verified) entity is an MDN: multipart/report for dispositions. */
export function isDispositionReport(part: MimePart): boolean {
  const type = mediaType(part.headers.get("content-type"));
  return type.type === "multipart/report" &&
    (type.params["report-type"] ?? "").toLowerCase() === "disposition-notification";
}

/** Builds the multipart/report entity of an MDN (to be sealed like any other message). */
export function buildDispositionReport(
  notice: DispositionNotice,
  reporter: { address: string; product: string },
): Uint8Array {
  const boundary = newBoundary();
  const success = notice.stage !== "refused";
  const where = notice.transferId
    ? `transfer ${notice.transferId}${
      notice.partNumber ? ` part ${notice.partNumber}/${notice.partCount ?? "?"}` : ""
    }`
    : `message ${notice.originalMessageId}`;
  const human = notice.stage === "imported"
    ? `The study of ${where} has been imported.`
    : success
    ? `${where} was received, verified and stored.`
    : `${where} was refused: ${ascii(notice.reason ?? "no reason given")}`;
  const fields: [string, string][] = [
    ["Reporting-UA", `${reporter.address.split("@")[1] ?? "localhost"}; ${reporter.product}`],
    ["Final-Recipient", `rfc822;${reporter.address}`],
    ["Original-Message-ID", notice.originalMessageId],
    [
      "Disposition",
      `automatic-action/MDN-sent-automatically; ${success ? "processed" : "deleted/error"}`,
    ],
  ];
  if (!success) fields.push(["Error", ascii(notice.reason ?? "refused")]);
  fields.push(["Beeldpoort-Stage", notice.stage]);
  if (notice.transferId) fields.push(["Beeldpoort-Transfer-Id", notice.transferId]);
  if (notice.partNumber) {
    fields.push(["Beeldpoort-Part", `${notice.partNumber}/${notice.partCount ?? 0}`]);
  }
  if (notice.code) fields.push(["Beeldpoort-Reason-Code", notice.code]);
  const dispositionBody = fields.map(([n, v]) => `${n}: ${v}\r\n`).join("");
  const body = `--${boundary}\r\n` +
    "Content-Type: text/plain; charset=us-ascii\r\n\r\n" +
    `${human}\r\n` +
    `--${boundary}\r\n` +
    "Content-Type: message/disposition-notification\r\n\r\n" +
    dispositionBody +
    `--${boundary}--\r\n`;
  return buildPart([
    ["MIME-Version", "1.0"],
    [
      "Content-Type",
      `multipart/report; report-type=disposition-notification; boundary="${boundary}"`,
    ],
  ], body);
}

/** Reads an MDN entity; throws RelayMalformed when it has no disposition-notification part. */
export function readDispositionReport(part: MimePart): DispositionNotice {
  const boundary = mediaType(part.headers.get("content-type")).params.boundary;
  if (!boundary) throw new RelayMalformed("multipart/report without a boundary");
  const report = splitParts(part.body, boundary).map((p) => parsePart(p))
    .find((p) =>
      mediaType(p.headers.get("content-type")).type === "message/disposition-notification"
    );
  if (!report) throw new RelayMalformed("MDN without a message/disposition-notification part");
  // The fields are a header section of their own (RFC 8098 §3.1).
  const fields = parsePart(report.body).headers;
  const get = (name: string) => fields.get(name.toLowerCase());
  const originalMessageId = get("Original-Message-ID");
  const disposition = get("Disposition");
  if (!originalMessageId || !disposition) {
    throw new RelayMalformed("MDN lacks Original-Message-ID or Disposition");
  }
  const [, action = ""] = disposition.split(";");
  const [type = "", modifiers = ""] = action.trim().toLowerCase().split("/");
  const failed = ["deleted", "failed", "denied"].includes(type) || /error|fail/.test(modifiers);
  const stated = (get("Beeldpoort-Stage") ?? "").toLowerCase();
  const stage: DispositionNotice["stage"] = failed
    ? "refused"
    : stated === "imported" || type === "displayed"
    ? "imported"
    : "processed";
  const part_ = /^(\d+)\/(\d+)$/.exec(get("Beeldpoort-Part") ?? "");
  return {
    originalMessageId,
    stage,
    transferId: get("Beeldpoort-Transfer-Id"),
    partNumber: part_ ? Number(part_[1]) : undefined,
    partCount: part_ ? Number(part_[2]) : undefined,
    code: get("Beeldpoort-Reason-Code"),
    reason: failed ? get("Error") ?? get("Failure") ?? modifiers : undefined,
  };
}
