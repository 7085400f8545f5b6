// Which candle bucket an instant falls in, for one resolution, in the exchange's time zone (the
// bucket rules are written down in candle-resolution.ts).
//
// The clock remembers the bucket it located last, [startUs, endUs). Journal timestamps only move
// forward, so on the hot path almost every call is two compares; the zone (and, once per UTC day,
// Intl) is consulted only when an instant leaves the remembered bucket, once per bucket per clock.
// One clock per resolution serves every product: bucket boundaries do not depend on the product.

import { FIRST_MONDAY_DAY, SECONDS_PER_DAY, firstDayOfMonth, firstDayOfNextMonth, mod } from './civil-date';
import { DAY_RESOLUTION_S, MONTH_RESOLUTION_S, resolutionProblem } from './candle-resolution';
import type { ExchangeTimeZone } from './exchange-time-zone';

const US_PER_S = 1_000_000;

export class BucketClock {
  /** Start (µs, inclusive) of the bucket located last. */
  private startUs = 0;
  /** End (µs, exclusive) of the bucket located last; start = end = 0 means none yet. */
  private endUs = 0;
  /** Times the zone was consulted (a bucket change or a jump backwards), for tests and stats. */
  locates = 0;

  constructor(
    readonly zone: ExchangeTimeZone,
    readonly resolutionS: number,
  ) {
    const problem = resolutionProblem(resolutionS);
    if (problem !== null) throw new RangeError(`BucketClock: ${problem}`);
  }

  /** Start (µs since the epoch) of the bucket containing the instant `timestampUs`. */
  bucketStartUs(timestampUs: number): number {
    if (timestampUs < this.startUs || timestampUs >= this.endUs) this.locate(timestampUs);
    return this.startUs;
  }

  /** End (µs, exclusive) of the bucket containing `timestampUs`: the next bucket's start. */
  bucketEndUs(timestampUs: number): number {
    if (timestampUs < this.startUs || timestampUs >= this.endUs) this.locate(timestampUs);
    return this.endUs;
  }

  private locate(timestampUs: number): void {
    this.locates++;
    const zone = this.zone;
    const resolutionS = this.resolutionS;
    const instantS = Math.floor(timestampUs / US_PER_S);
    const day = zone.localDayOfS(instantS);
    let startS: number;
    let endS: number;
    if (resolutionS < DAY_RESOLUTION_S) {
      // Real elapsed time from the local day's first instant; the day's last bucket may be short.
      const dayStartS = zone.localDayStartS(day);
      const nextDayStartS = zone.localDayStartS(day + 1);
      startS = dayStartS + Math.floor((instantS - dayStartS) / resolutionS) * resolutionS;
      endS = Math.min(startS + resolutionS, nextDayStartS);
    } else if (resolutionS === MONTH_RESOLUTION_S) {
      startS = zone.localDayStartS(firstDayOfMonth(day));
      endS = zone.localDayStartS(firstDayOfNextMonth(day));
    } else {
      // Whole days (a week is 7): groups of local days counted from Monday 1970-01-05.
      const days = resolutionS / SECONDS_PER_DAY;
      const firstDay = day - mod(day - FIRST_MONDAY_DAY, days);
      startS = zone.localDayStartS(firstDay);
      endS = zone.localDayStartS(firstDay + days);
    }
    this.startUs = startS * US_PER_S;
    this.endUs = endS * US_PER_S;
  }
}
