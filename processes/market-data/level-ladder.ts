// One side of an L2 book: price levels (price, aggregate quantity, order count) kept sorted in
// typed arrays, best price LAST, so the changes that dominate a live book (at and near the top)
// move few elements:
//
//   index:   0                 ...                 length-1
//   key:     worst  <  ...  <  second best  <  best            key = price (bids), -price (asks)
//
// Storing -price for asks makes both sides ascending by key with the best at the end, so one
// binary search serves both. Setting a level allocates nothing; the arrays double (up to
// MAX_LEVELS_PER_SIDE) only when a side holds more levels than ever before.

import { assert } from './market-data-assert';
import { INITIAL_LEVELS_PER_SIDE, MAX_LEVELS_PER_SIDE } from './market-data-limits';

/** What `set` did. */
export const LevelChange = {
  INSERTED: 1,
  UPDATED: 2,
  REMOVED: 3,
  /** Quantity 0 for a price with no level: nothing to remove (the stream and the book disagree). */
  ABSENT: 4,
} as const;
export type LevelChange = (typeof LevelChange)[keyof typeof LevelChange];

export class LevelLadder {
  length = 0;
  private keys: Float64Array;
  private quantities: Float64Array;
  private orderCounts: Uint32Array;
  /** +1 for bids (key = price), -1 for asks (key = -price). */
  private readonly sign: number;

  constructor(
    readonly isBid: boolean,
    initialCapacity: number = INITIAL_LEVELS_PER_SIDE,
  ) {
    assert(Number.isInteger(initialCapacity) && initialCapacity >= 1 && initialCapacity <= MAX_LEVELS_PER_SIDE, 'LevelLadder initial capacity out of range');
    this.sign = isBid ? 1 : -1;
    this.keys = new Float64Array(initialCapacity);
    this.quantities = new Float64Array(initialCapacity);
    this.orderCounts = new Uint32Array(initialCapacity);
  }

  get capacity(): number {
    return this.keys.length;
  }

  /** Sets the level at `price` to (quantity, orderCount); quantity 0 removes it. Allocation-free. */
  set(price: number, quantity: number, orderCount: number): LevelChange {
    const key = this.sign * price;
    const keys = this.keys;
    // Binary search for the first index whose key is >= key.
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    const found = lo < this.length && keys[lo] === key;
    if (quantity === 0) {
      if (!found) return LevelChange.ABSENT;
      const tail = this.length - lo - 1;
      if (tail > 0) {
        keys.copyWithin(lo, lo + 1, this.length);
        this.quantities.copyWithin(lo, lo + 1, this.length);
        this.orderCounts.copyWithin(lo, lo + 1, this.length);
      }
      this.length--;
      return LevelChange.REMOVED;
    }
    if (found) {
      this.quantities[lo] = quantity;
      this.orderCounts[lo] = orderCount;
      return LevelChange.UPDATED;
    }
    if (this.length === keys.length) this.grow();
    if (lo < this.length) {
      this.keys.copyWithin(lo + 1, lo, this.length);
      this.quantities.copyWithin(lo + 1, lo, this.length);
      this.orderCounts.copyWithin(lo + 1, lo, this.length);
    }
    this.keys[lo] = key;
    this.quantities[lo] = quantity;
    this.orderCounts[lo] = orderCount;
    this.length++;
    return LevelChange.INSERTED;
  }

  clear(): void {
    this.length = 0;
  }

  /** Price of the level `rank` places from the best (0 = best). */
  priceAt(rank: number): number {
    return this.sign * this.keys[this.length - 1 - rank]!;
  }

  quantityAt(rank: number): number {
    return this.quantities[this.length - 1 - rank]!;
  }

  orderCountAt(rank: number): number {
    return this.orderCounts[this.length - 1 - rank]!;
  }

  /**
   * Writes levels as (price, quantity, orderCount) triples into `out` from `at`, best first, and
   * returns the index after the last value written. For checkpoints; allocation-free.
   */
  writeTriples(out: Float64Array, at: number): number {
    for (let rank = 0; rank < this.length; rank++) {
      const i = this.length - 1 - rank;
      out[at++] = this.sign * this.keys[i]!;
      out[at++] = this.quantities[i]!;
      out[at++] = this.orderCounts[i]!;
    }
    return at;
  }

  /** Replaces the levels with `count` triples from `values` at `at` (best first, as writeTriples wrote them). */
  readTriples(values: Float64Array, at: number, count: number): void {
    while (this.keys.length < count) this.grow();
    for (let rank = 0; rank < count; rank++) {
      const i = count - 1 - rank;
      this.keys[i] = this.sign * values[at++]!;
      this.quantities[i] = values[at++]!;
      this.orderCounts[i] = values[at++]!;
    }
    this.length = count;
  }

  private grow(): void {
    const capacity = this.keys.length * 2;
    assert(capacity <= MAX_LEVELS_PER_SIDE, 'book side grew past MAX_LEVELS_PER_SIDE levels');
    const keys = new Float64Array(capacity);
    const quantities = new Float64Array(capacity);
    const orderCounts = new Uint32Array(capacity);
    keys.set(this.keys.subarray(0, this.length));
    quantities.set(this.quantities.subarray(0, this.length));
    orderCounts.set(this.orderCounts.subarray(0, this.length));
    this.keys = keys;
    this.quantities = quantities;
    this.orderCounts = orderCounts;
  }
}
