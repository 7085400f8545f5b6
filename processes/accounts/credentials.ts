// Logging in and staying logged in: password login with lockout, sessions (opaque random tokens
// stored as digests, with idle and absolute expiry, revocable), password change, and API keys for
// programmatic clients. Only an approved, unsuspended account gets a session or an API-key
// principal; suspension revokes sessions and every authentication re-checks the account's state.

import { AccountRole } from '../../bus/enums';
import {
  LOCKOUT_DURATION_MS,
  MAX_API_KEY_LABEL_CHARS,
  MAX_API_KEYS_PER_ACCOUNT,
  MAX_FAILED_LOGINS,
  MAX_PASSWORD_CHARS,
  MAX_SESSIONS_PER_ACCOUNT,
  MAX_USERNAME_CHARS,
  SESSION_ABSOLUTE_TIMEOUT_MS,
  SESSION_IDLE_TIMEOUT_MS,
  SESSION_TOUCH_INTERVAL_MS,
} from './account-limits';
import { accountById, appendAudit, normaliseRow, type AccountRow, type AccountsContext } from './accounts-context';
import { fail, ok, type AccountsResult } from './errors';
import { HASHER_BUSY } from './password-hashing';
import { passwordProblems } from './password-policy';
import type { Principal } from './principal';
import { roleNameOf } from './roles';
import { apiKeyPrefixOf, isSessionTokenShaped, newApiKey, newSessionToken, sha256Hex } from './secret-tokens';
import { isUniqueViolation } from './sql-store';

export interface LoginSuccess {
  /** The session token: shown to the client once, sent back as a bearer token. */
  readonly token: string;
  readonly sessionId: number;
  /** The session ends at this time however active it is. */
  readonly expiresAtMs: number;
  /** The session also ends after this long without use. */
  readonly idleTimeoutMs: number;
  readonly principal: Principal;
}

export interface ApiKeyCreated {
  /** The key itself: shown once, never stored, never shown again. */
  readonly key: string;
  readonly keyId: number;
  readonly prefix: string;
  readonly label: string;
  readonly createdAtMs: number;
}

export interface ApiKeyInfo {
  readonly keyId: number;
  readonly prefix: string;
  readonly label: string;
  readonly createdAtMs: number;
  readonly lastUsedAtMs: number | null;
  readonly revokedAtMs: number | null;
}

const BUSY_RETRY_MS = 2_000;
/** Fresh prefixes tried when a new API key's random prefix collides with an existing one. */
const MAX_API_KEY_PREFIX_ATTEMPTS = 3;

function busy(): AccountsResult<never> {
  return fail('server_busy', 'too many logins at once; try again in a few seconds', { retryAfterMs: BUSY_RETRY_MS });
}

function invalidCredentials(): AccountsResult<never> {
  // The same answer for an unknown username and a wrong password, so it reveals neither.
  return fail('invalid_credentials', 'wrong username or password; check both and try again');
}

interface AuthRow {
  credential_id: number;
  account_id: number;
  username: string;
  role: number;
  outlet_id: number;
  kyc_status: string;
  suspended_at_ms: number | null;
}

function principalOf(r: AuthRow, via: Principal['via']): Principal {
  const role = roleNameOf(Number(r.role));
  return Object.freeze({
    kind: 'account',
    accountId: Number(r.account_id),
    username: r.username,
    role,
    roleCode: Number(r.role) as AccountRole,
    outletId: Number(r.outlet_id),
    via,
    credentialId: Number(r.credential_id),
  });
}

export class Credentials {
  constructor(private readonly ctx: AccountsContext) {}

