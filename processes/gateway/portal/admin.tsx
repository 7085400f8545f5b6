// The admin and CEO dashboard (served at /admin), one panel per job, shown by role:
//   admin               KYC review queue, deposits and inventory receipts, product halt/resume
//   operator            product halt/resume
//   analyst, risk_admin, admin   candle chart (when the gateway has market data)
// Every write goes through the gateway's admin endpoints, which check the role again.

import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, logOut, type Account } from './api-client';
import { CandleChart } from './candle-chart';
import { Field, fieldErrorsOf } from './field-errors';
import { LoginForm } from './login-form';
import type { Product } from './product-board';

interface Application {
  readonly applicationId: number;
  readonly username?: string;
  readonly legalName?: string;
  readonly [key: string]: unknown;
}

function Outcome(props: { text: string; error: boolean }): preact.JSX.Element {
  return (
    <p class={props.error ? 'form-error' : 'answer'} role={props.error ? 'alert' : 'status'} aria-live="polite">
      {props.text}
    </p>
  );
}

function KycQueue(): preact.JSX.Element {
  const [apps, setApps] = useState<Application[]>([]);
  const [notes, setNotes] = useState<Record<number, string>>({});
  const [result, setResult] = useState({ text: '', error: false });
  const load = (): void => {
    api<{ applications: Application[] }>('GET', '/v1/admin/kyc-reviews')
      .then((r) => setApps(r.applications))
      .catch((e: Error) => setResult({ text: e.message, error: true }));
  };
  useEffect(load, []);
  const decide = async (a: Application, decision: 'approve' | 'reject'): Promise<void> => {
    const note = (notes[a.applicationId] ?? '').trim();
    if (note === '') return setResult({ text: `Give a reason before you ${decision} application ${a.applicationId}.`, error: true });
    try {
      const r = await api<{ status: string }>('POST', `/v1/admin/kyc-reviews/${a.applicationId}`, { decision, note });
      setResult({ text: `Application ${a.applicationId}: ${r.status}.`, error: false });
      load();
    } catch (e) {
      setResult({ text: fieldErrorsOf(e, []).general, error: true });
    }
  };
  return (
    <section class="card" aria-labelledby="kyc-title">
      <h2 id="kyc-title">KYC review queue</h2>
      {apps.length === 0 && <p class="muted">No application waits for review.</p>}
      <ul class="queue">
        {apps.map((a) => (
          <li key={a.applicationId}>
            <strong>#{a.applicationId}</strong> {a.legalName ?? ''} ({a.username ?? '?'})
            <label for={`note-${a.applicationId}`}>Reason</label>
            <input id={`note-${a.applicationId}`} value={notes[a.applicationId] ?? ''} onInput={(e) => setNotes({ ...notes, [a.applicationId]: e.currentTarget.value })} />
            <button type="button" class="primary" onClick={() => void decide(a, 'approve')}>
              Approve
            </button>
            <button type="button" class="danger" onClick={() => void decide(a, 'reject')}>
              Reject
            </button>
          </li>
        ))}
      </ul>
      <Outcome {...result} />
    </section>
  );
}

/** A deposit (cash) or an inventory receipt (stock) for one account, with a unique reference. */
function Movement(props: { kind: 'deposit' | 'receipt' }): preact.JSX.Element {
  const isDeposit = props.kind === 'deposit';
  const keys = isDeposit ? ['accountId', 'amount', 'reference'] : ['accountId', 'symbol', 'quantity', 'reference'];
  const labels: Record<string, string> = { accountId: 'Account id', amount: 'Amount', reference: 'Reference number', symbol: 'Product', quantity: 'Quantity' };
  const [values, setValues] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<{ fields: Record<string, string>; general: string }>({ fields: {}, general: '' });
  const [done, setDone] = useState('');
  const submit = async (ev: Event): Promise<void> => {
    ev.preventDefault();
    const num = (k: string): number | string => (Number.isSafeInteger(Number(values[k])) && (values[k] ?? '') !== '' ? Number(values[k]) : values[k] ?? '');
    const body = isDeposit ? { accountId: num('accountId'), amount: (values['amount'] ?? '').trim(), reference: num('reference') } : { accountId: num('accountId'), symbol: (values['symbol'] ?? '').trim(), quantity: num('quantity'), reference: num('reference') };
    try {
      const r = await api<{ command: string; sourceSeq: number }>('POST', isDeposit ? '/v1/admin/deposits' : '/v1/admin/inventory-receipts', body);
      setErrors({ fields: {}, general: '' });
      setDone(`${r.command} submitted (sequence ${r.sourceSeq}).`);
    } catch (e) {
      setDone('');
      setErrors(fieldErrorsOf(e, keys));
    }
  };
  const title = isDeposit ? 'Deposit cash' : 'Receive inventory';
  return (
    <form class="card" onSubmit={submit} aria-label={title} novalidate>
      <h2>{title}</h2>
      {keys.map((k) => {
        const id = `${props.kind}-${k}`;
        return (
          <Field key={k} id={id} label={labels[k]!} error={errors.fields[k]}>
            {(d, inv) => <input id={id} value={values[k] ?? ''} aria-describedby={d} aria-invalid={inv} onInput={(e) => setValues({ ...values, [k]: e.currentTarget.value })} />}
          </Field>
        );
      })}
      {errors.general !== '' && (
        <p class="form-error" role="alert">
          {errors.general}
        </p>
      )}
      <button type="submit" class="primary">
        Submit
      </button>
      <Outcome text={done} error={false} />
    </form>
  );
}

