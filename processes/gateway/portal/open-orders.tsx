// The colleague's open orders, each with update (new price and/or quantity) and remove. The list is
// read from GET /v1/transact?status=open when the kiosk starts and from the stream's orders message
// on every (re)connection (kiosk.tsx) — both answered by the product manager, so orders placed
// before a restart or at another kiosk are there — and kept current by the stream's execution reports.

import { useState } from 'preact/hooks';
import { api } from './api-client';
import { Field, fieldErrorsOf } from './field-errors';

export interface Order {
  readonly id: string;
  readonly clientOrderId?: string;
  readonly symbol: string;
  readonly side: 'inflow' | 'outflow';
  readonly price: string;
  readonly quantity: number;
  readonly timeInForce: string;
  readonly creationTime: number;
  readonly filledQuantity: number;
  readonly remainingQuantity: number;
  readonly status: string;
  readonly lastPrice?: string;
  readonly lastQuantity?: number;
  readonly reason?: string;
}

export const OPEN_STATUSES: ReadonlySet<string> = new Set(['added', 'partially_filled', 'updated']);

function OrderRow(props: { order: Order; onChanged: (o: Order) => void }): preact.JSX.Element {
  const o = props.order;
  const [editing, setEditing] = useState(false);
  const [price, setPrice] = useState(o.price);
  const [quantity, setQuantity] = useState(String(o.quantity));
  const [errors, setErrors] = useState<{ fields: Record<string, string>; general: string }>({ fields: {}, general: '' });
  const [busy, setBusy] = useState(false);

  const run = async (fn: () => Promise<Order>): Promise<void> => {
    setBusy(true);
    try {
      const next = await fn();
      setErrors({ fields: {}, general: '' });
      setEditing(false);
      props.onChanged(next);
    } catch (e) {
      setErrors(fieldErrorsOf(e, ['price', 'quantity']));
    } finally {
      setBusy(false);
    }
  };
  const update = (ev: Event): void => {
    ev.preventDefault();
    const changes: Record<string, unknown> = {};
    if (price.trim() !== o.price) changes['price'] = price.trim();
    if (quantity.trim() !== String(o.quantity)) changes['quantity'] = Number.isSafeInteger(Number(quantity)) ? Number(quantity) : quantity;
    void run(() => api<Order>('PATCH', `/v1/transact/${o.id}`, changes));
  };
  const remove = (): void => void run(() => api<Order>('DELETE', `/v1/transact/${o.id}`));

  return (
    <li class="order" data-order-id={o.id}>
      <div class="order-summary">
        <span class={`side-tag ${o.side}`}>{o.side}</span>
        <strong>{o.symbol}</strong>
        <span>
          {o.remainingQuantity} of {o.quantity} @ {o.price}
        </span>
        <span class="muted">{o.status.replace('_', ' ')}</span>
        <span class="actions">
          <button type="button" onClick={() => setEditing(!editing)} aria-expanded={editing} aria-controls={`edit-${o.id}`}>
            Update
          </button>
          <button type="button" class="danger" onClick={remove} disabled={busy} aria-label={`Remove order ${o.id} (${o.side} ${o.symbol})`}>
            Remove
          </button>
        </span>
      </div>
      {editing && (
        <form id={`edit-${o.id}`} class="order-edit" onSubmit={update} aria-label={`Update order ${o.id}`} novalidate>
          <Field id={`edit-${o.id}-price`} label="New price" error={errors.fields['price']}>
            {(d, inv) => <input id={`edit-${o.id}-price`} inputMode="decimal" value={price} aria-describedby={d} aria-invalid={inv} onInput={(e) => setPrice(e.currentTarget.value)} />}
          </Field>
          <Field id={`edit-${o.id}-quantity`} label="New total quantity" error={errors.fields['quantity']}>
            {(d, inv) => <input id={`edit-${o.id}-quantity`} inputMode="numeric" value={quantity} aria-describedby={d} aria-invalid={inv} onInput={(e) => setQuantity(e.currentTarget.value)} />}
          </Field>
          <button type="submit" class="primary" disabled={busy}>
            Save
          </button>
        </form>
      )}
      {errors.general !== '' && (
        <p class="form-error" role="alert">
          {errors.general}
        </p>
      )}
    </li>
  );
}

export function OpenOrders(props: { orders: readonly Order[]; onChanged: (o: Order) => void }): preact.JSX.Element {
  return (
    <section class="card orders" aria-labelledby="orders-title">
      <h2 id="orders-title">Open orders</h2>
      {props.orders.length === 0 ? (
        <p class="muted">No open orders.</p>
      ) : (
        <ul class="order-list">
          {props.orders.map((o) => (
            <OrderRow key={o.id} order={o} onChanged={props.onChanged} />
          ))}
        </ul>
      )}
    </section>
  );
}
