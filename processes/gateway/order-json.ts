// Orders and execution reports as the API shows them: the seed's body (id, creationTime,
// filledQuantity, remainingQuantity, status in the seed's vocabulary) plus the input fields, with
// prices as decimal strings and times as epoch milliseconds.

import { CANCEL_REASON_NAMES, REJECT_REASON_NAMES, Side, TimeInForce } from '../../bus/enums';
import { OrderStatus } from '../../bus/schema';
import { formatDecimalPrice } from './decimal-price';
import type { TrackedOrder } from './order-view';
import type { ExecutionReportValue } from './pm-link';
import type { ProductCatalog } from './product-catalog';

export const STATUS_TEXT: Readonly<Record<number, string>> = {
  [OrderStatus.NEW]: 'added',
  [OrderStatus.PARTIALLY_FILLED]: 'partially_filled',
  [OrderStatus.FILLED]: 'filled',
  [OrderStatus.REPLACED]: 'updated',
  [OrderStatus.CANCELED]: 'removed',
  [OrderStatus.REJECTED]: 'rejected',
  [OrderStatus.EXPIRED]: 'expired',
};

const TIF_TEXT: Readonly<Record<number, string>> = { [TimeInForce.GTC]: 'GTC', [TimeInForce.DAY]: 'DAY', [TimeInForce.IOC]: 'IOC', [TimeInForce.FOK]: 'FOK' };

/** The JSON object of an order. Works for a TrackedOrder and for a fresh ExecutionReport. */
export interface OrderJson {
  id: string;
  clientOrderId?: string;
  symbol: string;
  side: 'inflow' | 'outflow';
  price: string;
  quantity: number;
  timeInForce: string;
  postOnly?: boolean;
  creationTime: number;
  filledQuantity: number;
  remainingQuantity: number;
  status: string;
  lastPrice?: string;
  lastQuantity?: number;
  reason?: string;
}

type OrderFields = Pick<
  TrackedOrder,
  'orderId' | 'productId' | 'side' | 'price' | 'quantity' | 'filledQuantity' | 'remainingQuantity' | 'status' | 'timeInForce' | 'clientOrderId' | 'creationTimeUs' | 'lastPrice' | 'lastQuantity' | 'reason'
>;

export function orderJson(o: OrderFields, catalog: ProductCatalog, postOnly: boolean | undefined): OrderJson {
  const decimals = catalog.priceDecimals;
  const out: OrderJson = {
    id: String(o.orderId),
    symbol: catalog.byProductId(o.productId)?.symbol ?? `#${o.productId}`,
    side: o.side === Side.OUTFLOW ? 'outflow' : 'inflow',
    price: formatDecimalPrice(o.price, decimals),
    quantity: o.quantity,
    timeInForce: TIF_TEXT[o.timeInForce] ?? 'GTC',
    creationTime: Math.floor(o.creationTimeUs / 1000),
    filledQuantity: o.filledQuantity,
    remainingQuantity: o.remainingQuantity,
    status: STATUS_TEXT[o.status] ?? 'unknown',
  };
  if (o.clientOrderId !== '') out.clientOrderId = o.clientOrderId;
  if (postOnly !== undefined) out.postOnly = postOnly;
  if (o.lastQuantity > 0) {
    out.lastPrice = formatDecimalPrice(o.lastPrice, decimals);
    out.lastQuantity = o.lastQuantity;
  }
  const reason = reasonText(o.status, o.reason);
  if (reason !== undefined) out.reason = reason;
  return out;
}

export function reasonText(status: number, reason: number): string | undefined {
  if (reason === 0) return undefined;
  if (status === OrderStatus.REJECTED) return REJECT_REASON_NAMES[reason];
  if (status === OrderStatus.CANCELED || status === OrderStatus.EXPIRED) return CANCEL_REASON_NAMES[reason];
  return undefined;
}

/** The WebSocket push of one execution report (fills of resting orders, expiries, admin cancels). */
export function executionEventJson(r: ExecutionReportValue, catalog: ProductCatalog, postOnly: boolean | undefined): string {
  return JSON.stringify({ type: 'execution', eventSeq: r.eventSeq, execId: r.execId === 0 ? undefined : String(r.execId), eventTime: Math.floor(r.eventTimeUs / 1000), order: orderJson(r, catalog, postOnly) });
}
