// One product's L2 book as the kiosk sees it, built from the gateway's book:SYMBOL channel: a
// snapshot (every level of both sides, with the book's sequence), then deltas each carrying the
// next sequence (size 0 removes a level). A delta whose sequence is not the next one means a
// message was missed: the book is marked out of sync and the caller asks for a fresh snapshot
// (the "resync" message); until it arrives, deltas are ignored and the ladder says so.

/** A price level: decimal price string (as on the wire) and total size. */
export type Level = readonly [price: string, size: number];

export type DeltaOutcome = 'applied' | 'stale' | 'gap' | 'not_synced';

/**
 * Levels per side a book may hold; a snapshot or delta beyond it marks the book out of sync
 * (the publisher's books are far shallower; this only bounds memory against a broken feed).
 */
export const BOOK_LEVELS_MAX = 10_000;

export class L2Book {
  /** The sequence of the last snapshot or delta applied; -1 before the first snapshot. */
  sequence = -1;
  /** Epoch ms of the last change. */
  time = 0;
  /** False before the first snapshot and after a gap, until the next snapshot. */
  synced = false;
  /** Gaps seen (each one asked for a resync). */
  gaps = 0;
  private readonly bids = new Map<string, number>();
  private readonly asks = new Map<string, number>();

  applySnapshot(sequence: number, time: number, bids: readonly Level[], asks: readonly Level[]): void {
    this.bids.clear();
    this.asks.clear();
    this.synced = bids.length <= BOOK_LEVELS_MAX && asks.length <= BOOK_LEVELS_MAX;
    if (!this.synced) return;
    for (const [p, q] of bids) if (q > 0) this.bids.set(p, q);
    for (const [p, q] of asks) if (q > 0) this.asks.set(p, q);
    this.sequence = sequence;
    this.time = time;
  }

  applyDelta(sequence: number, time: number, side: 'bid' | 'ask', price: string, size: number): DeltaOutcome {
    if (!this.synced) return 'not_synced';
    if (sequence <= this.sequence) return 'stale';
    if (sequence !== this.sequence + 1) {
      this.synced = false;
      this.gaps++;
      return 'gap';
    }
    const levels = side === 'bid' ? this.bids : this.asks;
    if (size <= 0) levels.delete(price);
    else levels.set(price, size);
    if (levels.size > BOOK_LEVELS_MAX) {
      this.synced = false;
      this.gaps++;
      return 'gap';
    }
    this.sequence = sequence;
    this.time = time;
    return 'applied';
  }

  /** The best `depth` levels of one side, best first (highest bid, lowest ask). */
  levels(side: 'bid' | 'ask', depth: number): Level[] {
    const levels = [...(side === 'bid' ? this.bids : this.asks).entries()];
    levels.sort((a, b) => (side === 'bid' ? Number(b[0]) - Number(a[0]) : Number(a[0]) - Number(b[0])));
    return levels.slice(0, depth);
  }

  /** The best level of one side (a scan: the board asks this of every product it shows). */
  best(side: 'bid' | 'ask'): Level | null {
    let price: string | null = null;
    let n = 0;
    let size = 0;
    for (const [p, q] of side === 'bid' ? this.bids : this.asks) {
      const v = Number(p);
      if (price === null || (side === 'bid' ? v > n : v < n)) {
        price = p;
        n = v;
        size = q;
      }
    }
    return price === null ? null : [price, size];
  }
}
