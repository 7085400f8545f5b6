// Accounts (admin, risk_admin): suspend an account (it can no longer log in or trade; its sessions
// are revoked) or lift a suspension, with a reason kept in the audit trail —
// POST /v1/admin/accounts/{id}/suspend and …/reinstate. An account's role is set when it is created
// and the gateway has no endpoint that changes it, so roles are shown for reference only.

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
        <p class="muted small">A role is given when the account is created; no endpoint changes it.</p>
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
