// The trade tape of one product: the last `capacity` trades in a ring of typed arrays, so
// recording a trade allocates nothing and memory is fixed. Older trades are left to storage.

import { assert } from './market-data-assert';
import { TRADE_TAPE_CAPACITY } from './market-data-limits';

/** One trade as queries return it. takerSide: Side.INFLOW (a buyer took) or Side.OUTFLOW. */
export interface TradeRecord {
  execId: number;
  price: number;
  quantity: number;
  takerSide: number;
  timestampUs: number;
}

export class TradeTape {
  /** Trades recorded since start (the tape holds the last min(recorded, capacity)). */
  recorded = 0;

  private readonly execIds: Float64Array;
  private readonly prices: Float64Array;
  private readonly quantities: Float64Array;
  private readonly times: Float64Array;
  private readonly takerSides: Uint8Array;

  constructor(readonly capacity: number = TRADE_TAPE_CAPACITY) {
    assert(Number.isInteger(capacity) && capacity >= 1, 'TradeTape capacity must be a positive integer');
    this.execIds = new Float64Array(capacity);
    this.prices = new Float64Array(capacity);
    this.quantities = new Float64Array(capacity);
    this.times = new Float64Array(capacity);
    this.takerSides = new Uint8Array(capacity);
  }

  get length(): number {
    return Math.min(this.recorded, this.capacity);
  }

  /** Appends a trade, overwriting the oldest when full. Allocation-free. */
  record(execId: number, price: number, quantity: number, takerSide: number, timestampUs: number): void {
    const at = this.recorded % this.capacity;
    this.execIds[at] = execId;
    this.prices[at] = price;
    this.quantities[at] = quantity;
    this.takerSides[at] = takerSide;
    this.times[at] = timestampUs;
    this.recorded++;
  }

  /** The last `count` trades (at most the tape's length), oldest first. Allocates. */
  recent(count: number): TradeRecord[] {
    const n = Math.max(0, Math.min(Math.floor(count), this.length));
    const out = new Array<TradeRecord>(n);
    const first = this.recorded - n;
    for (let i = 0; i < n; i++) {
      const at = (first + i) % this.capacity;
      out[i] = {
        execId: this.execIds[at]!,
        price: this.prices[at]!,
        quantity: this.quantities[at]!,
        takerSide: this.takerSides[at]!,
        timestampUs: this.times[at]!,
      };
    }
    return out;
  }
}
