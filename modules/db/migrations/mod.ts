import type { Migration } from "kysely/migration";
import * as foundation from "./001_foundation.ts";
import * as studies from "./002_studies.ts";
import * as addressbook from "./003_addressbook.ts";
import * as relay from "./007_relay.ts";
import * as authAudit from "./005_auth_audit.ts";
import * as routingTransfer from "./004_routing_transfer.ts";
import * as portal from "./009_portal.ts";
import * as portalDepartments from "./010_portal_departments.ts";
import * as endpointBinaryContent from "./011_endpoint_binary_content.ts";
import * as transferJobsUpdated from "./012_transfer_jobs_updated.ts";

/**
 * Every migration in order. Names are permanent: a migration that has shipped is never renamed or
 * edited, only followed by a new one.
 */
export const migrations: Record<string, Migration> = {
  "001_foundation": foundation,
  "002_studies": studies,
  "003_addressbook": addressbook,
  "004_routing_transfer": routingTransfer,
  "005_auth_audit": authAudit,
  "007_relay": relay,
  "009_portal": portal,
  "010_portal_departments": portalDepartments,
  "011_endpoint_binary_content": endpointBinaryContent,
  "012_transfer_jobs_updated": transferJobsUpdated,
};
