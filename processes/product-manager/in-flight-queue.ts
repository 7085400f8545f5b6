// Commands this product manager checked, reserved for and sent towards the sequencer, in the order
// it sent them, until each comes back in the journal. A bounded FIFO ring of typed-array columns.
//
// Each entry records what the check took on account of the command — the risk-counter increments
// (brand units, notional, one open order) and, for Withdraw and InventoryDispatch, the cash or units
// held — so that when the journaled command arrives the live holds are released exactly and the
// journal-derived state takes over (see product-manager-state.ts, "Live checks and replay").

import { assert } from './assert';

const NO_ROW = -1;

export class InFlightQueue {
  readonly capacity: number;
  readonly typeId: Uint16Array;
  /** Order id (orders) or payment / movement reference (Withdraw, InventoryDispatch). */
  readonly key: Float64Array;
  readonly accountRow: Int32Array;
  readonly epoch: Uint32Array;
  /** Brand counter row the units were added to (−1: none). */
  readonly brandCounterRow: Int32Array;
  readonly units: Float64Array;
  readonly notional: Float64Array;
  readonly openOrders: Uint8Array;
  /** Cash (Withdraw) or units (InventoryDispatch, on positionRow) held until journaled. */
  readonly amount: Float64Array;
  readonly positionRow: Int32Array;
  private head = 0;
  size = 0;

  constructor(capacity: number) {
    assert(Number.isInteger(capacity) && capacity >= 1, 'in-flight capacity must be a positive integer');
    this.capacity = capacity;
    this.typeId = new Uint16Array(capacity);
    this.key = new Float64Array(capacity);
    this.accountRow = new Int32Array(capacity);
    this.epoch = new Uint32Array(capacity);
    this.brandCounterRow = new Int32Array(capacity);
    this.units = new Float64Array(capacity);
    this.notional = new Float64Array(capacity);
    this.openOrders = new Uint8Array(capacity);
    this.amount = new Float64Array(capacity);
    this.positionRow = new Int32Array(capacity);
  }

  get isFull(): boolean {
    return this.size === this.capacity;
  }

  /** Ring position of the i-th oldest entry (0 = head). */
  at(i: number): number {
    return (this.head + i) % this.capacity;
  }

  /** Appends an entry with everything zeroed; returns its ring position. */
  push(typeId: number, key: number, accountRow: number, epoch: number): number {
    assert(this.size < this.capacity, 'in-flight queue overflow (callers check isFull)');
    const p = (this.head + this.size) % this.capacity;
    this.typeId[p] = typeId;
    this.key[p] = key;
    this.accountRow[p] = accountRow;
    this.epoch[p] = epoch;
    this.brandCounterRow[p] = NO_ROW;
    this.units[p] = 0;
    this.notional[p] = 0;
    this.openOrders[p] = 0;
    this.amount[p] = 0;
    this.positionRow[p] = NO_ROW;
    this.size++;
    return p;
  }

  /** The i-th oldest entry whose typeId, key, account and epoch match, or −1. */
  indexOf(typeId: number, key: number, accountRow: number, epoch: number): number {
    for (let i = 0; i < this.size; i++) {
      const p = this.at(i);
      if (this.typeId[p] === typeId && this.key[p] === key && this.accountRow[p] === accountRow && this.epoch[p] === epoch) return i;
    }
    return -1;
  }

  /** Drops the oldest entry (after the caller released what it held). */
  shift(): void {
    assert(this.size > 0, 'shift of an empty in-flight queue');
    this.head = (this.head + 1) % this.capacity;
    this.size--;
  }

  /** Drops the newest entry (a command that could not be sent). */
  pop(): void {
    assert(this.size > 0, 'pop of an empty in-flight queue');
    this.size--;
  }
}
