// The L2 book of one product as it was at a past time: `bookAt(T)` is the book after every delta
// whose journal timestamp is <= T (`GET /marketdata/orderBook?time=T`).
//
// What is kept, per product:
//
//   changes ring (BOOK_HISTORY_CHANGES deltas; the delta of sequence s sits at (s - 1) % capacity)
//   +------------+------+-------+----------+------------+
//   | timeUs f64 | side | price | quantity | orderCount |
//   +------------+------+-------+----------+------------+
//   checkpoints ring (capacity / K + 2 slots; the checkpoint of sequence c sits at (c / K) % slots)
//   +----------+--------+-----------------------------------------------+
//   | sequence | timeUs | levels: (price, quantity, orderCount) triples |  taken after every K-th delta
//   +----------+--------+-----------------------------------------------+
//
// with K = BOOK_CHECKPOINT_INTERVAL, plus the empty book at sequence 0 while delta 1 is still in
// the ring. bookAt(T) finds the last delta s with time <= T (binary search: times are kept non-
// decreasing), loads the checkpoint c = floor(s / K) * K and re-applies deltas c+1..s.
//
// Cost, stated: one copy of the checkpoint (the levels of the book at c) plus at most K - 1 = 255
// delta applications (each a binary search and a short move), whatever T is. Taking a checkpoint
// costs one copy of the book every K deltas on the apply path; it allocates only when a book is
// larger than any checkpoint slot has held before (the slot doubles).
//
// Reach: times from the oldest checkpoint whose following deltas are all still in the ring — at
// least the last BOOK_HISTORY_CHANGES - K deltas. Older times return undefined; the caller then
// rebuilds from storage with `rebuildBookAt` (a stored snapshot plus the journal's deltas).

import { assert } from './market-data-assert';
import { BookApplyRejected, L2Book, type BookDepth, type BookSnapshot } from './l2-book';
import { BOOK_CHECKPOINT_INTERVAL, BOOK_HISTORY_CHANGES, INITIAL_LEVELS_PER_SIDE } from './market-data-limits';

const VALUES_PER_LEVEL = 3;

/** One BookLevelChanged as the journal carried it, for `rebuildBookAt`. */
export interface BookChange {
  timeUs: number;
  side: number;
  price: number;
  quantity: number;
  orderCount: number;
}

export class BookHistory {
  readonly checkpointInterval: number;
  readonly capacity: number;
  /** Sequence of the last delta recorded (0 = none). */
  latestSequence = 0;
  /** Deltas the last bookAt / snapshotAt re-applied after its checkpoint (always < checkpointInterval). */
  lastRebuildDeltas = 0;

  private readonly times: Float64Array;
  private readonly prices: Float64Array;
  private readonly quantities: Float64Array;
  private readonly orderCounts: Uint32Array;
  private readonly sides: Uint8Array;

  private readonly checkpointSlots: number;
  private readonly checkpointSequence: Float64Array;
  private readonly checkpointTime: Float64Array;
  private readonly checkpointBids: Int32Array;
  private readonly checkpointAsks: Int32Array;
  private readonly checkpointLevels: Float64Array[] = [];

  private readonly scratch: L2Book;

  constructor(
    readonly productId: number,
    capacity: number = BOOK_HISTORY_CHANGES,
    checkpointInterval: number = BOOK_CHECKPOINT_INTERVAL,
  ) {
    assert(Number.isInteger(checkpointInterval) && checkpointInterval >= 1, 'BookHistory checkpoint interval must be a positive integer');
    assert(Number.isInteger(capacity) && capacity >= checkpointInterval, 'BookHistory capacity must hold at least one checkpoint interval');
    this.capacity = capacity;
    this.checkpointInterval = checkpointInterval;
    this.times = new Float64Array(capacity);
    this.prices = new Float64Array(capacity);
    this.quantities = new Float64Array(capacity);
    this.orderCounts = new Uint32Array(capacity);
    this.sides = new Uint8Array(capacity);
    // Enough slots that every checkpoint between the oldest kept delta and the newest is kept.
    this.checkpointSlots = Math.floor(capacity / checkpointInterval) + 2;
    this.checkpointSequence = new Float64Array(this.checkpointSlots).fill(-1);
    this.checkpointTime = new Float64Array(this.checkpointSlots);
    this.checkpointBids = new Int32Array(this.checkpointSlots);
    this.checkpointAsks = new Int32Array(this.checkpointSlots);
    for (let i = 0; i < this.checkpointSlots; i++) this.checkpointLevels.push(new Float64Array(INITIAL_LEVELS_PER_SIDE * 2 * VALUES_PER_LEVEL));
    // The empty book before the first delta is checkpoint 0.
    this.checkpointSequence[0] = 0;
    this.checkpointTime[0] = Number.NEGATIVE_INFINITY;
    this.scratch = new L2Book(productId);
  }

  /** Sequence of the oldest delta still kept (latestSequence + 1 when none is). */
  get oldestSequence(): number {
    return Math.max(1, this.latestSequence - this.capacity + 1);
  }

