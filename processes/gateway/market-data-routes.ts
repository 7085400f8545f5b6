// The data-service endpoints (the seed's API table, rows 2 and 3), on both listeners:
//
//   GET /marketdata/orderBook?symbol=S[&depth=N][&time=T]
//       -> {"symbol":S,"bids":[["10.05",40],…],"asks":[…],"sequence":n,"time":ms}
//       live: from this gateway's mirror (503 book_resyncing while it resynchronises); with time=T
//       (epoch ms): the book as it was at T, from the publisher's book history (reach and cost:
//       processes/market-data/market-data-queries.ts; older times answer 404 book_history_not_kept).
//   GET /marketdata/snapshot?symbol=S&resolution=SECONDS&startTime=ms&endTime=ms
//       -> {"symbol":S,"resolution":n,"candles":[{"time":ms,"open":"10.00","high":…,"low":…,"close":…,"volume":n,"trades":n}]}
//       candles whose bucket starts in [startTime, endTime), at most MAX_CANDLES_PER_QUERY.
//   GET /marketdata/trades?symbol=S[&limit=N] -> the last trades this gateway has seen (at most 100).
//
// Prices are decimal strings and sizes integers, as in the order JSON; times are epoch ms.
// Caching for public load: a live book answer is reused while the book's sequence is unchanged
// (exact); book-at-time and candle answers are reused for CACHE_TTL_MS (100 ms), and identical
// queries in flight share one trip to the publisher.

import { Type } from '@sinclair/typebox';
import { MINUTE_RESOLUTION_S, resolutionProblem } from '../market-data/candle-resolution';
import type { CandleRecord } from '../market-data/candle-rollup';
import { MarketDataQueryKind } from '../market-data/market-data-feed-layout';
import { MAX_CANDLES_PER_QUERY, MAX_DEPTH_LEVELS } from '../market-data/market-data-limits';
import { failure, type ApiFailure } from './api-failure';
import { SymbolText } from './api-schemas';
import { formatDecimalPrice } from './decimal-price';
import type { GatewayServices } from './gateway-services';
import type { HttpExchange } from './http-exchange';
import { GATEWAY_TAPE_TRADES, type MarketDataFeed } from './market-data-feed';
import { declare, type RouteDeclaration } from './route-spec';
import { Side } from '../../bus/enums';

/** How long a book-at-time or candle answer is reused. */
export const CACHE_TTL_MS = 100;
/** Cached answers kept at most (the cache is emptied when full). */
export const MAX_CACHE_ENTRIES = 4_096;
export const DEFAULT_DEPTH = 20;

const strict = { additionalProperties: false } as const;
const Digits = (max: number, description: string) => Type.String({ pattern: `^[0-9]{1,${max}}$`, description });
export const OrderBookQuery = Type.Object(
  { symbol: SymbolText, depth: Type.Optional(Digits(4, `levels per side, 1..${MAX_DEPTH_LEVELS} (default ${DEFAULT_DEPTH})`)), time: Type.Optional(Digits(15, 'epoch ms: the book as it was then')) },
  { ...strict, title: 'OrderBookQuery' },
);
export const CandleQuery = Type.Object(
  {
    symbol: SymbolText,
    resolution: Digits(8, 'seconds: a multiple of 60 (60, 300, 3600, 604800 = week from Monday, 2592000 = calendar month, …)'),
    startTime: Digits(15, 'epoch ms, inclusive'),
    endTime: Digits(15, 'epoch ms, exclusive'),
  },
  { ...strict, title: 'CandleQuery' },
);
export const TradesQuery = Type.Object({ symbol: SymbolText, limit: Type.Optional(Digits(3, `1..${GATEWAY_TAPE_TRADES}`)) }, { ...strict, title: 'TradesQuery' });
const PriceSize = Type.Tuple([Type.String(), Type.Integer()]);
export const OrderBookBody = Type.Object(
  { symbol: Type.String(), bids: Type.Array(PriceSize), asks: Type.Array(PriceSize), sequence: Type.Integer(), time: Type.Integer(), asOf: Type.Optional(Type.Integer()) },
  { title: 'OrderBook' },
);
export const CandlesBody = Type.Object(
  {
    symbol: Type.String(),
    resolution: Type.Integer(),
    candles: Type.Array(Type.Object({ time: Type.Integer(), open: Type.String(), high: Type.String(), low: Type.String(), close: Type.String(), volume: Type.Integer(), trades: Type.Integer() })),
  },
  { title: 'Candles' },
);
export const TradesBody = Type.Object({ symbol: Type.String(), trades: Type.Array(Type.Object({ id: Type.String(), price: Type.String(), size: Type.Integer(), takerSide: Type.String(), time: Type.Integer() })) }, { title: 'Trades' });
const NoParams = Type.Object({}, strict);

interface Cached {
  readonly expiresMs: number;
  readonly status: number;
  readonly json: string;
}

