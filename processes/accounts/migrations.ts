// Versioned schema migrations of the account store, applied in order at start inside one
// transaction and recorded in schema_migrations. A migration is never edited once released: a
// change is a new version. Several processes may start at once: SQLite's BEGIN IMMEDIATE and a
// PostgreSQL advisory lock let one apply while the others wait and then find nothing to do.
//
// The SQL is shared by both databases; `{{id}}` stands for an auto-assigned primary key
// (INTEGER PRIMARY KEY AUTOINCREMENT in SQLite, an identity column in PostgreSQL). Statements are
// separated by a ';' at the end of a line.

import type { AccountStore, SqlDialect, SqlExecutor } from './sql-store';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = Object.freeze([
  {
    version: 1,
    name: 'accounts, audit trail, sessions, api keys, outbox',
    sql: `
-- One row per onboarding application; an approved application is the account. account_id is the
-- u32 the bus knows, given at approval (NULL while pending review or when rejected).
CREATE TABLE accounts (
  application_id {{id}},
  account_id BIGINT UNIQUE,
  username TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  role INTEGER NOT NULL,
  outlet_id BIGINT NOT NULL,
  legal_name TEXT NOT NULL,
  date_of_birth TEXT NOT NULL,
  document_type TEXT NOT NULL,
  document_number TEXT NOT NULL,
  document_expiry TEXT NOT NULL,
  address_json TEXT NOT NULL,
  kyc_status TEXT NOT NULL CHECK (kyc_status IN ('pending_review', 'approved', 'rejected')),
  kyc_reasons_json TEXT NOT NULL,
  submitted_at_ms BIGINT NOT NULL,
  decided_at_ms BIGINT,
  suspended_at_ms BIGINT,
  failed_logins INTEGER NOT NULL DEFAULT 0,
  locked_until_ms BIGINT NOT NULL DEFAULT 0,
  password_changed_at_ms BIGINT NOT NULL
);
-- A rejected application frees its username so the applicant can apply again.
CREATE UNIQUE INDEX accounts_live_username ON accounts (username) WHERE kyc_status <> 'rejected';
-- Login looks at rejected applications too (to tell a rejected applicant why), so it needs a
-- plain index beside the partial unique one.
CREATE INDEX accounts_by_username ON accounts (username, application_id);
CREATE INDEX accounts_review_queue ON accounts (application_id) WHERE kyc_status = 'pending_review';

CREATE TABLE account_audit (
  audit_id {{id}},
  application_id BIGINT NOT NULL REFERENCES accounts (application_id),
  account_id BIGINT,
  action TEXT NOT NULL,
  detail_json TEXT NOT NULL,
  actor TEXT NOT NULL,
  actor_account_id BIGINT,
  at_ms BIGINT NOT NULL
);
CREATE INDEX account_audit_by_application ON account_audit (application_id, audit_id);

CREATE TABLE sessions (
  session_id {{id}},
  token_hash TEXT NOT NULL UNIQUE,
  account_id BIGINT NOT NULL REFERENCES accounts (account_id),
  created_at_ms BIGINT NOT NULL,
  last_seen_at_ms BIGINT NOT NULL,
  expires_at_ms BIGINT NOT NULL,
  revoked_at_ms BIGINT,
  client_note TEXT NOT NULL
);
CREATE INDEX sessions_live_by_account ON sessions (account_id, session_id) WHERE revoked_at_ms IS NULL;
CREATE INDEX sessions_by_expiry ON sessions (expires_at_ms);

CREATE TABLE api_keys (
  key_id {{id}},
  account_id BIGINT NOT NULL REFERENCES accounts (account_id),
  prefix TEXT NOT NULL UNIQUE,
  key_hash TEXT NOT NULL UNIQUE,
  label TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  last_used_at_ms BIGINT,
  revoked_at_ms BIGINT
);
CREATE INDEX api_keys_by_account ON api_keys (account_id, key_id);

-- Events for the journal (AccountOpened, AccountSuspended), written in the same transaction as the
-- decision. outbox_id comes from id_counters, whose row lock serialises writers, so ids are in
-- commit order and a reader never sees a later event before an earlier one commits.
CREATE TABLE account_outbox (
  outbox_id BIGINT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('account_opened', 'account_suspended')),
  account_id BIGINT NOT NULL,
  outlet_id BIGINT NOT NULL,
  role INTEGER NOT NULL,
  created_at_ms BIGINT NOT NULL,
  delivered_at_ms BIGINT
);
CREATE INDEX account_outbox_undelivered ON account_outbox (outbox_id) WHERE delivered_at_ms IS NULL;

CREATE TABLE id_counters (
  name TEXT PRIMARY KEY,
  next_value BIGINT NOT NULL
);
INSERT INTO id_counters (name, next_value) VALUES ('account_id', 1), ('outbox_id', 1);

-- Which process forwards the outbox (several gateways share the store; one forwards at a time).
CREATE TABLE outbox_lease (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_at_ms BIGINT NOT NULL
);
`,
  },
  {
    version: 2,
    name: 'outbox carries role changes',
    sql: `
-- An administrator's role change goes to the journal as AccountRoleChanged. The outbox's CHECK on
-- kind must admit it; SQLite cannot alter a CHECK, so the table is rebuilt (same columns, same rows,
-- same ids) in both databases, which keeps one migration text for both.
CREATE TABLE account_outbox_v2 (
  outbox_id BIGINT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('account_opened', 'account_suspended', 'account_role_changed')),
  account_id BIGINT NOT NULL,
  outlet_id BIGINT NOT NULL,
  role INTEGER NOT NULL,
  created_at_ms BIGINT NOT NULL,
  delivered_at_ms BIGINT
);
INSERT INTO account_outbox_v2 (outbox_id, kind, account_id, outlet_id, role, created_at_ms, delivered_at_ms)
  SELECT outbox_id, kind, account_id, outlet_id, role, created_at_ms, delivered_at_ms FROM account_outbox;
DROP TABLE account_outbox;
ALTER TABLE account_outbox_v2 RENAME TO account_outbox;
CREATE INDEX account_outbox_undelivered ON account_outbox (outbox_id) WHERE delivered_at_ms IS NULL;
`,
  },
]);

