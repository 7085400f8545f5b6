// The order endpoints: place (POST /v1/transact), update (PATCH /v1/transact/{id}), remove
// (DELETE /v1/transact/{id}), read one (GET /v1/transact/{id}) and list (GET /v1/transact).
// Writes answer once the product manager has replied (so immediate fills are in the answer), or
// 503 after the reply bound. Reads ask the product manager too (order-reads.ts), own orders only:
// it holds every order, so they are right after restarts and for orders placed elsewhere.

import { ApiFailure } from './api-failure';
import { AmendOrderBody, EmptyQuery, ListOrdersQuery, Order, OrderIdParams, OrderList, PlaceOrderBody } from './api-schemas';
import type { GatewayServices } from './gateway-services';
import type { HttpExchange } from './http-exchange';
import { parseOrderId, replyOutcome, submitAmend, submitPlace, submitRemove } from './order-entry';
import { submitOrderList, submitOrderRead } from './order-reads';
import { MAX_LISTED_ORDERS } from './gateway-limits';
import { HttpReadSink } from './read-requests';
import type { ExecutionReportValue } from './pm-link';
import { declare, type RouteDeclaration } from './route-spec';
import { Type } from '@sinclair/typebox';

const NoParams = Type.Object({}, { additionalProperties: false });
const TAG = 'orders';
/** Statuses every order write can answer besides 200. */
const WRITE_ERRORS = [400, 401, 403, 404, 409, 413, 429, 503];

export function orderRoutes(s: GatewayServices): RouteDeclaration[] {
  const answerReply = (ex: HttpExchange, report: ExecutionReportValue): void => {
    const out = replyOutcome(s, report, ex.postOnly);
    if (out instanceof ApiFailure) ex.fail(out);
    else ex.reply(200, JSON.stringify(out));
  };
  const submitted = (ex: HttpExchange, f: ApiFailure | null): void => {
    if (f !== null) ex.fail(f);
  };
  return [
    declare({
      method: 'post',
      path: '/v1/transact',
      summary: 'Place a product update (a limit order); answers after the engine processed it, immediate fills included',
      tag: TAG,
      access: ['colleague'],
      params: NoParams,
      query: EmptyQuery,
      body: PlaceOrderBody,
      success: { status: 200, schema: Order, description: 'the order after the engine processed it' },
      errors: WRITE_ERRORS,
      handle: (ex, { principal, body }) => {
        ex.replyHandler = answerReply;
        submitted(ex, submitPlace(s, principal!, body, ex));
      },
    }),
    declare({
      method: 'patch',
      path: '/v1/transact/{id}',
      summary: 'Update an open order: new price and/or new total quantity',
      tag: TAG,
      access: ['colleague'],
      params: OrderIdParams,
      query: EmptyQuery,
      body: AmendOrderBody,
      success: { status: 200, schema: Order, description: 'the order after the update' },
      errors: WRITE_ERRORS,
      handle: (ex, { principal, params, body }) => {
        ex.replyHandler = answerReply;
        submitted(ex, submitAmend(s, principal!, params.id, body, ex));
      },
    }),
    declare({
      method: 'delete',
      path: '/v1/transact/{id}',
      summary: 'Remove an open order',
      tag: TAG,
      access: ['colleague'],
      params: OrderIdParams,
      query: EmptyQuery,
      body: undefined,
      success: { status: 200, schema: Order, description: 'the order after removal (status removed)' },
      errors: WRITE_ERRORS,
      handle: (ex, { principal, params }) => {
        ex.replyHandler = answerReply;
        submitted(ex, submitRemove(s, principal!, params.id, ex));
      },
    }),
    declare({
      method: 'get',
      path: '/v1/transact/{id}',
      summary: 'One of your orders',
      tag: TAG,
      access: 'authenticated',
      params: OrderIdParams,
      query: EmptyQuery,
      body: undefined,
      success: { status: 200, schema: Order, description: 'the order as the product manager holds it now' },
      errors: [400, 401, 404, 429, 503],
      handle: (ex, { principal, params }) => {
        submitted(ex, submitOrderRead(s, principal!.accountId, parseOrderId(params.id), new HttpReadSink(ex)));
      },
    }),
    declare({
      method: 'get',
      path: '/v1/transact',
      summary: 'Your orders: status=open (default) lists resting orders',
      tag: TAG,
      access: 'authenticated',
      params: NoParams,
      query: ListOrdersQuery,
      body: undefined,
      success: { status: 200, schema: OrderList, description: `your orders as the product manager holds them now, oldest first, at most ${MAX_LISTED_ORDERS} (truncated: more exist)` },
      errors: [400, 401, 429, 503],
      handle: (ex, { principal, query }) => {
        submitted(ex, submitOrderList(s, principal!.accountId, query.status ?? 'open', new HttpReadSink(ex)));
      },
    }),
  ];
}