  async login(username: unknown, password: unknown, clientNote = ''): Promise<AccountsResult<LoginSuccess>> {
    if (typeof username !== 'string' || username.trim() === '' || typeof password !== 'string' || password === '') {
      const fields = [];
      if (typeof username !== 'string' || username.trim() === '') fields.push({ field: 'username', code: 'required', detail: 'username is required' });
      if (typeof password !== 'string' || password === '') fields.push({ field: 'password', code: 'required', detail: 'password is required' });
      return fail('validation_failed', 'give a username and a password', { fields });
    }
    // No account can have such a password or username, and hashing a huge input is wasted work.
    if ([...password].length > MAX_PASSWORD_CHARS || username.length > MAX_USERNAME_CHARS * 4) return invalidCredentials();
    const name = username.trim().toLowerCase();
    // A live application first; otherwise the latest rejected one, so a rejected applicant who
    // logs in hears why instead of "wrong password".
    const row = normaliseRow(
      await this.ctx.store.get<AccountRow>(
        "SELECT * FROM accounts WHERE username = ? ORDER BY CASE WHEN kyc_status = 'rejected' THEN 1 ELSE 0 END, application_id DESC LIMIT 1",
        [name],
      ),
    );
    if (row === undefined) {
      return (await this.ctx.hasher.verifyAgainstDummy(password)) === HASHER_BUSY ? busy() : invalidCredentials();
    }
    const nowMs = this.ctx.clock.nowMs();
    if (row.locked_until_ms > nowMs) return this.locked(row.locked_until_ms);

    const outcome = await this.ctx.hasher.verify(password, row.password_hash);
    if (outcome === HASHER_BUSY) return busy();
    if (outcome === 'mismatch') return this.recordFailure(row.application_id);
    if (row.failed_logins > 0 || row.locked_until_ms > 0) {
      await this.ctx.store.run('UPDATE accounts SET failed_logins = 0, locked_until_ms = 0 WHERE application_id = ?', [row.application_id]);
    }

    const inactive = this.inactiveReason(row);
    if (inactive !== undefined) return inactive;
    return this.openSession(row, clientNote);
  }

  /** The principal behind a session token, or why there is none. Touches the session's last use. */
  async authenticateSession(token: string): Promise<AccountsResult<Principal>> {
    if (typeof token !== 'string' || !isSessionTokenShaped(token)) return fail('session_invalid', 'the session token is malformed; log in again');
    const r = await this.ctx.store.get<AuthRow & { last_seen_at_ms: number; expires_at_ms: number; revoked_at_ms: number | null }>(
      `SELECT s.session_id AS credential_id, s.account_id, s.last_seen_at_ms, s.expires_at_ms, s.revoked_at_ms,
              a.username, a.role, a.outlet_id, a.kyc_status, a.suspended_at_ms
         FROM sessions s JOIN accounts a ON a.account_id = s.account_id WHERE s.token_hash = ?`,
      [sha256Hex(token)],
    );
    if (r === undefined) return fail('session_invalid', 'unknown session; log in again');
    if (r.revoked_at_ms !== null) return fail('session_invalid', 'this session was signed out; log in again');
    const nowMs = this.ctx.clock.nowMs();
    if (nowMs >= Number(r.expires_at_ms)) return fail('session_expired', `sessions last at most ${SESSION_ABSOLUTE_TIMEOUT_MS / 3_600_000} hours; log in again`);
    if (nowMs >= Number(r.last_seen_at_ms) + SESSION_IDLE_TIMEOUT_MS) return fail('session_expired', `the session was unused for ${SESSION_IDLE_TIMEOUT_MS / 60_000} minutes; log in again`);
    if (r.suspended_at_ms !== null) return fail('account_suspended', 'this account is suspended; contact an administrator');
    if (nowMs - Number(r.last_seen_at_ms) >= SESSION_TOUCH_INTERVAL_MS) {
      await this.ctx.store.run('UPDATE sessions SET last_seen_at_ms = ? WHERE session_id = ? AND last_seen_at_ms < ?', [nowMs, r.credential_id, nowMs]);
    }
    return ok(principalOf(r, 'session'));
  }

  /** Ends the session of `token`. Signing out twice is fine. */
  async logout(token: string): Promise<AccountsResult<void>> {
    if (typeof token !== 'string' || !isSessionTokenShaped(token)) return fail('session_invalid', 'the session token is malformed');
    const nowMs = this.ctx.clock.nowMs();
    const found = await this.ctx.store.get<{ revoked_at_ms: number | null }>('SELECT revoked_at_ms FROM sessions WHERE token_hash = ?', [sha256Hex(token)]);
    if (found === undefined) return fail('session_invalid', 'unknown session');
    await this.ctx.store.run('UPDATE sessions SET revoked_at_ms = ? WHERE token_hash = ? AND revoked_at_ms IS NULL', [nowMs, sha256Hex(token)]);
    return ok(undefined);
  }