const ID_COLUMN: Readonly<Record<SqlDialect, string>> = Object.freeze({
  sqlite: 'INTEGER PRIMARY KEY AUTOINCREMENT',
  postgres: 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
});

/** The advisory-lock key every IMS process takes while migrating the account store. */
const POSTGRES_MIGRATION_LOCK_KEY = 0x1a5_acc7;

/** The statements of a migration for one dialect. */
export function migrationStatements(m: Migration, dialect: SqlDialect): string[] {
  const withoutComments = m.sql
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n');
  return withoutComments
    .replace(/\{\{id\}\}/g, ID_COLUMN[dialect])
    .split(/;\s*\n/)
    .map((s) => s.trim().replace(/;$/, ''))
    .filter((s) => s !== '');
}

async function appliedVersions(tx: SqlExecutor): Promise<Map<number, string>> {
  const rows = await tx.all<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version');
  return new Map(rows.map((r) => [Number(r.version), r.name]));
}

/** Applies every migration the store has not seen; returns the versions applied now. */
export async function migrate(store: AccountStore, nowMs: number, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  return store.transaction(async (tx) => {
    if (store.dialect === 'postgres') await tx.get('SELECT pg_advisory_xact_lock(?)', [POSTGRES_MIGRATION_LOCK_KEY]);
    await tx.run('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms BIGINT NOT NULL)');
    const applied = await appliedVersions(tx);
    const known = new Map(migrations.map((m) => [m.version, m]));
    for (const [version, name] of applied) {
      const m = known.get(version);
      if (m === undefined) throw new Error(`${store.description} has schema version ${version} ('${name}'), newer than this code knows; upgrade IMS before opening it`);
      if (m.name !== name) throw new Error(`${store.description} recorded migration ${version} as '${name}' but this code calls it '${m.name}'; the migration history was edited`);
    }
    const done: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(m.version)) continue;
      for (const statement of migrationStatements(m, store.dialect)) await tx.run(statement);
      await tx.run('INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES (?, ?, ?)', [m.version, m.name, nowMs]);
      done.push(m.version);
    }
    return done;
  });
}
