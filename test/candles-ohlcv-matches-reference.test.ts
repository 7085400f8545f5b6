// Live candles (OHLCV + trade count) equal a reference computed naively from the trades, at every
// live resolution, across DST changes and month ends; any 60·k resolution aggregated from
// 1-minute candles equals the same grouping done on the trades directly.
//
// The reference is independent of the zone cache: in New York offsets are whole hours and change
// at 02:00 local, so minute, 5-minute and hour buckets are UTC-aligned; weeks and months are
// keyed by the local calendar date Intl gives for each trade.
import t from 'tap';
import fc from 'fast-check';
import { BucketClock } from '../processes/market-data/bucket-clock';
import { CandleAggregator, type CandleSink } from '../processes/market-data/candle-aggregator';
import {
  CANDLE_HISTORY_1M,
} from '../processes/market-data/market-data-limits';
import {
  FIVE_MINUTE_RESOLUTION_S,
  HOUR_RESOLUTION_S,
  LIVE_RESOLUTIONS_S,
  MINUTE_RESOLUTION_S,
  MONTH_RESOLUTION_S,
  WEEK_RESOLUTION_S,
} from '../processes/market-data/candle-resolution';
import { aggregateCandles, type CandleRecord } from '../processes/market-data/candle-rollup';
import { ExchangeTimeZone } from '../processes/market-data/exchange-time-zone';
import { testSeed } from './support/seeded-random';

const SEED = testSeed(0x0c4d_1e57);
const RUNS = 60;
t.comment(`fast-check seed ${SEED} (set IMS_TEST_SEED to change), ${RUNS} runs per property`);

const ZONE_NAME = 'America/New_York';
const PRODUCT = 7;

interface Trade {
  timeUs: number;
  price: number;
  quantity: number;
}

interface Closed extends CandleRecord {
  productId: number;
  resolutionS: number;
}

class RecordingSink implements CandleSink {
  readonly closed: Closed[] = [];
  onCandleClosed(productId: number, resolutionS: number, bucketStartUs: number, open: number, high: number, low: number, close: number, volume: number, trades: number): void {
    this.closed.push({ productId, resolutionS, bucketStartUs, open, high, low, close, volume, trades });
  }
}

const localDate = new Intl.DateTimeFormat('en-CA', { timeZone: ZONE_NAME, year: 'numeric', month: '2-digit', day: '2-digit', weekday: 'short' });
const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** The local calendar key of the bucket an instant falls in: 'YYYY-MM-DD' of its Monday, or 'YYYY-MM'. */
function calendarKey(timeUs: number, resolutionS: number): string {
  const parts = Object.fromEntries(localDate.formatToParts(timeUs / 1000).map((p) => [p.type, p.value]));
  if (resolutionS === MONTH_RESOLUTION_S) return `${parts.year}-${parts.month}`;
  const weekday = WEEKDAYS.indexOf(parts.weekday!);
  const monday = new Date(Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day) - weekday));
  return monday.toISOString().slice(0, 10);
}

/** Reference key of a trade's bucket, computed without the library's zone code. */
function referenceKey(timeUs: number, resolutionS: number): string {
  if (resolutionS === WEEK_RESOLUTION_S || resolutionS === MONTH_RESOLUTION_S) return calendarKey(timeUs, resolutionS);
  const resolutionUs = resolutionS * 1e6;
  return String(Math.floor(timeUs / resolutionUs) * resolutionUs);
}

/** Key of a candle the library produced, in the reference's terms (its start is inside its bucket). */
function candleKey(candle: CandleRecord, resolutionS: number): string {
  if (resolutionS === WEEK_RESOLUTION_S || resolutionS === MONTH_RESOLUTION_S) return calendarKey(candle.bucketStartUs, resolutionS);
  return String(candle.bucketStartUs);
}

/** Naive OHLCV: group trades by key, in order. */
function referenceCandles(trades: readonly Trade[], keyOf: (timeUs: number) => string): Map<string, Omit<CandleRecord, 'bucketStartUs'>> {
  const out = new Map<string, Omit<CandleRecord, 'bucketStartUs'>>();
  for (const trade of trades) {
    const key = keyOf(trade.timeUs);
    const c = out.get(key);
    if (c === undefined) {
      out.set(key, { open: trade.price, high: trade.price, low: trade.price, close: trade.price, volume: trade.quantity, trades: 1 });
    } else {
      c.high = Math.max(c.high, trade.price);
      c.low = Math.min(c.low, trade.price);
      c.close = trade.price;
      c.volume += trade.quantity;
      c.trades++;
    }
  }
  return out;
}

function withoutStart(c: CandleRecord): Omit<CandleRecord, 'bucketStartUs'> {
  return { open: c.open, high: c.high, low: c.low, close: c.close, volume: c.volume, trades: c.trades };
}

