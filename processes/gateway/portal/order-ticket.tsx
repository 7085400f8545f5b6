// The order ticket: inflow or outflow, price, quantity, time in force. The gateway validates
// everything (tick, lot, risk); the ticket only shows its answer, each error next to its field.
// Before sending, it shows what the order will reserve — cash of price × quantity for an inflow,
// the units themselves for an outflow — against what the wallet has available, and the brand's
// daily limit left (wallet.brandLimits); computed exactly on decimal strings, never in floats.

import { useEffect, useState } from 'preact/hooks';
import { api } from './api-client';
import { Field, fieldErrorsOf } from './field-errors';
import type { Order } from './open-orders';
import type { Product } from './product-board';
import { brandLimitOf, inventoryOf, type Wallet } from './wallet-panel';

const TICKET_FIELDS = ['symbol', 'side', 'price', 'quantity', 'timeInForce'] as const;
/** Digits accepted on either side of the decimal point in the preview (the gateway checks the rest). */
const PRICE_RE = /^([0-9]{1,12})(?:\.([0-9]{1,8}))?$/;

/** A decimal string as an integer of `decimals` places (null if it is not a plain decimal). */
function scaled(text: string, decimals: number): bigint | null {
  const m = PRICE_RE.exec(text.trim());
  if (m === null || (m[2] ?? '').length > decimals) return null;
  return BigInt(m[1]! + (m[2] ?? '').padEnd(decimals, '0'));
}

function decimalsOf(text: string): number {
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}

function formatScaled(v: bigint, decimals: number): string {
  const s = v.toString().padStart(decimals + 1, '0');
  return decimals === 0 ? s : `${s.slice(0, -decimals)}.${s.slice(-decimals)}`;
}

/** What the order will reserve, in words, and whether the wallet has that much available. */
export function reservePreview(side: 'inflow' | 'outflow', price: string, quantity: string, product: Product | undefined, wallet: Wallet | null): { text: string; short: boolean } {
  const q = Number(quantity.trim());
  if (product === undefined || !Number.isSafeInteger(q) || q <= 0) return { text: 'Enter a quantity to see what the order reserves.', short: false };
  if (side === 'outflow') {
    const held = inventoryOf(wallet, product.symbol);
    const available = held === undefined ? '' : ` (you have ${held.available} available)`;
    return { text: `Reserves ${q} ${product.symbol} from your stock${available}.`, short: held !== undefined && q > held.available };
  }
  const decimals = Math.max(decimalsOf(product.tickSize), decimalsOf(price.trim()), wallet === null ? 0 : decimalsOf(wallet.cash.available));
  const p = scaled(price, decimals);
  if (p === null) return { text: 'Enter a price and quantity to see the cash the order reserves.', short: false };
  const cost = p * BigInt(q);
  const available = wallet === null ? null : scaled(wallet.cash.available, decimals);
  return { text: `Reserves ${formatScaled(cost, decimals)} cash${available === null ? '' : ` (you have ${wallet!.cash.available} available)`}.`, short: available !== null && cost > available };
}