  /** Ends every session of the principal's account (e.g. "sign out everywhere"); returns how many. */
  async logoutEverywhere(principal: Principal): Promise<AccountsResult<number>> {
    const n = await this.ctx.store.run('UPDATE sessions SET revoked_at_ms = ? WHERE account_id = ? AND revoked_at_ms IS NULL', [this.ctx.clock.nowMs(), principal.accountId]);
    return ok(n);
  }

  /**
   * Changes the principal's password after checking the current one (wrong guesses count towards
   * the lockout); every other session of the account is signed out.
   */
  async changePassword(principal: Principal, currentPassword: unknown, newPassword: unknown): Promise<AccountsResult<void>> {
    if (typeof currentPassword !== 'string' || typeof newPassword !== 'string') {
      return fail('validation_failed', 'give currentPassword and newPassword', {
        fields: [
          ...(typeof currentPassword !== 'string' ? [{ field: 'currentPassword', code: 'required', detail: 'currentPassword is required' }] : []),
          ...(typeof newPassword !== 'string' ? [{ field: 'newPassword', code: 'required', detail: 'newPassword is required' }] : []),
        ],
      });
    }
    const row = await accountById(this.ctx.store, principal.accountId);
    if (row === undefined) return fail('not_found', 'the account no longer exists');
    const nowMs = this.ctx.clock.nowMs();
    if (row.locked_until_ms > nowMs) return this.locked(row.locked_until_ms);
    const problems = passwordProblems(newPassword, row.username, 'newPassword');
    if (problems.length > 0) return fail('password_too_weak', problems.map((p) => p.detail).join('; '), { fields: problems });
    if ([...currentPassword].length > MAX_PASSWORD_CHARS) return invalidCredentials();
    const outcome = await this.ctx.hasher.verify(currentPassword, row.password_hash);
    if (outcome === HASHER_BUSY) return busy();
    if (outcome === 'mismatch') return this.recordFailure(row.application_id);
    const hash = await this.ctx.hasher.hash(newPassword);
    if (hash === HASHER_BUSY) return busy();
    await this.ctx.store.transaction(async (tx) => {
      await tx.run('UPDATE accounts SET password_hash = ?, password_changed_at_ms = ?, failed_logins = 0 WHERE application_id = ?', [hash, nowMs, row.application_id]);
      const keep = principal.via === 'session' ? principal.credentialId : -1;
      await tx.run('UPDATE sessions SET revoked_at_ms = ? WHERE account_id = ? AND revoked_at_ms IS NULL AND session_id <> ?', [nowMs, principal.accountId, keep]);
      await appendAudit(tx, { applicationId: row.application_id, accountId: principal.accountId, action: 'password_changed', detail: {}, actor: principal, atMs: nowMs });
    });
    return ok(undefined);
  }

  /** Creates an API key for the principal's account. The key is in the answer and nowhere else. */
  async createApiKey(principal: Principal, label: unknown): Promise<AccountsResult<ApiKeyCreated>> {
    if (principal.via !== 'session') return fail('forbidden', 'API keys are created from a logged-in session, not with another API key');
    if (typeof label !== 'string' || label.trim() === '' || [...label.trim()].length > MAX_API_KEY_LABEL_CHARS || /[\p{Cc}]/u.test(label)) {
      return fail('validation_failed', 'give the key a label', {
        fields: [{ field: 'label', code: 'invalid_value', detail: `label is 1 to ${MAX_API_KEY_LABEL_CHARS} printable characters naming where the key is used` }],
      });
    }
    const nowMs = this.ctx.clock.nowMs();
    for (let attempt = 1; ; attempt++) {
      const { key, prefix } = newApiKey();
      try {
        return await this.ctx.store.transaction(async (tx): Promise<AccountsResult<ApiKeyCreated>> => {
          const live = await tx.get<{ n: number }>('SELECT COUNT(*) AS n FROM api_keys WHERE account_id = ? AND revoked_at_ms IS NULL', [principal.accountId]);
          if (Number(live!.n) >= MAX_API_KEYS_PER_ACCOUNT) {
            return fail('api_key_limit_reached', `an account has at most ${MAX_API_KEYS_PER_ACCOUNT} live API keys; revoke one you no longer use`);
          }
          const inserted = await tx.get<{ key_id: number }>(
            'INSERT INTO api_keys (account_id, prefix, key_hash, label, created_at_ms) VALUES (?, ?, ?, ?, ?) RETURNING key_id',
            [principal.accountId, prefix, sha256Hex(key), label.trim(), nowMs],
          );
          const keyId = Number(inserted!.key_id);
          const account = await accountById(tx, principal.accountId);
          await appendAudit(tx, { applicationId: account!.application_id, accountId: principal.accountId, action: 'api_key_created', detail: { keyId, prefix }, actor: principal, atMs: nowMs });
          return ok({ key, keyId, prefix, label: label.trim(), createdAtMs: nowMs });
        });
      } catch (err) {
        if (!isUniqueViolation(err) || attempt >= MAX_API_KEY_PREFIX_ATTEMPTS) throw err;
      }
    }
  }

