// Placing, updating and removing orders: the steps REST and the WebSocket share, from a
// schema-valid request to a command on the product-manager ring with a waiter for its reply.
//
//   role (only colleagues trade) -> orders/s of the account -> normalization (symbol, side, price
//   on tick, quantity on lot) -> ownership and state from this gateway's order view -> a slot in
//   the pending table (503 when full) -> the command on the ring (503 when back-pressured)
//
// Every check that can fail runs before the slot is taken and the command written, so nothing
// invalid reaches the product manager.

import type { Principal } from '../accounts/principal';
import { RejectReason } from '../../bus/enums';
import { OrderStatus } from '../../bus/schema';
import { ApiFailure, failure, ORDER_NOT_FOUND } from './api-failure';
import type { AmendOrderBody, PlaceOrderBody } from './api-schemas';
import type { GatewayServices } from './gateway-services';
import { normalizeAmend, normalizePlace } from './order-normalization';
import { orderJson, type OrderJson } from './order-json';
import { isOpenStatus, type TrackedOrder } from './order-view';
import { NO_SLOT, type PendingWaiter } from './pending-requests';
import type { ExecutionReportValue } from './pm-link';
import { rejectFailure } from './reject-reasons';

const ONLY_COLLEAGUES = failure(403, 'forbidden', 'only colleague accounts trade; staff accounts cannot place, update or remove orders');
const TOO_MANY_IN_FLIGHT = failure(503, 'overloaded', 'the gateway has too many requests waiting for the exchange; retry shortly (with the same clientOrderId for a new order)', 1);
const RING_FULL = failure(503, 'overloaded', 'the exchange is not keeping up; retry shortly (with the same clientOrderId for a new order)', 1);

function tradingAllowed(s: GatewayServices, principal: Principal, nowMs: number): ApiFailure | null {
  if (principal.role !== 'colleague') return ONLY_COLLEAGUES;
  return s.gatekeeper.order(principal.accountId, nowMs);
}

function dispatch(s: GatewayServices, waiter: PendingWaiter, nowMs: number, accountId: number, orderId: number, write: (requestId: number) => boolean): ApiFailure | null {
  const requestId = s.pending.reserve(waiter, nowMs, accountId, orderId);
  if (requestId === NO_SLOT) return TOO_MANY_IN_FLIGHT;
  if (!write(requestId)) {
    s.pending.cancel(requestId);
    return RING_FULL;
  }
  s.poller.requestSent();
  return null;
}

/** Writes a NewOrder; null when the waiter will be answered, else the failure to answer now. */
export function submitPlace(s: GatewayServices, principal: Principal, body: PlaceOrderBody, waiter: PendingWaiter): ApiFailure | null {
  const nowMs = Date.now();
  const denied = tradingAllowed(s, principal, nowMs);
  if (denied !== null) return denied;
  const command = normalizePlace(body, s.catalog);
  if (command instanceof ApiFailure) return command;
  waiter.postOnly = body.postOnly === true;
  return dispatch(s, waiter, nowMs, principal.accountId, 0, (requestId) => s.link.sendNewOrder(requestId, principal.accountId, command));
}

/** Parses an order id from the path: a positive safe integer, else the order cannot be ours. */
export function parseOrderId(text: string): number {
  const id = Number(text);
  return Number.isSafeInteger(id) && id > 0 ? id : 0;
}

/**
 * The order as this gateway knows it, when it is the principal's; ORDER_NOT_FOUND when it is
 * someone else's (never confirming that it exists); undefined when this gateway has not seen it.
 */
function ownOrder(s: GatewayServices, principal: Principal, orderId: number): TrackedOrder | ApiFailure | undefined {
  if (orderId === 0) return ORDER_NOT_FOUND;
  const o = s.orders.get(orderId);
  if (o === undefined) return undefined;
  if (o.accountId !== principal.accountId) return ORDER_NOT_FOUND;
  return o;
}

/** A finished order cannot change: answer from the view (a finished state never changes back). */
function finishedFailure(o: TrackedOrder): ApiFailure | null {
  if (isOpenStatus(o.status) && o.remainingQuantity > 0) return null;
  if (o.status === OrderStatus.FILLED || (o.remainingQuantity === 0 && o.filledQuantity === o.quantity)) return rejectFailure(RejectReason.ALREADY_FILLED);
  if (o.status === OrderStatus.EXPIRED) return rejectFailure(RejectReason.ALREADY_EXPIRED);
  return rejectFailure(RejectReason.ALREADY_CANCELED);
}

export function submitAmend(s: GatewayServices, principal: Principal, orderIdText: string, body: AmendOrderBody, waiter: PendingWaiter): ApiFailure | null {
  const nowMs = Date.now();
  const denied = tradingAllowed(s, principal, nowMs);
  if (denied !== null) return denied;
  const orderId = parseOrderId(orderIdText);
  const known = ownOrder(s, principal, orderId);
  if (known instanceof ApiFailure) return known;
  if (known !== undefined) {
    const finished = finishedFailure(known);
    if (finished !== null) return finished;
  }
  const product = known === undefined ? undefined : s.catalog.byProductId(known.productId);
  const amend = normalizeAmend(body, product, s.catalog.priceDecimals);
  if (amend instanceof ApiFailure) return amend;
  if (known !== undefined) {
    // AmendOrder carries both values: what the client left out stays as the order has it.
    if (amend.newPrice === 0) amend.newPrice = known.price;
    if (amend.newQuantity === 0) amend.newQuantity = known.quantity;
    if (amend.newPrice === known.price && amend.newQuantity === known.quantity) return rejectFailure(RejectReason.AMEND_NO_CHANGE);
    if (amend.newPrice * amend.newQuantity > Number.MAX_SAFE_INTEGER) {
      return failure(400, 'notional_out_of_range', 'price × quantity is too large to settle exactly; lower the price or the quantity');
    }
  }
  waiter.postOnly = known?.postOnly;
  const productId = known?.productId ?? 0;
  return dispatch(s, waiter, nowMs, principal.accountId, orderId, (requestId) => s.link.sendAmend(requestId, principal.accountId, orderId, productId, amend));
}

export function submitRemove(s: GatewayServices, principal: Principal, orderIdText: string, waiter: PendingWaiter): ApiFailure | null {
  const nowMs = Date.now();
  const denied = tradingAllowed(s, principal, nowMs);
  if (denied !== null) return denied;
  const orderId = parseOrderId(orderIdText);
  const known = ownOrder(s, principal, orderId);
  if (known instanceof ApiFailure) return known;
  if (known !== undefined) {
    const finished = finishedFailure(known);
    if (finished !== null) return finished;
  }
  waiter.postOnly = known?.postOnly;
  const productId = known?.productId ?? 0;
  return dispatch(s, waiter, nowMs, principal.accountId, orderId, (requestId) => s.link.sendCancel(requestId, principal.accountId, orderId, productId));
}

/** The answer to a request from the product manager's reply: the order, or the rejection. */
export function replyOutcome(s: GatewayServices, report: ExecutionReportValue, postOnly: boolean | undefined): OrderJson | ApiFailure {
  if (report.status === OrderStatus.REJECTED) return rejectFailure(report.reason);
  return orderJson(report, s.catalog, postOnly);
}
