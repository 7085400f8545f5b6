// Accounts as the product manager knows them from the journal: who they are (outlet, role), whether
// they may trade, their cash (integer minor units) and their day counters. One row per account,
// columns allocated at start-up for MAX_ACCOUNTS rows; the account id → row index is built in
// journal order (AccountOpened), so every replica numbers rows the same way.
//
// Cash:  balance   journal-derived: deposits − withdrawals − paid for fills + received for fills
//        reserved  journal-derived: Σ over the account's open inflow orders of their reservation
//        held      live only: Σ of holds for commands checked here and not yet journaled
//        available = balance − reserved − held, never negative

import { assert } from './assert';
import { NOT_FOUND, PairIndex } from './pair-index';

export const AccountStatus = { ACTIVE: 1, SUSPENDED: 2 } as const;

export class AccountTable {
  readonly accountId: Uint32Array;
  readonly outletId: Uint32Array;
  readonly role: Uint8Array;
  readonly status: Uint8Array;
  readonly cashBalance: Float64Array;
  readonly cashReserved: Float64Array;
  readonly cashHeld: Float64Array;
  /** Σ price × quantity of the account's order updates journaled since the last TradingDayOpen. */
  readonly notionalDay: Float64Array;
  /** The same for updates in flight (live only). */
  readonly notionalHeld: Float64Array;
  /** Journaled, unfinished orders; and new orders in flight (live only). */
  readonly openOrders: Int32Array;
  readonly openOrdersHeld: Int32Array;
  private readonly index: PairIndex;
  rows = 0;

  constructor(readonly maxRows: number) {
    this.accountId = new Uint32Array(maxRows);
    this.outletId = new Uint32Array(maxRows);
    this.role = new Uint8Array(maxRows);
    this.status = new Uint8Array(maxRows);
    this.cashBalance = new Float64Array(maxRows);
    this.cashReserved = new Float64Array(maxRows);
    this.cashHeld = new Float64Array(maxRows);
    this.notionalDay = new Float64Array(maxRows);
    this.notionalHeld = new Float64Array(maxRows);
    this.openOrders = new Int32Array(maxRows);
    this.openOrdersHeld = new Int32Array(maxRows);
    let capacity = 2;
    while (capacity < maxRows * 2) capacity *= 2;
    this.index = new PairIndex('account', capacity, capacity);
  }

  /** Row of an account id, or NOT_FOUND. */
  find(accountId: number): number {
    return this.index.get(0, accountId);
  }

  /** A new row for an unknown account id, or NOT_FOUND when the table is full. */
  add(accountId: number): number {
    assert(this.find(accountId) === NOT_FOUND, 'an account is added twice');
    if (this.rows === this.maxRows) return NOT_FOUND;
    const row = this.rows++;
    this.accountId[row] = accountId;
    this.index.set(0, accountId, row);
    return row;
  }

  availableCash(row: number): number {
    return this.cashBalance[row] - this.cashReserved[row] - this.cashHeld[row];
  }

  /** available ≥ amount, compared in place (a returned amount above 2^30 would be boxed). */
  hasAvailableCash(row: number, amount: number): boolean {
    return this.cashBalance[row] - this.cashReserved[row] - this.cashHeld[row] >= amount;
  }
}
