// Suspending and reinstating accounts, and lifting a login lockout early. A suspension revokes
// every session at once (API keys stay, but authenticate nothing while the account is suspended)
// and writes AccountSuspended to the outbox so the product manager stops the account's trading
// through the journal. Reinstatement writes AccountOpened again with the same account id: the bus
// has no separate "reinstated" message, and opening an account the product manager already knows
// re-activates it.

import { MAX_SUSPENSION_REASON_CHARS } from './account-limits';
import { appendAudit, normaliseRow, type AccountRow, type AccountsContext } from './accounts-context';
import { appendOutboxEvent, type OutboxEvent } from './account-outbox';
import { fail, ok, type AccountsResult } from './errors';
import { actorMay, type Actor } from './principal';
import { maySuspendAccounts } from './roles';

export interface SuspensionOutcome {
  readonly accountId: number;
  readonly sessionsRevoked: number;
}

function reasonProblem(reason: unknown): AccountsResult<never> | undefined {
  if (typeof reason === 'string' && reason.trim() !== '' && [...reason.trim()].length <= MAX_SUSPENSION_REASON_CHARS) return undefined;
  return fail('validation_failed', 'give a reason (it is kept in the audit trail)', {
    fields: [{ field: 'reason', code: 'invalid_value', detail: `reason is 1 to ${MAX_SUSPENSION_REASON_CHARS} characters` }],
  });
}

export class AccountSuspension {
  constructor(private readonly ctx: AccountsContext) {}

  async suspend(actor: Actor, accountId: number, reason: string): Promise<AccountsResult<SuspensionOutcome>> {
    if (!actorMay(actor, maySuspendAccounts)) return fail('forbidden', 'only an administrator or a risk administrator can suspend accounts');
    const problem = reasonProblem(reason);
    if (problem !== undefined) return problem;
    const nowMs = this.ctx.clock.nowMs();
    let event: OutboxEvent | undefined;
    const result = await this.ctx.store.transaction(async (tx): Promise<AccountsResult<SuspensionOutcome>> => {
      const claimed = normaliseRow(
        await tx.get<AccountRow>("UPDATE accounts SET suspended_at_ms = ? WHERE account_id = ? AND kyc_status = 'approved' AND suspended_at_ms IS NULL RETURNING *", [nowMs, accountId]),
      );
      if (claimed === undefined) {
        const exists = await tx.get('SELECT 1 AS one FROM accounts WHERE account_id = ?', [accountId]);
        return exists === undefined ? fail('not_found', `there is no account ${accountId}`) : fail('already_suspended', `account ${accountId} is already suspended`);
      }
      const sessionsRevoked = await tx.run('UPDATE sessions SET revoked_at_ms = ? WHERE account_id = ? AND revoked_at_ms IS NULL', [nowMs, accountId]);
      event = await appendOutboxEvent(tx, { kind: 'account_suspended', accountId, outletId: claimed.outlet_id, role: claimed.role, createdAtMs: nowMs });
      await appendAudit(tx, { applicationId: claimed.application_id, accountId, action: 'account_suspended', detail: { reason: reason.trim(), sessionsRevoked }, actor, atMs: nowMs });
      return ok({ accountId, sessionsRevoked });
    });
    if (event !== undefined) this.ctx.onOutboxEvent(event);
    return result;
  }

  async reinstate(actor: Actor, accountId: number, reason: string): Promise<AccountsResult<{ accountId: number }>> {
    if (!actorMay(actor, maySuspendAccounts)) return fail('forbidden', 'only an administrator or a risk administrator can reinstate accounts');
    const problem = reasonProblem(reason);
    if (problem !== undefined) return problem;
    const nowMs = this.ctx.clock.nowMs();
    let event: OutboxEvent | undefined;
    const result = await this.ctx.store.transaction(async (tx): Promise<AccountsResult<{ accountId: number }>> => {
      const claimed = normaliseRow(
        await tx.get<AccountRow>('UPDATE accounts SET suspended_at_ms = NULL, failed_logins = 0, locked_until_ms = 0 WHERE account_id = ? AND suspended_at_ms IS NOT NULL RETURNING *', [accountId]),
      );
      if (claimed === undefined) {
        const exists = await tx.get('SELECT 1 AS one FROM accounts WHERE account_id = ?', [accountId]);
        return exists === undefined ? fail('not_found', `there is no account ${accountId}`) : fail('not_suspended', `account ${accountId} is not suspended`);
      }
      event = await appendOutboxEvent(tx, { kind: 'account_opened', accountId, outletId: claimed.outlet_id, role: claimed.role, createdAtMs: nowMs });
      await appendAudit(tx, { applicationId: claimed.application_id, accountId, action: 'account_reinstated', detail: { reason: reason.trim() }, actor, atMs: nowMs });
      return ok({ accountId });
    });
    if (event !== undefined) this.ctx.onOutboxEvent(event);
    return result;
  }

  /** Lifts a login lockout before it lapses (an administrator, after checking who is locked out). */
  async unlock(actor: Actor, accountId: number): Promise<AccountsResult<void>> {
    if (!actorMay(actor, maySuspendAccounts)) return fail('forbidden', 'only an administrator or a risk administrator can unlock accounts');
    const nowMs = this.ctx.clock.nowMs();
    return this.ctx.store.transaction(async (tx): Promise<AccountsResult<void>> => {
      const row = await tx.get<{ application_id: number }>('UPDATE accounts SET failed_logins = 0, locked_until_ms = 0 WHERE account_id = ? RETURNING application_id', [accountId]);
      if (row === undefined) return fail('not_found', `there is no account ${accountId}`);
      await appendAudit(tx, { applicationId: Number(row.application_id), accountId, action: 'account_unlocked', detail: {}, actor, atMs: nowMs });
      return ok(undefined);
    });
  }
}
