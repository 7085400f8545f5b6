// The exchange's time zone: UTC offsets and local midnights, computed without an Intl call on the
// hot path. Candle buckets (processes/market-data/bucket-clock.ts) are defined in local time, so
// every bucket boundary needs "what is the offset at this instant" and "at which instant does this
// local midnight begin".
//
// How the offsets are cached. Intl.DateTimeFormat is the only source of tz data in Node without a
// dependency, and it costs microseconds and allocates, so it is asked once per UTC day:
//
//   day cache (direct-mapped, ZONE_DAY_CACHE_SLOTS slots, slot = day & mask)
//   +---------+---------------+---------------------+---------------+
//   | day tag | offset at 0:00 | transition second   | offset after  |
//   | (f64)   | UTC (s, i32)  | of day (-1 = none)  | it (s, i32)   |
//   +---------+---------------+---------------------+---------------+
//
// A slot is filled by asking Intl for the offset at the day's first and last second; when they
// differ, a bisection over the day's seconds (17 more calls) finds the transition second. This
// assumes a zone changes its offset at most once per UTC day, which holds for every zone in the
// tz database since 1970 (transitions are months apart). A transition exactly at 00:00 UTC shows
// up as the previous day's "after" offset differing from this day's offset at 0:00.
//
// Offsets are whole seconds east of UTC (New York: -18000 in winter, -14400 in summer). Times in
// this module are integer seconds since the epoch; callers convert from the journal's µs.

import { SECONDS_PER_DAY } from './civil-date';
import { ZONE_DAY_CACHE_SLOTS } from './market-data-limits';

export const DEFAULT_EXCHANGE_TIME_ZONE = 'America/New_York';

/** Offsets span -12:00..+14:00; a window this wide around a local time holds its instant. */
const MAX_ABS_OFFSET_S = 15 * 3600;
const NO_TRANSITION = -1;
const LAST_SECOND_OF_DAY = SECONDS_PER_DAY - 1;

export class ExchangeTimeZone {
  /** Intl calls made so far: tests hold the hot path to zero. */
  intlCalls = 0;

  private readonly format: Intl.DateTimeFormat;
  private readonly mask = ZONE_DAY_CACHE_SLOTS - 1;
  private readonly dayTag = new Float64Array(ZONE_DAY_CACHE_SLOTS).fill(Number.NaN);
  private readonly offsetAtDayStartS = new Int32Array(ZONE_DAY_CACHE_SLOTS);
  private readonly transitionSecondOfDay = new Int32Array(ZONE_DAY_CACHE_SLOTS);
  private readonly offsetAfterTransitionS = new Int32Array(ZONE_DAY_CACHE_SLOTS);