export function OrderTicket(props: {
  products: readonly Product[];
  symbol: string;
  wallet: Wallet | null;
  /** A price offered from elsewhere (a depth-ladder level); `seq` changes with each offer. */
  offer?: { readonly price: string; readonly seq: number };
  onSymbol: (s: string) => void;
  onPlaced: (o: Order) => void;
}): preact.JSX.Element {
  const [side, setSide] = useState<'inflow' | 'outflow'>('inflow');
  const [price, setPrice] = useState('');
  const [quantity, setQuantity] = useState('');
  const [tif, setTif] = useState('GTC');
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<{ fields: Record<string, string>; general: string }>({ fields: {}, general: '' });
  const [answer, setAnswer] = useState('');
  const product = props.products.find((p) => p.symbol === props.symbol);

  useEffect(() => setErrors({ fields: {}, general: '' }), [props.symbol]);
  useEffect(() => {
    if (props.offer !== undefined) setPrice(props.offer.price);
  }, [props.offer?.seq]);
  const preview = reservePreview(side, price, quantity, product, props.wallet);
  const limit = brandLimitOf(props.wallet, product);

  const submit = async (ev: Event): Promise<void> => {
    ev.preventDefault();
    setBusy(true);
    setAnswer('');
    const q = Number(quantity);
    try {
      const o = await api<Order>('POST', '/v1/transact', { symbol: props.symbol, side, price: price.trim(), quantity: Number.isSafeInteger(q) ? q : quantity, timeInForce: tif });
      setErrors({ fields: {}, general: '' });
      setAnswer(`Order ${o.id} ${o.status.replace('_', ' ')}: ${o.side} ${o.quantity} ${o.symbol} at ${o.price} (filled ${o.filledQuantity}).`);
      props.onPlaced(o);
    } catch (e) {
      setErrors(fieldErrorsOf(e, TICKET_FIELDS));
    } finally {
      setBusy(false);
    }
  };

  const f = errors.fields;
  return (
    <form class="card ticket" onSubmit={submit} aria-labelledby="ticket-title" novalidate>
      <h2 id="ticket-title">Order ticket</h2>
      <Field id="ticket-symbol" label="Product" error={f['symbol']}>
        {(d, inv) => (
          <select id="ticket-symbol" value={props.symbol} aria-describedby={d} aria-invalid={inv} onChange={(e) => props.onSymbol(e.currentTarget.value)}>
            {props.products.map((p) => (
              <option key={p.symbol} value={p.symbol}>
                {p.symbol} ({p.brand})
              </option>
            ))}
          </select>
        )}
      </Field>
      <fieldset class="side" aria-describedby={f['side'] !== undefined ? 'ticket-side-error' : undefined}>
        <legend>Side</legend>
        <label class={side === 'inflow' ? 'toggle on' : 'toggle'}>
          <input type="radio" name="side" value="inflow" checked={side === 'inflow'} onChange={() => setSide('inflow')} /> Inflow (add stock)
        </label>
        <label class={side === 'outflow' ? 'toggle on' : 'toggle'}>
          <input type="radio" name="side" value="outflow" checked={side === 'outflow'} onChange={() => setSide('outflow')} /> Outflow (remove stock)
        </label>
        {f['side'] !== undefined && (
          <p class="field-error" id="ticket-side-error" role="alert">
            {f['side']}
          </p>
        )}
      </fieldset>
      <div class="row">
        <Field id="ticket-price" label={product ? `Limit price (tick ${product.tickSize})` : 'Limit price'} error={f['price']}>
          {(d, inv) => <input id="ticket-price" name="price" inputMode="decimal" autocomplete="off" value={price} aria-describedby={d} aria-invalid={inv} onInput={(e) => setPrice(e.currentTarget.value)} />}
        </Field>
        <Field id="ticket-quantity" label={product ? `Quantity (lot ${product.lotSize})` : 'Quantity'} error={f['quantity']}>
          {(d, inv) => <input id="ticket-quantity" name="quantity" inputMode="numeric" autocomplete="off" value={quantity} aria-describedby={d} aria-invalid={inv} onInput={(e) => setQuantity(e.currentTarget.value)} />}
        </Field>
        <Field id="ticket-tif" label="Time in force" error={f['timeInForce']}>
          {(d, inv) => (
            <select id="ticket-tif" value={tif} aria-describedby={d} aria-invalid={inv} onChange={(e) => setTif(e.currentTarget.value)}>
              <option value="GTC">Good till cancelled</option>
              <option value="DAY">Day</option>
              <option value="IOC">Immediate or cancel</option>
              <option value="FOK">Fill or kill</option>
            </select>
          )}
        </Field>
      </div>
      <div class="preview" id="ticket-preview" aria-live="polite">
        <p class={preview.short ? 'note' : undefined} id="ticket-reserve">
          {preview.text}
          {preview.short && ' That is more than you have available.'}
        </p>
        <p id="ticket-brand-limit">
          {limit === undefined
            ? props.wallet === null
              ? 'Brand limit left today: unknown (wallet unavailable).'
              : `Brand limit left today: none reported for ${product?.brand ?? 'this brand'}.`
            : `Brand limit left today (${limit.brand ?? product?.brand ?? 'brand'}): ${limit.leftUnits} of ${limit.limitUnits} units.`}
        </p>
        {props.wallet?.notionalLimit !== undefined && (
          <p id="ticket-notional-limit">
            Value limit left today: {props.wallet.notionalLimit.left} of {props.wallet.notionalLimit.limit}.
          </p>
        )}
      </div>
      {errors.general !== '' && (
        <p class="form-error" role="alert">
          {errors.general}
        </p>
      )}
      <button type="submit" class={side === 'inflow' ? 'primary inflow' : 'primary outflow'} disabled={busy || product === undefined}>
        {busy ? 'Sending…' : side === 'inflow' ? 'Place inflow' : 'Place outflow'}
      </button>
      <p class="answer" role="status" aria-live="polite">
        {answer}
      </p>
    </form>
  );
}
