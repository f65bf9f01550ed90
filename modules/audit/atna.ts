import type { AuditEvent } from "./types.ts";

/** A coded value as PS3.15 A.5.1 writes it (csd-code, codeSystemName, originalText). */
type Code = [code: string, system: string, text: string];

// PS3.16 CID 400 (Audit Event ID), CID 401 (Audit Event Type Code) and the action codes of
// PS3.15 A.5.3.1 (C create, R read, U update, D delete, E execute).
const events: Record<AuditEvent["action"], { id: Code; type?: Code; actionCode: string }> = {
  login: {
    id: ["110114", "DCM", "User Authentication"],
    type: ["110122", "DCM", "Login"],
    actionCode: "E",
  },
  logout: {
    id: ["110114", "DCM", "User Authentication"],
    type: ["110123", "DCM", "Logout"],
    actionCode: "E",
  },
  view: { id: ["110103", "DCM", "DICOM Instances Accessed"], actionCode: "R" },
  receive: { id: ["110104", "DCM", "DICOM Instances Transferred"], actionCode: "C" },
  send: { id: ["110104", "DCM", "DICOM Instances Transferred"], actionCode: "R" },
  download: { id: ["110106", "DCM", "Export"], actionCode: "R" },
  export: { id: ["110106", "DCM", "Export"], actionCode: "R" },
  import: { id: ["110107", "DCM", "Import"], actionCode: "C" },
  "user-admin": {
    id: ["110136", "DCM", "Security Alert"],
    type: ["110137", "DCM", "User Security Attributes Changed"],
    actionCode: "E",
  },
  "audit-read": { id: ["110101", "DCM", "Audit Log Used"], actionCode: "R" },
  "audit-prune": { id: ["110101", "DCM", "Audit Log Used"], actionCode: "D" },
  delete: { id: ["110105", "DCM", "DICOM Study Deleted"], actionCode: "D" },
  // PS3.16 CID 400/401: a Security Alert of type Network Configuration (destinations, rules).
  "config-change": {
    id: ["110113", "DCM", "Security Alert"],
    type: ["110128", "DCM", "Network Configuration"],
    actionCode: "E",
  },
  "patient-record": { id: ["110110", "DCM", "Patient Record"], actionCode: "U" },
};

const outcomeIndicator = { success: "0", failure: "4", "serious-failure": "8" } as const;

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function code(element: string, [c, system, text]: Code): string {
  return `<${element} csd-code="${esc(c)}" codeSystemName="${esc(system)}" originalText="${
    esc(text)
  }"/>`;
}

/** Who the audit source is: our AE title / host and the hospital (AuditEnterpriseSiteID). */
export interface AuditSource {
  sourceId: string;
  enterpriseSiteId?: string;
}

/**
 * One event as a DICOM audit message (PS3.15 A.5.1, the schema ATNA repositories accept): the
 * event, the active participant (user or system, with where from), the audit source, and the
 * participant objects (the patient, PS3.15 A.5.2.5 and the study).
 *
 * @example
 * ```ts
 * const xml = atnaMessage(event, { sourceId: "BEELDPOORT" });
 * ```
 */
export function atnaMessage(event: AuditEvent, source: AuditSource): string {
  const spec = events[event.action];
  const parts: string[] = [];
  parts.push(
    `<EventIdentification EventActionCode="${spec.actionCode}" EventDateTime="${
      esc(event.occurredAt)
    }" EventOutcomeIndicator="${outcomeIndicator[event.outcome]}">`,
    code("EventID", spec.id),
  );
  if (spec.type) parts.push(code("EventTypeCode", spec.type));
  parts.push("</EventIdentification>");

  const where = event.sourceAddress
    ? ` NetworkAccessPointID="${esc(event.sourceAddress)}" NetworkAccessPointTypeCode="${
      /^[\d.:a-fA-F]+$/.test(event.sourceAddress) ? "2" : "1"
    }"`
    : "";
  const role = event.actor.role ? ` AlternativeUserID="${esc(event.actor.role)}"` : "";
  parts.push(
    `<ActiveParticipant UserID="${esc(event.actor.id)}"${role} UserIsRequestor="true"${where}>`,
    event.action === "receive"
      ? code("RoleIDCode", ["110153", "DCM", "Source Role ID"])
      : code("RoleIDCode", ["110150", "DCM", "Application"]),
    "</ActiveParticipant>",
  );
  if (event.action === "receive" || event.action === "send") {
    parts.push(
      `<ActiveParticipant UserID="${esc(source.sourceId)}" UserIsRequestor="false">`,
      code(
        "RoleIDCode",
        event.action === "receive"
          ? ["110152", "DCM", "Destination Role ID"]
          : ["110153", "DCM", "Source Role ID"],
      ),
      "</ActiveParticipant>",
    );
  }
  const site = source.enterpriseSiteId
    ? ` AuditEnterpriseSiteID="${esc(source.enterpriseSiteId)}"`
    : "";
  parts.push(
    `<AuditSourceIdentification${site} AuditSourceID="${esc(source.sourceId)}">`,
    // PS3.15 A.5.2.4 / RFC 3881: 4 = Application Server process.
    code("AuditSourceTypeCode", ["4", "DCM", "Application Server"]),
    "</AuditSourceIdentification>",
  );

  const patientId = event.patient.bsn
    ? `${event.patient.bsn}^^^&2.16.840.1.113883.2.4.6.3&ISO` // the BSN as an HL7 CX with its OID
    : event.patient.id;
  if (patientId) {
    parts.push(
      `<ParticipantObjectIdentification ParticipantObjectID="${
        esc(patientId)
      }" ParticipantObjectTypeCode="1" ParticipantObjectTypeCodeRole="1">`,
      code("ParticipantObjectIDTypeCode", ["2", "RFC-3881", "Patient Number"]),
      "</ParticipantObjectIdentification>",
    );
  }
  if (event.object) {
    const study = event.object.kind === "study";
    parts.push(
      `<ParticipantObjectIdentification ParticipantObjectID="${
        esc(event.object.id)
      }" ParticipantObjectTypeCode="2" ParticipantObjectTypeCodeRole="${study ? "3" : "13"}">`,
      study
        ? code("ParticipantObjectIDTypeCode", ["110180", "DCM", "Study Instance UID"])
        : code("ParticipantObjectIDTypeCode", ["12", "RFC-3881", event.object.kind]),
      `<ParticipantObjectDetail type="beeldpoort-event" value="${
        btoa(`${event.id} seq=${event.seq} hash=${event.hash}`)
      }"/>`,
      "</ParticipantObjectIdentification>",
    );
  }
  return `<?xml version="1.0" encoding="UTF-8"?><AuditMessage>${parts.join("")}</AuditMessage>`;
}
