import type { Generated } from "kysely";

/** Accounts for the web UI. `role` is one of admin, sender, caregiver, auditor. */
export interface UsersTable {
  id: string;
  username: string;
  password_hash: string;
  role: string;
  disabled: Generated<number>;
  created_at: string;
  /** Base32 TOTP secret (RFC 6238); null until enrolled. */
  totp_secret: string | null;
  /** The last accepted TOTP time step, so a code cannot be used twice. */
  totp_last_step: number | null;
  /** Failed sign-ins since the last success; drives the lockout backoff. */
  failed_logins: number | null;
  locked_until: string | null;
  /** A caregiver's department (portal access is per department). */
  department: string | null;
}

/** Web sessions; only a hash of the cookie value is stored. */
export interface SessionsTable {
  id_hash: string;
  user_id: string;
  csrf_token: string;
  created_at: string;
  /** Absolute expiry. */
  expires_at: string;
  /** Idle expiry counts from here. */
  last_seen_at: string | null;
  /** "full", or a half-way step: "totp" (code still due) or "enrol" (admin must enrol TOTP). */
  stage: Generated<string>;
  remote_address: string | null;
}

/** Small key/value settings owned by the appliance (e.g. the pending first-run setup token). */
export interface SettingsTable {
  key: string;
  value: string;
  updated_at: string;
}

/** A patient as identified by a sender: id plus issuer; BSN when known. */
export interface PatientsTable {
  id: string;
  patient_id: string;
  issuer: string;
  bsn: string | null;
  name: string | null;
  birth_date: string | null;
  sex: string | null;
}

/** A study in the index; `state` is its place in the receive/forward life cycle. */
export interface StudiesTable {
  id: string;
  study_instance_uid: string;
  patient_ref: string;
  study_date: string | null;
  study_time: string | null;
  description: string | null;
  accession_number: string | null;
  referring_physician: string | null;
  calling_ae: string;
  source: string;
  state: string;
  expected_instances: number | null;
  instance_count: Generated<number>;
  total_bytes: Generated<number>;
  first_received_at: string;
  last_received_at: string;
}

export interface SeriesTable {
  id: string;
  series_instance_uid: string;
  study_ref: string;
  modality: string | null;
  series_number: number | null;
  description: string | null;
}

/** One stored DICOM object; its bytes are the spool object `spool_id`. */
export interface InstancesTable {
  id: string;
  sop_instance_uid: string;
  sop_class_uid: string;
  series_ref: string;
  study_ref: string;
  instance_number: number | null;
  transfer_syntax_uid: string;
  size: number;
  sha256: string;
  spool_id: string;
  calling_ae: string;
  received_at: string;
}

/** A patient download link (modules/portal); token and PIN only as SHA-256 hashes. */
export interface PortalLinksTable {
  id: string;
  token_hash: string;
  pin_hash: string;
  study_instance_uid: string;
  created_by: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  revoked_by: string | null;
  failed_pins: Generated<number>;
  locked_at: string | null;
  downloads: Generated<number>;
  last_used_at: string | null;
}

/** A patient's access after the right PIN: a short-lived cookie, stored hashed. */
export interface PortalLinkGrantsTable {
  grant_hash: string;
  link_id: string;
  expires_at: string;
}

/** Which local patient a received study belongs to, decided by a caregiver. */
export interface PortalReconciliationsTable {
  study_instance_uid: string;
  decision: string;
  local_patient_id: string;
  decided_by: string;
  decided_at: string;
}

/** The department a received study was addressed to (modules/portal; migration 010). */
export interface PortalDepartmentsTable {
  study_instance_uid: string;
  department: string;
  recorded_at: string;
}

/** An organisation in the address book, one row per source that lists it (modules/addressbook). */
export interface AddressbookEntriesTable {
  source: string;
  ura: string;
  name: string;
  agb: string | null;
  city: string | null;
  address: string | null;
  /** JSON array of { name, endpointAddresses }. */
  departments: Generated<string>;
  /** SHA-256 of the entry's content, to tell changed from unchanged on sync. */
  hash: string;
  updated_at: string;
}

