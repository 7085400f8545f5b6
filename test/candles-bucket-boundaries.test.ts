// Candle bucket boundaries in the exchange's time zone, checked against local times picked by hand
// (New York: EST = UTC-5, EDT = UTC-4; DST 2026 starts Sun 2026-03-08 02:00 EST = 07:00Z and ends
// Sun 2026-11-01 02:00 EDT = 06:00Z). Every expected instant below is written as UTC with the
// local time it stands for in the comment.
import t from 'tap';
import { BucketClock } from '../processes/market-data/bucket-clock';
import {
  DAY_RESOLUTION_S,
  FIVE_MINUTE_RESOLUTION_S,
  HOUR_RESOLUTION_S,
  MINUTE_RESOLUTION_S,
  MONTH_RESOLUTION_S,
  WEEK_RESOLUTION_S,
  resolutionProblem,
} from '../processes/market-data/candle-resolution';
import { ExchangeTimeZone } from '../processes/market-data/exchange-time-zone';
import { civilMonth, civilYear, daysFromCivil, weekdayFromMonday } from '../processes/market-data/civil-date';

const newYork = new ExchangeTimeZone('America/New_York');

/** µs since the epoch of an ISO-8601 UTC instant (with optional µs after the ms). */
function us(iso: string, extraMicros = 0): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`bad instant ${iso}`);
  return ms * 1000 + extraMicros;
}

function iso(timeUs: number): string {
  return new Date(timeUs / 1000).toISOString();
}

/** [start, end) of the bucket of `at` as ISO strings. */
function bucket(zone: ExchangeTimeZone, resolutionS: number, at: number): [string, string] {
  const clock = new BucketClock(zone, resolutionS);
  return [iso(clock.bucketStartUs(at)), iso(clock.bucketEndUs(at))];
}

t.test('minute and five-minute buckets are whole local minutes, end-exclusive', async (t) => {
  t.same(bucket(newYork, MINUTE_RESOLUTION_S, us('2026-01-15T14:37:42.123Z', 456)), ['2026-01-15T14:37:00.000Z', '2026-01-15T14:38:00.000Z']);
  t.same(bucket(newYork, MINUTE_RESOLUTION_S, us('2026-01-15T14:37:59.999Z', 999)), ['2026-01-15T14:37:00.000Z', '2026-01-15T14:38:00.000Z'], 'last µs of the minute');
  t.same(bucket(newYork, MINUTE_RESOLUTION_S, us('2026-01-15T14:38:00.000Z')), ['2026-01-15T14:38:00.000Z', '2026-01-15T14:39:00.000Z'], 'the boundary starts the next bucket');
  t.same(bucket(newYork, FIVE_MINUTE_RESOLUTION_S, us('2026-01-15T14:37:42Z')), ['2026-01-15T14:35:00.000Z', '2026-01-15T14:40:00.000Z']);
});

t.test('hour buckets are aligned on local hours, also in a half-hour zone', async (t) => {
  // 09:37 EST.
  t.same(bucket(newYork, HOUR_RESOLUTION_S, us('2026-01-15T14:37:00Z')), ['2026-01-15T14:00:00.000Z', '2026-01-15T15:00:00.000Z']);
  // Kolkata is UTC+5:30 all year: 20:07 IST is in the 20:00 IST hour = 14:30Z.
  const kolkata = new ExchangeTimeZone('Asia/Kolkata');
  t.same(bucket(kolkata, HOUR_RESOLUTION_S, us('2026-01-15T14:37:00Z')), ['2026-01-15T14:30:00.000Z', '2026-01-15T15:30:00.000Z']);
  t.same(bucket(kolkata, DAY_RESOLUTION_S, us('2026-01-15T14:37:00Z')), ['2026-01-14T18:30:00.000Z', '2026-01-15T18:30:00.000Z'], 'local midnight');
});

