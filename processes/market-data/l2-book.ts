// The L2 book of one product, built from the engine's BookLevelChanged deltas (side, price, new
// aggregate quantity, order count; quantity 0 removes the level), with a per-product sequence.
//
// Sequence: every delta applied increments it by one, so the n-th BookLevelChanged of a product
// in the journal leaves the book at sequence n. It is therefore a deterministic function of the
// journal: a publisher that restarts and replays reproduces the same sequences, and a subscriber
// that holds sequence s needs exactly the deltas s+1, s+2, ... (BookMirror checks that). The
// delta that carried a sequence is published with it; a snapshot carries the sequence it is at.
//
// A delta that removes a level that is not there still counts (it is in the journal, so every
// replica applies it and stays at the same sequence); it is counted in `absentRemovals`, which
// must stay 0 when the stream is the engine's.

import { Side } from '../../bus/enums';
import { LevelChange, LevelLadder } from './level-ladder';
import { MAX_DEPTH_LEVELS } from './market-data-limits';

/** What `apply` returns besides a LevelChange: the delta was refused, nothing changed. */
export const BookApplyRejected = {
  /** side is neither Side.INFLOW (bid) nor Side.OUTFLOW (ask). */
  INVALID_SIDE: -1,
  /** price not a safe integer, quantity or order count not a non-negative safe integer. */
  INVALID_LEVEL: -2,
} as const;

/** Level as [price, quantity] for depth queries (the data service's JSON shape). */
export type PriceQuantity = [price: number, quantity: number];
/** Level as [price, quantity, orderCount] for snapshots a mirror resyncs from. */
export type PriceQuantityCount = [price: number, quantity: number, orderCount: number];

/** `GET /marketdata/orderBook`: the best `depth` levels each side, best first. */
export interface BookDepth {
  bids: PriceQuantity[];
  asks: PriceQuantity[];
  sequence: number;
  /** Journal timestamp (µs) of the last change applied; 0 before any. */
  timeUs: number;
}

/** The whole book at one sequence: what a subscriber resyncs from. */
export interface BookSnapshot {
  productId: number;
  sequence: number;
  timeUs: number;
  bids: PriceQuantityCount[];
  asks: PriceQuantityCount[];
}

export class L2Book {
  readonly bids = new LevelLadder(true);
  readonly asks = new LevelLadder(false);
  /** Deltas applied so far (see the header). */
  sequence = 0;
  /** Journal timestamp (µs) of the last delta applied. */
  timeUs = 0;
  absentRemovals = 0;

  constructor(readonly productId: number) {}

  /**
   * Applies one delta; returns the LevelChange (> 0), after which `sequence` has grown by one, or a
   * BookApplyRejected code (< 0) for a malformed delta, which changes nothing. Allocation-free.
   */
  apply(side: number, price: number, quantity: number, orderCount: number, timestampUs: number): number {
    let ladder: LevelLadder;
    if (side === Side.INFLOW) ladder = this.bids;
    else if (side === Side.OUTFLOW) ladder = this.asks;
    else return BookApplyRejected.INVALID_SIDE;
    if (!Number.isSafeInteger(price) || !(quantity >= 0) || !Number.isSafeInteger(quantity) || !(orderCount >= 0) || !Number.isSafeInteger(orderCount)) {
      return BookApplyRejected.INVALID_LEVEL;
    }
    const change = ladder.set(price, quantity, orderCount);
    if (change === LevelChange.ABSENT) this.absentRemovals++;
    this.sequence++;
    this.timeUs = timestampUs;
    return change;
  }

  /** Replaces the whole book with a snapshot's levels and sequence (a mirror's resync; history's checkpoints). */
  restore(snapshot: BookSnapshot): void {
    this.bids.clear();
    this.asks.clear();
    // Worst level first, so every insert lands at the end of its ladder (no shifting).
    for (let i = snapshot.bids.length - 1; i >= 0; i--) {
      const [price, quantity, orderCount] = snapshot.bids[i]!;
      this.bids.set(price, quantity, orderCount);
    }
    for (let i = snapshot.asks.length - 1; i >= 0; i--) {
      const [price, quantity, orderCount] = snapshot.asks[i]!;
      this.asks.set(price, quantity, orderCount);
    }
    this.sequence = snapshot.sequence;
    this.timeUs = snapshot.timeUs;
  }

  /** The best `levels` levels each side (capped at MAX_DEPTH_LEVELS), best first. Allocates. */
  depth(levels: number): BookDepth {
    const n = Math.max(0, Math.min(Math.floor(levels), MAX_DEPTH_LEVELS));
    return { bids: pairs(this.bids, n), asks: pairs(this.asks, n), sequence: this.sequence, timeUs: this.timeUs };
  }

  /** The whole book with order counts, at the current sequence. Allocates. */
  snapshot(): BookSnapshot {
    return { productId: this.productId, sequence: this.sequence, timeUs: this.timeUs, bids: triples(this.bids), asks: triples(this.asks) };
  }
}

function pairs(ladder: LevelLadder, n: number): PriceQuantity[] {
  const count = Math.min(n, ladder.length);
  const out = new Array<PriceQuantity>(count);
  for (let rank = 0; rank < count; rank++) out[rank] = [ladder.priceAt(rank), ladder.quantityAt(rank)];
  return out;
}

function triples(ladder: LevelLadder): PriceQuantityCount[] {
  const out = new Array<PriceQuantityCount>(ladder.length);
  for (let rank = 0; rank < ladder.length; rank++) out[rank] = [ladder.priceAt(rank), ladder.quantityAt(rank), ladder.orderCountAt(rank)];
  return out;
}
