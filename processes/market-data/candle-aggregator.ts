// Live candles: per product, open/high/low/close/volume/trade count at every live resolution
// (1 minute, 5 minutes, 1 hour, 1 week, 1 month; candle-resolution.ts says what their buckets
// are), with a bounded in-memory history of closed candles per product and resolution.
//
// A candle closes when time (a trade, or any journal entry via advanceTime) reaches a later
// bucket; it is then handed to the CandleSink as primitives, so the publisher can store and
// publish it, and kept in the product's history ring (LIVE_HISTORY_CAPACITY; older candles are
// left to storage). A bucket without trades has no candle.
//
// Timestamps are the journal's (µs). A timestamp earlier than the latest one seen is counted in
// `lateTimestamps` and treated as the latest: candles only move forward, a closed candle never
// reopens, and the stored history stays strictly ascending.
//
// Memory: the open candles of every possible product are one Float64Array made at start-up; a
// product's history rings (≈ 2,900 candles, 160 KB) are made when the product is added. Applying
// a trade allocates nothing.

import { BucketClock } from './bucket-clock';
import { LIVE_HISTORY_CAPACITY, LIVE_RESOLUTIONS_S, MINUTE_RESOLUTION_S, liveResolutionIndex, resolutionProblem } from './candle-resolution';
import { aggregateCandles, type CandleRecord } from './candle-rollup';
import type { ExchangeTimeZone } from './exchange-time-zone';
import { assert } from './market-data-assert';
import { MAX_PRODUCTS } from './market-data-limits';

/** Where closed candles go. Primitives only: closing a candle allocates nothing. */
export interface CandleSink {
  onCandleClosed(
    productId: number,
    resolutionS: number,
    bucketStartUs: number,
    open: number,
    high: number,
    low: number,
    close: number,
    volume: number,
    trades: number,
  ): void;
}

// One candle is FIELDS consecutive f64 values (prices and volumes are safe integers: exact in f64).
const F_START = 0;
const F_OPEN = 1;
const F_HIGH = 2;
const F_LOW = 3;
const F_CLOSE = 4;
const F_VOLUME = 5;
const F_TRADES = 6;
const FIELDS = 7;

const RESOLUTIONS = LIVE_RESOLUTIONS_S.length;
const MINUTE_INDEX = liveResolutionIndex(MINUTE_RESOLUTION_S);

/** Where each resolution's ring starts inside a product's history array, in candles. */
const HISTORY_OFFSETS: readonly number[] = LIVE_HISTORY_CAPACITY.map((_, r) =>
  LIVE_HISTORY_CAPACITY.slice(0, r).reduce((sum, c) => sum + c, 0),
);
const HISTORY_CANDLES_PER_PRODUCT = LIVE_HISTORY_CAPACITY.reduce((sum, c) => sum + c, 0);

export class CandleAggregator {
  /** One clock per live resolution, shared by every product. */
  readonly clocks: readonly BucketClock[];
  /** Trades and journal times whose timestamp went backwards (counted at the latest time instead). */
  lateTimestamps = 0;
  /** Candles handed to the sink so far. */
  closedCandles = 0;

  private readonly productIdOfSlot: Float64Array;
  private readonly slotOfProductId = new Map<number, number>();
  private productCount = 0;

  /** open[(slot * RESOLUTIONS + r) * FIELDS + F_*]; hasOpen[slot * RESOLUTIONS + r] is 1 when a candle is open. */
  private readonly open: Float64Array;
  private readonly hasOpen: Uint8Array;
  /** Per slot: every resolution's history ring, back to back (HISTORY_OFFSETS). */
  private readonly history: Float64Array[] = [];
  /** Per (slot, r): index of the oldest candle in the ring and how many it holds. */
  private readonly historyHead: Int32Array;
  private readonly historyCount: Int32Array;

  /** The latest timestamp seen (µs). */
  private latestUs = Number.NEGATIVE_INFINITY;
  /** advanceTime does nothing before this instant: the earliest end of any live resolution's current bucket. */
  private nextBoundaryUs = Number.NEGATIVE_INFINITY;

  constructor(
    readonly zone: ExchangeTimeZone,
    private readonly sink: CandleSink,
    readonly maxProducts: number = MAX_PRODUCTS,
  ) {
    assert(Number.isInteger(maxProducts) && maxProducts >= 1, 'CandleAggregator maxProducts must be a positive integer');
    this.clocks = Object.freeze(LIVE_RESOLUTIONS_S.map((r) => new BucketClock(zone, r)));
    this.productIdOfSlot = new Float64Array(maxProducts);
    this.open = new Float64Array(maxProducts * RESOLUTIONS * FIELDS);
    this.hasOpen = new Uint8Array(maxProducts * RESOLUTIONS);
    this.historyHead = new Int32Array(maxProducts * RESOLUTIONS);
    this.historyCount = new Int32Array(maxProducts * RESOLUTIONS);
  }

