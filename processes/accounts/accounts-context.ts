// What the parts of the accounts module share: the store, the clock, the password hasher, the KYC
// configuration, the outbox listener; and the account row with the queries every part needs.

import type { Clock } from './clock';
import type { KycConfig } from './kyc-checks';
import type { OutboxEvent } from './account-outbox';
import type { PasswordHasher } from './password-hashing';
import type { AccountStore, SqlExecutor } from './sql-store';
import type { Actor } from './principal';
import { actorAccountId, actorLabel } from './principal';

export interface AccountsContext {
  readonly store: AccountStore;
  readonly clock: Clock;
  readonly hasher: PasswordHasher;
  /** Replaced as a whole when the operator reloads the sanctions list. */
  kyc: KycConfig;
  /** Told of every outbox event after its transaction commits (to wake the forwarder). */
  readonly onOutboxEvent: (event: OutboxEvent) => void;
}

/** A row of the accounts table (one per application). */
export interface AccountRow {
  application_id: number;
  account_id: number | null;
  username: string;
  password_hash: string;
  role: number;
  outlet_id: number;
  legal_name: string;
  date_of_birth: string;
  document_type: string;
  document_number: string;
  document_expiry: string;
  address_json: string;
  kyc_status: 'pending_review' | 'approved' | 'rejected';
  kyc_reasons_json: string;
  submitted_at_ms: number;
  decided_at_ms: number | null;
  suspended_at_ms: number | null;
  failed_logins: number;
  locked_until_ms: number;
  password_changed_at_ms: number;
}

export type AuditAction =
  | 'kyc_auto_approved'
  | 'kyc_auto_rejected'
  | 'kyc_auto_pending_review'
  | 'kyc_manual_approved'
  | 'kyc_manual_rejected'
  | 'account_suspended'
  | 'account_reinstated'
  | 'account_unlocked'
  | 'account_role_changed'
  | 'password_changed'
  | 'api_key_created'
  | 'api_key_revoked';

export async function appendAudit(
  tx: SqlExecutor,
  entry: { applicationId: number; accountId: number | null; action: AuditAction; detail: Record<string, unknown>; actor: Actor; atMs: number },
): Promise<void> {
  await tx.run('INSERT INTO account_audit (application_id, account_id, action, detail_json, actor, actor_account_id, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)', [
    entry.applicationId,
    entry.accountId,
    entry.action,
    JSON.stringify(entry.detail),
    actorLabel(entry.actor),
    actorAccountId(entry.actor),
    entry.atMs,
  ]);
}

/** The account with a bus account id (approved at some point), or undefined. */
export async function accountById(db: SqlExecutor, accountId: number): Promise<AccountRow | undefined> {
  return normaliseRow(await db.get<AccountRow>('SELECT * FROM accounts WHERE account_id = ?', [accountId]));
}

/** PostgreSQL returns BIGINT as numbers through our parser, SQLite as numbers; this only narrows types. */
export function normaliseRow(row: AccountRow | undefined): AccountRow | undefined {
  if (row === undefined) return undefined;
  return {
    ...row,
    application_id: Number(row.application_id),
    account_id: row.account_id === null ? null : Number(row.account_id),
    role: Number(row.role),
    outlet_id: Number(row.outlet_id),
    submitted_at_ms: Number(row.submitted_at_ms),
    decided_at_ms: row.decided_at_ms === null ? null : Number(row.decided_at_ms),
    suspended_at_ms: row.suspended_at_ms === null ? null : Number(row.suspended_at_ms),
    failed_logins: Number(row.failed_logins),
    locked_until_ms: Number(row.locked_until_ms),
    password_changed_at_ms: Number(row.password_changed_at_ms),
  };
}
