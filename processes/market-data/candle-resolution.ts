// Candle resolutions: which are kept live, which can be asked for, and what each one's buckets are.
//
// A resolution is a number of seconds, as on the wire (Candle.resolutionS) and in the data
// service's `resolution=SECONDS`. Every bucket is defined in the exchange's local time:
//
//  - below one day (any multiple of 60 s, e.g. 60, 300, 3600, 7200): buckets are counted in real
//    elapsed time from the local day's first instant (its midnight), and the last bucket of a day
//    ends at the next local midnight. So 1-minute, 5-minute and 1-hour buckets are always exactly
//    that long, and on a DST change the hour buckets read, in New York:
//      2026-03-08 (spring forward, 23-hour day): ... 01:00 EST (06:00Z), 03:00 EDT (07:00Z) ...
//                 — local 02:00 does not exist, so neither does its bucket;
//      2026-11-01 (fall back, 25-hour day):      ... 01:00 EDT (05:00Z), 01:00 EST (06:00Z), 02:00 EST (07:00Z) ...
//                 — the repeated local hour is two buckets, each 60 real minutes, one per offset.
//    A resolution that does not divide the local day (e.g. 7 minutes, or 2 hours on a 25-hour
//    day) gets a shorter last bucket that ends at local midnight; the next day starts afresh.
//  - WEEK_RESOLUTION_S (7 days): Monday 00:00 local to the next Monday 00:00 local (167, 168 or
//    169 real hours around DST changes).
//  - MONTH_RESOLUTION_S (the conventional "30 days" code): calendar months, the 1st 00:00 local to
//    the next 1st 00:00 local.
//  - other multiples of one day (1 day, 2 days, 14 days, ...): groups of local days, counted from
//    Monday 1970-01-05 (so 14-day buckets start on Mondays); each runs from local midnight to
//    local midnight.
// A bucket is identified by the UTC instant it starts at (Candle.bucketStartUs). Every boundary is
// a whole local minute, so every bucket is a union of 1-minute buckets: any resolution can be
// aggregated exactly from 1-minute candles, and the live 5-minute, hour, week and month candles
// equal such an aggregation.

import { SECONDS_PER_DAY } from './civil-date';
import {
  CANDLE_HISTORY_1H,
  CANDLE_HISTORY_1M,
  CANDLE_HISTORY_1MO,
  CANDLE_HISTORY_1W,
  CANDLE_HISTORY_5M,
} from './market-data-limits';

export const MINUTE_RESOLUTION_S = 60;
export const FIVE_MINUTE_RESOLUTION_S = 300;
export const HOUR_RESOLUTION_S = 3_600;
export const DAY_RESOLUTION_S = SECONDS_PER_DAY;
export const WEEK_RESOLUTION_S = 7 * SECONDS_PER_DAY;
/** The code for calendar months: 30 days' worth of seconds, the usual "1M" of market-data APIs. */
export const MONTH_RESOLUTION_S = 30 * SECONDS_PER_DAY;
/** Longest resolution a query may ask for (one year of days, leap years included). */
export const MAX_RESOLUTION_S = 366 * SECONDS_PER_DAY;

/** Resolutions kept live per product, in this order (index = resolution index). */
export const LIVE_RESOLUTIONS_S: readonly number[] = Object.freeze([
  MINUTE_RESOLUTION_S,
  FIVE_MINUTE_RESOLUTION_S,
  HOUR_RESOLUTION_S,
  WEEK_RESOLUTION_S,
  MONTH_RESOLUTION_S,
]);

/** Closed candles kept in memory per product for each live resolution (same order). */
export const LIVE_HISTORY_CAPACITY: readonly number[] = Object.freeze([
  CANDLE_HISTORY_1M,
  CANDLE_HISTORY_5M,
  CANDLE_HISTORY_1H,
  CANDLE_HISTORY_1W,
  CANDLE_HISTORY_1MO,
]);

/** Index of a live resolution in LIVE_RESOLUTIONS_S, or -1 (then it is aggregated from 1 minute). */
export function liveResolutionIndex(resolutionS: number): number {
  return LIVE_RESOLUTIONS_S.indexOf(resolutionS);
}

/**
 * Why a resolution cannot be served, as a sentence for an API error; null when it can. Allowed:
 * positive multiples of 60 below one day, and multiples of one day up to MAX_RESOLUTION_S.
 */
export function resolutionProblem(resolutionS: number): string | null {
  if (!Number.isSafeInteger(resolutionS) || resolutionS <= 0) {
    return `resolution ${resolutionS} must be a positive whole number of seconds`;
  }
  if (resolutionS % MINUTE_RESOLUTION_S !== 0) {
    return `resolution ${resolutionS} is not a multiple of 60 seconds (candles are built from 1-minute candles)`;
  }
  if (resolutionS > MAX_RESOLUTION_S) {
    return `resolution ${resolutionS} is longer than the maximum ${MAX_RESOLUTION_S} seconds (366 days)`;
  }
  if (resolutionS > DAY_RESOLUTION_S && resolutionS % DAY_RESOLUTION_S !== 0) {
    return `resolution ${resolutionS} is longer than a day but not a whole number of days (86400 s each); use e.g. 86400, 604800 (week from Monday) or 2592000 (calendar month)`;
  }
  return null;
}