const OVERLOADED = failure(503, 'overloaded', 'too many market-data queries are waiting for the publisher; retry shortly', 1);
const RESYNCING = failure(503, 'book_resyncing', 'this gateway is resynchronising the book from the publisher; retry in a moment', 1);

export class MarketDataService {
  private readonly cache = new Map<string, Cached>();
  private readonly inFlight = new Map<string, Array<(status: number, json: string) => void>>();
  hits = 0;
  misses = 0;

  constructor(
    private readonly s: GatewayServices,
    private readonly feed: MarketDataFeed,
  ) {}

  routes(): RouteDeclaration[] {
    return [
      declare({
        method: 'get',
        path: '/marketdata/orderBook',
        summary: 'L2 order book of a product: live, or as it was at time (epoch ms)',
        tag: 'market-data',
        access: 'public',
        params: NoParams,
        query: OrderBookQuery,
        body: undefined,
        success: { status: 200, schema: OrderBookBody, description: 'best levels first; prices decimal strings; sequence = the book sequence of the feed' },
        errors: [400, 404, 503],
        handle: (ex, { query }) => this.orderBook(ex, query.symbol, query.depth, query.time),
      }),
      declare({
        method: 'get',
        path: '/marketdata/snapshot',
        summary: 'Candles (OHLCV, trade count) of a product in [startTime, endTime), buckets in America/New_York',
        tag: 'market-data',
        access: 'public',
        params: NoParams,
        query: CandleQuery,
        body: undefined,
        success: { status: 200, schema: CandlesBody, description: `ascending by time; at most ${MAX_CANDLES_PER_QUERY}` },
        errors: [400, 503],
        handle: (ex, { query }) => this.candles(ex, query.symbol, query.resolution, query.startTime, query.endTime),
      }),
      declare({
        method: 'get',
        path: '/marketdata/trades',
        summary: 'The latest trades of a product',
        tag: 'market-data',
        access: 'public',
        params: NoParams,
        query: TradesQuery,
        body: undefined,
        success: { status: 200, schema: TradesBody, description: 'oldest first' },
        errors: [400],
        handle: (ex, { query }) => this.trades(ex, query.symbol, query.limit),
      }),
    ];
  }

  /** For /health. */
  status(): Record<string, unknown> {
    return { feed: this.feed.stats, liveBooks: this.feed.liveMirrors, products: this.feed.mirrors.size, cache: { entries: this.cache.size, hits: this.hits, misses: this.misses } };
  }

  private orderBook(ex: HttpExchange, symbol: string, depthText: string | undefined, timeText: string | undefined): void {
    const product = this.s.catalog.bySymbolAnyCase(symbol);
    if (product === undefined) return ex.fail(unknownSymbol(symbol));
    const depth = depthText === undefined ? DEFAULT_DEPTH : Number(depthText);
    if (!(depth >= 1 && depth <= MAX_DEPTH_LEVELS)) return ex.fail(failure(400, 'depth_out_of_range', `depth must be 1..${MAX_DEPTH_LEVELS}, got ${depthText}`));
    if (timeText === undefined) {
      const mirror = this.feed.mirrors.get(product.productId)!;
      if (!mirror.live) return ex.fail(RESYNCING);
      const key = `live:${product.productId}:${depth}:${mirror.sequence}`;
      const hit = this.cache.get(key);
      if (hit !== undefined) {
        this.hits++;
        return ex.reply(hit.status, hit.json);
      }
      this.misses++;
      const d = mirror.depth(depth);
      const json = JSON.stringify({ symbol: product.symbol, bids: d.bids.map(([p, q]) => [this.price(p), q]), asks: d.asks.map(([p, q]) => [this.price(p), q]), sequence: d.sequence, time: Math.floor(d.timeUs / 1000) });
      this.remember(key, 200, json, Number.POSITIVE_INFINITY);
      return ex.reply(200, json);
    }
    const timeMs = Number(timeText);
    if (timeMs > Date.now()) return ex.fail(failure(400, 'time_in_future', `time ${timeMs} is in the future; omit it for the live book`));
    const key = `at:${product.productId}:${depth}:${timeMs}`;
    this.viaPublisher(ex, key, MarketDataQueryKind.BOOK_AT, product.productId, { timeUs: timeMs * 1000 + 999, depth }, (json) => {
      const b = JSON.parse(json) as { bids: [number, number][]; asks: [number, number][]; sequence: number; timeUs: number };
      return JSON.stringify({ symbol: product.symbol, bids: b.bids.map(([p, q]) => [this.price(p), q]), asks: b.asks.map(([p, q]) => [this.price(p), q]), sequence: b.sequence, time: Math.floor(b.timeUs / 1000), asOf: timeMs });
    });
  }