  constructor(readonly name: string = DEFAULT_EXCHANGE_TIME_ZONE) {
    try {
      this.format = new Intl.DateTimeFormat('en-US', {
        timeZone: name,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new RangeError(`exchange time zone ${JSON.stringify(name)} is not an IANA zone this Node knows (e.g. America/New_York, Europe/London, UTC)`);
    }
    if ((ZONE_DAY_CACHE_SLOTS & this.mask) !== 0) throw new RangeError('ZONE_DAY_CACHE_SLOTS must be a power of two');
  }

  /** Seconds east of UTC at the instant `utcS` (integer seconds since the epoch). */
  offsetAtS(utcS: number): number {
    const day = Math.floor(utcS / SECONDS_PER_DAY);
    const slot = this.slotOfDay(day);
    const transition = this.transitionSecondOfDay[slot]!;
    if (transition !== NO_TRANSITION && utcS - day * SECONDS_PER_DAY >= transition) return this.offsetAfterTransitionS[slot]!;
    return this.offsetAtDayStartS[slot]!;
  }

  /**
   * The first instant (UTC seconds) at which the local clock reads `localS` or later, where
   * `localS` counts local wall-clock seconds as if the local clock were UTC. For a local time
   * that occurs twice (fall-back) this is its first occurrence; for one skipped by a spring-
   * forward gap it is the transition instant, the first moment after the gap.
   */
  firstInstantAtOrAfterLocalS(localS: number): number {
    const offsetBefore = this.offsetAtS(localS - MAX_ABS_OFFSET_S);
    const offsetAfter = this.offsetAtS(localS + MAX_ABS_OFFSET_S);
    if (offsetBefore === offsetAfter) return localS - offsetBefore;
    const underBefore = localS - offsetBefore;
    const underAfter = localS - offsetAfter;
    const beforeHolds = this.offsetAtS(underBefore) === offsetBefore;
    const afterHolds = this.offsetAtS(underAfter) === offsetAfter;
    if (beforeHolds && afterHolds) return Math.min(underBefore, underAfter); // repeated local time
    if (beforeHolds) return underBefore;
    if (afterHolds) return underAfter;
    // Skipped local time: the clock jumped over it at the transition between the two candidates.
    return this.transitionInRange(Math.min(underBefore, underAfter), Math.max(underBefore, underAfter));
  }

  /** The local day number (days since 1970-01-01 on the local calendar) of the instant `utcS`. */
  localDayOfS(utcS: number): number {
    const day = Math.floor((utcS + this.offsetAtS(utcS)) / SECONDS_PER_DAY);
    // In a zone that falls back across midnight, the repeated late hour of `day` comes after the
    // first instant of day + 1; days are instant ranges [first instant of d, first of d + 1).
    return utcS >= this.localDayStartS(day + 1) ? day + 1 : day;
  }

  /** The first instant (UTC seconds) of local day `dayNumber`: its midnight, or the end of a gap over it. */
  localDayStartS(dayNumber: number): number {
    return this.firstInstantAtOrAfterLocalS(dayNumber * SECONDS_PER_DAY);
  }

  /** The first second in (fromS, toS] at which the offset changes; asserted to exist. */
  private transitionInRange(fromS: number, toS: number): number {
    const firstDay = Math.floor(fromS / SECONDS_PER_DAY);
    const lastDay = Math.floor(toS / SECONDS_PER_DAY);
    for (let day = firstDay; day <= lastDay; day++) {
      const dayStartS = day * SECONDS_PER_DAY;
      if (dayStartS > fromS && dayStartS <= toS && this.offsetAtS(dayStartS - 1) !== this.offsetAtS(dayStartS)) return dayStartS;
      const slot = this.slotOfDay(day);
      const transition = this.transitionSecondOfDay[slot]!;
      if (transition !== NO_TRANSITION && dayStartS + transition > fromS && dayStartS + transition <= toS) return dayStartS + transition;
    }
    throw new RangeError(`${this.name}: no offset transition between ${fromS} and ${toS} although the offsets differ`);
  }

  private slotOfDay(day: number): number {
    const slot = day & this.mask; // two's complement keeps negative days in range too
    if (this.dayTag[slot] !== day) this.fillDay(slot, day);
    return slot;
  }

  private fillDay(slot: number, day: number): void {
    const dayStartS = day * SECONDS_PER_DAY;
    const atStart = this.intlOffsetS(dayStartS);
    const atEnd = this.intlOffsetS(dayStartS + LAST_SECOND_OF_DAY);
    let transition = NO_TRANSITION;
    if (atStart !== atEnd) {
      // Invariant: offset(lo) = atStart, offset(hi) = atEnd; 17 halvings of 86,399 seconds.
      let lo = 0;
      let hi = LAST_SECOND_OF_DAY;
      while (hi - lo > 1) {
        const mid = (lo + hi) >>> 1;
        if (this.intlOffsetS(dayStartS + mid) === atStart) lo = mid;
        else hi = mid;
      }
      transition = hi;
    }
    this.dayTag[slot] = day;
    this.offsetAtDayStartS[slot] = atStart;
    this.transitionSecondOfDay[slot] = transition;
    this.offsetAfterTransitionS[slot] = atEnd;
  }

  /** The offset Intl reports at `utcS`: the local wall clock read back as if it were UTC, minus the instant. */
  private intlOffsetS(utcS: number): number {
    this.intlCalls++;
    let year = 0;
    let month = 0;
    let day = 0;
    let hour = 0;
    let minute = 0;
    let second = 0;
    for (const part of this.format.formatToParts(utcS * 1000)) {
      switch (part.type) {
        case 'year':
          year = Number(part.value);
          break;
        case 'month':
          month = Number(part.value);
          break;
        case 'day':
          day = Number(part.value);
          break;
        case 'hour':
          hour = Number(part.value);
          break;
        case 'minute':
          minute = Number(part.value);
          break;
        case 'second':
          second = Number(part.value);
          break;
        default:
          break;
      }
    }
    const wallAsUtcMs = Date.UTC(year, month - 1, day, hour, minute, second);
    return wallAsUtcMs / 1000 - utcS;
  }
}