// Windows of three days around the interesting boundaries.
const ANCHORS_US = [
  '2026-03-07T00:00:00Z', // spring forward on 03-08
  '2026-10-30T00:00:00Z', // fall back on 11-01, month end 10-31
  '2028-02-27T00:00:00Z', // leap day, month end, week start (2028-02-28 is a Monday)
  '2026-12-30T00:00:00Z', // year end
].map((iso) => Date.parse(iso) * 1000);
const WINDOW_US = 3 * 86_400e6;

const tradesArbitrary = fc
  .tuple(
    fc.constantFrom(...ANCHORS_US),
    fc.array(
      fc.record({
        // Clustered offsets so many trades share buckets, plus a few spread over the window.
        offsetUs: fc.oneof(fc.integer({ min: 0, max: WINDOW_US }), fc.integer({ min: 0, max: 600e6 })),
        price: fc.integer({ min: 1, max: 1_000 }),
        quantity: fc.integer({ min: 1, max: 100 }),
      }),
      { minLength: 1, maxLength: 250 },
    ),
  )
  .map(([anchor, raw]) => {
    const offsets = raw.map((r) => r.offsetUs).sort((a, b) => a - b);
    return raw.map((r, i) => ({ timeUs: anchor + offsets[i]!, price: r.price, quantity: r.quantity }));
  });

function runAggregator(trades: readonly Trade[]): { sink: RecordingSink; aggregator: CandleAggregator } {
  const sink = new RecordingSink();
  const aggregator = new CandleAggregator(new ExchangeTimeZone(ZONE_NAME), sink, 4);
  const slot = aggregator.addProduct(PRODUCT);
  for (const trade of trades) {
    aggregator.advanceTime(trade.timeUs);
    aggregator.onTrade(slot, trade.timeUs, trade.price, trade.quantity);
  }
  return { sink, aggregator };
}

t.test('live candles at every live resolution equal the naive reference from the trades', async (t) => {
  fc.assert(
    fc.property(tradesArbitrary, (trades) => {
      const { sink, aggregator } = runAggregator(trades);
      // Close everything: time moves past the last month.
      aggregator.advanceTime(trades[trades.length - 1]!.timeUs + 40 * 86_400e6);
      for (const resolutionS of LIVE_RESOLUTIONS_S) {
        const expected = referenceCandles(trades, (timeUs) => referenceKey(timeUs, resolutionS));
        const actual = new Map<string, Omit<CandleRecord, 'bucketStartUs'>>();
        let previousStart = Number.NEGATIVE_INFINITY;
        for (const c of sink.closed) {
          if (c.resolutionS !== resolutionS) continue;
          if (!(c.bucketStartUs > previousStart)) throw new Error(`resolution ${resolutionS}: candles not strictly ascending`);
          previousStart = c.bucketStartUs;
          actual.set(candleKey(c, resolutionS), withoutStart(c));
        }
        t.same([...actual.entries()], [...expected.entries()], `resolution ${resolutionS}`, { diagnostic: false });
        if ([...actual.entries()].length !== expected.size) return false;
      }
      return true;
    }),
    { seed: SEED, numRuns: RUNS },
  );
});