/** A mail endpoint of a peer gateway. `formats` and `content_encryption` are JSON arrays. */
export interface AddressbookEndpointsTable {
  source: string;
  ura: string;
  address: string;
  position: number;
  formats: string;
  max_message_bytes: number | null;
  content_encryption: string;
  /** 1 when the peer takes binary parts inside the encryption (RFC 8551 §3.1.2). */
  binary_content: Generated<number>;
  department: string | null;
  /** JSON array of { fingerprint, code, reason } for certificates refused at sync. */
  refused_certificates: Generated<string>;
}

/** A peer's S/MIME certificate on an endpoint; `use` is encryption or signing. */
export interface AddressbookCertificatesTable {
  source: string;
  ura: string;
  endpoint_address: string;
  use: string;
  fingerprint: string;
  der: Uint8Array;
  subject: string;
  issuer: string;
  serial_number: string;
  not_before: string;
  not_after: string;
  cert_ura: string | null;
  emails: Generated<string>;
}

/** One sync of one address-book source: counts, duration and problems (JSON array). */
export interface AddressbookSyncRunsTable {
  id: string;
  source: string;
  mode: string;
  status: string;
  started_at: string;
  duration_ms: number;
  added: number;
  changed: number;
  removed: number;
  rejected: number;
  problems: string;
}

/** Per source: where the next incremental sync starts. */
export interface AddressbookSourceStateTable {
  source: string;
  watermark: string | null;
  last_success_at: string | null;
  last_full_at: string | null;
}

/** A relay transfer (modules/relay), per direction: "out" we send, "in" we receive. */
export interface RelayTransfersTable {
  direction: string;
  id: string;
  study_instance_uid: string | null;
  peer_ura: string | null;
  peer_address: string;
  format: string;
  state: string;
  part_count: number | null;
  instance_count: number | null;
  reason: string | null;
  reason_code: string | null;
  /** Inbound only: the patient as the package names it (JSON), for reconciliation. */
  patient_json: string | null;
  created_at: string;
  updated_at: string;
}

/** One part (one mail) of a relay transfer; outbound parts keep their sealed copy in the spool. */
export interface RelayPartsTable {
  direction: string;
  transfer_id: string;
  part_number: number;
  part_count: number;
  message_id: string;
  spool_id: string | null;
  bytes: number;
  instance_count: number;
  state: string;
  attempts: Generated<number>;
  reason: string | null;
  created_at: string;
  sent_at: string | null;
  acknowledged_at: string | null;
}

/** A non-DICOM document (report, note) received with a transfer, kept in the spool. */
export interface RelayDocumentsTable {
  transfer_id: string;
  document_id: string;
  spool_id: string;
  mime_type: string;
  title: string | null;
  size: number;
  created_at: string;
}

/** Every inbound message processed, by SHA-256 of its bytes, so a re-run does nothing twice. */
export interface RelayMessagesTable {
  message_key: string;
  message_id: string | null;
  from_address: string;
  kind: string;
  outcome: string;
  code: string | null;
  reason: string | null;
  transfer_id: string | null;
  part_number: number | null;
  part_count: number | null;
  received_at: string;
}

/** The timeline of a relay transfer, for the UI. */
export interface RelayEventsTable {
  id: string;
  direction: string;
  transfer_id: string;
  part_number: number | null;
  kind: string;
  detail: string | null;
  at: string;
}

/** One NEN 7513 audit event (modules/audit); append-only, each row hashes its predecessor. */
export interface AuditEventsTable {
  seq: Generated<number>;
  id: string;
  occurred_at: string;
  action: string;
  outcome: string;
  actor_kind: string;
  actor_id: string;
  actor_role: string | null;
  source_address: string | null;
  patient_id: string | null;
  patient_bsn: string | null;
  object_kind: string | null;
  object_id: string | null;
  /** Small JSON object with extra context (no free text from users). */
  detail: string | null;
  prev_hash: string;
  hash: string;
}

