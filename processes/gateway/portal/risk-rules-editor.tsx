// Risk rules editor (risk_admin): sets or removes one rule through PUT /v1/admin/risk-rules — a
// kind, a limit, and optionally one account and/or one brand (absent: every account, every
// brand). The gateway checks the body and answers 202 "submitted"; the product manager applies the
// sequenced rule to every order after it. Errors are shown next to the field they are about.
//
// The rules in force are listed from GET /v1/admin/risk-rules (the product manager's own table:
// the built-in defaults, marked, and every rule set, by anyone), read when the page opens, after
// each change once it is sequenced, and on demand.

import { useEffect, useState } from 'preact/hooks';
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

/** One rule of GET /v1/admin/risk-rules. */
interface RuleInForce {
  readonly kind: string;
  readonly limit: string;
  readonly unit: string;
  readonly accountId: number | null;
  readonly brand: string | null;
  readonly brandId: number | null;
  readonly default: boolean;
}

/**
 * After a change the list is read again every RELOAD_AFTER_CHANGE_MS until it shows a difference
 * (the command is sequenced a moment after the 202), at most RELOAD_ATTEMPTS times.
 */
const RELOAD_AFTER_CHANGE_MS = 400;
const RELOAD_ATTEMPTS = 8;

function scopeText(r: RuleInForce): string {
  const who = r.accountId === null ? 'every account' : `account ${r.accountId}`;
  const brand = r.brandId === null ? 'every brand' : (r.brand ?? `brand #${r.brandId}`);
  return `${who}, ${brand}`;
}

export function RiskRulesEditor(props: { brands: readonly string[] }): preact.JSX.Element {
  const [kind, setKind] = useState(RULE_KINDS[0]!.kind);
  const [limit, setLimit] = useState('');
  const [remove, setRemove] = useState(false);
  const [accountId, setAccountId] = useState('');
  const [brand, setBrand] = useState('');
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [done, setDone] = useState('');
  const [rules, setRules] = useState<readonly RuleInForce[] | null>(null);
  const [listError, setListError] = useState('');
  const unit = RULE_KINDS.find((k) => k.kind === kind)!.unit;

  /** Reads the list; resolves to its JSON text (to tell whether a change has arrived). */
  const load = (): Promise<string> =>
    api<{ rules: RuleInForce[] }>('GET', '/v1/admin/risk-rules')
      .then((r) => {
        setRules(r.rules);
        setListError('');
        return JSON.stringify(r.rules);
      })
      .catch((e: Error) => {
        setListError(e.message);
        return '';
      });
  useEffect(() => void load(), []);
  const reloadUntilChanged = (before: string, attempts: number): void => {
    setTimeout(() => {
      void load().then((now) => {
        if (now === before && attempts > 1) reloadUntilChanged(before, attempts - 1);
      });
    }, RELOAD_AFTER_CHANGE_MS);
  };

  const submit = async (ev: Event): Promise<void> => {
    ev.preventDefault();
    const body: Record<string, unknown> = { kind, limit: remove ? null : limit.trim() };
    const account = accountId.trim();
    if (account !== '') body['accountId'] = /^[0-9]+$/.test(account) ? Number(account) : account;
    if (brand !== '') body['brand'] = brand;
    try {
      const r = await api<{ command: string; sourceSeq: number }>('PUT', '/v1/admin/risk-rules', body);
      setErrors(NO_ERRORS);
      setDone(`${remove ? 'Removal' : 'Rule'} submitted (sequence ${r.sourceSeq}).`);
      reloadUntilChanged(JSON.stringify(rules), RELOAD_ATTEMPTS);
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
      <h3 id="risk-list-title">Rules in force</h3>
      <button type="button" onClick={() => void load()}>
        Refresh
      </button>
      {listError !== '' && (
        <p class="form-error" role="alert">
          {listError}
        </p>
      )}
      {rules === null ? (
        <p class="muted">Loading…</p>
      ) : (
        <>
          {rules.some((r) => !r.default) ? <RuleTable rules={rules.filter((r) => !r.default)} tableClass="rules" label="Rules set" /> : <p class="muted">No rule set: the built-in defaults apply everywhere.</p>}
          <h4 id="risk-defaults-title">Built-in defaults (wherever no rule of the kind applies)</h4>
          <RuleTable rules={rules.filter((r) => r.default)} tableClass="rule-defaults" label="Built-in defaults" />
        </>
      )}
    </section>
  );
}

function RuleTable(props: { rules: readonly RuleInForce[]; tableClass: string; label: string }): preact.JSX.Element {
  return (
    <table class={props.tableClass} aria-label={props.label}>
      <thead>
        <tr>
          <th scope="col">Rule</th>
          <th scope="col">Limit</th>
          <th scope="col">Applies to</th>
        </tr>
      </thead>
      <tbody>
        {props.rules.map((r) => (
          <tr key={`${r.kind}/${scopeText(r)}`}>
            <td>{RULE_KINDS.find((k) => k.kind === r.kind)?.label ?? r.kind}</td>
            <td>
              {r.limit} {RULE_KINDS.find((k) => k.kind === r.kind)?.unit ?? r.unit}
            </td>
            <td>{scopeText(r)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