t.test('any 60·k resolution aggregated from 1-minute candles equals grouping the trades directly', async (t) => {
  const zone = new ExchangeTimeZone(ZONE_NAME);
  fc.assert(
    fc.property(
      tradesArbitrary,
      fc.oneof(fc.integer({ min: 1, max: 24 * 60 - 1 }).map((k) => 60 * k), fc.constantFrom(86_400, 2 * 86_400, WEEK_RESOLUTION_S, MONTH_RESOLUTION_S)),
      (trades, resolutionS) => {
        const { aggregator } = runAggregator(trades);
        const clock = new BucketClock(zone, resolutionS);
        const minutes = aggregator.candles(PRODUCT, MINUTE_RESOLUTION_S, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
        const rolled = aggregateCandles(minutes, clock);
        const direct = referenceCandles(trades, (timeUs) => String(clock.bucketStartUs(timeUs)));
        const got = rolled.map((c) => [String(c.bucketStartUs), withoutStart(c)]);
        t.same(got, [...direct.entries()], `resolution ${resolutionS}`, { diagnostic: false });
        // Through the query API too (it widens the range to whole buckets itself).
        const queried = aggregator.candles(PRODUCT, resolutionS, rolled[0]!.bucketStartUs, Number.MAX_SAFE_INTEGER, 10_000);
        t.same(queried, rolled, `query at ${resolutionS}`, { diagnostic: false });
        return true;
      },
    ),
    { seed: SEED, numRuns: RUNS },
  );
});

t.test('the live 5-minute, hour, week and month candles equal the rollup of the 1-minute candles', async (t) => {
  const zone = new ExchangeTimeZone(ZONE_NAME);
  fc.assert(
    fc.property(tradesArbitrary, (trades) => {
      const { aggregator } = runAggregator(trades);
      const minutes = aggregator.candles(PRODUCT, MINUTE_RESOLUTION_S, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 1e9);
      for (const resolutionS of [FIVE_MINUTE_RESOLUTION_S, HOUR_RESOLUTION_S, WEEK_RESOLUTION_S, MONTH_RESOLUTION_S]) {
        const live = aggregator.candles(PRODUCT, resolutionS, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 1e9);
        t.same(live, aggregateCandles(minutes, new BucketClock(zone, resolutionS)), `resolution ${resolutionS}`, { diagnostic: false });
      }
      return true;
    }),
    { seed: SEED, numRuns: RUNS },
  );
});

t.test('a quiet product closes its candle when journal time passes the bucket end, and empty buckets have no candle', async (t) => {
  const sink = new RecordingSink();
  const aggregator = new CandleAggregator(new ExchangeTimeZone(ZONE_NAME), sink, 4);
  const quiet = aggregator.addProduct(1);
  const busy = aggregator.addProduct(2);
  const t0 = Date.parse('2026-01-15T14:37:10Z') * 1000;
  aggregator.onTrade(quiet, t0, 100, 5);
  aggregator.onTrade(busy, t0, 200, 1);
  t.equal(aggregator.advanceTime(t0 + 49e6), 0, 'still 14:37');
  t.equal(aggregator.advanceTime(t0 + 50e6), 2, 'at 14:38:00 both 1-minute candles close');
  t.same(sink.closed.map((c) => [c.productId, c.resolutionS, new Date(c.bucketStartUs / 1000).toISOString()]), [
    [1, 60, '2026-01-15T14:37:00.000Z'],
    [2, 60, '2026-01-15T14:37:00.000Z'],
  ]);
  // Three minutes later, one trade: the minutes without trades produced nothing.
  aggregator.advanceTime(t0 + 200e6);
  aggregator.onTrade(busy, t0 + 200e6, 201, 1);
  aggregator.advanceTime(t0 + 400e6);
  t.same(
    sink.closed.filter((c) => c.resolutionS === 60).map((c) => [c.productId, new Date(c.bucketStartUs / 1000).toISOString()]),
    [
      [1, '2026-01-15T14:37:00.000Z'],
      [2, '2026-01-15T14:37:00.000Z'],
      [2, '2026-01-15T14:40:00.000Z'],
    ],
  );
  t.same(aggregator.openCandle(1, HOUR_RESOLUTION_S), { bucketStartUs: Date.parse('2026-01-15T14:00:00Z') * 1000, open: 100, high: 100, low: 100, close: 100, volume: 5, trades: 1 });
});

t.test('a timestamp that goes backwards counts in the open candle; candles never reopen', async (t) => {
  const sink = new RecordingSink();
  const aggregator = new CandleAggregator(new ExchangeTimeZone(ZONE_NAME), sink, 1);
  const slot = aggregator.addProduct(1);
  const t0 = Date.parse('2026-01-15T14:38:05Z') * 1000;
  aggregator.onTrade(slot, t0, 100, 1);
  aggregator.onTrade(slot, t0 - 30e6, 90, 2); // 14:37:35, a minute that already passed
  t.equal(aggregator.lateTimestamps, 1);
  t.same(aggregator.openCandle(1, MINUTE_RESOLUTION_S), { bucketStartUs: Date.parse('2026-01-15T14:38:00Z') * 1000, open: 100, high: 100, low: 90, close: 90, volume: 3, trades: 2 });
});

t.test('the 1-minute history is bounded: the oldest candles give way, the rest is in storage', async (t) => {
  const sink = new RecordingSink();
  const aggregator = new CandleAggregator(new ExchangeTimeZone(ZONE_NAME), sink, 1);
  const slot = aggregator.addProduct(1);
  const t0 = Date.parse('2026-01-15T00:00:30Z') * 1000;
  const minutes = CANDLE_HISTORY_1M + 100;
  for (let m = 0; m < minutes; m++) aggregator.onTrade(slot, t0 + m * 60e6, 100 + m, 1);
  t.equal(sink.closed.filter((c) => c.resolutionS === 60).length, minutes - 1, 'every closed candle went to the sink');
  const kept = aggregator.candles(1, 60, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 1e9);
  t.equal(kept.length, CANDLE_HISTORY_1M + 1, 'history capacity + the open candle');
  t.equal(aggregator.oldestCandleStartUs(1, 60), Date.parse('2026-01-15T00:00:00Z') * 1000 + (minutes - 1 - CANDLE_HISTORY_1M) * 60e6);
  t.same(
    aggregator.candles(1, 60, kept[5]!.bucketStartUs, kept[8]!.bucketStartUs, 100).map((c) => c.open),
    [kept[5]!.open, kept[6]!.open, kept[7]!.open],
    'a range query returns [from, to)',
  );
  t.equal(aggregator.candles(1, 60, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 10).length, 10, 'limit');
  t.throws(() => aggregator.candles(1, 90, 0, 1, 1), /not a multiple of 60/);
});