  /** The principal's API keys (live and revoked), by prefix; never the keys themselves. */
  async listApiKeys(principal: Principal): Promise<AccountsResult<ApiKeyInfo[]>> {
    const rows = await this.ctx.store.all<{ key_id: number; prefix: string; label: string; created_at_ms: number; last_used_at_ms: number | null; revoked_at_ms: number | null }>(
      'SELECT key_id, prefix, label, created_at_ms, last_used_at_ms, revoked_at_ms FROM api_keys WHERE account_id = ? ORDER BY key_id',
      [principal.accountId],
    );
    return ok(
      rows.map((r) => ({
        keyId: Number(r.key_id),
        prefix: r.prefix,
        label: r.label,
        createdAtMs: Number(r.created_at_ms),
        lastUsedAtMs: r.last_used_at_ms === null ? null : Number(r.last_used_at_ms),
        revokedAtMs: r.revoked_at_ms === null ? null : Number(r.revoked_at_ms),
      })),
    );
  }

  /** Revokes one of the principal's own keys (an administrator may revoke anyone's). */
  async revokeApiKey(principal: Principal, keyId: number): Promise<AccountsResult<void>> {
    const nowMs = this.ctx.clock.nowMs();
    return this.ctx.store.transaction(async (tx): Promise<AccountsResult<void>> => {
      const key = await tx.get<{ account_id: number; prefix: string; revoked_at_ms: number | null }>('SELECT account_id, prefix, revoked_at_ms FROM api_keys WHERE key_id = ?', [keyId]);
      // Someone else's key answers not_found, so key ids of other accounts are not confirmed.
      if (key === undefined || (Number(key.account_id) !== principal.accountId && principal.role !== 'admin')) return fail('not_found', `you have no API key ${keyId}`);
      if (key.revoked_at_ms !== null) return ok(undefined);
      await tx.run('UPDATE api_keys SET revoked_at_ms = ? WHERE key_id = ? AND revoked_at_ms IS NULL', [nowMs, keyId]);
      const account = await accountById(tx, Number(key.account_id));
      await appendAudit(tx, { applicationId: account!.application_id, accountId: Number(key.account_id), action: 'api_key_revoked', detail: { keyId, prefix: key.prefix }, actor: principal, atMs: nowMs });
      return ok(undefined);
    });
  }

  /** The principal behind an API key, or why there is none. */
  async authenticateApiKey(key: string): Promise<AccountsResult<Principal>> {
    if (typeof key !== 'string' || apiKeyPrefixOf(key) === undefined) return fail('api_key_invalid', 'the API key is malformed; copy it exactly as it was shown');
    const r = await this.ctx.store.get<AuthRow & { revoked_at_ms: number | null; last_used_at_ms: number | null }>(
      `SELECT k.key_id AS credential_id, k.account_id, k.revoked_at_ms, k.last_used_at_ms,
              a.username, a.role, a.outlet_id, a.kyc_status, a.suspended_at_ms
         FROM api_keys k JOIN accounts a ON a.account_id = k.account_id WHERE k.key_hash = ?`,
      [sha256Hex(key)],
    );
    if (r === undefined) return fail('api_key_invalid', 'unknown API key');
    if (r.revoked_at_ms !== null) return fail('api_key_invalid', 'this API key was revoked; create a new one');
    if (r.suspended_at_ms !== null) return fail('account_suspended', 'this account is suspended; contact an administrator');
    const nowMs = this.ctx.clock.nowMs();
    if (r.last_used_at_ms === null || nowMs - Number(r.last_used_at_ms) >= SESSION_TOUCH_INTERVAL_MS) {
      await this.ctx.store.run('UPDATE api_keys SET last_used_at_ms = ? WHERE key_id = ?', [nowMs, r.credential_id]);
    }
    return ok(principalOf(r, 'api_key'));
  }

