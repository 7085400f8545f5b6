// Order reads from the product manager: GET /v1/transact/{id}, GET /v1/transact?status=open|all and
// the stream's {"type":"orders"} message. The product manager holds every order
// (processes/product-manager/orders-query.ts), so these answers are right after a gateway restart,
// after ims stop / start, and for orders placed through another gateway — which this gateway's
// order view (order-view.ts, a cache of the reports it has seen) cannot promise.
//
// One order: OrdersQuery scope ONE with the caller's account; the product manager answers NONE for
// a missing order and for another account's order alike, so both are 404 unknown_order here.
// A list: scope OPEN or ALL, at most MAX_LISTED_ORDERS, sorted oldest first (by order id, which the
// product manager assigns in increasing order), with `truncated` when more exist.

import { OrderFlags } from '../../bus/enums';
import { MAX_ORDER_RECORDS, OrderRecord, OrdersScope, ReadStatus } from '../../bus/schema';
import { ApiFailure, ORDER_NOT_FOUND } from './api-failure';
import { MAX_LISTED_ORDERS } from './gateway-limits';
import type { GatewayServices } from './gateway-services';
import { orderJson, type OrderJson } from './order-json';
import type { AnswerRecordValue, OrderRecordValue } from './pm-link';
import { ReadRequest, submitRead, type ReadSink } from './read-requests';

if (MAX_LISTED_ORDERS > MAX_ORDER_RECORDS) throw new Error(`MAX_LISTED_ORDERS ${MAX_LISTED_ORDERS} exceeds what one answer carries (${MAX_ORDER_RECORDS})`);

/** The JSON of an order list. */
export interface OrderListJson {
  orders: OrderJson[];
  truncated: boolean;
}

/** Collects an OrdersQuery answer: one order (scope ONE) or a list. */
export class OrdersRequest extends ReadRequest {
  readonly answerTypeId = OrderRecord.typeId;
  private readonly orders: { id: number; json: OrderJson }[] = [];
  private status: number = ReadStatus.OK;

  constructor(
    sink: ReadSink,
    readonly scope: number,
  ) {
    super(sink);
  }

  add(s: GatewayServices, record: AnswerRecordValue): void {
    const r = record as OrderRecordValue;
    if (r.answerStatus !== ReadStatus.OK) this.status = r.answerStatus;
    if (r.answerStatus === ReadStatus.NONE || r.orderId <= 0) return;
    if (this.orders.length >= MAX_ORDER_RECORDS) return; // more than the query allowed: a PM bug, never grown past the bound
    this.orders.push({ id: r.orderId, json: orderJson(r, s.catalog, (r.flags & OrderFlags.POST_ONLY) !== 0) });
  }

  finish(): void {
    if (this.scope === OrdersScope.ONE) {
      const one = this.orders[0];
      return one === undefined ? this.sink.deny(ORDER_NOT_FOUND) : this.sink.answer(one.json);
    }
    this.orders.sort((a, b) => a.id - b.id);
    const list: OrderListJson = { orders: this.orders.map((o) => o.json), truncated: this.status === ReadStatus.TRUNCATED };
    this.sink.answer(list);
  }
}

/** Asks for one of the caller's orders; `orderId` 0 (unparseable) is answered 404 without asking. */
export function submitOrderRead(s: GatewayServices, accountId: number, orderId: number, sink: ReadSink): ApiFailure | null {
  if (orderId <= 0) return ORDER_NOT_FOUND;
  return submitRead(s, accountId, new OrdersRequest(sink, OrdersScope.ONE), (requestId) => s.link.sendOrdersQuery(requestId, accountId, OrdersScope.ONE, orderId, 1));
}

/** Asks for the caller's open orders (status 'open') or open and today's finished ones ('all'). */
export function submitOrderList(s: GatewayServices, accountId: number, status: 'open' | 'all', sink: ReadSink): ApiFailure | null {
  const scope = status === 'all' ? OrdersScope.ALL : OrdersScope.OPEN;
  return submitRead(s, accountId, new OrdersRequest(sink, scope), (requestId) => s.link.sendOrdersQuery(requestId, accountId, scope, 0, MAX_LISTED_ORDERS));
}