/** Audit events not yet accepted by the syslog collector. */
export interface AuditOutboxTable {
  seq: number;
  attempts: Generated<number>;
  last_error: string | null;
}

/** One step in a study's life (received, complete, matched, queued, attempt, delivered, failed). */
export interface StudyEventsTable {
  id: string;
  study_instance_uid: string;
  at: string;
  kind: string;
  /** JSON object with the step's particulars (never patient data). */
  detail: Generated<string>;
}

/** A place studies go to; `definition` is the validated JSON (AE, host, port or address). */
export interface RoutingDestinationsTable {
  name: string;
  kind: string;
  definition: string;
  created_at: string;
}

/** A routing rule; `definition` is the validated JSON (match, actions, filter, priority). */
export interface RoutingRulesTable {
  id: string;
  name: string;
  position: number;
  enabled: Generated<number>;
  definition: string;
  created_at: string;
}

/** An instance put into a job for one (rule, destination) of a study: never queued twice. */
export interface RoutingDeliveriesTable {
  study_instance_uid: string;
  rule_id: string;
  destination: string;
  sop_instance_uid: string;
  job_id: string;
}

/** A durable delivery job (modules/transfer). `priority` 0 is urgent, 1 routine. */
export interface TransferJobsTable {
  id: string;
  kind: string;
  destination: string;
  subject: string | null;
  priority: number;
  state: string;
  payload: Generated<string>;
  attempts: Generated<number>;
  next_attempt_at: string;
  expires_at: string;
  lease_owner: string | null;
  lease_until: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

/** One unit of a job (for DICOM a SOP Instance UID); `done` once the destination acknowledged it. */
export interface TransferItemsTable {
  job_id: string;
  item: string;
  position: number;
  done: Generated<number>;
  note: string | null;
}

/** One run of a job, for the operator: when, how it ended, how many items it delivered. */
export interface TransferAttemptsTable {
  job_id: string;
  attempt: number;
  started_at: string;
  ended_at: string | null;
  outcome: string | null;
  error: string | null;
  items_done: Generated<number>;
}

/** Consecutive failures per destination; while `open_until` is ahead, its jobs wait. */
export interface TransferBreakersTable {
  destination: string;
  failures: Generated<number>;
  open_until: string | null;
}

/** The whole database as Kysely sees it. Modules add their tables here with their migration. */
export interface DatabaseSchema {
  users: UsersTable;
  sessions: SessionsTable;
  settings: SettingsTable;
  patients: PatientsTable;
  studies: StudiesTable;
  series: SeriesTable;
  instances: InstancesTable;
  addressbook_entries: AddressbookEntriesTable;
  addressbook_endpoints: AddressbookEndpointsTable;
  addressbook_certificates: AddressbookCertificatesTable;
  addressbook_sync_runs: AddressbookSyncRunsTable;
  addressbook_source_state: AddressbookSourceStateTable;
  relay_transfers: RelayTransfersTable;
  relay_parts: RelayPartsTable;
  relay_documents: RelayDocumentsTable;
  relay_messages: RelayMessagesTable;
  relay_events: RelayEventsTable;
  audit_events: AuditEventsTable;
  audit_outbox: AuditOutboxTable;
  study_events: StudyEventsTable;
  routing_destinations: RoutingDestinationsTable;
  routing_rules: RoutingRulesTable;
  portal_links: PortalLinksTable;
  portal_link_grants: PortalLinkGrantsTable;
  portal_reconciliations: PortalReconciliationsTable;
  portal_departments: PortalDepartmentsTable;
  routing_deliveries: RoutingDeliveriesTable;
  transfer_jobs: TransferJobsTable;
  transfer_items: TransferItemsTable;
  transfer_attempts: TransferAttemptsTable;
  transfer_breakers: TransferBreakersTable;
}
