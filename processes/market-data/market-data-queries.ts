// The publisher's answers to the gateways' data-service queries (MarketDataQuery), as JSON in
// integer units (prices in minor units, times in µs); the gateway formats them for the API.
//
//   BOOK_AT  the book at time T from the in-memory BookHistory: bounded cost (one checkpoint copy
//            plus at most BOOK_CHECKPOINT_INTERVAL - 1 = 255 delta applications) and bounded reach
//            (at least the last BOOK_HISTORY_CHANGES - 256 = 7,936 changes of that product, since
//            the publisher started: it rebuilds from the journal, so "since started" is the whole
//            journal replayed). An older time is answered 404 book_history_not_kept with the
//            earliest time still kept.
//   CANDLES  closed candles from the store (flushed first, so nothing closed is missing) plus the
//            open candle from memory; resolutions that are not kept live are aggregated from
//            1-minute candles. The gateway has already bounded the range to MAX_CANDLES_PER_QUERY.

import { BucketClock } from './bucket-clock';
import { liveResolutionIndex, MINUTE_RESOLUTION_S, resolutionProblem } from './candle-resolution';
import { aggregateCandles, type CandleRecord } from './candle-rollup';
import type { MarketData } from './market-data';
import { MAX_CANDLES_PER_QUERY } from './market-data-limits';
import type { MarketDataStore } from './market-data-store';

export interface QueryAnswer {
  status: number;
  json: string;
}

function fail(status: number, error: string, detail: string): QueryAnswer {
  return { status, json: JSON.stringify({ error, detail }) };
}

export function answerBookAt(md: MarketData, productId: number, timeUs: number, depth: number): QueryAnswer {
  const product = md.product(productId);
  if (product === undefined) {
    // No change of this product was ever journaled: its book has always been empty.
    return { status: 200, json: JSON.stringify({ bids: [], asks: [], sequence: 0, timeUs: 0 }) };
  }
  const book = md.bookAt(productId, timeUs, depth);
  if (book === undefined) {
    const earliestUs = product.history?.earliestTimeUs() ?? Number.POSITIVE_INFINITY;
    return fail(404, 'book_history_not_kept', `the book of this product is kept for its last ${product.history?.capacity ?? 0} changes; the earliest time available is ${Number.isFinite(earliestUs) ? Math.ceil(earliestUs / 1000) : 'none'} (epoch ms)`);
  }
  return { status: 200, json: JSON.stringify(book) };
}

export function answerCandles(md: MarketData, store: MarketDataStore, productId: number, resolutionS: number, startUs: number, endUs: number): QueryAnswer {
  const problem = resolutionProblem(resolutionS);
  if (problem !== null) return fail(400, 'invalid_resolution', problem);
  if (!(endUs > startUs)) return fail(400, 'invalid_range', 'endTime must be after startTime');
  const live = liveResolutionIndex(resolutionS) >= 0;
  const stored = live
    ? store.candles(productId, resolutionS, startUs, endUs, MAX_CANDLES_PER_QUERY + 1)
    : store.candles(productId, MINUTE_RESOLUTION_S, new BucketClock(md.zone, resolutionS).bucketStartUs(startUs), endUs, Number.MAX_SAFE_INTEGER);
  const open = md.candles.openCandle(productId, live ? resolutionS : MINUTE_RESOLUTION_S);
  const lastStoredUs = stored.length === 0 ? Number.NEGATIVE_INFINITY : stored[stored.length - 1]!.bucketStartUs;
  if (open !== undefined && open.bucketStartUs > lastStoredUs && open.bucketStartUs < endUs) stored.push(open);
  let out: CandleRecord[] = stored;
  if (!live) out = aggregateCandles(stored, new BucketClock(md.zone, resolutionS)).filter((c) => c.bucketStartUs >= startUs && c.bucketStartUs < endUs);
  else out = out.filter((c) => c.bucketStartUs >= startUs);
  if (out.length > MAX_CANDLES_PER_QUERY) {
    return fail(400, 'too_many_candles', `the range holds more than ${MAX_CANDLES_PER_QUERY} candles; narrow it or choose a longer resolution`);
  }
  return { status: 200, json: JSON.stringify(out) };
}