  /**
   * Records the delta `book` has just applied (book.sequence must be latestSequence + 1) and takes
   * a checkpoint of `book` after every K-th. Allocation-free except when a checkpoint slot grows.
   */
  record(book: L2Book, side: number, price: number, quantity: number, orderCount: number, timestampUs: number): void {
    assert(book.sequence === this.latestSequence + 1, 'BookHistory.record out of sequence with its book');
    const sequence = book.sequence;
    const at = (sequence - 1) % this.capacity;
    // Times stay non-decreasing so a time maps to one prefix of the deltas.
    const previousUs = this.latestSequence > 0 ? this.times[(this.latestSequence - 1) % this.capacity]! : timestampUs;
    this.times[at] = timestampUs >= previousUs ? timestampUs : previousUs;
    this.sides[at] = side;
    this.prices[at] = price;
    this.quantities[at] = quantity;
    this.orderCounts[at] = orderCount;
    this.latestSequence = sequence;
    if (sequence % this.checkpointInterval === 0) this.checkpoint(book, sequence, this.times[at]!);
  }

  /** The book as it was at `timeUs` (see the header), best `levels` levels each side; undefined if no longer kept. */
  bookAt(timeUs: number, levels: number): BookDepth | undefined {
    return this.rebuild(timeUs) ? this.scratch.depth(levels) : undefined;
  }

  /** The whole book as it was at `timeUs`, with order counts; undefined if no longer kept. */
  snapshotAt(timeUs: number): BookSnapshot | undefined {
    return this.rebuild(timeUs) ? this.scratch.snapshot() : undefined;
  }

  /** Earliest time bookAt can answer (the oldest usable checkpoint's time); -Infinity while the empty start is kept. */
  earliestTimeUs(): number {
    const c = this.oldestUsableCheckpoint();
    return this.checkpointTime[(c / this.checkpointInterval) % this.checkpointSlots]!;
  }

  private oldestUsableCheckpoint(): number {
    const K = this.checkpointInterval;
    return Math.ceil((this.oldestSequence - 1) / K) * K;
  }

  /** Leaves the book at `timeUs` in `scratch`; false when that time is no longer kept. */
  private rebuild(timeUs: number): boolean {
    const K = this.checkpointInterval;
    const oldest = this.oldestSequence;
    // Last kept sequence whose time <= timeUs, or oldest - 1 when none is.
    let lo = oldest;
    let hi = this.latestSequence + 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.times[(mid - 1) % this.capacity]! <= timeUs) lo = mid + 1;
      else hi = mid;
    }
    const target = lo - 1;
    const base = Math.floor(target / K) * K;
    if (base < this.oldestUsableCheckpoint()) return false;
    const slot = (base / K) % this.checkpointSlots;
    assert(this.checkpointSequence[slot] === base, 'BookHistory lost a checkpoint it should still hold');
    // With no kept delta at or before timeUs, the checkpoint itself may still be later than it.
    if (this.checkpointTime[slot]! > timeUs) return false;
    const scratch = this.scratch;
    const bids = this.checkpointBids[slot]!;
    const levels = this.checkpointLevels[slot]!;
    scratch.bids.readTriples(levels, 0, bids);
    scratch.asks.readTriples(levels, bids * VALUES_PER_LEVEL, this.checkpointAsks[slot]!);
    scratch.sequence = base;
    scratch.timeUs = base === 0 ? 0 : this.checkpointTime[slot]!;
    this.lastRebuildDeltas = target - base;
    for (let s = base + 1; s <= target; s++) {
      const at = (s - 1) % this.capacity;
      const applied = scratch.apply(this.sides[at]!, this.prices[at]!, this.quantities[at]!, this.orderCounts[at]!, this.times[at]!);
      assert(applied > 0, 'BookHistory replayed a delta its book had accepted but the scratch book refused');
    }
    return true;
  }

  private checkpoint(book: L2Book, sequence: number, timeUs: number): void {
    const slot = (sequence / this.checkpointInterval) % this.checkpointSlots;
    const needed = (book.bids.length + book.asks.length) * VALUES_PER_LEVEL;
    let levels = this.checkpointLevels[slot]!;
    if (levels.length < needed) {
      let size = levels.length;
      while (size < needed) size *= 2;
      levels = new Float64Array(size);
      this.checkpointLevels[slot] = levels;
    }
    const afterBids = book.bids.writeTriples(levels, 0);
    book.asks.writeTriples(levels, afterBids);
    this.checkpointSequence[slot] = sequence;
    this.checkpointTime[slot] = timeUs;
    this.checkpointBids[slot] = book.bids.length;
    this.checkpointAsks[slot] = book.asks.length;
  }
}

/**
 * The book at `timeUs` from a stored snapshot and the deltas that followed it (in journal order,
 * e.g. read back from the journal on disk): the deltas with time <= timeUs are applied. For times
 * older than a BookHistory keeps. Cost: the snapshot's levels plus the deltas read.
 */
export function rebuildBookAt(snapshot: BookSnapshot, changes: Iterable<BookChange>, timeUs: number): BookSnapshot {
  const book = new L2Book(snapshot.productId);
  book.restore(snapshot);
  for (const change of changes) {
    if (change.timeUs > timeUs) break;
    const applied = book.apply(change.side, change.price, change.quantity, change.orderCount, change.timeUs);
    if (applied === BookApplyRejected.INVALID_SIDE || applied === BookApplyRejected.INVALID_LEVEL) {
      throw new RangeError(`rebuildBookAt: malformed delta ${JSON.stringify(change)} for product ${snapshot.productId}`);
    }
  }
  return book.snapshot();
}