function ProductHalts(): preact.JSX.Element {
  const [products, setProducts] = useState<Product[]>([]);
  const [result, setResult] = useState({ text: '', error: false });
  const load = (): void => {
    api<{ products: Product[] }>('GET', '/v1/admin/products')
      .then((r) => setProducts(r.products))
      .catch((e: Error) => setResult({ text: e.message, error: true }));
  };
  useEffect(load, []);
  const toggle = async (p: Product): Promise<void> => {
    const action = p.halted ? 'resume' : 'halt';
    try {
      await api('POST', `/v1/admin/products/${encodeURIComponent(p.symbol)}/${action}`);
      setResult({ text: `${p.symbol}: ${action} submitted.`, error: false });
      load();
    } catch (e) {
      setResult({ text: fieldErrorsOf(e, []).general, error: true });
    }
  };
  return (
    <section class="card" aria-labelledby="halts-title">
      <h2 id="halts-title">Products</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Product</th>
            <th scope="col">Brand</th>
            <th scope="col">State</th>
            <th scope="col">Action</th>
          </tr>
        </thead>
        <tbody>
          {products.map((p) => (
            <tr key={p.symbol}>
              <td>{p.symbol}</td>
              <td>{p.brand}</td>
              <td>{p.halted ? 'halted' : 'trading'}</td>
              <td>
                <button type="button" class={p.halted ? 'primary' : 'danger'} onClick={() => void toggle(p)}>
                  {p.halted ? `Resume ${p.symbol}` : `Halt ${p.symbol}`}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <Outcome {...result} />
    </section>
  );
}

function Dashboard(props: { account: Account; onLogOut: () => void }): preact.JSX.Element {
  const role = props.account.role;
  const [symbols, setSymbols] = useState<string[]>([]);
  useEffect(() => {
    api<{ products: Product[] }>('GET', '/v1/products')
      .then((r) => setSymbols(r.products.map((p) => p.symbol)))
      .catch(() => setSymbols([]));
  }, []);
  return (
    <div class="layout">
      <header class="topbar">
        <span class="brand">IMS dashboard</span>
        <span>
          {props.account.username} · {role}
        </span>
        <button type="button" onClick={props.onLogOut}>
          Log out
        </button>
      </header>
      <main class="admin-grid">
        {role === 'colleague' && <p class="note">This dashboard is for staff. Colleagues trade on the kiosk page (/).</p>}
        {role === 'admin' && <KycQueue />}
        {role === 'admin' && <Movement kind="deposit" />}
        {role === 'admin' && <Movement kind="receipt" />}
        {(role === 'admin' || role === 'operator') && <ProductHalts />}
        {role !== 'colleague' && <CandleChart symbols={symbols} />}
      </main>
    </div>
  );
}

function Admin(): preact.JSX.Element {
  const [account, setAccount] = useState<Account | null>(null);
  if (account === null) {
    return (
      <main class="center">
        <LoginForm title="IMS dashboard — staff log in" onLoggedIn={setAccount} />
      </main>
    );
  }
  return <Dashboard account={account} onLogOut={() => void logOut().finally(() => setAccount(null))} />;
}

render(<Admin />, document.getElementById('app')!);
