// Market-data benchmark: engine events (Fill and BookLevelChanged journal records, encoded with
// the real schema) through the market-data state (L2 books with history, trade tapes, candles at
// every live resolution), then the same with fan-out to S subscribers; a naive baseline on the
// same records, side by side, single thread, in process, fixed seed.
//
//   node dist/scripts/bench/marketdata.js [--quick]
//
// The stream: 100 products; each step picks a product and either adds to a price level near the
// touch (≈55 %), takes quantity off a level as a cancel would (≈15 %), or trades against the best
// level (≈30 %: a Fill plus the BookLevelChanged of the level it hit, sharing one timestamp). So
// about a quarter of the records are fills. Journal time advances 0-2 ms per step (≈1 ms average),
// so minute and hour candles close during the run. Records sit back to back in one buffer
// (JournalHeader + body, as the journal ring hands them over) with their offsets and type ids in
// typed arrays; generating and encoding them is not timed.
//
// Measured, each a fresh state after an untimed warm-up pass on a scratch one; median of TRIALS:
//   events       MarketData.onJournalRecord over every record, sink counting only;
//   fan-out      the same plus, for every trade, book delta and closed candle, an outgoing body
//                (TradeTick / Candle; book deltas as a BookLevelChanged-shaped body with the
//                product's sequence — the schema has no BookDelta message yet) delivered to S
//                subscribers in a fresh FanoutOrder per message, each subscriber's copy written
//                into its own preallocated ring of words; fanout_msgs_per_s = deliveries / time;
//   baseline     the naive way on a prefix of the same records (it is far slower): decode() every
//                record into objects, a Map-of-objects book per side, candle buckets from one
//                Intl.DateTimeFormat formatToParts per trade keyed by local-time strings, the tape
//                a JS array with shift().
// Books and tapes of the baseline and of MarketData are compared at the end of the prefix.
// The last line printed is one JSON object; everything before it is for humans.

import { performance, PerformanceObserver } from 'node:perf_hooks';
import { Side } from '../../bus/enums';
import { clearBytes, decode, encode, writeI64, writeU16, writeU32, writeU8 } from '../../bus/codec';
import { BookLevelChanged, Candle, Fill, JOURNAL_HEADER_BYTES, JournalHeader, TradeTick, messageByTypeId } from '../../bus/schema';
import { FanoutOrder } from '../../processes/market-data/fanout-order';
import { MarketData, type MarketDataSink } from '../../processes/market-data/market-data';

const QUICK = process.argv.includes('--quick');
const SEED = 0x3d_2026;

const PRODUCTS = 100;
const EVENTS_TARGET = QUICK ? 600_000 : 3_000_000;
const WARMUP_EVENTS = QUICK ? 150_000 : 400_000;
const BASELINE_EVENTS = QUICK ? 100_000 : 400_000;
const TRIALS = QUICK ? 3 : 5;
const SUBSCRIBERS = 64;
/** Words (4 bytes) in each simulated subscriber's ring. */
const SUBSCRIBER_RING_WORDS = 16 * 1024;
const TIME_ZONE = 'America/New_York';
/** Monday 2026-03-02 09:30 EST: a trading morning with no DST change in the run. */
const START_US = Date.parse('2026-03-02T14:30:00Z') * 1000;
const MAX_STEP_US = 2_000;
const MID_PRICE = 10_000;
const TICKS_FROM_MID = 20;
const TAPE_CAPACITY = 1_024;

// --- deterministic random numbers (mulberry32; no Math.random) -------------------------------------

class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  u32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return (z ^ (z >>> 14)) >>> 0;
  }
  int(min: number, max: number): number {
    return min + Math.floor((this.u32() / 2 ** 32) * (max - min + 1));
  }
}

// --- the record stream --------------------------------------------------------------------------------

interface Stream {
  view: DataView;
  offsets: Int32Array;
  typeIds: Uint16Array;
  versions: Uint8Array;
  count: number;
  fills: number;
  spanUs: number;
}

