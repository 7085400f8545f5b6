// Risk rules editor (risk_admin): sets or removes one rule through PUT /v1/admin/risk-rules — a
// kind, a limit, and optionally one account and/or one brand (absent: every account, every
// brand). The gateway checks the body and answers 202 "submitted"; the product manager applies the
// sequenced rule to every order after it. Errors are shown next to the field they are about.
//
// The gateway has no endpoint that lists the rules in force (they live in the product manager's
// state), so the list below is the rules set from this page since it was opened, each with the
// sequence number the gateway gave its command.

import { useState } from 'preact/hooks';
import { api } from './api-client';
import { formErrorsOf, NO_ERRORS, Outcome, type FormErrors } from './dashboard-forms';
import { Field } from './field-errors';

export const RULE_KINDS: ReadonlyArray<{ readonly kind: string; readonly label: string; readonly unit: string }> = [
  { kind: 'brand_daily_units', label: 'Units per brand per day', unit: 'units' },
  { kind: 'notional_daily', label: 'Notional per day', unit: 'currency amount' },
  { kind: 'max_order_quantity', label: 'Largest order quantity', unit: 'units' },
  { kind: 'price_collar_bps', label: 'Price collar', unit: 'basis points' },
  { kind: 'max_open_orders', label: 'Open orders at once', unit: 'orders' },
];

const CODE_FIELDS: ReadonlyArray<readonly [RegExp, string]> = [
  [/limit/, 'limit'],
  [/brand/, 'brand'],
  [/account/, 'accountId'],
  [/kind/, 'kind'],
];
const FIELDS = ['kind', 'limit', 'accountId', 'brand'];

interface SetRule {
  readonly kind: string;
  readonly limit: string | null;
  readonly scope: string;
  readonly sourceSeq: number;
}

export function RiskRulesEditor(props: { brands: readonly string[] }): preact.JSX.Element {
  const [kind, setKind] = useState(RULE_KINDS[0]!.kind);
  const [limit, setLimit] = useState('');
  const [remove, setRemove] = useState(false);
  const [accountId, setAccountId] = useState('');
  const [brand, setBrand] = useState('');
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [done, setDone] = useState('');
  const [rules, setRules] = useState<SetRule[]>([]);
  const unit = RULE_KINDS.find((k) => k.kind === kind)!.unit;

  const submit = async (ev: Event): Promise<void> => {
    ev.preventDefault();
    const body: Record<string, unknown> = { kind, limit: remove ? null : limit.trim() };
    const account = accountId.trim();
    if (account !== '') body['accountId'] = /^[0-9]+$/.test(account) ? Number(account) : account;
    if (brand !== '') body['brand'] = brand;
    try {
      const r = await api<{ command: string; sourceSeq: number }>('PUT', '/v1/admin/risk-rules', body);
      setErrors(NO_ERRORS);
      const scope = `${account === '' || account === '0' ? 'every account' : `account ${account}`}, ${brand === '' ? 'every brand' : brand}`;
      setDone(`${remove ? 'Removal' : 'Rule'} submitted (sequence ${r.sourceSeq}).`);
      setRules((old) => [{ kind, limit: remove ? null : limit.trim(), scope, sourceSeq: r.sourceSeq }, ...old.filter((x) => !(x.kind === kind && x.scope === scope))]);
    } catch (e) {
      setDone('');
      setErrors(formErrorsOf(e, CODE_FIELDS, FIELDS));
    }
  };

  return (
    <section class="card" aria-labelledby="risk-title">
      <h2 id="risk-title">Risk rules</h2>
      <form onSubmit={submit} aria-label="Set a risk rule" novalidate>
        <div class="grid2">
          <Field id="risk-kind" label="Rule" error={errors.fields['kind']}>
            {(d, inv) => (
              <select id="risk-kind" value={kind} aria-describedby={d} aria-invalid={inv} onChange={(e) => setKind(e.currentTarget.value)}>
                {RULE_KINDS.map((k) => (
                  <option key={k.kind} value={k.kind}>
                    {k.label}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field id="risk-limit" label={`Limit (${unit})`} error={errors.fields['limit']}>
            {(d, inv) => <input id="risk-limit" inputMode="decimal" value={limit} disabled={remove} aria-describedby={d} aria-invalid={inv} onInput={(e) => setLimit(e.currentTarget.value)} />}
          </Field>
          <Field id="risk-account" label="Account id (empty: every account)" error={errors.fields['accountId']}>
            {(d, inv) => <input id="risk-account" inputMode="numeric" value={accountId} aria-describedby={d} aria-invalid={inv} onInput={(e) => setAccountId(e.currentTarget.value)} />}
          </Field>
          <Field id="risk-brand" label="Brand" error={errors.fields['brand']}>
            {(d, inv) => (
              <select id="risk-brand" value={brand} aria-describedby={d} aria-invalid={inv} onChange={(e) => setBrand(e.currentTarget.value)}>
                <option value="">every brand</option>
                {props.brands.map((b) => (
                  <option key={b} value={b}>
                    {b}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </div>
        <label class={remove ? 'toggle on' : 'toggle'}>
          <input type="checkbox" checked={remove} onChange={(e) => setRemove(e.currentTarget.checked)} /> Remove this rule instead
        </label>
        {errors.general !== '' && (
          <p class="form-error" role="alert">
            {errors.general}
          </p>
        )}
        <button type="submit" class="primary">
          Set rule
        </button>
        <Outcome text={done} error={false} />
      </form>
      <h3>Set from this page</h3>
      <p class="muted small">The product manager holds the rules in force; no endpoint lists them yet, so this list shows the rules set here since the page opened.</p>
      {rules.length === 0 ? (
        <p class="muted">None yet.</p>
      ) : (
        <table class="rules">
          <thead>
            <tr>
              <th scope="col">Rule</th>
              <th scope="col">Limit</th>
              <th scope="col">Applies to</th>
              <th scope="col" class="num">
                Sequence
              </th>
            </tr>
          </thead>
          <tbody>
            {rules.map((r) => (
              <tr key={`${r.kind}/${r.scope}`}>
                <td>{RULE_KINDS.find((k) => k.kind === r.kind)?.label ?? r.kind}</td>
                <td>{r.limit ?? 'removed'}</td>
                <td>{r.scope}</td>
                <td class="num">{r.sourceSeq}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