t.test('spring forward 2026-03-08: local 02:00 does not exist, so neither does its hour bucket', async (t) => {
  // 01:30 EST -> the 01:00 EST bucket, which ends at the transition (03:00 EDT).
  t.same(bucket(newYork, HOUR_RESOLUTION_S, us('2026-03-08T06:30:00Z')), ['2026-03-08T06:00:00.000Z', '2026-03-08T07:00:00.000Z']);
  t.same(bucket(newYork, HOUR_RESOLUTION_S, us('2026-03-08T06:59:59.999Z', 999)), ['2026-03-08T06:00:00.000Z', '2026-03-08T07:00:00.000Z']);
  // 03:00 EDT, the first instant after the gap, starts the 03:00 EDT bucket.
  t.same(bucket(newYork, HOUR_RESOLUTION_S, us('2026-03-08T07:00:00Z')), ['2026-03-08T07:00:00.000Z', '2026-03-08T08:00:00.000Z']);
  t.same(bucket(newYork, FIVE_MINUTE_RESOLUTION_S, us('2026-03-08T06:57:00Z')), ['2026-03-08T06:55:00.000Z', '2026-03-08T07:00:00.000Z']);
  // The local day is 23 hours: 00:00 EST (05:00Z) to 00:00 EDT next day (04:00Z).
  t.same(bucket(newYork, DAY_RESOLUTION_S, us('2026-03-08T12:00:00Z')), ['2026-03-08T05:00:00.000Z', '2026-03-09T04:00:00.000Z']);
  t.equal(newYork.offsetAtS(us('2026-03-08T06:59:59Z') / 1e6), -5 * 3600, 'EST one second before');
  t.equal(newYork.offsetAtS(us('2026-03-08T07:00:00Z') / 1e6), -4 * 3600, 'EDT at the transition');
});

t.test('fall back 2026-11-01: the repeated local 01:00 hour is two buckets, one per offset', async (t) => {
  // 01:30 EDT.
  t.same(bucket(newYork, HOUR_RESOLUTION_S, us('2026-11-01T05:30:00Z')), ['2026-11-01T05:00:00.000Z', '2026-11-01T06:00:00.000Z']);
  // 01:30 EST, an hour later in real time, same wall-clock reading.
  t.same(bucket(newYork, HOUR_RESOLUTION_S, us('2026-11-01T06:30:00Z')), ['2026-11-01T06:00:00.000Z', '2026-11-01T07:00:00.000Z']);
  // 02:15 EST.
  t.same(bucket(newYork, HOUR_RESOLUTION_S, us('2026-11-01T07:15:00Z')), ['2026-11-01T07:00:00.000Z', '2026-11-01T08:00:00.000Z']);
  // The 00:00 EDT hour is unaffected.
  t.same(bucket(newYork, HOUR_RESOLUTION_S, us('2026-11-01T04:10:00Z')), ['2026-11-01T04:00:00.000Z', '2026-11-01T05:00:00.000Z']);
  // The local day is 25 hours: 00:00 EDT (04:00Z) to 00:00 EST next day (05:00Z).
  t.same(bucket(newYork, DAY_RESOLUTION_S, us('2026-11-01T20:00:00Z')), ['2026-11-01T04:00:00.000Z', '2026-11-02T05:00:00.000Z']);
  // A 2-hour resolution counts from local midnight in real time; the day's last bucket is cut at midnight.
  const twoHours = new BucketClock(newYork, 2 * HOUR_RESOLUTION_S);
  t.equal(iso(twoHours.bucketStartUs(us('2026-11-01T06:30:00Z'))), '2026-11-01T06:00:00.000Z');
  t.equal(iso(twoHours.bucketStartUs(us('2026-11-02T04:30:00Z'))), '2026-11-02T04:00:00.000Z', '23:30 EST: 24:00-25:00 real hours of the day');
  t.equal(iso(twoHours.bucketEndUs(us('2026-11-02T04:30:00Z'))), '2026-11-02T05:00:00.000Z', 'cut at the next local midnight');
});

