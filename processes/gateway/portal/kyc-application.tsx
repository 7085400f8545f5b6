// Apply for a colleague account (KYC): POST /v1/applications. Every field the server finds wrong is
// marked at once (the answer's `fields`, dotted paths such as document.expiryDate).

import { useState } from 'preact/hooks';
import { api } from './api-client';
import { Field, fieldErrorsOf, FormError } from './field-errors';

const FIELDS: ReadonlyArray<readonly [string, string, 'text' | 'password']> = [
  ['legalName', 'Legal name', 'text'],
  ['dateOfBirth', 'Date of birth (YYYY-MM-DD)', 'text'],
  ['outletId', 'Outlet number', 'text'],
  ['document.number', 'Passport number', 'text'],
  ['document.expiryDate', 'Passport expiry (YYYY-MM-DD)', 'text'],
  ['address.line1', 'Address', 'text'],
  ['address.city', 'City', 'text'],
  ['address.postalCode', 'Postal code', 'text'],
  ['address.country', 'Country (2 letters)', 'text'],
  ['username', 'Username', 'text'],
  ['password', 'Password', 'password'],
];

export function KycApplication(props: { onDone: () => void }): preact.JSX.Element {
  const [values, setValues] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<{ fields: Record<string, string>; general: string }>({ fields: {}, general: '' });
  const [outcome, setOutcome] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (ev: Event): Promise<void> => {
    ev.preventDefault();
    setBusy(true);
    const v = (k: string): string => (values[k] ?? '').trim();
    const outlet = Number(v('outletId'));
    const body = {
      legalName: v('legalName'),
      dateOfBirth: v('dateOfBirth'),
      outletId: v('outletId') === '' || !Number.isSafeInteger(outlet) ? undefined : outlet,
      document: { type: 'passport', number: v('document.number'), expiryDate: v('document.expiryDate') },
      address: { line1: v('address.line1'), city: v('address.city'), postalCode: v('address.postalCode'), country: v('address.country').toUpperCase() },
      username: v('username'),
      password: values['password'] ?? '',
    };
    try {
      const r = await api<{ status: string; reasons: Array<{ code: string; detail: string }> }>('POST', '/v1/applications', body);
      setErrors({ fields: {}, general: '' });
      const why = r.reasons.map((x) => x.detail).join('; ');
      setOutcome(r.status === 'approved' ? 'Approved: you can log in now.' : r.status === 'pending_review' ? `Your application waits for review by an admin.${why ? ` (${why})` : ''}` : `Rejected: ${why}`);
    } catch (e) {
      setErrors(fieldErrorsOf(e, FIELDS.map(([k]) => k)));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card apply" onSubmit={submit} aria-labelledby="apply-title" novalidate>
      <h1 id="apply-title">Apply for a kiosk account</h1>
      <div class="grid2">
        {FIELDS.map(([key, label, type]) => {
          const id = `apply-${key.replace('.', '-')}`;
          return (
            <Field key={key} id={id} label={label} error={errors.fields[key]}>
              {(d, inv) => {
                const onInput = (e: preact.TargetedEvent<HTMLInputElement>): void => setValues({ ...values, [key]: e.currentTarget.value });
                return type === 'password' ? (
                  <input id={id} name={key} type="password" autocomplete="new-password" value={values[key] ?? ''} aria-describedby={d} aria-invalid={inv} onInput={onInput} />
                ) : (
                  <input id={id} name={key} type="text" autocomplete="off" value={values[key] ?? ''} aria-describedby={d} aria-invalid={inv} onInput={onInput} />
                );
              }}
            </Field>
          );
        })}
      </div>
      <FormError message={errors.general} />
      <p role="status" aria-live="polite" class="answer">
        {outcome}
      </p>
      <div class="row">
        <button type="submit" class="primary" disabled={busy}>
          Apply
        </button>
        <button type="button" onClick={props.onDone}>
          Back to log in
        </button>
      </div>
    </form>
  );
}
