// Changing an account's role (an administrator's decision, audited like suspension). The rules:
//   - only an administrator may change a role;
//   - an administrator cannot change their own role: every role but admin is a demotion, and an
//     admin who demoted themselves could lock the exchange out of its administration (the admin
//     who demotes another stays admin, so there is always one left);
//   - a colleague trades for one outlet, so becoming a colleague needs an outletId; a staff role
//     has none (outlet 0), so a colleague made staff drops their outlet;
//   - the new role differs from the current one (a repeat is 409 role_unchanged, not a silent ok).
//
// Why sessions and API keys are revoked rather than refreshed. Each request re-reads the role
// from the account row (credentials.ts), so a refreshed session would be possible; but a page or
// WebSocket stream opened under the old role keeps what it was shown and subscribed to, and an
// API key made for a colleague's trading program must not quietly start reading every account as
// an analyst. Signing everything out makes the change take effect at one clear moment: the next
// login, under the new role. The account itself (id, cash, stock, history) is unchanged.
//
// The change goes to the journal as AccountRoleChanged through the outbox, in the same transaction,
// so the product manager (which lets only colleagues trade) learns it in sequence and a replay
// reproduces it.

import { MAX_OUTLET_ID, MAX_SUSPENSION_REASON_CHARS } from './account-limits';
import { appendAudit, normaliseRow, type AccountRow, type AccountsContext } from './accounts-context';
import { appendOutboxEvent, type OutboxEvent } from './account-outbox';
import { fail, ok, type AccountsResult, type FieldError } from './errors';
import { actorMay, type Actor } from './principal';
import { isRoleName, mayChangeRoles, ROLE_CODE, ROLE_NAMES, roleNameOf, roleNeedsOutlet, type RoleName } from './roles';

export interface RoleChangeRequest {
  readonly role: unknown;
  /** Required when the new role is colleague; must be absent or 0 for a staff role. */
  readonly outletId?: unknown;
  readonly reason: unknown;
}

export interface RoleChangeOutcome {
  readonly accountId: number;
  readonly previousRole: RoleName;
  readonly role: RoleName;
  readonly outletId: number;
  readonly sessionsRevoked: number;
  readonly apiKeysRevoked: number;
}

interface ValidRequest {
  readonly role: RoleName;
  readonly outletId: number;
  readonly reason: string;
}

function validate(req: RoleChangeRequest): ValidRequest | AccountsResult<never> {
  const fields: FieldError[] = [];
  const role = isRoleName(req.role) ? req.role : undefined;
  if (role === undefined) fields.push({ field: 'role', code: 'invalid_value', detail: `role is one of ${ROLE_NAMES.join(', ')}` });
  let outletId = 0;
  const rawOutlet = req.outletId;
  if (role !== undefined && roleNeedsOutlet(role)) {
    if (rawOutlet === undefined || rawOutlet === null || rawOutlet === 0) fields.push({ field: 'outletId', code: 'required', detail: 'a colleague trades for one outlet: give its outletId' });
    else if (typeof rawOutlet !== 'number' || !Number.isInteger(rawOutlet) || rawOutlet < 1 || rawOutlet > MAX_OUTLET_ID) {
      fields.push({ field: 'outletId', code: 'out_of_range', detail: `outletId is a whole number between 1 and ${MAX_OUTLET_ID}` });
    } else outletId = rawOutlet;
  } else if (role !== undefined && rawOutlet !== undefined && rawOutlet !== null && rawOutlet !== 0) {
    fields.push({ field: 'outletId', code: 'not_allowed', detail: `a ${role} has no outlet; leave outletId out` });
  }
  const reason = typeof req.reason === 'string' ? req.reason.trim() : '';
  if (reason === '' || [...reason].length > MAX_SUSPENSION_REASON_CHARS) {
    fields.push({ field: 'reason', code: 'invalid_value', detail: `reason is 1 to ${MAX_SUSPENSION_REASON_CHARS} characters (it is kept in the audit trail)` });
  }
  if (fields.length > 0) return fail('validation_failed', 'the role change is incomplete; see fields', { fields });
  return { role: role!, outletId, reason };
}

export class AccountRoleChange {
  constructor(private readonly ctx: AccountsContext) {}

  async change(actor: Actor, accountId: number, req: RoleChangeRequest): Promise<AccountsResult<RoleChangeOutcome>> {
    if (!actorMay(actor, mayChangeRoles)) return fail('forbidden', 'only an administrator can change roles');
    const valid = validate(req);
    if (!('role' in valid)) return valid;
    if (actor.kind === 'account' && actor.accountId === accountId) {
      return fail('self_demotion', 'administrators cannot change their own role (it would lock them out of administration); ask another administrator');
    }
    const nowMs = this.ctx.clock.nowMs();
    const roleCode = ROLE_CODE[valid.role];
    let event: OutboxEvent | undefined;
    const result = await this.ctx.store.transaction(async (tx): Promise<AccountsResult<RoleChangeOutcome>> => {
      const row = normaliseRow(await tx.get<AccountRow>("SELECT * FROM accounts WHERE account_id = ? AND kyc_status = 'approved'", [accountId]));
      if (row === undefined) return fail('not_found', `there is no account ${accountId}`);
      const previousRole = roleNameOf(row.role);
      if (previousRole === valid.role) return fail('role_unchanged', `account ${accountId} already is a ${valid.role}`);
      // The role in the WHERE makes a concurrent change of the same account lose cleanly.
      const changed = await tx.run('UPDATE accounts SET role = ?, outlet_id = ? WHERE account_id = ? AND role = ?', [roleCode, valid.outletId, accountId, row.role]);
      if (changed !== 1) return fail('role_unchanged', `account ${accountId} changed role meanwhile; read it again`);
      const sessionsRevoked = await tx.run('UPDATE sessions SET revoked_at_ms = ? WHERE account_id = ? AND revoked_at_ms IS NULL', [nowMs, accountId]);
      const apiKeysRevoked = await tx.run('UPDATE api_keys SET revoked_at_ms = ? WHERE account_id = ? AND revoked_at_ms IS NULL', [nowMs, accountId]);
      event = await appendOutboxEvent(tx, { kind: 'account_role_changed', accountId, outletId: valid.outletId, role: roleCode, createdAtMs: nowMs });
      await appendAudit(tx, {
        applicationId: row.application_id,
        accountId,
        action: 'account_role_changed',
        detail: { from: previousRole, to: valid.role, fromOutletId: row.outlet_id, outletId: valid.outletId, reason: valid.reason, sessionsRevoked, apiKeysRevoked },
        actor,
        atMs: nowMs,
      });
      return ok({ accountId, previousRole, role: valid.role, outletId: valid.outletId, sessionsRevoked, apiKeysRevoked });
    });
    if (event !== undefined) this.ctx.onOutboxEvent(event);
    return result;
  }
}