t.test('weeks start Monday 00:00 local, and DST weeks are 167 and 169 hours', async (t) => {
  // Thursday 2026-01-15 -> Monday 2026-01-12 00:00 EST.
  t.same(bucket(newYork, WEEK_RESOLUTION_S, us('2026-01-15T14:37:00Z')), ['2026-01-12T05:00:00.000Z', '2026-01-19T05:00:00.000Z']);
  // Sunday 2026-01-18 23:59:59 EST is still that week; it is already Monday in UTC.
  t.same(bucket(newYork, WEEK_RESOLUTION_S, us('2026-01-19T04:59:59Z')), ['2026-01-12T05:00:00.000Z', '2026-01-19T05:00:00.000Z']);
  t.same(bucket(newYork, WEEK_RESOLUTION_S, us('2026-01-19T05:00:00Z')), ['2026-01-19T05:00:00.000Z', '2026-01-26T05:00:00.000Z']);
  // Monday 2026-01-12 03:00Z is Sunday 22:00 EST: the week before.
  t.same(bucket(newYork, WEEK_RESOLUTION_S, us('2026-01-12T03:00:00Z')), ['2026-01-05T05:00:00.000Z', '2026-01-12T05:00:00.000Z']);
  // The week of the spring-forward Sunday: Mon 03-02 00:00 EST to Mon 03-09 00:00 EDT = 167 h.
  const spring = bucket(newYork, WEEK_RESOLUTION_S, us('2026-03-08T12:00:00Z'));
  t.same(spring, ['2026-03-02T05:00:00.000Z', '2026-03-09T04:00:00.000Z']);
  t.equal((Date.parse(spring[1]) - Date.parse(spring[0])) / 3_600_000, 167);
  // The week of the fall-back Sunday: Mon 10-26 00:00 EDT to Mon 11-02 00:00 EST = 169 h.
  const fall = bucket(newYork, WEEK_RESOLUTION_S, us('2026-11-01T12:00:00Z'));
  t.same(fall, ['2026-10-26T04:00:00.000Z', '2026-11-02T05:00:00.000Z']);
  t.equal((Date.parse(fall[1]) - Date.parse(fall[0])) / 3_600_000, 169);
});

t.test('months are calendar months in local time, leap years included', async (t) => {
  // 2028 is a leap year: Feb 29 exists and belongs to February.
  t.same(bucket(newYork, MONTH_RESOLUTION_S, us('2028-02-29T12:00:00Z')), ['2028-02-01T05:00:00.000Z', '2028-03-01T05:00:00.000Z']);
  // Feb 29 23:59:59 EST is still February; it is March 1 in UTC.
  t.same(bucket(newYork, MONTH_RESOLUTION_S, us('2028-03-01T04:59:59Z')), ['2028-02-01T05:00:00.000Z', '2028-03-01T05:00:00.000Z']);
  // March 2028 ends in EDT (DST starts 2028-03-12): 00:00 EDT April 1 = 04:00Z.
  t.same(bucket(newYork, MONTH_RESOLUTION_S, us('2028-03-01T05:00:00Z')), ['2028-03-01T05:00:00.000Z', '2028-04-01T04:00:00.000Z']);
  // 2026 is not a leap year: February has 28 days.
  t.same(bucket(newYork, MONTH_RESOLUTION_S, us('2026-02-28T23:00:00Z')), ['2026-02-01T05:00:00.000Z', '2026-03-01T05:00:00.000Z']);
  // The year turns at local midnight: 2027-01-01 04:59Z is still December 2026 in New York.
  t.same(bucket(newYork, MONTH_RESOLUTION_S, us('2027-01-01T04:59:00Z')), ['2026-12-01T05:00:00.000Z', '2027-01-01T05:00:00.000Z']);
  // November 2026 starts in EDT and ends in EST.
  t.same(bucket(newYork, MONTH_RESOLUTION_S, us('2026-11-15T12:00:00Z')), ['2026-11-01T04:00:00.000Z', '2026-12-01T05:00:00.000Z']);
  // 2100 is not a leap year (divisible by 100, not by 400); 2000 was.
  const utc = new ExchangeTimeZone('UTC');
  t.same(bucket(utc, MONTH_RESOLUTION_S, us('2100-02-28T12:00:00Z')), ['2100-02-01T00:00:00.000Z', '2100-03-01T00:00:00.000Z']);
  t.same(bucket(utc, MONTH_RESOLUTION_S, us('2000-02-29T12:00:00Z')), ['2000-02-01T00:00:00.000Z', '2000-03-01T00:00:00.000Z']);
});

