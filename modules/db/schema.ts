import type { Generated } from "kysely";

/** Accounts for the web UI. `role` is one of admin, sender, caregiver, auditor. */
export interface UsersTable {
  id: string;
  username: string;
  password_hash: string;
  role: string;
  disabled: Generated<number>;
  created_at: string;
}

/** Web sessions; only a hash of the cookie value is stored. */
export interface SessionsTable {
  id_hash: string;
  user_id: string;
  csrf_token: string;
  created_at: string;
  expires_at: string;
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

/** The whole database as Kysely sees it. Modules add their tables here with their migration. */
export interface DatabaseSchema {
  users: UsersTable;
  sessions: SessionsTable;
  settings: SettingsTable;
  patients: PatientsTable;
  studies: StudiesTable;
  series: SeriesTable;
  instances: InstancesTable;
}