function generate(targetEvents: number): Stream {
  const rng = new Rng(SEED);
  const recordBytes = JOURNAL_HEADER_BYTES + Math.max(Fill.size, BookLevelChanged.size);
  const view = new DataView(new ArrayBuffer((targetEvents + 2) * recordBytes));
  const offsets = new Int32Array(targetEvents + 2);
  const typeIds = new Uint16Array(targetEvents + 2);
  const versions = new Uint8Array(targetEvents + 2);
  // Per product and side: resting quantity per price (generation only).
  const books = Array.from({ length: PRODUCTS }, () => [new Map<number, number>(), new Map<number, number>()]);
  let count = 0;
  let fills = 0;
  let at = 0;
  let timeUs = START_US;
  let execId = 0;
  const header = { seq: 0, timestampUs: 0, sourceSeq: 0, sourceId: 2, flags: 0, epoch: 1 };
  const level = { price: 0, quantity: 0, inSeq: 0, productId: 0, orderCount: 0, epoch: 1, outIndex: 0, side: 0 };
  const fill = {
    execId: 0, price: 0, quantity: 0, makerOrderId: 1, makerLeaves: 0, makerCumQuantity: 0, takerOrderId: 2, takerLeaves: 0,
    takerCumQuantity: 0, inSeq: 0, productId: 0, makerAccountId: 3, takerAccountId: 4, epoch: 1, outIndex: 0, takerSide: 0,
  };
  const push = (desc: typeof Fill | typeof BookLevelChanged, body: typeof fill | typeof level): void => {
    count++;
    header.seq = count;
    header.sourceSeq = count;
    header.timestampUs = timeUs;
    encode(JournalHeader, header, view, at);
    encode(desc, body as never, view, at + JOURNAL_HEADER_BYTES);
    offsets[count - 1] = at;
    typeIds[count - 1] = desc.typeId;
    versions[count - 1] = desc.version;
    at += JOURNAL_HEADER_BYTES + desc.size;
  };
  const pushLevel = (productId: number, side: number, price: number, quantity: number): void => {
    level.productId = productId;
    level.side = side;
    level.price = price;
    level.quantity = quantity;
    level.orderCount = quantity === 0 ? 0 : 1 + (quantity % 7);
    level.inSeq = count;
    push(BookLevelChanged, level);
  };
  while (count < targetEvents) {
    timeUs += rng.int(0, MAX_STEP_US);
    const productId = rng.int(1, PRODUCTS);
    const side = rng.int(Side.INFLOW, Side.OUTFLOW);
    const levels = books[productId - 1]![side - 1]!;
    const roll = rng.int(0, 99);
    if (roll < 55 || levels.size === 0) {
      const distance = Math.min(rng.int(1, TICKS_FROM_MID), rng.int(1, TICKS_FROM_MID));
      const price = side === Side.INFLOW ? MID_PRICE - distance : MID_PRICE + distance;
      const quantity = (levels.get(price) ?? 0) + rng.int(1, 100);
      levels.set(price, quantity);
      pushLevel(productId, side, price, quantity);
    } else if (roll < 70) {
      const prices = [...levels.keys()];
      const price = prices[rng.int(0, prices.length - 1)]!;
      const left = Math.max(0, levels.get(price)! - rng.int(1, 150));
      if (left === 0) levels.delete(price);
      else levels.set(price, left);
      pushLevel(productId, side, price, left);
    } else {
      // A taker of the other side hits the best level of this side.
      let best = side === Side.INFLOW ? -Infinity : Infinity;
      for (const p of levels.keys()) best = side === Side.INFLOW ? Math.max(best, p) : Math.min(best, p);
      const resting = levels.get(best)!;
      const quantity = Math.min(resting, rng.int(1, 60));
      fill.execId = ++execId;
      fill.productId = productId;
      fill.price = best;
      fill.quantity = quantity;
      fill.makerCumQuantity = quantity;
      fill.takerCumQuantity = quantity;
      fill.takerSide = side === Side.INFLOW ? Side.OUTFLOW : Side.INFLOW;
      fill.inSeq = count;
      push(Fill, fill);
      fills++;
      if (resting === quantity) levels.delete(best);
      else levels.set(best, resting - quantity);
      pushLevel(productId, side, best, resting - quantity);
    }
  }
  return { view, offsets, typeIds, versions, count, fills, spanUs: timeUs - START_US };
}

// --- sinks ------------------------------------------------------------------------------------------

class CountingSink implements MarketDataSink {
  trades = 0;
  deltas = 0;
  candles = 0;
  onTrade(): void {
    this.trades++;
  }
  onBookDelta(): void {
    this.deltas++;
  }
  onCandleClosed(): void {
    this.candles++;
  }
}