t.test('the civil calendar agrees with Date for every day from 1970 to 2200', async (t) => {
  let mismatches = 0;
  for (let day = 0; day < daysFromCivil(2200, 1, 1); day++) {
    const d = new Date(day * 86_400_000);
    const y = d.getUTCFullYear();
    const m = d.getUTCMonth() + 1;
    if (daysFromCivil(y, m, d.getUTCDate()) !== day || civilYear(day) !== y || civilMonth(day) !== m || weekdayFromMonday(day) !== (d.getUTCDay() + 6) % 7) mismatches++;
  }
  t.equal(mismatches, 0);
});

t.test('a zone that jumps at midnight: the day starts when its midnight is first reached', async (t) => {
  // São Paulo: DST began 2018-11-04 00:00 BRT (-3) -> 01:00 BRST (-2), so that local midnight never
  // happened; DST ended at 2019-02-17 00:00 BRST = 02:00Z, when clocks went back to 2019-02-16
  // 23:00 BRT, so 23:00-24:00 on the 16th happened twice and the 17th began at 00:00 BRT = 03:00Z.
  const saoPaulo = new ExchangeTimeZone('America/Sao_Paulo');
  t.same(bucket(saoPaulo, DAY_RESOLUTION_S, us('2018-11-04T12:00:00Z')), ['2018-11-04T03:00:00.000Z', '2018-11-05T02:00:00.000Z'], 'a 23-hour day starting at 01:00 BRST');
  t.same(bucket(saoPaulo, DAY_RESOLUTION_S, us('2018-11-03T12:00:00Z')), ['2018-11-03T03:00:00.000Z', '2018-11-04T03:00:00.000Z']);
  // 02:30Z on Feb 17 reads 23:30 BRT on the 16th (the second time): still the 16th, a 25-hour day.
  t.same(bucket(saoPaulo, DAY_RESOLUTION_S, us('2019-02-17T02:30:00Z')), ['2019-02-16T02:00:00.000Z', '2019-02-17T03:00:00.000Z'], 'a 25-hour day');
  t.same(bucket(saoPaulo, HOUR_RESOLUTION_S, us('2019-02-17T02:30:00Z')), ['2019-02-17T02:00:00.000Z', '2019-02-17T03:00:00.000Z'], 'the 25th real hour of the 16th');
  t.same(bucket(saoPaulo, DAY_RESOLUTION_S, us('2019-02-17T03:00:00Z')), ['2019-02-17T03:00:00.000Z', '2019-02-18T03:00:00.000Z']);
});

t.test('after the first lookup of a day, locating buckets asks Intl nothing', async (t) => {
  const zone = new ExchangeTimeZone('America/New_York');
  const clocks = [MINUTE_RESOLUTION_S, FIVE_MINUTE_RESOLUTION_S, HOUR_RESOLUTION_S, WEEK_RESOLUTION_S, MONTH_RESOLUTION_S].map((r) => new BucketClock(zone, r));
  const start = us('2026-11-01T00:00:00Z');
  for (const c of clocks) c.bucketStartUs(start);
  // Three days of trades every 50 ms, across the fall-back: ~5 million lookups.
  let checksum = 0;
  for (let time = start; time < start + 3 * 86_400e6; time += 50_000) {
    for (const c of clocks) checksum += c.bucketStartUs(time) % 7;
  }
  t.ok(checksum > 0);
  t.ok(zone.intlCalls < 60 * 19, `Intl was asked ${zone.intlCalls} times for a few days of trades (≤ 19 per UTC day touched)`);
  t.ok(clocks[0]!.locates <= 3 * 24 * 60 + 2, `the minute clock located ${clocks[0]!.locates} buckets, one per minute`);
});

t.test('resolutionProblem accepts multiples of 60 below a day and whole days, and says why not otherwise', async (t) => {
  for (const ok of [60, 300, 420, 3600, 7200, 86_400, 172_800, WEEK_RESOLUTION_S, MONTH_RESOLUTION_S]) t.equal(resolutionProblem(ok), null, `${ok}`);
  t.match(resolutionProblem(90), /not a multiple of 60/);
  t.match(resolutionProblem(0), /positive whole number/);
  t.match(resolutionProblem(90_000), /not a whole number of days/);
  t.match(resolutionProblem(400 * 86_400), /longer than the maximum/);
  t.throws(() => new ExchangeTimeZone('Mars/Olympus_Mons'), /not an IANA zone/);
});
