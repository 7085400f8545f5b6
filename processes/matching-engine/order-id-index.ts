// Order id → position, as an open-addressing hash table with linear probing in one Int32Array of
// (tag, position + 1) pairs: 8 bytes a bucket, so the table for 100,000 resting orders is 2 MB and a
// lookup usually touches one cache line. The tag is the id's 32-bit hash; the id itself is not
// stored here but where the position points (the order record, or the finished-order ring), and a
// lookup confirms it there: the caller reads that record next anyway, so confirming costs no extra
// memory access. Position + 1 is stored so that a zero-filled bucket means empty.
//
// Deletion shifts the following entries of the probe run back (no tombstones), so lookups never
// slow down as orders come and go; the tag is the full hash, so a moved entry's home bucket is known
// without reading its id. The table doubles when it passes half full.
//
// Why not a JS Map<number, number>: ids above 2^31 become heap numbers inside a Map, its backing
// store is traced by the garbage collector, and it takes several times the memory. Measured with
// `node dist/scripts/bench/engine.js --compare-index` (100,000 live ids above 2^32, one get, one
// delete and one insert per step): 73 ns per step for this index against 268 ns for a Map.

import { assert } from './assert';

export const NOT_FOUND = -1;

const TWO_POW_32 = 4294967296;

/** Mixes a safe-integer id into 32 well-spread bits (murmur3 finalizer over both halves). */
export function hashOrderId(id: number): number {
  const lo = id >>> 0; // ToUint32 is "id mod 2^32" for any integer-valued double
  const hi = (id / TWO_POW_32) >>> 0;
  let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

export class OrderIdIndex {
  /** bucket b: tag at word 2b, position + 1 at word 2b + 1 (0 = empty). */
  private table: Int32Array;
  private mask: number;
  size = 0;

  /**
   * @param idShift the id of position p is `keys[p << idShift]` for the keys array passed to each
   *                call (the order pool's ids view: shift 2; a plain id column: shift 0).
   */
  constructor(
    initialCapacity: number,
    private readonly idShift: number,
  ) {
    assert(initialCapacity >= 2 && (initialCapacity & (initialCapacity - 1)) === 0, 'order-id index capacity must be a power of two >= 2');
    this.table = new Int32Array(initialCapacity * 2);
    this.mask = initialCapacity - 1;
  }

  get capacity(): number {
    return this.mask + 1;
  }

  /** Position of id, or NOT_FOUND; `keys` is where positions' ids live. */
  get(id: number, keys: Float64Array): number {
    const table = this.table;
    const mask = this.mask;
    const tag = hashOrderId(id);
    let b = tag & mask;
    for (;;) {
      const stored = table[(b << 1) + 1];
      if (stored === 0) return NOT_FOUND;
      if (table[b << 1] === tag && keys[(stored - 1) << this.idShift] === id) return stored - 1;
      b = (b + 1) & mask;
    }
  }

  /** Adds id → position; the id must not be present (the engine checks for duplicates first). */
  insert(id: number, position: number): void {
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    const table = this.table;
    const mask = this.mask;
    const tag = hashOrderId(id);
    let b = tag & mask;
    while (table[(b << 1) + 1] !== 0) b = (b + 1) & mask;
    table[b << 1] = tag;
    table[(b << 1) + 1] = position + 1;
    this.size++;
  }

  /** Removes id (whose position is known to the caller); returns false when it was absent. */
  delete(id: number, position: number): boolean {
    const table = this.table;
    const mask = this.mask;
    const tag = hashOrderId(id);
    const stored = position + 1;
    let b = tag & mask;
    for (;;) {
      const s = table[(b << 1) + 1];
      if (s === 0) return false;
      if (s === stored && table[b << 1] === tag) break;
      b = (b + 1) & mask;
    }
    // Backward-shift deletion: pull later members of the probe run into the hole when their home
    // bucket does not lie cyclically in (hole, j], so every remaining key stays reachable.
    let hole = b;
    let j = b;
    for (;;) {
      j = (j + 1) & mask;
      const s = table[(j << 1) + 1];
      if (s === 0) break;
      const t = table[j << 1];
      const home = t & mask;
      const inRange = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (!inRange) {
        table[hole << 1] = t;
        table[(hole << 1) + 1] = s;
        hole = j;
      }
    }
    table[hole << 1] = 0;
    table[(hole << 1) + 1] = 0;
    this.size--;
    return true;
  }

  private grow(): void {
    const old = this.table;
    const capacity = (this.mask + 1) * 2;
    const table = new Int32Array(capacity * 2);
    const mask = capacity - 1;
    for (let j = 0; j < old.length; j += 2) {
      const s = old[j + 1];
      if (s === 0) continue;
      const t = old[j];
      let b = t & mask;
      while (table[(b << 1) + 1] !== 0) b = (b + 1) & mask;
      table[b << 1] = t;
      table[(b << 1) + 1] = s;
    }
    this.table = table;
    this.mask = mask;
  }
}
