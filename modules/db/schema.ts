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

/** The whole database as Kysely sees it. Modules add their tables here with their migration. */
export interface DatabaseSchema {
  users: UsersTable;
  sessions: SessionsTable;
  settings: SettingsTable;
}