  /**
   * Starts tracking a product and returns its slot (the handle for `onTrade`). Adding a product
   * twice returns the same slot. Throws when maxProducts products are already tracked.
   */
  addProduct(productId: number): number {
    const known = this.slotOfProductId.get(productId);
    if (known !== undefined) return known;
    if (this.productCount >= this.maxProducts) {
      throw new RangeError(`CandleAggregator: product ${productId} would be product ${this.productCount + 1}, more than maxProducts ${this.maxProducts}`);
    }
    const slot = this.productCount++;
    this.productIdOfSlot[slot] = productId;
    this.slotOfProductId.set(productId, slot);
    this.history.push(new Float64Array(HISTORY_CANDLES_PER_PRODUCT * FIELDS));
    return slot;
  }

  /** The slot of a product, or -1 when it is not tracked. */
  slotOf(productId: number): number {
    return this.slotOfProductId.get(productId) ?? -1;
  }

  /**
   * Closes every open candle (of any product) whose bucket ended at or before `timestampUs`. Call it
   * with the timestamp of every journal entry so candles of quiet products close on time; it is
   * one compare until the next bucket boundary. Returns the number of candles closed.
   */
  advanceTime(timestampUs: number): number {
    const nowUs = this.observe(timestampUs);
    if (nowUs < this.nextBoundaryUs) return 0;
    let closed = 0;
    let nextBoundaryUs = Number.POSITIVE_INFINITY;
    for (let r = 0; r < RESOLUTIONS; r++) {
      const clock = this.clocks[r]!;
      const startUs = clock.bucketStartUs(nowUs);
      const endUs = clock.bucketEndUs(nowUs);
      if (endUs < nextBoundaryUs) nextBoundaryUs = endUs;
      for (let slot = 0; slot < this.productCount; slot++) {
        const index = slot * RESOLUTIONS + r;
        if (this.hasOpen[index] === 1 && this.open[index * FIELDS + F_START]! < startUs) {
          this.close(slot, r);
          closed++;
        }
      }
    }
    this.nextBoundaryUs = nextBoundaryUs;
    return closed;
  }

  /** Counts one trade of the product in `slot` into its candles at every live resolution. */
  onTrade(slot: number, timestampUs: number, price: number, quantity: number): void {
    assert(slot >= 0 && slot < this.productCount, 'onTrade slot is not a tracked product');
    const nowUs = this.observe(timestampUs);
    const open = this.open;
    for (let r = 0; r < RESOLUTIONS; r++) {
      const startUs = this.clocks[r]!.bucketStartUs(nowUs);
      const index = slot * RESOLUTIONS + r;
      const base = index * FIELDS;
      if (this.hasOpen[index] === 1) {
        if (open[base + F_START] === startUs) {
          if (price > open[base + F_HIGH]!) open[base + F_HIGH] = price;
          if (price < open[base + F_LOW]!) open[base + F_LOW] = price;
          open[base + F_CLOSE] = price;
          open[base + F_VOLUME] += quantity;
          open[base + F_TRADES]++;
          continue;
        }
        // observe() keeps time monotonic, so a different bucket can only be a later one.
        assert(open[base + F_START]! < startUs, 'a trade fell in a bucket before the open candle');
        this.close(slot, r);
      }
      this.hasOpen[index] = 1;
      open[base + F_START] = startUs;
      open[base + F_OPEN] = price;
      open[base + F_HIGH] = price;
      open[base + F_LOW] = price;
      open[base + F_CLOSE] = price;
      open[base + F_VOLUME] = quantity;
      open[base + F_TRADES] = 1;
    }
  }

  // --- queries (allocate; not for the hot path) ------------------------------------------------

  /** The open (not yet closed) candle of a product at a live resolution, or undefined. */
  openCandle(productId: number, resolutionS: number): CandleRecord | undefined {
    const slot = this.slotOf(productId);
    const r = liveResolutionIndex(resolutionS);
    if (slot < 0 || r < 0) return undefined;
    const index = slot * RESOLUTIONS + r;
    return this.hasOpen[index] === 1 ? recordAt(this.open, index * FIELDS) : undefined;
  }

