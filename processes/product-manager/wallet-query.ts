// Answers a gateway's WalletQuery from the hot product manager's live state: cash, the units of
// every product the account holds, and its daily risk limits with what is used of them.
//
// A read changes nothing, so it is not sequenced: nothing is forwarded, nothing in the state is
// written (only find/resolve lookups), and the query takes no sourceSeq from the gateway's command
// numbering (its InputHeader carries sourceSeq 0), so replay, the state hash and the link's repeat
// check for commands never see it. Only the hot instance reads the gateway rings, so only the hot
// answers; a query read by a hot that dies before publishing is simply not answered (the gateway
// times it out, and a retry is harmless).
//
// The figures include the holds of commands in flight (checked here, not yet journaled), because
// that is what the next check compares against: `used` = reserved + held, `free` = available.
//
// Answer layout (bus/schema.ts WalletReport, all records with the query's requestId, in one batch):
//   CASH, then POSITION per product with any balance/reservation (in product-table row order),
//   NOTIONAL_DAILY, then BRAND_DAILY_UNITS per brand (brand-row order); `more` = 0 on the last.
// The items are gathered into tables allocated once, then written, so the last is known.

import { RiskRuleKind } from '../../bus/enums';
import { writeI64, writeU16, writeU32, writeU8, clearBytes } from '../../bus/codec';
import { BACK_PRESSURED, type RingProducer } from '../../bus/ring';
import { MAX_WALLET_RECORDS, WalletItem, WalletQuery, WalletReport, WalletStatus } from '../../bus/schema';
import { claimAnswerRecord, READ_BACK_PRESSURED } from './answer-records';
import { NOT_FOUND } from './pair-index';
import type { ProductManagerState } from './product-manager-state';

/** answer(): the first record could not be claimed (the gateway is not reading): retry later. */
export const WALLET_BACK_PRESSURED = READ_BACK_PRESSURED;

const NO_BRAND_ROW = -1;
const R = WalletReport.o;

export class WalletAnswerer {
  /** Answers written / records written, for status and tests. */
  answers = 0;
  records = 0;
  /** Answers cut short because the reply ring filled up in the middle (the gateway then times out). */
  incomplete = 0;

  // The items of the answer being built (row 0 is CASH).
  private readonly kind = new Uint8Array(MAX_WALLET_RECORDS);
  private readonly itemId = new Uint32Array(MAX_WALLET_RECORDS);
  private readonly total = new Float64Array(MAX_WALLET_RECORDS);
  private readonly used = new Float64Array(MAX_WALLET_RECORDS);
  private readonly free = new Float64Array(MAX_WALLET_RECORDS);
  private count = 0;
  private status = 0;

  constructor(private readonly state: ProductManagerState) {}

  /** The query's fields, read from a body at `body` in `view`. */
  static accountIdOf(view: DataView, body: number): number {
    return view.getUint32(body + WalletQuery.o.accountId, true);
  }

  static requestIdOf(view: DataView, body: number): number {
    return view.getUint32(body + WalletQuery.o.requestId, true);
  }

  static gatewayIdOf(view: DataView, body: number): number {
    return view.getUint16(body + WalletQuery.o.gatewayId, true);
  }