  private candles(ex: HttpExchange, symbol: string, resolutionText: string, startText: string, endText: string): void {
    const product = this.s.catalog.bySymbolAnyCase(symbol);
    if (product === undefined) return ex.fail(unknownSymbol(symbol));
    const resolutionS = Number(resolutionText);
    const problem = resolutionProblem(resolutionS);
    if (problem !== null) return ex.fail(failure(400, 'invalid_resolution', problem));
    const startMs = Number(startText);
    const endMs = Number(endText);
    if (!(endMs > startMs)) return ex.fail(failure(400, 'invalid_range', `endTime (${endMs}) must be after startTime (${startMs})`));
    // Months are 28..31 days: count them by the shortest so the bound holds for every resolution.
    const bucketMs = (resolutionS === 2_592_000 ? 28 * 86_400 : resolutionS) * 1000;
    const buckets = Math.ceil((endMs - startMs) / bucketMs);
    if (buckets > MAX_CANDLES_PER_QUERY) {
      return ex.fail(failure(400, 'range_too_large', `the range spans up to ${buckets} candles of ${resolutionS} s; at most ${MAX_CANDLES_PER_QUERY} per request — narrow the range or use a longer resolution`));
    }
    if (resolutionS % MINUTE_RESOLUTION_S !== 0) return ex.fail(failure(400, 'invalid_resolution', 'resolution must be a multiple of 60'));
    const key = `candles:${product.productId}:${resolutionS}:${startMs}:${endMs}`;
    this.viaPublisher(ex, key, MarketDataQueryKind.CANDLES, product.productId, { resolutionS, startUs: startMs * 1000, endUs: endMs * 1000 }, (json) => {
      const list = JSON.parse(json) as CandleRecord[];
      return JSON.stringify({
        symbol: product.symbol,
        resolution: resolutionS,
        candles: list.map((c) => ({ time: Math.floor(c.bucketStartUs / 1000), open: this.price(c.open), high: this.price(c.high), low: this.price(c.low), close: this.price(c.close), volume: c.volume, trades: c.trades })),
      });
    });
  }

  private trades(ex: HttpExchange, symbol: string, limitText: string | undefined): void {
    const product = this.s.catalog.bySymbolAnyCase(symbol);
    if (product === undefined) return ex.fail(unknownSymbol(symbol));
    const limit = limitText === undefined ? GATEWAY_TAPE_TRADES : Number(limitText);
    if (!(limit >= 1 && limit <= GATEWAY_TAPE_TRADES)) return ex.fail(failure(400, 'limit_out_of_range', `limit must be 1..${GATEWAY_TAPE_TRADES}`));
    const list = this.feed.tapes.get(product.productId)?.recent(limit) ?? [];
    ex.reply(200, JSON.stringify({ symbol: product.symbol, trades: list.map((t) => ({ id: String(t.execId), price: this.price(t.price), size: t.quantity, takerSide: t.takerSide === Side.INFLOW ? 'inflow' : 'outflow', time: Math.floor(t.timestampUs / 1000) })) }));
  }

  /** Answers from the cache, or joins an identical query in flight, or asks the publisher. */
  private viaPublisher(ex: HttpExchange, key: string, kind: number, productId: number, fields: Parameters<MarketDataFeed['query']>[2], format: (json: string) => string): void {
    const nowMs = Date.now();
    const hit = this.cache.get(key);
    if (hit !== undefined && hit.expiresMs > nowMs) {
      this.hits++;
      return ex.reply(hit.status, hit.json);
    }
    this.misses++;
    const answer = (status: number, json: string): void => ex.reply(status, json);
    const waiting = this.inFlight.get(key);
    if (waiting !== undefined) {
      waiting.push(answer);
      return;
    }
    const waiters = [answer];
    this.inFlight.set(key, waiters);
    const sent = this.feed.query(kind, productId, fields, (status, json) => {
      this.inFlight.delete(key);
      let body = json;
      if (status === 200) {
        try {
          body = format(json);
        } catch (err) {
          this.s.log.error({ event: 'market-data-reply-bug', err }, 'a publisher reply could not be formatted');
          status = 500;
          body = JSON.stringify({ error: 'internal_error', detail: 'the gateway could not read the publisher reply and logged it' });
        }
        this.remember(key, status, body, Date.now() + CACHE_TTL_MS);
      }
      for (const w of waiters) w(status, body);
    });
    if (!sent) {
      this.inFlight.delete(key);
      ex.fail(OVERLOADED);
    }
  }

  private remember(key: string, status: number, json: string, expiresMs: number): void {
    if (this.cache.size >= MAX_CACHE_ENTRIES) this.cache.clear();
    this.cache.set(key, { expiresMs, status, json });
  }

  private price(minorUnits: number): string {
    return formatDecimalPrice(minorUnits, this.s.catalog.priceDecimals);
  }
}

function unknownSymbol(symbol: string): ApiFailure {
  return failure(400, 'unknown_symbol', `no listed product has the symbol ${symbol.slice(0, 16)}; GET /v1/products lists them`);
}

