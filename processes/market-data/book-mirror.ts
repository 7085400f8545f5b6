// A subscriber's copy of one product's L2 book, kept from a snapshot plus sequenced deltas: what a
// gateway (or a client library) runs per `book:SYMBOL` subscription. It detects a missing delta by
// its sequence and resynchronises from a fresh snapshot, the usual snapshot-and-deltas protocol:
//
//   1. subscribe to deltas, request a snapshot; deltas that arrive first are buffered;
//   2. on the snapshot (sequence s): drop buffered deltas <= s, apply s+1, s+2, ... in order;
//   3. live: a delta s+1 applies; <= s is a duplicate and is ignored; > s+1 is a GAP — the mirror
//      goes back to 1 (keeping that delta) and the caller requests a new snapshot.
//
// The buffer is bounded (MAX_PENDING_DELTAS): if a snapshot takes too long, the buffer is dropped
// (OVERFLOW) and the next snapshot is followed by a GAP, asking for a newer one, instead of memory
// growing. The book semantics are exactly the publisher's (the same L2Book), so a mirror that is
// live at sequence s equals the publisher's book at s.

import { BookApplyRejected, L2Book, type BookDepth, type BookSnapshot } from './l2-book';
import { MAX_PENDING_DELTAS } from './market-data-limits';

export const MirrorResult = {
  /** The delta was the next one and is applied. */
  APPLIED: 1,
  /** The delta (or snapshot) is not newer than the mirror: ignored. */
  STALE: 2,
  /** A delta is missing: the mirror now waits for a snapshot; request one. */
  GAP: 3,
  /** Waiting for a snapshot: the delta is kept to apply after it. */
  BUFFERED: 4,
  /** The snapshot and the buffered deltas that follow it are applied: the mirror is live. */
  SYNCED: 5,
  /** Waiting too long: the buffered deltas were dropped; keep waiting for the snapshot. */
  OVERFLOW: 6,
  /** A malformed delta (bad side or level): ignored. */
  INVALID: 7,
} as const;
export type MirrorResult = (typeof MirrorResult)[keyof typeof MirrorResult];

export class BookMirror {
  readonly book: L2Book;
  /** False until a snapshot has been applied, and again after every gap. */
  live = false;
  gaps = 0;

  private pending = 0;
  private readonly pendingSequence: Float64Array;
  private readonly pendingTime: Float64Array;
  private readonly pendingPrice: Float64Array;
  private readonly pendingQuantity: Float64Array;
  private readonly pendingOrderCount: Uint32Array;
  private readonly pendingSide: Uint8Array;

  constructor(
    readonly productId: number,
    readonly maxPendingDeltas: number = MAX_PENDING_DELTAS,
  ) {
    this.book = new L2Book(productId);
    this.pendingSequence = new Float64Array(maxPendingDeltas);
    this.pendingTime = new Float64Array(maxPendingDeltas);
    this.pendingPrice = new Float64Array(maxPendingDeltas);
    this.pendingQuantity = new Float64Array(maxPendingDeltas);
    this.pendingOrderCount = new Uint32Array(maxPendingDeltas);
    this.pendingSide = new Uint8Array(maxPendingDeltas);
  }

  get sequence(): number {
    return this.book.sequence;
  }

  /** Deltas buffered while waiting for a snapshot. */
  get pendingDeltas(): number {
    return this.pending;
  }

  /** Handles one published delta (allocation-free). */
  applyDelta(sequence: number, side: number, price: number, quantity: number, orderCount: number, timestampUs: number): MirrorResult {
    if (!this.live) return this.buffer(sequence, side, price, quantity, orderCount, timestampUs);
    const expected = this.book.sequence + 1;
    if (sequence < expected) return MirrorResult.STALE;
    if (sequence > expected) {
      this.live = false;
      this.gaps++;
      this.pending = 0;
      this.buffer(sequence, side, price, quantity, orderCount, timestampUs);
      return MirrorResult.GAP;
    }
    return this.applyNext(side, price, quantity, orderCount, timestampUs);
  }

  /** Handles a snapshot: SYNCED when live afterwards, GAP when the buffered deltas do not continue it, STALE if older than the live book. */
  applySnapshot(snapshot: BookSnapshot): MirrorResult {
    if (this.live && snapshot.sequence <= this.book.sequence) return MirrorResult.STALE;
    this.book.restore(snapshot);
    let kept = 0;
    let gap = false;
    for (let i = 0; i < this.pending; i++) {
      const sequence = this.pendingSequence[i]!;
      if (!gap) {
        if (sequence <= this.book.sequence) continue;
        if (sequence === this.book.sequence + 1) {
          this.applyNext(this.pendingSide[i]!, this.pendingPrice[i]!, this.pendingQuantity[i]!, this.pendingOrderCount[i]!, this.pendingTime[i]!);
          continue;
        }
        gap = true;
      }
      // Keep the deltas after the gap for the next snapshot (moving them to the front).
      this.move(i, kept++);
    }
    this.pending = kept;
    if (gap) {
      this.live = false;
      this.gaps++;
      return MirrorResult.GAP;
    }
    this.live = true;
    return MirrorResult.SYNCED;
  }

  /** The mirror's book, best `levels` each side. */
  depth(levels: number): BookDepth {
    return this.book.depth(levels);
  }

  private applyNext(side: number, price: number, quantity: number, orderCount: number, timestampUs: number): MirrorResult {
    const applied = this.book.apply(side, price, quantity, orderCount, timestampUs);
    // The publisher never sequences a malformed delta, so this one is corrupt: leaving the
    // sequence where it is makes the next delta a GAP, and the mirror resyncs from a snapshot.
    if (applied === BookApplyRejected.INVALID_SIDE || applied === BookApplyRejected.INVALID_LEVEL) return MirrorResult.INVALID;
    return MirrorResult.APPLIED;
  }

  private buffer(sequence: number, side: number, price: number, quantity: number, orderCount: number, timestampUs: number): MirrorResult {
    if (this.pending === this.maxPendingDeltas) {
      this.pending = 0;
      return MirrorResult.OVERFLOW;
    }
    const i = this.pending++;
    this.pendingSequence[i] = sequence;
    this.pendingSide[i] = side;
    this.pendingPrice[i] = price;
    this.pendingQuantity[i] = quantity;
    this.pendingOrderCount[i] = orderCount;
    this.pendingTime[i] = timestampUs;
    return MirrorResult.BUFFERED;
  }

  private move(from: number, to: number): void {
    if (from === to) return;
    this.pendingSequence[to] = this.pendingSequence[from]!;
    this.pendingSide[to] = this.pendingSide[from]!;
    this.pendingPrice[to] = this.pendingPrice[from]!;
    this.pendingQuantity[to] = this.pendingQuantity[from]!;
    this.pendingOrderCount[to] = this.pendingOrderCount[from]!;
    this.pendingTime[to] = this.pendingTime[from]!;
  }
}