/** Encodes each output once and copies it to every subscriber, in a fresh fair order per message. */
class FanoutSink implements MarketDataSink {
  delivered = 0;
  messages = 0;
  private readonly outBytes = new ArrayBuffer(128);
  private readonly out = new DataView(this.outBytes);
  private readonly outWords = new Int32Array(this.outBytes);
  private readonly rings: Int32Array[] = [];
  private readonly positions = new Int32Array(SUBSCRIBERS);
  private readonly fanout = new FanoutOrder(SUBSCRIBERS, SEED);

  constructor() {
    for (let s = 0; s < SUBSCRIBERS; s++) this.rings.push(new Int32Array(SUBSCRIBER_RING_WORDS));
  }

  onTrade(productId: number, execId: number, price: number, quantity: number, takerSide: number, timestampUs: number): void {
    const out = this.out;
    clearBytes(out, 0, TradeTick.size);
    writeI64(out, TradeTick.o.execId, execId);
    writeI64(out, TradeTick.o.price, price);
    writeI64(out, TradeTick.o.quantity, quantity);
    writeI64(out, TradeTick.o.timestampUs, timestampUs);
    writeU32(out, TradeTick.o.productId, productId);
    writeU8(out, TradeTick.o.takerSide, takerSide);
    this.deliver(TradeTick.size >> 2);
  }

  onBookDelta(productId: number, sequence: number, side: number, price: number, quantity: number, orderCount: number): void {
    const out = this.out;
    clearBytes(out, 0, BookLevelChanged.size);
    writeI64(out, BookLevelChanged.o.price, price);
    writeI64(out, BookLevelChanged.o.quantity, quantity);
    writeI64(out, BookLevelChanged.o.inSeq, sequence);
    writeU32(out, BookLevelChanged.o.productId, productId);
    writeU32(out, BookLevelChanged.o.orderCount, orderCount);
    writeU16(out, BookLevelChanged.o.outIndex, 0);
    writeU8(out, BookLevelChanged.o.side, side);
    this.deliver(BookLevelChanged.size >> 2);
  }

  onCandleClosed(productId: number, resolutionS: number, bucketStartUs: number, open: number, high: number, low: number, close: number, volume: number, trades: number): void {
    const out = this.out;
    clearBytes(out, 0, Candle.size);
    writeI64(out, Candle.o.bucketStartUs, bucketStartUs);
    writeI64(out, Candle.o.open, open);
    writeI64(out, Candle.o.high, high);
    writeI64(out, Candle.o.low, low);
    writeI64(out, Candle.o.close, close);
    writeI64(out, Candle.o.volume, volume);
    writeU32(out, Candle.o.productId, productId);
    writeU32(out, Candle.o.resolutionS, resolutionS);
    writeU32(out, Candle.o.trades, trades);
    this.deliver(Candle.size >> 2);
  }

  private deliver(words: number): void {
    const order = this.fanout.shuffle(SUBSCRIBERS, ++this.messages);
    const source = this.outWords;
    for (let k = 0; k < SUBSCRIBERS; k++) {
      const s = order[k]!;
      const ring = this.rings[s]!;
      let position = this.positions[s]!;
      if (position + words > SUBSCRIBER_RING_WORDS) position = 0; // the subscriber drained it
      for (let w = 0; w < words; w++) ring[position + w] = source[w]!;
      this.positions[s] = position + words;
      this.delivered++;
    }
  }
}

// --- the naive baseline -------------------------------------------------------------------------------

interface NaiveCandle {
  key: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  trades: number;
}

class NaiveMarketData {
  readonly books = new Map<number, { bids: Map<number, { quantity: number; orderCount: number }>; asks: Map<number, { quantity: number; orderCount: number }>; sequence: number }>();
  readonly tapes = new Map<number, { execId: number; price: number; quantity: number; takerSide: number; timestampUs: number }[]>();
  readonly candles = new Map<number, Map<string, NaiveCandle>>();
  closed = 0;
  private readonly format = new Intl.DateTimeFormat('en-US', {
    timeZone: TIME_ZONE, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', weekday: 'short',
  });