  /**
   * Candles of a product whose bucket starts in [fromUs, toUs), ascending, the open candle last
   * when it is in range, at most `limit` (the earliest ones). Live resolutions come from their
   * history; any other valid resolution is aggregated from the 1-minute history (so it reaches
   * back CANDLE_HISTORY_1M minutes; older candles are in storage). Throws a RangeError naming the
   * problem for an invalid resolution.
   */
  candles(productId: number, resolutionS: number, fromUs: number, toUs: number, limit: number): CandleRecord[] {
    const problem = resolutionProblem(resolutionS);
    if (problem !== null) throw new RangeError(problem);
    const slot = this.slotOf(productId);
    if (slot < 0 || limit <= 0) return [];
    const r = liveResolutionIndex(resolutionS);
    if (r >= 0) return this.collect(slot, r, fromUs, toUs, limit);
    // Widen the 1-minute range to whole buckets of the requested resolution, then group.
    const clock = new BucketClock(this.zone, resolutionS);
    const minutes = this.collect(slot, MINUTE_INDEX, clock.bucketStartUs(fromUs), toUs, Number.MAX_SAFE_INTEGER);
    const out: CandleRecord[] = [];
    for (const candle of aggregateCandles(minutes, clock)) {
      if (candle.bucketStartUs < fromUs || candle.bucketStartUs >= toUs) continue;
      if (out.length >= limit) break;
      out.push(candle);
    }
    return out;
  }

  /** Start of the oldest candle still in memory for a product and live resolution, or undefined. */
  oldestCandleStartUs(productId: number, resolutionS: number): number | undefined {
    const slot = this.slotOf(productId);
    const r = liveResolutionIndex(resolutionS);
    if (slot < 0 || r < 0) return undefined;
    const index = slot * RESOLUTIONS + r;
    if (this.historyCount[index]! > 0) {
      return this.history[slot]![(HISTORY_OFFSETS[r]! + this.historyHead[index]!) * FIELDS + F_START];
    }
    return this.hasOpen[index] === 1 ? this.open[index * FIELDS + F_START] : undefined;
  }

  // --- internals -------------------------------------------------------------------------------

  /** Records a timestamp and returns the time to use: the latest one seen. */
  private observe(timestampUs: number): number {
    if (timestampUs >= this.latestUs) {
      this.latestUs = timestampUs;
      return timestampUs;
    }
    this.lateTimestamps++;
    return this.latestUs;
  }

  private close(slot: number, r: number): void {
    const index = slot * RESOLUTIONS + r;
    const base = index * FIELDS;
    const open = this.open;
    // Keep it in the ring, overwriting the oldest when full.
    const capacity = LIVE_HISTORY_CAPACITY[r]!;
    const count = this.historyCount[index]!;
    const head = this.historyHead[index]!;
    let position: number;
    if (count < capacity) {
      position = (head + count) % capacity;
      this.historyCount[index] = count + 1;
    } else {
      position = head;
      this.historyHead[index] = (head + 1) % capacity;
    }
    const ring = this.history[slot]!;
    const at = (HISTORY_OFFSETS[r]! + position) * FIELDS;
    for (let f = 0; f < FIELDS; f++) ring[at + f] = open[base + f]!;
    this.hasOpen[index] = 0;
    this.closedCandles++;
    this.sink.onCandleClosed(
      this.productIdOfSlot[slot]!,
      LIVE_RESOLUTIONS_S[r]!,
      open[base + F_START]!,
      open[base + F_OPEN]!,
      open[base + F_HIGH]!,
      open[base + F_LOW]!,
      open[base + F_CLOSE]!,
      open[base + F_VOLUME]!,
      open[base + F_TRADES]!,
    );
  }

  private collect(slot: number, r: number, fromUs: number, toUs: number, limit: number): CandleRecord[] {
    const out: CandleRecord[] = [];
    const index = slot * RESOLUTIONS + r;
    const capacity = LIVE_HISTORY_CAPACITY[r]!;
    const ring = this.history[slot]!;
    const head = this.historyHead[index]!;
    const count = this.historyCount[index]!;
    for (let i = 0; i < count && out.length < limit; i++) {
      const at = (HISTORY_OFFSETS[r]! + ((head + i) % capacity)) * FIELDS;
      const startUs = ring[at + F_START]!;
      if (startUs >= fromUs && startUs < toUs) out.push(recordAt(ring, at));
    }
    if (this.hasOpen[index] === 1 && out.length < limit) {
      const startUs = this.open[index * FIELDS + F_START]!;
      if (startUs >= fromUs && startUs < toUs) out.push(recordAt(this.open, index * FIELDS));
    }
    return out;
  }
}

function recordAt(values: Float64Array, at: number): CandleRecord {
  return {
    bucketStartUs: values[at + F_START]!,
    open: values[at + F_OPEN]!,
    high: values[at + F_HIGH]!,
    low: values[at + F_LOW]!,
    close: values[at + F_CLOSE]!,
    volume: values[at + F_VOLUME]!,
    trades: values[at + F_TRADES]!,
  };
}
