// Accounts (admin, risk_admin): suspend an account (it can no longer log in or trade; its sessions
// are revoked) or lift a suspension, with a reason kept in the audit trail —
// POST /v1/admin/accounts/{id}/suspend and …/reinstate.
// Roles (admin only): give an account another role — PUT /v1/admin/accounts/{id}/role. A colleague
// needs the outlet it trades for; staff have none. The account's sessions and API keys are signed
// out, so the new role applies from its next login; an admin cannot change their own role.

import { useState } from 'preact/hooks';
import { api } from './api-client';
import { formErrorsOf, NO_ERRORS, Outcome, type FormErrors } from './dashboard-forms';
import { Field, FormError } from './field-errors';

const CODE_FIELDS: ReadonlyArray<readonly [RegExp, string]> = [
  [/account|not_found/, 'accountId'],
  [/reason/, 'reason'],
];

export const ROLE_DUTIES: ReadonlyArray<readonly [string, string]> = [
  ['colleague', 'trades for one outlet at the kiosk'],
  ['admin', 'KYC reviews, accounts, deposits, stock, product listing and halts'],
  ['risk_admin', 'risk rules; suspends accounts'],
  ['operator', 'halts and resumes products; system status'],
  ['analyst', 'market data and system status (the CEO)'],
];

export function AccountControls(): preact.JSX.Element {
  const [accountId, setAccountId] = useState('');
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [done, setDone] = useState('');

  const act = async (action: 'suspend' | 'reinstate'): Promise<void> => {
    const id = accountId.trim();
    if (!/^[1-9][0-9]{0,15}$/.test(id)) return setErrors({ fields: { accountId: 'Give the account id (a positive whole number).' }, general: '' });
    try {
      const r = await api<{ accountId: number; suspended: boolean }>('POST', `/v1/admin/accounts/${id}/${action}`, { reason: reason.trim() });
      setErrors(NO_ERRORS);
      setDone(`Account ${r.accountId} is ${r.suspended ? 'suspended' : 'active again'}.`);
    } catch (e) {
      setDone('');
      setErrors(formErrorsOf(e, CODE_FIELDS, ['accountId', 'reason']));
    }
  };

  return (
    <section class="card" aria-labelledby="accounts-title">
      <h2 id="accounts-title">Accounts</h2>
      <form onSubmit={(e) => e.preventDefault()} aria-label="Suspend or reinstate an account" novalidate>
        <div class="grid2">
          <Field id="account-id" label="Account id" error={errors.fields['accountId']}>
            {(d, inv) => <input id="account-id" inputMode="numeric" value={accountId} aria-describedby={d} aria-invalid={inv} onInput={(e) => setAccountId(e.currentTarget.value)} />}
          </Field>
          <Field id="account-reason" label="Reason (kept in the audit trail)" error={errors.fields['reason']}>
            {(d, inv) => <input id="account-reason" value={reason} aria-describedby={d} aria-invalid={inv} onInput={(e) => setReason(e.currentTarget.value)} />}
          </Field>
        </div>
        <FormError message={errors.general} />
        <div class="row">
          <button type="button" class="danger" onClick={() => void act('suspend')}>
            Suspend account
          </button>
          <button type="button" class="primary" onClick={() => void act('reinstate')}>
            Reinstate account
          </button>
        </div>
        <Outcome text={done} error={false} />
      </form>
      <details>
        <summary>Roles</summary>
        <p class="muted small">A role is given when the account is created; an administrator can change it under Roles.</p>
        <dl class="facts">
          {ROLE_DUTIES.map(([role, duty]) => (
            <div key={role}>
              <dt>{role}</dt>
              <dd>{duty}</dd>
            </div>
          ))}
        </dl>
      </details>
    </section>
  );
}

const ROLE_CODE_FIELDS: ReadonlyArray<readonly [RegExp, string]> = [
  [/^not_found$|^self_demotion$/, 'roleAccountId'],
  [/^role_unchanged$/, 'role'],
  [/outlet/, 'outletId'],
  [/reason/, 'reason'],
];

interface RoleChanged {
  accountId: number;
  previousRole: string;
  role: string;
  outletId: number;
  sessionsRevoked: number;
  apiKeysRevoked: number;
}

/** Change an account's role (admin only); the answer says who was signed out. */
export function RoleControls(): preact.JSX.Element {
  const [accountId, setAccountId] = useState('');
  const [role, setRole] = useState('analyst');
  const [outletId, setOutletId] = useState('');
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [done, setDone] = useState('');
  const colleague = role === 'colleague';

  const change = async (): Promise<void> => {
    const id = accountId.trim();
    const local: Record<string, string> = {};
    if (!/^[1-9][0-9]{0,9}$/.test(id)) local['roleAccountId'] = 'Give the account id (a positive whole number).';
    if (colleague && !/^[1-9][0-9]{0,9}$/.test(outletId.trim())) local['outletId'] = 'A colleague trades for one outlet: give its id.';
    if (Object.keys(local).length > 0) return setErrors({ fields: local, general: '' });
    const body: Record<string, unknown> = { role, reason: reason.trim() };
    if (colleague) body['outletId'] = Number(outletId.trim());
    try {
      const r = await api<RoleChanged>('PUT', `/v1/admin/accounts/${id}/role`, body);
      setErrors(NO_ERRORS);
      const where = r.role === 'colleague' ? ` at outlet ${r.outletId}` : '';
      setDone(`Account ${r.accountId} is now ${r.role}${where} (was ${r.previousRole}); ${r.sessionsRevoked} session(s) signed out, the new role applies at its next login.`);
    } catch (e) {
      setDone('');
      setErrors(formErrorsOf(e, ROLE_CODE_FIELDS, ['role', 'outletId', 'reason']));
    }
  };

  return (
    <section class="card" aria-labelledby="roles-title">
      <h2 id="roles-title">Roles</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void change();
        }}
        aria-label="Change an account's role"
        novalidate
      >
        <div class="grid2">
          <Field id="role-account-id" label="Account id" error={errors.fields['roleAccountId']}>
            {(d, inv) => <input id="role-account-id" inputMode="numeric" value={accountId} aria-describedby={d} aria-invalid={inv} onInput={(e) => setAccountId(e.currentTarget.value)} />}
          </Field>
          <Field id="role-new" label="New role" error={errors.fields['role']}>
            {(d, inv) => (
              <select id="role-new" value={role} aria-describedby={d} aria-invalid={inv} onChange={(e) => setRole(e.currentTarget.value)}>
                {ROLE_DUTIES.map(([r, duty]) => (
                  <option key={r} value={r}>
                    {r} — {duty}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field id="role-outlet" label={colleague ? 'Outlet id (required for a colleague)' : 'Outlet id (staff have none)'} error={errors.fields['outletId']}>
            {(d, inv) => (
              <input id="role-outlet" inputMode="numeric" value={colleague ? outletId : ''} disabled={!colleague} aria-describedby={d} aria-invalid={inv} onInput={(e) => setOutletId(e.currentTarget.value)} />
            )}
          </Field>
          <Field id="role-reason" label="Reason (kept in the audit trail)" error={errors.fields['reason']}>
            {(d, inv) => <input id="role-reason" value={reason} aria-describedby={d} aria-invalid={inv} onInput={(e) => setReason(e.currentTarget.value)} />}
          </Field>
        </div>
        <FormError message={errors.general} />
        <div class="row">
          <button type="submit" class="primary">
            Change role
          </button>
        </div>
        <Outcome text={done} error={false} />
      </form>
    </section>
  );
}
