// The admin and CEO dashboard (served at /admin), one panel per job, shown by role:
//   every staff role   candles with volume (1m … 1mo, live), trade tape, top movers
//   admin, operator, analyst (the CEO)   system status, live
//   admin              KYC review queue, accounts, deposits and inventory receipts, product
//                      listing, product halt/resume
//   risk_admin         risk rules, accounts
//   operator           product halt/resume
// A colleague who opens /admin is told to use the kiosk; the page calls no staff endpoint for
// them. Every write goes through the gateway's admin endpoints, which check the role again.

import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, logOut, type Account } from './api-client';
import { CandleChart } from './candle-chart';
import { AccountControls, RoleControls } from './dashboard-accounts';
import { Outcome } from './dashboard-forms';
import { LiveChannels } from './dashboard-market-data';
import { TradeTape } from './dashboard-trade-tape';
import { Field, fieldErrorsOf } from './field-errors';
import { LoginForm } from './login-form';
import { ProductListingForm } from './product-listing-form';
import { RiskRulesEditor } from './risk-rules-editor';
import type { StreamState } from './stream-client';
import { SystemStatusPanel } from './system-status-panel';
import { TopMovers } from './top-movers';

/** What the dashboard reads of GET /v1/products and /v1/admin/products. */
interface Product {
  readonly symbol: string;
  readonly brand: string;
  readonly halted?: boolean;
}

interface Application {
  readonly applicationId: number;
  readonly username: string;
  readonly legalName: string;
  readonly role?: string;
  readonly outletId?: number;
  readonly dateOfBirth?: string;
  readonly reasons?: ReadonlyArray<{ code: string; detail: string }>;
}

/** New applications are looked for this often while the queue is open. */
const KYC_REFRESH_MS = 5_000;

function KycQueue(): preact.JSX.Element {
  const [apps, setApps] = useState<Application[]>([]);
  const [notes, setNotes] = useState<Record<number, string>>({});
  const [result, setResult] = useState({ text: '', error: false });
  const load = (): void => {
    api<{ applications: Application[] }>('GET', '/v1/admin/kyc-reviews')
      .then((r) => setApps(r.applications))
      .catch((e: Error) => setResult({ text: e.message, error: true }));
  };
  useEffect(() => {
    load();
    const timer = setInterval(load, KYC_REFRESH_MS);
    return () => clearInterval(timer);
  }, []);
  const decide = async (a: Application, decision: 'approve' | 'reject'): Promise<void> => {
    const note = (notes[a.applicationId] ?? '').trim();
    if (note === '') return setResult({ text: `Give a reason before you ${decision} application ${a.applicationId}.`, error: true });
    try {
      const r = await api<{ status: string; accountId: number | null }>('POST', `/v1/admin/kyc-reviews/${a.applicationId}`, { decision, note });
      setResult({ text: `Application ${a.applicationId} (${a.username}): ${r.status}${r.accountId === null ? '' : `, account ${r.accountId}`}.`, error: false });
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
          <li key={a.applicationId} data-application={a.applicationId}>
            <div class="applicant">
              <strong>#{a.applicationId}</strong> {a.legalName} ({a.username}
              {a.role !== undefined ? `, ${a.role}` : ''}
              {a.outletId ? `, outlet ${a.outletId}` : ''})
              {(a.reasons ?? []).map((r) => (
                <span key={r.code} class="badge warn" title={r.detail}>
                  {r.code}
                </span>
              ))}
            </div>
            <label for={`note-${a.applicationId}`}>Reason for {a.username}</label>
            <input id={`note-${a.applicationId}`} value={notes[a.applicationId] ?? ''} onInput={(e) => setNotes({ ...notes, [a.applicationId]: e.currentTarget.value })} />
            <button type="button" class="primary" onClick={() => void decide(a, 'approve')}>
              Approve {a.username}
            </button>
            <button type="button" class="danger" onClick={() => void decide(a, 'reject')}>
              Reject {a.username}
            </button>
          </li>
        ))}
      </ul>
      <button type="button" onClick={load}>
        Refresh queue
      </button>
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
    <section class="card halts" aria-labelledby="halts-title">
      <h2 id="halts-title">Products</h2>
      <div class="scroll" tabIndex={0} role="region" aria-label="Product list (scrolls)">
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
      </div>
      <Outcome {...result} />
    </section>
  );
}

type Panel = 'market' | 'status' | 'kyc' | 'accounts' | 'roles' | 'money' | 'listing' | 'halts' | 'risk';

/** Which panels each role sees; the gateway enforces the same split on every endpoint. */
export const PANELS_BY_ROLE: Readonly<Record<string, readonly Panel[]>> = {
  admin: ['market', 'status', 'kyc', 'accounts', 'roles', 'money', 'listing', 'halts'],
  risk_admin: ['market', 'risk', 'accounts'],
  operator: ['market', 'status', 'halts'],
  analyst: ['market', 'status'],
  colleague: [],
};

function StaffDashboard(props: { panels: readonly Panel[] }): preact.JSX.Element {
  const has = (p: Panel): boolean => props.panels.includes(p);
  const [products, setProducts] = useState<Product[]>([]);
  const [symbol, setSymbol] = useState('');
  const [liveState, setLiveState] = useState<StreamState>('connecting');
  const live = useMemo(() => new LiveChannels(setLiveState), []);
  useEffect(() => {
    live.start();
    return () => live.stop();
  }, [live]);
  const loadProducts = (): void => {
    api<{ products: Product[] }>('GET', '/v1/products')
      .then((r) => setProducts(r.products))
      .catch(() => setProducts([]));
  };
  useEffect(loadProducts, []);
  const symbols = useMemo(() => products.map((p) => p.symbol), [products]);
  const brands = useMemo(() => [...new Set(products.map((p) => p.brand))].sort(), [products]);
  const chosen = symbol || symbols[0] || '';
  return (
    <main class="admin-grid">
      <p class={`conn ${liveState}`} role="status">
        live: {liveState}
      </p>
      {has('status') && <SystemStatusPanel />}
      {has('market') && <CandleChart symbols={symbols} live={live} symbol={chosen} onSymbolChange={setSymbol} />}
      {has('market') && chosen !== '' && <TradeTape symbol={chosen} live={live} />}
      {has('market') && <TopMovers symbols={symbols} onPick={setSymbol} />}
      {has('kyc') && <KycQueue />}
      {has('accounts') && <AccountControls />}
      {has('roles') && <RoleControls />}
      {has('risk') && <RiskRulesEditor brands={brands} />}
      {has('money') && <Movement kind="deposit" />}
      {has('money') && <Movement kind="receipt" />}
      {has('listing') && <ProductListingForm onListed={loadProducts} />}
      {has('halts') && <ProductHalts />}
    </main>
  );
}

function Dashboard(props: { account: Account; onLogOut: () => void }): preact.JSX.Element {
  const role = props.account.role;
  const panels = PANELS_BY_ROLE[role] ?? [];
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
      {panels.length === 0 ? (
        <main class="center">
          <p class="note" role="status">
            This dashboard is for staff. Colleagues trade on the kiosk page: <a href="/">open the kiosk</a>.
          </p>
        </main>
      ) : (
        <StaffDashboard panels={panels} />
      )}
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
