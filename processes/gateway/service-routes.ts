// Endpoints that describe the service rather than trade: GET /health, GET /openapi.json and the
// product list. Both listeners serve them; the market-data listener serves only these and the
// market-data placeholders (market-data-listener.ts).

import { Type } from '@sinclair/typebox';
import { EmptyQuery, Health, ProductList } from './api-schemas';
import { productListJson } from './admin-routes';
import type { GatewayServices } from './gateway-services';
import { declare, type RouteDeclaration } from './route-spec';

const NoParams = Type.Object({}, { additionalProperties: false });
export const OpenApiDocument = Type.Object({}, { additionalProperties: true, title: 'OpenApiDocument', description: 'this document' });

/** What /health says about market data until the market-data issue lands. */
export const MARKET_DATA_STATUS = 'not available yet: market data (L2 book, trades, candles) arrives with the market-data issue; this gateway serves none and fakes none';

/** Requests answered 503 by the product manager's silence in the last window make /health "degraded". */
const DEGRADED_WINDOW_MS = 10_000;

export function healthJson(s: GatewayServices, listener: 'trading' | 'market-data', extra: Record<string, unknown> = {}): string {
  const link = s.link;
  const toPm = link.producer.ring;
  const pmConsumers = toPm.consumers();
  const pmAttached = pmConsumers.some((c) => c.alive);
  const recentTimeouts = s.pending.lastTimeoutMs !== 0 && Date.now() - s.pending.lastTimeoutMs < DEGRADED_WINDOW_MS;
  const status = pmAttached && !recentTimeouts ? 'ok' : 'degraded';
  return JSON.stringify({
    status,
    listener,
    gatewayId: s.config.gatewayId,
    uptimeSeconds: Math.floor((Date.now() - s.startedMs) / 1000),
    productManager: {
      consumerAttached: pmAttached,
      toPm: { path: toPm.path, tail: toPm.tail(), epoch: link.epoch, lastSourceSeq: link.lastSourceSeq, consumers: pmConsumers.map((c) => ({ name: c.name, lag: c.lag, alive: c.alive })) },
      fromPm: { path: link.consumer.ring.path, lag: link.consumer.lag() },
      inFlight: s.pending.inFlight,
      maxInFlight: s.pending.capacity,
      timeouts: s.pending.timeouts,
      notReplies: s.pending.notReplies,
      stats: link.stats,
      lastReplyAgoMs: s.poller.lastReportMs === 0 ? null : Date.now() - s.poller.lastReportMs,
    },
    streams: s.streams.size,
    marketData: MARKET_DATA_STATUS,
    ...extra,
  });
}

export function serviceRoutes(s: GatewayServices, listener: 'trading' | 'market-data', openApiJson: () => string, extraHealth: () => Record<string, unknown>): RouteDeclaration[] {
  return [
    declare({
      method: 'get',
      path: '/health',
      summary: 'Liveness and the state of the link to the product manager',
      tag: 'service',
      access: 'public',
      params: NoParams,
      query: EmptyQuery,
      body: undefined,
      success: { status: 200, schema: Health, description: 'status ok or degraded (no product manager attached, or requests timing out)' },
      errors: [],
      handle: (ex) => ex.reply(200, healthJson(s, listener, extraHealth())),
    }),
    declare({
      method: 'get',
      path: '/openapi.json',
      summary: 'This API as OpenAPI 3.1, generated from the schemas the gateway validates with',
      tag: 'service',
      access: 'public',
      params: NoParams,
      query: EmptyQuery,
      body: undefined,
      success: { status: 200, schema: OpenApiDocument, description: 'the document' },
      errors: [],
      handle: (ex) => ex.reply(200, openApiJson()),
    }),
    declare({
      method: 'get',
      path: '/v1/products',
      summary: 'Listed products: symbol, brand, tick size, lot size',
      tag: 'products',
      access: 'public',
      params: NoParams,
      query: EmptyQuery,
      body: undefined,
      success: { status: 200, schema: ProductList, description: 'the product table' },
      errors: [],
      handle: (ex) => ex.reply(200, productListJson(s)),
    }),
  ];
}
