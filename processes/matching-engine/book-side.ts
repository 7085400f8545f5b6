// The active price levels of one side of one book, sorted so that the BEST level is LAST.
//
//   index:  0            1            ...  size-1
//   key:    worst   <    ...          <    best        key = +priceTicks for inflows (bids),
//   level:  slot         slot              slot              -priceTicks for outflows (asks)
//
// Keeping the best level at the end makes the operations a matching engine does most cheap:
// reading the best level is one load, removing an emptied best level is `size--`, and inserting or
// removing a level near the top of the book shifts only the few entries above it. Any level is
// found by binary search, O(log n). Storing the negated price for asks lets one ascending search
// serve both sides.

import { Side } from '../../bus/enums';
import { assert } from './assert';

export class BookSide {
  readonly side: number;
  /** +1 for inflows, -1 for outflows: key = sign * priceTicks. */
  readonly sign: number;
  keys: Float64Array;
  levels: Int32Array;
  size = 0;

  constructor(side: number, initialCapacity: number) {
    assert(side === Side.INFLOW || side === Side.OUTFLOW, 'book side must be Side.INFLOW or Side.OUTFLOW');
    this.side = side;
    this.sign = side === Side.INFLOW ? 1 : -1;
    this.keys = new Float64Array(initialCapacity);
    this.levels = new Int32Array(initialCapacity);
  }

  /** First index whose key is >= key (size when none). */
  lowerBound(key: number): number {
    const keys = this.keys;
    let lo = 0;
    let hi = this.size;
    // Most inserts and lookups land within a few levels of the best, so look there first.
    if (hi > 0 && keys[hi - 1] < key) return hi;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid] < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the level at priceTicks, or -1. */
  indexOf(priceTicks: number): number {
    const key = this.sign * priceTicks;
    const i = this.lowerBound(key);
    return i < this.size && this.keys[i] === key ? i : -1;
  }

  insertAt(index: number, priceTicks: number, level: number): void {
    if (this.size === this.keys.length) this.grow();
    const keys = this.keys;
    const levels = this.levels;
    // Shift the (usually few) better levels up by one.
    for (let i = this.size; i > index; i--) {
      keys[i] = keys[i - 1];
      levels[i] = levels[i - 1];
    }
    keys[index] = this.sign * priceTicks;
    levels[index] = level;
    this.size++;
  }

  removeAt(index: number): void {
    const keys = this.keys;
    const levels = this.levels;
    const last = this.size - 1;
    for (let i = index; i < last; i++) {
      keys[i] = keys[i + 1];
      levels[i] = levels[i + 1];
    }
    this.size = last;
  }

  private grow(): void {
    const grown = this.keys.length * 2;
    const keys = new Float64Array(grown);
    keys.set(this.keys);
    const levels = new Int32Array(grown);
    levels.set(this.levels);
    this.keys = keys;
    this.levels = levels;
  }
}