  private locked(unlockAtMs: number): AccountsResult<never> {
    return fail('account_locked', `too many failed logins; the account is locked until ${new Date(unlockAtMs).toISOString()}; try again then or ask an administrator to unlock it`, {
      unlockAtMs,
    });
  }

  private async recordFailure(applicationId: number): Promise<AccountsResult<never>> {
    const nowMs = this.ctx.clock.nowMs();
    return this.ctx.store.transaction(async (tx): Promise<AccountsResult<never>> => {
      const r = await tx.get<{ failed_logins: number }>('UPDATE accounts SET failed_logins = failed_logins + 1 WHERE application_id = ? RETURNING failed_logins', [applicationId]);
      if (Number(r!.failed_logins) < MAX_FAILED_LOGINS) return invalidCredentials();
      const unlockAtMs = nowMs + LOCKOUT_DURATION_MS;
      await tx.run('UPDATE accounts SET failed_logins = 0, locked_until_ms = ? WHERE application_id = ?', [unlockAtMs, applicationId]);
      return this.locked(unlockAtMs);
    });
  }

  private inactiveReason(row: AccountRow): AccountsResult<never> | undefined {
    if (row.kyc_status === 'pending_review') return fail('account_pending_review', 'your application is waiting for an administrator to review it; you can log in once it is approved');
    if (row.kyc_status === 'rejected') {
      const reasons = (JSON.parse(row.kyc_reasons_json) as { reasons: { detail: string }[] }).reasons.map((r) => r.detail);
      return fail('account_rejected', `your application was rejected (${reasons.join('; ')}); you may apply again`);
    }
    if (row.suspended_at_ms !== null) return fail('account_suspended', 'this account is suspended; contact an administrator');
    return undefined;
  }

  private async openSession(row: AccountRow, clientNote: string): Promise<AccountsResult<LoginSuccess>> {
    const nowMs = this.ctx.clock.nowMs();
    const token = newSessionToken();
    const expiresAtMs = nowMs + SESSION_ABSOLUTE_TIMEOUT_MS;
    const accountId = row.account_id!;
    const sessionId = await this.ctx.store.transaction(async (tx) => {
      const inserted = await tx.get<{ session_id: number }>(
        'INSERT INTO sessions (token_hash, account_id, created_at_ms, last_seen_at_ms, expires_at_ms, client_note) VALUES (?, ?, ?, ?, ?, ?) RETURNING session_id',
        [sha256Hex(token), accountId, nowMs, nowMs, expiresAtMs, clientNote.slice(0, 200)],
      );
      // Beyond the cap the oldest live sessions are signed out, so an account's sessions stay bounded.
      await tx.run(
        `UPDATE sessions SET revoked_at_ms = ? WHERE account_id = ? AND revoked_at_ms IS NULL AND session_id NOT IN
           (SELECT session_id FROM sessions WHERE account_id = ? AND revoked_at_ms IS NULL ORDER BY session_id DESC LIMIT ?)`,
        [nowMs, accountId, accountId, MAX_SESSIONS_PER_ACCOUNT],
      );
      return Number(inserted!.session_id);
    });
    const principal = principalOf(
      { credential_id: sessionId, account_id: accountId, username: row.username, role: row.role, outlet_id: row.outlet_id, kyc_status: row.kyc_status, suspended_at_ms: row.suspended_at_ms },
      'session',
    );
    return ok({ token, sessionId, expiresAtMs, idleTimeoutMs: SESSION_IDLE_TIMEOUT_MS, principal });
  }
}