  onRecord(typeId: number, view: DataView, offset: number): void {
    const header = decode(JournalHeader, view, offset);
    const desc = messageByTypeId(typeId);
    if (desc === undefined) return;
    const body = decode(desc, view, offset + JOURNAL_HEADER_BYTES) as Record<string, number>;
    if (typeId === BookLevelChanged.typeId) {
      let book = this.books.get(body.productId!);
      if (book === undefined) {
        book = { bids: new Map(), asks: new Map(), sequence: 0 };
        this.books.set(body.productId!, book);
      }
      const levels = body.side === Side.INFLOW ? book.bids : book.asks;
      if (body.quantity === 0) levels.delete(body.price!);
      else levels.set(body.price!, { quantity: body.quantity!, orderCount: body.orderCount! });
      book.sequence++;
    } else if (typeId === Fill.typeId) {
      let tape = this.tapes.get(body.productId!);
      if (tape === undefined) {
        tape = [];
        this.tapes.set(body.productId!, tape);
      }
      tape.push({ execId: body.execId!, price: body.price!, quantity: body.quantity!, takerSide: body.takerSide!, timestampUs: header.timestampUs });
      if (tape.length > TAPE_CAPACITY) tape.shift();
      this.candle(body.productId!, header.timestampUs, body.price!, body.quantity!);
    }
  }

  private candle(productId: number, timestampUs: number, price: number, quantity: number): void {
    const p = Object.fromEntries(this.format.formatToParts(new Date(timestampUs / 1000)).map((x) => [x.type, x.value]));
    const day = `${p.year}-${p.month}-${p.day}`;
    const minute = Number(p.minute);
    const weekday = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(p.weekday!);
    const monday = new Date(Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day) - weekday)).toISOString().slice(0, 10);
    const keys: [string, string][] = [
      ['1m', `${day} ${p.hour}:${p.minute}`],
      ['5m', `${day} ${p.hour}:${Math.floor(minute / 5) * 5}`],
      ['1h', `${day} ${p.hour}`],
      ['1w', monday],
      ['1mo', `${p.year}-${p.month}`],
    ];
    let byResolution = this.candles.get(productId);
    if (byResolution === undefined) {
      byResolution = new Map();
      this.candles.set(productId, byResolution);
    }
    for (const [resolution, key] of keys) {
      const c = byResolution.get(resolution);
      if (c === undefined || c.key !== key) {
        if (c !== undefined) this.closed++;
        byResolution.set(resolution, { key, open: price, high: price, low: price, close: price, volume: quantity, trades: 1 });
      } else {
        c.high = Math.max(c.high, price);
        c.low = Math.min(c.low, price);
        c.close = price;
        c.volume += quantity;
        c.trades++;
      }
    }
  }
}

// --- runs ---------------------------------------------------------------------------------------------

function runIms(stream: Stream, sink: MarketDataSink, events: number): { md: MarketData; seconds: number } {
  const md = new MarketData(sink, { timeZone: TIME_ZONE, tradeTapeCapacity: TAPE_CAPACITY });
  const { view, offsets, typeIds, versions } = stream;
  const started = performance.now();
  for (let i = 0; i < events; i++) md.onJournalRecord(typeIds[i]!, versions[i]!, view, offsets[i]!);
  return { md, seconds: (performance.now() - started) / 1000 };
}

