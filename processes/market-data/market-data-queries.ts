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
//            open candle from memory, captured when the query arrived (a PostgreSQL read answers
//            later, after the flush it follows: planCandles → store.candles → finishCandles); resolutions that are not kept live are aggregated from
//            1-minute candles. The gateway has already bounded the range to MAX_CANDLES_PER_QUERY.

import { BucketClock } from './bucket-clock';
import { liveResolutionIndex, MINUTE_RESOLUTION_S, resolutionProblem } from './candle-resolution';
import { aggregateCandles, type CandleRecord } from './candle-rollup';
import type { MarketData } from './market-data';
import { MAX_CANDLES_PER_QUERY } from './market-data-limits';

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

/** A candle query checked and started: what to read from the store and what memory adds to it. */
export interface CandlePlan {
  readonly productId: number;
  readonly resolutionS: number;
  readonly startUs: number;
  readonly endUs: number;
  /** Kept live (read as is) or aggregated from 1-minute candles. */
  readonly live: boolean;
  /** What to read from the store: resolution, bucket range and limit. */
  readonly readResolutionS: number;
  readonly readFromUs: number;
  readonly readLimit: number;
  /** The open candle when the query arrived (a copy): with a store read issued after a flush, one consistent state. */
  readonly open: CandleRecord | undefined;
  readonly clock: BucketClock | null;
}

/** Checks a candle query and captures the open candle; the store read comes next (planCandles → store.candles → finishCandles). */
export function planCandles(md: MarketData, productId: number, resolutionS: number, startUs: number, endUs: number): CandlePlan | QueryAnswer {
  const problem = resolutionProblem(resolutionS);
  if (problem !== null) return fail(400, 'invalid_resolution', problem);
  if (!(endUs > startUs)) return fail(400, 'invalid_range', 'endTime must be after startTime');
  const live = liveResolutionIndex(resolutionS) >= 0;
  const clock = live ? null : new BucketClock(md.zone, resolutionS);
  return {
    productId,
    resolutionS,
    startUs,
    endUs,
    live,
    readResolutionS: live ? resolutionS : MINUTE_RESOLUTION_S,
    readFromUs: clock === null ? startUs : clock.bucketStartUs(startUs),
    readLimit: live ? MAX_CANDLES_PER_QUERY + 1 : Number.MAX_SAFE_INTEGER,
    open: md.candles.openCandle(productId, live ? resolutionS : MINUTE_RESOLUTION_S),
    clock,
  };
}

/** The answer from the stored candles the plan asked for and the open candle it captured. */
export function finishCandles(plan: CandlePlan, stored: CandleRecord[]): QueryAnswer {
  const open = plan.open;
  const lastStoredUs = stored.length === 0 ? Number.NEGATIVE_INFINITY : stored[stored.length - 1]!.bucketStartUs;
  if (open !== undefined && open.bucketStartUs > lastStoredUs && open.bucketStartUs < plan.endUs) stored.push(open);
  let out: CandleRecord[] = stored;
  if (plan.clock !== null) out = aggregateCandles(stored, plan.clock).filter((c) => c.bucketStartUs >= plan.startUs && c.bucketStartUs < plan.endUs);
  else out = out.filter((c) => c.bucketStartUs >= plan.startUs);
  if (out.length > MAX_CANDLES_PER_QUERY) {
    return fail(400, 'too_many_candles', `the range holds more than ${MAX_CANDLES_PER_QUERY} candles; narrow it or choose a longer resolution`);
  }
  return { status: 200, json: JSON.stringify(out) };
}