  /**
   * Writes the wallet of `accountId` as WalletReport records on `producer` (uncommitted: the
   * caller publishes them with the iteration). Returns the records written, or
   * WALLET_BACK_PRESSURED when not even the first fits (leave the query unread and retry).
   */
  answer(producer: RingProducer, accountId: number, requestId: number, gatewayId: number, timeUs: number): number {
    this.gather(accountId);
    const state = this.state;
    const account = state.accounts.find(accountId);
    const outletId = account === NOT_FOUND ? 0 : state.accounts.outletId[account]!;
    const asOfSeq = state.lastSeq;
    const time = Math.floor(timeUs);
    for (let i = 0; i < this.count; i++) {
      const at = claimAnswerRecord(producer, WalletReport);
      if (at === BACK_PRESSURED) {
        if (i === 0) return WALLET_BACK_PRESSURED;
        // The records already claimed say more=1: the gateway waits for the rest and answers 503
        // after its reply bound. Only a gateway that stopped reading gets here.
        this.incomplete++;
        return i;
      }
      const view = producer.ring.view;
      clearBytes(view, at, WalletReport.size);
      writeI64(view, at + R.total, this.total[i]!);
      writeI64(view, at + R.used, this.used[i]!);
      writeI64(view, at + R.free, this.free[i]!);
      writeI64(view, at + R.asOfSeq, asOfSeq);
      writeI64(view, at + R.timeUs, time);
      writeU32(view, at + R.requestId, requestId);
      writeU32(view, at + R.accountId, accountId);
      writeU32(view, at + R.itemId, this.itemId[i]!);
      writeU32(view, at + R.outletId, outletId);
      writeU16(view, at + R.gatewayId, gatewayId);
      writeU8(view, at + R.kind, this.kind[i]!);
      writeU8(view, at + R.status, this.status);
      writeU8(view, at + R.more, i + 1 < this.count ? 1 : 0);
      this.records++;
    }
    this.answers++;
    return this.count;
  }

  /** Fills the item tables for one account (reads only). */
  private gather(accountId: number): void {
    const state = this.state;
    const accounts = state.accounts;
    const account = accounts.find(accountId);
    this.count = 0;
    this.status = WalletStatus.OK;
    if (account === NOT_FOUND) {
      this.status = WalletStatus.UNKNOWN_ACCOUNT;
      this.push(WalletItem.CASH, 0, 0, 0, 0);
      return;
    }
    const reserved = accounts.cashReserved[account]! + accounts.cashHeld[account]!;
    this.push(WalletItem.CASH, 0, accounts.cashBalance[account]!, reserved, accounts.availableCash(account));

    const products = state.products;
    const positions = state.positions;
    for (let product = 0; product < products.rows; product++) {
      const row = positions.find(account, product);
      if (row === NOT_FOUND) continue;
      const balance = positions.balance[row]!;
      const held = positions.reserved[row]! + positions.held[row]!;
      if (balance === 0 && held === 0) continue;
      if (!this.push(WalletItem.POSITION, products.productId[product]!, balance, held, positions.available(row))) return;
    }

    const rules = state.rules;
    const notionalLimit = rules.resolve(RiskRuleKind.NOTIONAL_DAILY, accountId, NO_BRAND_ROW);
    const notionalUsed = accounts.notionalDay[account]! + accounts.notionalHeld[account]!;
    if (!this.push(WalletItem.NOTIONAL_DAILY, 0, notionalLimit, notionalUsed, Math.max(0, notionalLimit - notionalUsed))) return;

    const counters = state.brandCounters;
    for (let brand = 0; brand < products.brandRows; brand++) {
      const limit = rules.resolve(RiskRuleKind.BRAND_DAILY_UNITS, accountId, brand);
      const counter = counters.find(account, brand);
      const usedUnits = counter === NOT_FOUND ? 0 : counters.unitsDay[counter]! + counters.unitsHeld[counter]!;
      if (!this.push(WalletItem.BRAND_DAILY_UNITS, products.brandId[brand]!, limit, usedUnits, Math.max(0, limit - usedUnits))) return;
    }
  }

  /** Adds an item; false (and status TRUNCATED) when the answer is full. */
  private push(kind: number, itemId: number, total: number, used: number, free: number): boolean {
    if (this.count === MAX_WALLET_RECORDS) {
      this.status = WalletStatus.TRUNCATED;
      return false;
    }
    const i = this.count++;
    this.kind[i] = kind;
    this.itemId[i] = itemId;
    this.total[i] = total;
    this.used[i] = used;
    this.free[i] = free;
    return true;
  }
}
