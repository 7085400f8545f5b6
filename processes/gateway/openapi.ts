// GET /openapi.json: an OpenAPI 3.1 document generated at start-up from the route declarations and
// the TypeBox schemas the validators were compiled from (OpenAPI 3.1 schemas are JSON Schema, which
// TypeBox schemas already are). Named schemas go to components and are referenced by title.

import type { TObject, TSchema } from '@sinclair/typebox';
import { ErrorBody, NAMED_SCHEMAS, StreamOrders, StreamPing, StreamPlace, StreamRemove, StreamUpdate, StreamWallet } from './api-schemas';
import type { RouteDeclaration } from './route-spec';

const ERROR_TEXT: Readonly<Record<number, string>> = {
  400: 'invalid input: the code names the field and problem (unknown_field, price_not_on_tick, quantity_out_of_range, ...)',
  401: 'no credential, or an unknown, expired or revoked one',
  403: 'authenticated, but your role or account state does not allow this',
  404: 'no such resource among yours',
  408: 'the body did not arrive in time (the connection is closed)',
  409: 'the resource is in a state that refuses this (already_filled, insufficient_funds, ...)',
  413: 'body or headers too large',
  429: 'rate limited; see Retry-After',
  503: 'the exchange is unavailable or overloaded; see Retry-After (a retry with the same clientOrderId is safe)',
};

/** A JSON copy of a schema (drops TypeBox's symbol keys), with named sub-schemas as $refs. */
function plain(schema: TSchema, named: ReadonlyMap<TSchema, string>, top = true): unknown {
  if (!top && named.has(schema)) return { $ref: `#/components/schemas/${named.get(schema)}` };
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties' && typeof value === 'object' && value !== null) {
      const props: Record<string, unknown> = {};
      for (const [name, sub] of Object.entries(value as Record<string, TSchema>)) props[name] = plain(sub, named, false);
      out[key] = props;
    } else if ((key === 'items' || key === 'not') && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      out[key] = plain(value as TSchema, named, false);
    } else if ((key === 'anyOf' || key === 'allOf' || key === 'oneOf') && Array.isArray(value)) {
      out[key] = value.map((sub: TSchema) => plain(sub, named, false));
    } else {
      out[key] = value;
    }
  }
  return JSON.parse(JSON.stringify(out));
}

function ref(schema: TSchema, named: ReadonlyMap<TSchema, string>): unknown {
  const title = named.get(schema);
  return title === undefined ? plain(schema, named) : { $ref: `#/components/schemas/${title}` };
}

export interface OpenApiInfo {
  readonly title: string;
  readonly version: string;
  readonly description: string;
}

/**
 * `stream`: which WebSocket the listener serves — 'orders' (the trading listener's /v1/stream) or
 * 'market-data' (the public listener's /v1/market-data/stream, when market data is served).
 */
export function buildOpenApi(decls: readonly RouteDeclaration[], info: OpenApiInfo, stream: 'orders' | 'market-data' | null = 'orders'): Record<string, unknown> {
  const named = new Map<TSchema, string>();
  for (const s of NAMED_SCHEMAS) named.set(s, s.title as string);
  const components: Record<string, unknown> = {};
  for (const [schema, title] of named) components[title] = plain(schema, named);

  const paths: Record<string, Record<string, unknown>> = {};
  for (const d of decls) {
    const parameters: unknown[] = [];
    for (const [name, sub] of Object.entries((d.params as TObject).properties)) {
      parameters.push({ name, in: 'path', required: true, schema: plain(sub, named) });
    }
    const required = new Set((d.query as TObject).required ?? []);
    for (const [name, sub] of Object.entries((d.query as TObject).properties)) {
      parameters.push({ name, in: 'query', required: required.has(name), schema: plain(sub, named) });
    }
    const responses: Record<string, unknown> = {
      [String(d.success.status)]: { description: d.success.description, content: { 'application/json': { schema: ref(d.success.schema, named) } } },
    };
    const statuses = new Set<number>(d.errors);
    // Every route: 429 (per-IP requests), 413 (header block too large) and 400 (the query string
    // is parsed and checked on every route, even one that takes no query) come before the handler.
    statuses.add(429);
    statuses.add(413);
    statuses.add(400);
    if (d.access !== 'public') statuses.add(401);
    if (Array.isArray(d.access)) statuses.add(403);
    if (d.body !== undefined) statuses.add(408);
    for (const status of [...statuses].sort()) {
      responses[String(status)] = { description: ERROR_TEXT[status] ?? 'error', content: { 'application/json': { schema: ref(ErrorBody, named) } } };
    }
    const op: Record<string, unknown> = {
      summary: d.summary,
      tags: [d.tag],
      operationId: `${d.method}${d.path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
      parameters,
      responses,
    };
    if (d.access !== 'public') {
      op['security'] = [{ bearer: [] }];
      if (Array.isArray(d.access)) op['x-roles'] = d.access;
    }
    if (d.body !== undefined) op['requestBody'] = { required: true, content: { 'application/json': { schema: ref(d.body, named) } } };
    (paths[d.path] ??= {})[d.method] = op;
  }
  if (stream === 'market-data') {
    paths['/v1/market-data/stream'] = {
      get: {
        summary: 'WebSocket: public market data (upgrade; no credential)',
        description:
          'Send {"type":"subscribe"|"unsubscribe"|"resync","requestId":…,"channel":"book:SYMBOL"|"trades:SYMBOL"|"candles:SYMBOL:SECONDS"}; ' +
          'receive subscribed/unsubscribed answers, then the channel\'s snapshot and updates. A client that cannot keep up is closed with code 1013.',
        tags: ['market-data'],
        operationId: 'getV1MarketDataStream',
        responses: { '101': { description: 'switching protocols' }, '413': { description: ERROR_TEXT[413], content: { 'application/json': { schema: ref(ErrorBody, named) } } }, '503': { description: ERROR_TEXT[503], content: { 'application/json': { schema: ref(ErrorBody, named) } } } },
      },
    };
  }
  if (stream === 'orders') paths['/v1/stream'] = {
    get: {
      summary: 'WebSocket: order entry and live execution reports (upgrade; see description)',
      description:
        'Upgrade with "Authorization: Bearer <credential>" or subprotocols "ims.v1, ims-token.<credential>". ' +
        'Send place/update/remove/ping/wallet/orders messages (x-client-messages), correlated by your requestId; receive result, error, execution, pong, wallet and orders messages. ' +
        'A client that cannot keep up is closed with code 1013; reconnect and resume from the last eventSeq seen.',
      tags: ['stream'],
      operationId: 'getV1Stream',
      security: [{ bearer: [] }],
      responses: {
        '101': { description: 'switching protocols' },
        ...Object.fromEntries([400, 401, 413, 429].map((st) => [String(st), { description: ERROR_TEXT[st], content: { 'application/json': { schema: ref(ErrorBody, named) } } }])),
      },
      'x-client-messages': [StreamPlace, StreamUpdate, StreamRemove, StreamPing, StreamWallet, StreamOrders].map((m) => ref(m, named)),
    },
  };
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: { schemas: components, securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'a session token (imss_…, POST /v1/sessions) or an API key (imsk_…)' } } },
  };
}
