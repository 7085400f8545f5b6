// Candles of any resolution from 1-minute candles: the query path for resolutions that are not
// kept live (e.g. 2 hours, 1 day), for the in-memory 1-minute history and for 1-minute candles
// read back from storage alike. Exact because every bucket of every resolution is a union of
// whole 1-minute buckets (see candle-resolution.ts).

import type { BucketClock } from './bucket-clock';

/** One candle as queries return it; `bucketStartUs` is the instant its bucket starts. */
export interface CandleRecord {
  bucketStartUs: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  trades: number;
}

/**
 * Groups 1-minute candles (ascending by bucketStartUs, no duplicates) into the buckets of
 * `clock`'s resolution: open of the first, close of the last, highest high, lowest low, summed
 * volume and trade count. Buckets without candles produce none. Allocates (query path).
 */
export function aggregateCandles(minuteCandles: readonly CandleRecord[], clock: BucketClock): CandleRecord[] {
  const out: CandleRecord[] = [];
  let current: CandleRecord | undefined;
  let previousStartUs = Number.NEGATIVE_INFINITY;
  for (const m of minuteCandles) {
    if (!(m.bucketStartUs > previousStartUs)) {
      throw new RangeError(`aggregateCandles: 1-minute candles must be strictly ascending; ${m.bucketStartUs} follows ${previousStartUs}`);
    }
    previousStartUs = m.bucketStartUs;
    const startUs = clock.bucketStartUs(m.bucketStartUs);
    if (current === undefined || current.bucketStartUs !== startUs) {
      current = { bucketStartUs: startUs, open: m.open, high: m.high, low: m.low, close: m.close, volume: m.volume, trades: m.trades };
      out.push(current);
      continue;
    }
    if (m.high > current.high) current.high = m.high;
    if (m.low < current.low) current.low = m.low;
    current.close = m.close;
    current.volume += m.volume;
    current.trades += m.trades;
  }
  return out;
}