function runBaseline(stream: Stream, events: number): { naive: NaiveMarketData; seconds: number } {
  const naive = new NaiveMarketData();
  const started = performance.now();
  for (let i = 0; i < events; i++) naive.onRecord(stream.typeIds[i]!, stream.view, stream.offsets[i]!);
  return { naive, seconds: (performance.now() - started) / 1000 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** The baseline and MarketData agree on every book and tape after the same records. */
function sameResults(md: MarketData, naive: NaiveMarketData): boolean {
  for (const [productId, book] of naive.books) {
    const depth = md.snapshot(productId);
    if (depth === undefined || depth.sequence !== book.sequence) return false;
    const bids = [...book.bids.entries()].sort((a, b) => b[0] - a[0]).map(([p, l]) => [p, l.quantity, l.orderCount]);
    const asks = [...book.asks.entries()].sort((a, b) => a[0] - b[0]).map(([p, l]) => [p, l.quantity, l.orderCount]);
    if (JSON.stringify(bids) !== JSON.stringify(depth.bids) || JSON.stringify(asks) !== JSON.stringify(depth.asks)) return false;
  }
  for (const [productId, tape] of naive.tapes) {
    if (JSON.stringify(md.recentTrades(productId, TAPE_CAPACITY)) !== JSON.stringify(tape)) return false;
  }
  return true;
}

function main(): void {
  const generateStarted = performance.now();
  const stream = generate(EVENTS_TARGET);
  console.log(
    `stream: ${fmt(stream.count)} journal records (${fmt(stream.fills)} fills, ${fmt(stream.count - stream.fills)} book level changes) over ${PRODUCTS} products, ` +
      `${(stream.spanUs / 60e6).toFixed(1)} min of journal time, generated and encoded in ${((performance.now() - generateStarted) / 1000).toFixed(1)} s` +
      (QUICK ? ' [quick: 1/5 of the full 3,000,000 records]' : ''),
  );

  let gcs = 0;
  let gcMs = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcs++;
      gcMs += entry.duration;
    }
  });
  observer.observe({ entryTypes: ['gc'] });

  // Warm-up (untimed), then trials.
  runIms(stream, new CountingSink(), Math.min(WARMUP_EVENTS, stream.count));
  runIms(stream, new FanoutSink(), Math.min(WARMUP_EVENTS, stream.count));
  const eventRates: number[] = [];
  const fanoutEventRates: number[] = [];
  const fanoutRates: number[] = [];
  const gcPerTrial: number[] = [];
  let lastSink = new CountingSink();
  let lastMd: MarketData | undefined;
  for (let trial = 0; trial < TRIALS; trial++) {
    const gcBefore = gcs;
    lastSink = new CountingSink();
    const plain = runIms(stream, lastSink, stream.count);
    lastMd = plain.md;
    eventRates.push(stream.count / plain.seconds);
    gcPerTrial.push(gcs - gcBefore);
    const fanoutSink = new FanoutSink();
    const fanned = runIms(stream, fanoutSink, stream.count);
    fanoutEventRates.push(stream.count / fanned.seconds);
    fanoutRates.push(fanoutSink.delivered / fanned.seconds);
  }
  const eventsPerS = median(eventRates);
  const fanoutMsgsPerS = median(fanoutRates);
  console.log(
    `IMS market data: ${fmt(eventsPerS)} events/s (median of ${TRIALS}: ${eventRates.map(fmt).join(', ')}); ` +
      `${fmt(lastSink.trades)} trades, ${fmt(lastSink.deltas)} sequenced deltas, ${fmt(lastSink.candles)} candles closed per pass; ` +
      `GC events during a timed pass: ${gcPerTrial.join(', ')} (${lastMd!.candles.zone.intlCalls} Intl calls in the last state)`,
  );
  const messagesPerPass = lastSink.trades + lastSink.deltas + lastSink.candles;
  console.log(
    `IMS with fan-out to ${SUBSCRIBERS} subscribers: ${fmt(median(fanoutEventRates))} events/s, ${fmt(messagesPerPass)} messages x ${SUBSCRIBERS} = ` +
      `${fmt(messagesPerPass * SUBSCRIBERS)} deliveries per pass, ${fmt(fanoutMsgsPerS)} deliveries/s (median; ${fanoutRates.map(fmt).join(', ')})`,
  );

  // Baseline on a prefix, then a check that both agree on that prefix.
  const baselineEvents = Math.min(BASELINE_EVENTS, stream.count);
  runBaseline(stream, Math.min(20_000, baselineEvents));
  const baselineRates: number[] = [];
  let naive: NaiveMarketData | undefined;
  for (let trial = 0; trial < Math.min(TRIALS, 3); trial++) {
    const run = runBaseline(stream, baselineEvents);
    naive = run.naive;
    baselineRates.push(baselineEvents / run.seconds);
  }
  const baselineEventsPerS = median(baselineRates);
  const agree = sameResults(runIms(stream, new CountingSink(), baselineEvents).md, naive!);
  console.log(
    `naive baseline (decode() objects, Map-of-objects books, Intl per trade, array tape) on the first ${fmt(baselineEvents)} records: ` +
      `${fmt(baselineEventsPerS)} events/s (median; ${baselineRates.map(fmt).join(', ')}); IMS / baseline = ${(eventsPerS / baselineEventsPerS).toFixed(1)}x; ` +
      `books and tapes agree: ${agree ? 'yes' : 'NO'}`,
  );
  observer.disconnect();
  console.log(`target >= 1,000,000 engine events/s: ${eventsPerS >= 1_000_000 ? 'met' : 'NOT met'}`);
  if (!agree) process.exitCode = 1;
  console.log(
    JSON.stringify({
      bench: 'marketdata',
      events_per_s: Math.round(eventsPerS),
      fanout_msgs_per_s: Math.round(fanoutMsgsPerS),
      subscribers: SUBSCRIBERS,
      baseline_events_per_s: Math.round(baselineEventsPerS),
    }),
  );
}

main();
