// Price levels of every book, as typed-array columns indexed by level slot (no object per level).
// A level holds the FIFO queue of its resting orders (head = oldest = first to match, tail =
// newest) and the aggregates market data publishes (total open quantity, order count). Capacity
// doubles when full; freed slots are reused LIFO through the `head` column.

import { assert } from './assert';
import { MAX_LEVEL_SLOTS, NO_SLOT, growFloat64, growInt32, growUint8 } from './order-pool';

export class LevelPool {
  capacity: number;

  priceTicks: Float64Array;
  /** Sum of the leaves of the orders queued at this level. */
  quantity: Float64Array;
  orderCount: Int32Array;
  head: Int32Array;
  tail: Int32Array;
  /** Index of the book (OrderBook.bookIndex) the level belongs to. */
  book: Int32Array;
  side: Uint8Array;

  private freeHead: number;
  inUse = 0;

  constructor(initialCapacity: number) {
    assert(Number.isInteger(initialCapacity) && initialCapacity >= 1, 'level pool initial capacity must be a positive integer');
    this.capacity = initialCapacity;
    this.priceTicks = new Float64Array(initialCapacity);
    this.quantity = new Float64Array(initialCapacity);
    this.orderCount = new Int32Array(initialCapacity);
    this.head = new Int32Array(initialCapacity);
    this.tail = new Int32Array(initialCapacity);
    this.book = new Int32Array(initialCapacity);
    this.side = new Uint8Array(initialCapacity);
    this.freeHead = NO_SLOT;
    this.threadFreeSlots(0, initialCapacity);
  }

  /** An empty level at priceTicks of (book, side). */
  alloc(book: number, side: number, priceTicks: number): number {
    if (this.freeHead === NO_SLOT) this.grow();
    const level = this.freeHead;
    this.freeHead = this.head[level];
    this.priceTicks[level] = priceTicks;
    this.quantity[level] = 0;
    this.orderCount[level] = 0;
    this.head[level] = NO_SLOT;
    this.tail[level] = NO_SLOT;
    this.book[level] = book;
    this.side[level] = side;
    this.inUse++;
    return level;
  }

  release(level: number): void {
    this.head[level] = this.freeHead;
    this.freeHead = level;
    this.inUse--;
  }

  private grow(): void {
    const old = this.capacity;
    const grown = old * 2;
    if (grown > MAX_LEVEL_SLOTS) {
      throw new Error(`matching-engine: level pool full (${old} price levels, maximum ${MAX_LEVEL_SLOTS} fit an order record)`);
    }
    this.priceTicks = growFloat64(this.priceTicks, grown);
    this.quantity = growFloat64(this.quantity, grown);
    this.orderCount = growInt32(this.orderCount, grown);
    this.head = growInt32(this.head, grown);
    this.tail = growInt32(this.tail, grown);
    this.book = growInt32(this.book, grown);
    this.side = growUint8(this.side, grown);
    this.capacity = grown;
    this.threadFreeSlots(old, grown);
  }

  private threadFreeSlots(from: number, to: number): void {
    for (let level = to - 1; level >= from; level--) {
      this.head[level] = this.freeHead;
      this.freeHead = level;
    }
  }
}
