// A pair of u32 keys → a non-negative int32 value (a row number), as an open-addressing hash table
// in typed arrays with linear probing. It indexes the sparse tables of the product manager:
// (account, product) → position row, (account, brand) → counter row, (scope, rule) → rule row,
// (order id high word, low word) → order slot. Allocation-free on get/set/delete; the table
// doubles when it passes half full, up to a stated maximum.
//
// Deletion shifts the following members of the probe run back (no tombstones), so lookups do not
// slow down as rows come and go.

import { assert } from './assert';

export const NOT_FOUND = -1;

const EMPTY = -1;
const TWO_POW_32 = 4294967296;

/** Mixes two u32 into 32 well-spread bits (murmur3-style multiply-xorshift). */
export function hashPair(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b ^ 0x7f4a7c15, 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  h = Math.imul(h, 0x297a2d39);
  h ^= h >>> 15;
  return h;
}

/** The high u32 word of a safe integer (order ids are up to 53 bits). */
export function highWord(value: number): number {
  return (value / TWO_POW_32) >>> 0;
}

export class PairIndex {
  private keysA: Uint32Array;
  private keysB: Uint32Array;
  private values: Int32Array;
  private mask: number;
  size = 0;

  constructor(
    readonly name: string,
    initialCapacity: number,
    private readonly maxCapacity: number,
  ) {
    assert(initialCapacity >= 2 && (initialCapacity & (initialCapacity - 1)) === 0, 'pair index capacity must be a power of two >= 2');
    assert(maxCapacity >= initialCapacity, 'pair index maximum capacity must be at least its initial capacity');
    this.keysA = new Uint32Array(initialCapacity);
    this.keysB = new Uint32Array(initialCapacity);
    this.values = new Int32Array(initialCapacity).fill(EMPTY);
    this.mask = initialCapacity - 1;
  }

  get capacity(): number {
    return this.mask + 1;
  }

  get(a: number, b: number): number {
    const mask = this.mask;
    const values = this.values;
    let i = hashPair(a, b) & mask;
    for (;;) {
      const v = values[i];
      if (v === EMPTY) return NOT_FOUND;
      if (this.keysA[i] === a && this.keysB[i] === b) return v;
      i = (i + 1) & mask;
    }
  }

  /** Inserts or overwrites (a, b) → value (value ≥ 0). */
  set(a: number, b: number, value: number): void {
    assert(value >= 0, 'pair index values are non-negative row numbers');
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    const mask = this.mask;
    const values = this.values;
    let i = hashPair(a, b) & mask;
    while (values[i] !== EMPTY) {
      if (this.keysA[i] === a && this.keysB[i] === b) {
        values[i] = value;
        return;
      }
      i = (i + 1) & mask;
    }
    this.keysA[i] = a;
    this.keysB[i] = b;
    values[i] = value;
    this.size++;
  }

  /** Removes (a, b); false when it was absent. */
  delete(a: number, b: number): boolean {
    const mask = this.mask;
    const values = this.values;
    const keysA = this.keysA;
    const keysB = this.keysB;
    let i = hashPair(a, b) & mask;
    for (;;) {
      if (values[i] === EMPTY) return false;
      if (keysA[i] === a && keysB[i] === b) break;
      i = (i + 1) & mask;
    }
    // Backward-shift deletion: pull a later member of the probe run into the hole unless its home
    // bucket lies cyclically in (hole, j], so every remaining key stays reachable from its home.
    let hole = i;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (values[j] === EMPTY) break;
      const home = hashPair(keysA[j], keysB[j]) & mask;
      const inRange = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (!inRange) {
        keysA[hole] = keysA[j];
        keysB[hole] = keysB[j];
        values[hole] = values[j];
        hole = j;
      }
    }
    values[hole] = EMPTY;
    this.size--;
    return true;
  }

  clear(): void {
    this.values.fill(EMPTY);
    this.size = 0;
  }

  private grow(): void {
    const capacity = (this.mask + 1) * 2;
    if (capacity > this.maxCapacity) {
      throw new Error(`product-manager: the ${this.name} table is full (${this.mask + 1} slots, maximum ${this.maxCapacity})`);
    }
    const oldA = this.keysA;
    const oldB = this.keysB;
    const oldValues = this.values;
    this.keysA = new Uint32Array(capacity);
    this.keysB = new Uint32Array(capacity);
    this.values = new Int32Array(capacity).fill(EMPTY);
    this.mask = capacity - 1;
    for (let j = 0; j < oldValues.length; j++) {
      if (oldValues[j] === EMPTY) continue;
      let i = hashPair(oldA[j], oldB[j]) & this.mask;
      while (this.values[i] !== EMPTY) i = (i + 1) & this.mask;
      this.keysA[i] = oldA[j];
      this.keysB[i] = oldB[j];
      this.values[i] = oldValues[j];
    }
  }
}
