// Sparse per-(account, something) rows: an account's units of one product (PositionTable) and its
// units updated today in one brand (BrandCounterTable). Rows are created on first use and never
// removed (a row whose values are all zero is skipped by the state hash), the table doubles up to
// MAX_SPARSE_TABLE_SLOTS.
//
// Units:  balance   journal-derived: receipts − dispatches + bought − sold
//         reserved  journal-derived: Σ over the account's open outflow orders in the product
//         held      live only: holds for commands checked here and not yet journaled
//         available = balance − reserved − held, never negative

import { assert } from './assert';
import { growFloat64, growInt32 } from './columns';
import { NOT_FOUND, PairIndex } from './pair-index';
import { MAX_SPARSE_TABLE_SLOTS } from './pm-limits';

export class PositionTable {
  accountRow: Int32Array;
  productRow: Int32Array;
  balance: Float64Array;
  reserved: Float64Array;
  held: Float64Array;
  private readonly index: PairIndex;
  rows = 0;

  constructor(initialRows: number) {
    this.accountRow = new Int32Array(initialRows);
    this.productRow = new Int32Array(initialRows);
    this.balance = new Float64Array(initialRows);
    this.reserved = new Float64Array(initialRows);
    this.held = new Float64Array(initialRows);
    this.index = new PairIndex('position', initialRows * 2, MAX_SPARSE_TABLE_SLOTS);
  }

  find(accountRow: number, productRow: number): number {
    return this.index.get(accountRow, productRow);
  }

  /** The row of (account, product), created (all zero) when new. */
  rowOf(accountRow: number, productRow: number): number {
    const row = this.index.get(accountRow, productRow);
    if (row !== NOT_FOUND) return row;
    if (this.rows === this.balance.length) this.grow();
    const fresh = this.rows++;
    this.accountRow[fresh] = accountRow;
    this.productRow[fresh] = productRow;
    this.index.set(accountRow, productRow, fresh);
    return fresh;
  }

  available(row: number): number {
    return this.balance[row] - this.reserved[row] - this.held[row];
  }

  /** available ≥ amount, compared in place. */
  hasAvailable(row: number, amount: number): boolean {
    return this.balance[row] - this.reserved[row] - this.held[row] >= amount;
  }

  private grow(): void {
    const n = this.balance.length * 2;
    assert(n <= MAX_SPARSE_TABLE_SLOTS, 'position table full');
    this.accountRow = growInt32(this.accountRow, n);
    this.productRow = growInt32(this.productRow, n);
    this.balance = growFloat64(this.balance, n);
    this.reserved = growFloat64(this.reserved, n);
    this.held = growFloat64(this.held, n);
  }
}

export class BrandCounterTable {
  accountRow: Int32Array;
  brandRow: Int32Array;
  /** Units of the brand in order updates journaled since the last TradingDayOpen. */
  unitsDay: Float64Array;
  /** The same for updates in flight (live only). */
  unitsHeld: Float64Array;
  private readonly index: PairIndex;
  rows = 0;

  constructor(initialRows: number) {
    this.accountRow = new Int32Array(initialRows);
    this.brandRow = new Int32Array(initialRows);
    this.unitsDay = new Float64Array(initialRows);
    this.unitsHeld = new Float64Array(initialRows);
    this.index = new PairIndex('brand counter', initialRows * 2, MAX_SPARSE_TABLE_SLOTS);
  }

  find(accountRow: number, brandRow: number): number {
    return this.index.get(accountRow, brandRow);
  }

  rowOf(accountRow: number, brandRow: number): number {
    const row = this.index.get(accountRow, brandRow);
    if (row !== NOT_FOUND) return row;
    if (this.rows === this.unitsDay.length) this.grow();
    const fresh = this.rows++;
    this.accountRow[fresh] = accountRow;
    this.brandRow[fresh] = brandRow;
    this.index.set(accountRow, brandRow, fresh);
    return fresh;
  }

  /** The day rollover: every journal-derived counter back to zero (in-flight increments stay). */
  resetDay(): void {
    this.unitsDay.fill(0, 0, this.rows);
  }

  private grow(): void {
    const n = this.unitsDay.length * 2;
    assert(n <= MAX_SPARSE_TABLE_SLOTS, 'brand counter table full');
    this.accountRow = growInt32(this.accountRow, n);
    this.brandRow = growInt32(this.brandRow, n);
    this.unitsDay = growFloat64(this.unitsDay, n);
    this.unitsHeld = growFloat64(this.unitsHeld, n);
  }
}
