// The order ticket: inflow or outflow, price, quantity, time in force. The gateway validates
// everything (tick, lot, risk); the ticket only shows its answer, each error next to its field.

import { useEffect, useState } from 'preact/hooks';
import { api } from './api-client';
import { Field, fieldErrorsOf } from './field-errors';
import type { Order } from './open-orders';
import type { Product } from './product-board';

const TICKET_FIELDS = ['symbol', 'side', 'price', 'quantity', 'timeInForce'] as const;

export function OrderTicket(props: { products: readonly Product[]; symbol: string; onSymbol: (s: string) => void; onPlaced: (o: Order) => void }): preact.JSX.Element {
  const [side, setSide] = useState<'inflow' | 'outflow'>('inflow');
  const [price, setPrice] = useState('');
  const [quantity, setQuantity] = useState('');
  const [tif, setTif] = useState('GTC');
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<{ fields: Record<string, string>; general: string }>({ fields: {}, general: '' });
  const [answer, setAnswer] = useState('');
  const product = props.products.find((p) => p.symbol === props.symbol);

  useEffect(() => setErrors({ fields: {}, general: '' }), [props.symbol]);

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
