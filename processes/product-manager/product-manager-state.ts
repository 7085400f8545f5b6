// The product manager's state machine: wallets with reservations, risk counters and limits, order
// state and execution reports, client-order-id idempotency. A deterministic function of the journal:
// no I/O, no clock (the journal's timestamp is the only time), no randomness, and nothing iterated
// in an order that could differ between runs (the state hash walks everything in key order).
//
// Two kinds of input:
//
//  * applyJournalEntry(view, entryOffset, typeId) — every sequenced entry, in journal order:
//    product and session administration, accounts, cash and inventory movements, risk rules, the
//    order commands as sequenced, and the engine's outputs. Replaying the journal into a fresh
//    state rebuilds wallets, reservations, counters and order states exactly. The arguments are a
//    DataView and the offset of the journal entry (JournalHeader, then the body), so the hot path
//    reads fields in place and allocates nothing.
//
//  * checkNewOrder / checkAmend / checkCancel / checkWithdraw / checkDispatch / checkAdminCommand
//    (and the check*Command wrappers over command bodies) — the pre-sequencing checks of the live
//    product manager, before it forwards a command to the sequencer. 0 means "accepted, reserved,
//    forward it"; otherwise a RejectReason (never forwarded), or CHECK_DUPLICATE / BACK_PRESSURED.
//
// Who may touch an order: only the account that placed it (checkOwnership; the engine checks the
// same account on cancel and amend). Cancel, amend and every read of an order go through it.
//
// ## Live checks and replay (how they agree)
//
// The live product manager reserves at CHECK time, so two rapid orders cannot both spend the same
// cash: the command is then in flight (sent, not yet journaled). Its reservation is a live-only
// HOLD: wallet.held (cash or units) and the risk counters' *Held columns. The journal-derived state
// (balance, reserved, day counters, orders) is what the state hash covers; holds are not in it.
// When the command comes back in the journal (same sourceId and epoch as this product manager, same
// type, order id or reference, account: it is matched to the oldest such in-flight entry) its hold
// is released and the journal-derived change is applied exactly as a replay applies it — so the
// command is never applied twice, and a live product manager and a replay that saw the same entries
// have the same state hash at every journal position, in-flight commands or not. On replay (or in
// a warm follower) nothing is in flight and every journaled command is applied directly.
// available = balance − reserved − held ≥ 0 at all times; checks compare against it.
//
// Reservation of one order (journal-derived, "R"): an inflow reserves price × open quantity of cash,
// an outflow its open quantity of units. While amends of it are journaled but unanswered by the
// engine, it reserves for the worst case over them: (highest price) × (highest total quantity −
// filled) — every unit it can still fill, at the highest limit it may have when it fills. So the
// engine can never make a reservation grow: only journaled commands (which a check covered) raise
// it; fills settle it (the buyer pays the execution price and releases its limit price for that
// quantity); cancels, expiry, IOC remainders, rejections and reducing amends release it. A live
// order's hold covers the same worst case including its commands in flight.
//
// Order ids are assigned here (checkNewOrder), from a counter that is max(order id seen in the
// journal) + 1 after a replay: deterministic, and never reused by this product manager.
//
// Risk day counters count order UPDATES as sequenced: a new order adds its quantity (units of its
// brand) and its price × quantity (notional); an amend adds only its increase over the previous
// command for the order. Cancels and engine rejections do not give the limit back (the seed's rule
// is about what a colleague may update in a day). They reset at the sequenced TradingDayOpen.
//
// Withdraw and InventoryDispatch take cash or units out of a wallet, so they must be checked here
// (checkWithdraw / checkDispatch) and forwarded in the same stream as the orders: a withdrawal that
// reached the journal by another path could overtake an order already checked against that cash.
// Deposits and receipts only add and may come from anywhere. A journaled admin command that cannot
// apply (unknown account, not enough available, a value out of range) changes nothing, and
// lastApplyResult says why, identically on every replica.
//
// ## Wiring (the process loop: product-manager-process.ts, run by main.ts)
//
//  1. Restore the newest good snapshot (or start empty) and apply the journal after it, before the
//     first check. After a takeover (a new epoch), first wait until the sequencer has drained the
//     old leader's input ring and apply the journal to its end: a command the old instance sent may
//     still be journaled after it (its order ids and holds must be known before the next check).
//  2. Gateway ring → checkXCommand(view, body). 0: forward the (completed) body to the sequencer
//     with InputHeader {sourceId: state.sourceId, epoch: state.epoch}; if it cannot be written,
//     abandonNewestInFlight(). CHECK_DUPLICATE: reply executionReportFor(account, lastOrderId).
//     CHECK_BACK_PRESSURED: leave the record and retry. Otherwise reply writeRejectionReport(...).
//  3. Journal ring → applyJournalEntry(view, entryOffset, typeId) → for each of the n reports:
//     writeExecutionReport(i, …) into the ring of gateway reportGatewayId(i) (0: no session).

import { AccountRole, OrderFlags, RejectReason, RiskRuleKind, Side, TimeInForce } from '../../bus/enums';
import { readI64, readU16, readU32, readU8, writeI64, writeU32 } from '../../bus/codec';
import {
  AccountOpened,
  AccountRoleChanged,
  AccountSuspended,
  AmendOrder,
  CancelOrder,
  Deposit,
  Fill,
  HaltProduct,
  InventoryDispatch,
  InventoryReceipt,
  JOURNAL_HEADER_BYTES,
  JournalHeader,
  ListProduct,
  NewOrder,
  OrderAccepted,
  OrderAmended,
  OrderCanceled,
  OrderExpired,
  OrderRejected,
  OrderStatus,
  SetRiskRule,
  TradingDayOpen,
  TypeId,
  Withdraw,
} from '../../bus/schema';
import { ByteCounter, ByteWriter, type StateHash, StateHasher, type StateWriter, stateHashHex } from '../matching-engine/state-encoding';
import { AccountStatus, AccountTable } from './account-table';
import { assert } from './assert';
import { ClientOrderIdIndex, hashClientOrderId, hashClientOrderIdBytes, isEmptyClientOrderId } from './client-order-id-index';
import { ExecutionReportRows } from './execution-report-rows';
import { InFlightQueue } from './in-flight-queue';
import { CLIENT_ORDER_ID_BYTES, NO_SLOT, OrderPhase, OrderTable } from './order-table';
import { NOT_FOUND } from './pair-index';
import {
  BPS_PER_UNIT,
  ENGINE_MAX_ORDER_QUANTITY,
  INITIAL_BRAND_COUNTER_SLOTS,
  INITIAL_ORDER_SLOTS,
  INITIAL_POSITION_SLOTS,
  MAX_ACCOUNTS,
  MAX_BRANDS,
  MAX_FINISHED_ORDERS,
  MAX_FINISHED_ORDERS_PER_ACCOUNT,
  MAX_IN_FLIGHT_COMMANDS,
  MAX_ORDER_SLOTS,
  MAX_PRODUCTS,
  MAX_SPARSE_TABLE_SLOTS,
} from './pm-limits';
import { BrandCounterTable, PositionTable } from './position-table';
import { ProductTable } from './product-table';
import { DEFAULT_RISK_LIMITS, isAccountWideKind, isRiskRuleKind, NO_RULE, RiskRules } from './risk-rules';
import { openSnapshot, sealSnapshot, SNAPSHOT_HEADER_BYTES, type SnapshotReader } from './state-snapshot';

/** checkX result when the in-flight queue is full: try again later (not a reject, nothing was reserved). */
export const CHECK_BACK_PRESSURED = -1;

/**
 * checkNewOrder result for a resubmitted client order id. Not an error: nothing was created, and
 * the reply is the original order's report (executionReportFor(accountId, lastOrderId, …)).
 */
export const CHECK_DUPLICATE = RejectReason.DUPLICATE_ORDER_ID;

/** Execution reports one journal entry can produce (a Fill: one per side). */
export const MAX_REPORTS_PER_ENTRY = 2;

export interface ProductManagerOptions {
  /** InputHeader.sourceId this product manager writes with (journal entries from it are matched to its checks). */
  readonly sourceId?: number;
  /** Fencing epoch it writes with; checks stamp it, the journal entry must carry the same. */
  readonly epoch?: number;
  readonly maxAccounts?: number;
  readonly maxProducts?: number;
  readonly maxBrands?: number;
  readonly initialOrderSlots?: number;
  readonly maxOrderSlots?: number;
  readonly maxFinishedOrders?: number;
  readonly maxFinishedOrdersPerAccount?: number;
  readonly maxInFlight?: number;
}

/** One order, for inspection (tests, tools, status); allocates. */
export interface OrderView {
  readonly orderId: number;
  readonly accountId: number;
  readonly productId: number;
  readonly side: number;
  readonly timeInForce: number;
  readonly status: number;
  readonly phase: 'in-flight' | 'open' | 'finished';
  readonly price: number;
  readonly quantity: number;
  readonly filledQuantity: number;
  readonly remainingQuantity: number;
  readonly reserved: number;
  readonly held: number;
  readonly pendingAmends: number;
  readonly creationTimeUs: number;
  readonly lastPrice: number;
  readonly lastQuantity: number;
  readonly lastExecId: number;
  readonly clientOrderId: string;
}

export interface AccountView {
  readonly accountId: number;
  readonly outletId: number;
  readonly role: number;
  readonly active: boolean;
  readonly cash: number;
  readonly cashReserved: number;
  readonly cashHeld: number;
  readonly cashAvailable: number;
  readonly notionalToday: number;
  readonly openOrders: number;
}

export interface PositionView {
  readonly units: number;
  readonly reserved: number;
  readonly held: number;
  readonly available: number;
}

const INFLOW = Side.INFLOW;
const OUTFLOW = Side.OUTFLOW;
const J_SEQ = JournalHeader.o.seq;
const J_TIMESTAMP = JournalHeader.o.timestampUs;
const J_SOURCE_ID = JournalHeader.o.sourceId;
const J_EPOCH = JournalHeader.o.epoch;
const NO_ROW = -1;
/** Report scratch rows: MAX_REPORTS_PER_ENTRY for journal entries, one for reads. */
const READ_REPORT_ROW = MAX_REPORTS_PER_ENTRY;

function isPositiveSafeInteger(value: number): boolean {
  return Number.isSafeInteger(value) && value > 0;
}

export class ProductManagerState {
  sourceId: number;
  epoch: number;

  /** Journal position and time of the last entry applied. */
  lastSeq = 0;
  lastTimestampUs = 0;
  /** yyyymmdd of the last TradingDayOpen; the session is open between it and the TradingDayClose. */
  tradingDay = 0;
  sessionOpen = false;
  /** Highest order id seen in a journaled NewOrder. */
  maxOrderIdSeen = 0;
  /** Why the last journal entry changed nothing (0 when it applied, or did not concern the product manager). */
  lastApplyResult = 0;
  /** Journal entries that changed nothing because they could not apply (see lastApplyResult). */
  ignoredEntries = 0;
  /** Set by checkNewOrder: the id assigned (accepted) or the original order's id (CHECK_DUPLICATE). */
  lastOrderId = 0;
  /** Set by checkCancel / checkAmend when accepted: the order's product id, for the forwarded command. */
  lastProductId = 0;
  /** Set by checkAmend when accepted: the new price and total quantity to forward ("unchanged" 0s resolved). */
  lastAmendPrice = 0;
  lastAmendQuantity = 0;

  readonly accounts: AccountTable;
  readonly products: ProductTable;
  readonly positions = new PositionTable(INITIAL_POSITION_SLOTS);
  readonly brandCounters = new BrandCounterTable(INITIAL_BRAND_COUNTER_SLOTS);
  readonly rules = new RiskRules();
  readonly orders: OrderTable;
  private readonly coids: ClientOrderIdIndex;
  private readonly inFlight: InFlightQueue;
  private readonly maxFinishedOrders: number;
  private readonly maxFinishedOrdersPerAccount: number;
  private nextOrderId = 1;

  // The reservation arithmetic's scratch (set by needOf, read right after; no allocation).
  private needPrice = 0;
  private needUnits = 0;

  /** Execution reports of the last journal entry (rows 0..MAX_REPORTS_PER_ENTRY−1), and one row for reads. */
  private readonly reports = new ExecutionReportRows(MAX_REPORTS_PER_ENTRY + 1);
  private reportCount = 0;

  constructor(options: ProductManagerOptions = {}) {
    this.sourceId = options.sourceId ?? -1;
    this.epoch = options.epoch ?? 0;
    const maxOrderSlots = options.maxOrderSlots ?? MAX_ORDER_SLOTS;
    const maxAccounts = options.maxAccounts ?? MAX_ACCOUNTS;
    this.accounts = new AccountTable(maxAccounts);
    this.products = new ProductTable(options.maxProducts ?? MAX_PRODUCTS, options.maxBrands ?? MAX_BRANDS);
    this.orders = new OrderTable(Math.min(options.initialOrderSlots ?? INITIAL_ORDER_SLOTS, maxOrderSlots), maxOrderSlots, maxAccounts);
    let coidCapacity = 2;
    while (coidCapacity < this.orders.capacity * 2) coidCapacity *= 2;
    this.coids = new ClientOrderIdIndex(this.orders, coidCapacity, Math.max(coidCapacity, MAX_SPARSE_TABLE_SLOTS));
    this.inFlight = new InFlightQueue(options.maxInFlight ?? MAX_IN_FLIGHT_COMMANDS);
    this.maxFinishedOrders = options.maxFinishedOrders ?? MAX_FINISHED_ORDERS;
    this.maxFinishedOrdersPerAccount = options.maxFinishedOrdersPerAccount ?? MAX_FINISHED_ORDERS_PER_ACCOUNT;
    assert(this.maxFinishedOrders >= 1 && this.maxFinishedOrdersPerAccount >= 1, 'finished-order memory bounds must be at least 1');
  }

  /** Commands checked here and not yet seen in the journal. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  // =============================================================================================
  // Journal

  /**
   * Applies one journal entry: `entryOffset` is where its JournalHeader starts in `view`, the body
   * follows at entryOffset + JOURNAL_HEADER_BYTES; the caller has checked the record's version.
   * Entries that do not concern the product manager are skipped. Returns how many execution reports
   * the entry produced (0..MAX_REPORTS_PER_ENTRY); write them with writeExecutionReport before the
   * next entry.
   */
  applyJournalEntry(view: DataView, entryOffset: number, typeId: number): number {
    const seq = readI64(view, entryOffset + J_SEQ);
    assert(seq > this.lastSeq, 'journal entries must be applied once each, in sequence order');
    const timestampUs = readI64(view, entryOffset + J_TIMESTAMP);
    this.lastSeq = seq;
    this.lastTimestampUs = timestampUs;
    this.reportCount = 0;
    this.lastApplyResult = 0;
    const b = entryOffset + JOURNAL_HEADER_BYTES;
    const sourceId = readU16(view, entryOffset + J_SOURCE_ID);
    const epoch = readU32(view, entryOffset + J_EPOCH);
    switch (typeId) {
      case TypeId.NewOrder:
        this.onNewOrderCommand(view, b, sourceId, epoch);
        break;
      case TypeId.CancelOrder:
        this.onCancelCommand(view, b, sourceId, epoch);
        break;
      case TypeId.AmendOrder:
        this.onAmendCommand(view, b, sourceId, epoch);
        break;
      case TypeId.OrderAccepted:
        this.onAccepted(view, b);
        break;
      case TypeId.OrderRejected:
        this.onRejected(view, b);
        break;
      case TypeId.Fill:
        this.onFill(view, b);
        break;
      case TypeId.OrderCanceled:
        this.onCanceled(view, b);
        break;
      case TypeId.OrderAmended:
        this.onAmended(view, b);
        break;
      case TypeId.OrderExpired:
        this.onExpired(view, b);
        break;
      case TypeId.ListProduct:
        this.onListProduct(view, b);
        break;
      case TypeId.HaltProduct:
      case TypeId.ResumeProduct:
      case TypeId.DelistProduct:
        this.onProductState(view, b, typeId);
        break;
      case TypeId.TradingDayOpen:
        this.onTradingDayOpen(readU32(view, b + TradingDayOpen.o.tradingDay));
        break;
      case TypeId.TradingDayClose:
        this.sessionOpen = false;
        break;
      case TypeId.AccountOpened:
        this.onAccountOpened(view, b);
        break;
      case TypeId.AccountSuspended:
        this.onAccountSuspended(view, b);
        break;
      case TypeId.AccountRoleChanged:
        this.onAccountRoleChanged(view, b);
        break;
      case TypeId.Deposit:
        this.onDeposit(view, b);
        break;
      case TypeId.Withdraw:
        this.onWithdraw(view, b, sourceId, epoch);
        break;
      case TypeId.InventoryReceipt:
        this.onReceipt(view, b);
        break;
      case TypeId.InventoryDispatch:
        this.onDispatch(view, b, sourceId, epoch);
        break;
      case TypeId.SetRiskRule:
        this.onSetRiskRule(view, b);
        break;
      default:
        break;
    }
    if (this.lastApplyResult !== 0) this.ignoredEntries++;
    return this.reportCount;
  }

  // --- order commands as sequenced -------------------------------------------------------------

  private onNewOrderCommand(view: DataView, b: number, sourceId: number, epoch: number): void {
    const orderId = readI64(view, b + NewOrder.o.orderId);
    const accountId = readU32(view, b + NewOrder.o.accountId);
    if (orderId > this.maxOrderIdSeen) this.maxOrderIdSeen = orderId;
    if (orderId >= this.nextOrderId) this.nextOrderId = orderId + 1;
    const account = this.accounts.find(accountId);
    if (account === NOT_FOUND) return this.ignore(RejectReason.ACCOUNT_NOT_ACTIVE);
    const orders = this.orders;
    let slot: number;
    if (this.takeOwnInFlight(TypeId.NewOrder, orderId, account, sourceId, epoch)) {
      slot = orders.find(orderId);
      assert(slot !== NOT_FOUND && orders.phase[slot] === OrderPhase.IN_FLIGHT, 'an in-flight new order must still be in flight when journaled');
      // The command as journaled must be the command as checked, or live and replay would diverge.
      assert(
        orders.price[slot] === readI64(view, b + NewOrder.o.price) &&
          orders.quantity[slot] === readI64(view, b + NewOrder.o.quantity) &&
          orders.side[slot] === readU8(view, b + NewOrder.o.side) &&
          this.products.productId[orders.productRow[slot]] === readU32(view, b + NewOrder.o.productId),
        'a journaled NewOrder matches the order this product manager checked',
      );
      orders.inFlight[slot]--;
    } else {
      const productId = readU32(view, b + NewOrder.o.productId);
      const product = this.products.find(productId);
      if (product === NOT_FOUND) return this.ignore(RejectReason.UNKNOWN_PRODUCT);
      if (orders.find(orderId) !== NOT_FOUND) return this.ignore(RejectReason.DUPLICATE_ORDER_ID);
      const price = readI64(view, b + NewOrder.o.price);
      const quantity = readI64(view, b + NewOrder.o.quantity);
      const side = readU8(view, b + NewOrder.o.side);
      if (!isPositiveSafeInteger(orderId) || !isPositiveSafeInteger(price) || !isPositiveSafeInteger(quantity)) {
        return this.ignore(RejectReason.INVALID_COMMAND);
      }
      if ((side !== INFLOW && side !== OUTFLOW) || price * quantity > Number.MAX_SAFE_INTEGER) return this.ignore(RejectReason.INVALID_COMMAND);
      assert(orders.hasRoom, 'order table full while replaying (replicas must share MAX_ORDER_SLOTS)');
      slot = orders.alloc(orderId);
      orders.accountRow[slot] = account;
      orders.productRow[slot] = product;
      orders.side[slot] = side;
      orders.timeInForce[slot] = readU8(view, b + NewOrder.o.timeInForce);
      orders.flags[slot] = readU8(view, b + NewOrder.o.flags);
      orders.status[slot] = OrderStatus.NEW;
      orders.phase[slot] = OrderPhase.IN_FLIGHT;
      orders.price[slot] = price;
      orders.quantity[slot] = quantity;
      orders.leaves[slot] = quantity;
      orders.gatewayId[slot] = readU16(view, b + NewOrder.o.gatewayId);
      orders.requestId[slot] = readU32(view, b + NewOrder.o.requestId);
      const coidAt = b + NewOrder.o.clientOrderId;
      const coidBase = slot * CLIENT_ORDER_ID_BYTES;
      for (let i = 0; i < CLIENT_ORDER_ID_BYTES; i++) orders.coid[coidBase + i] = view.getUint8(coidAt + i);
      if (!isEmptyClientOrderId(view, coidAt)) {
        const hash = hashClientOrderId(view, coidAt);
        orders.coidHash[slot] = hash;
        // A client order id journaled twice (only possible from outside this product manager's
        // checks) keeps pointing at its first order.
        if (this.coids.find(account, hash, view, coidAt) === NO_SLOT) {
          orders.hasCoid[slot] = 1;
          this.coids.insert(slot);
        }
      }
    }
    const price = orders.price[slot];
    const quantity = orders.quantity[slot];
    orders.phase[slot] = OrderPhase.OPEN;
    orders.newSeq[slot] = this.lastSeq;
    orders.creationTimeUs[slot] = this.lastTimestampUs;
    orders.lastEventSeq[slot] = this.lastSeq;
    orders.lastEventTimeUs[slot] = this.lastTimestampUs;
    orders.cmdPrice[slot] = price;
    orders.cmdQuantity[slot] = quantity;
    if (orders.inFlight[slot] === 0) this.endInFlight(slot);
    this.accounts.openOrders[account]++;
    this.countUpdate(account, orders.productRow[slot], quantity, price * quantity);
    this.settle(slot);
  }

  private onCancelCommand(view: DataView, b: number, sourceId: number, epoch: number): void {
    const orderId = readI64(view, b + CancelOrder.o.orderId);
    const account = this.accounts.find(readU32(view, b + CancelOrder.o.accountId));
    if (account === NOT_FOUND) return;
    if (!this.takeOwnInFlight(TypeId.CancelOrder, orderId, account, sourceId, epoch)) return;
    const slot = this.orders.find(orderId);
    if (slot === NOT_FOUND) return;
    this.orders.inFlight[slot]--;
    if (this.orders.inFlight[slot] === 0) this.endInFlight(slot);
    this.settle(slot);
  }

  private onAmendCommand(view: DataView, b: number, sourceId: number, epoch: number): void {
    const orderId = readI64(view, b + AmendOrder.o.orderId);
    const account = this.accounts.find(readU32(view, b + AmendOrder.o.accountId));
    if (account === NOT_FOUND) return this.ignore(RejectReason.ACCOUNT_NOT_ACTIVE);
    const own = this.takeOwnInFlight(TypeId.AmendOrder, orderId, account, sourceId, epoch);
    const orders = this.orders;
    const slot = orders.find(orderId);
    if (slot === NOT_FOUND) return this.ignore(RejectReason.UNKNOWN_ORDER);
    if (own) orders.inFlight[slot]--;
    const newPrice = readI64(view, b + AmendOrder.o.newPrice);
    const newQuantity = readI64(view, b + AmendOrder.o.newQuantity);
    const phase = orders.phase[slot];
    if (
      orders.accountRow[slot] !== account ||
      (phase !== OrderPhase.OPEN && phase !== OrderPhase.FINISHED) ||
      !isPositiveSafeInteger(newPrice) ||
      !isPositiveSafeInteger(newQuantity) ||
      newPrice * newQuantity > Number.MAX_SAFE_INTEGER
    ) {
      // The engine rejects it too (not the owner's, or not an order); nothing to reserve.
      if (orders.inFlight[slot] === 0) this.endInFlight(slot);
      this.settle(slot);
      return this.ignore(orders.accountRow[slot] !== account ? RejectReason.NOT_OWNER : RejectReason.INVALID_COMMAND);
    }
    const oldPrice = orders.cmdPrice[slot];
    const oldQuantity = orders.cmdQuantity[slot];
    const units = newQuantity > oldQuantity ? newQuantity - oldQuantity : 0;
    const notional = newPrice * newQuantity - oldPrice * oldQuantity;
    this.countUpdate(account, orders.productRow[slot], units, notional > 0 ? notional : 0);
    orders.cmdPrice[slot] = newPrice;
    orders.cmdQuantity[slot] = newQuantity;
    if (orders.pendingAmends[slot] === 0) {
      orders.priceMax[slot] = orders.price[slot];
      orders.quantityMax[slot] = orders.cum[slot] + orders.leaves[slot];
    }
    orders.pendingAmends[slot]++;
    if (newPrice > orders.priceMax[slot]) orders.priceMax[slot] = newPrice;
    if (newQuantity > orders.quantityMax[slot]) orders.quantityMax[slot] = newQuantity;
    if (orders.inFlight[slot] === 0) this.endInFlight(slot);
    this.settle(slot);
  }

  // --- engine outputs --------------------------------------------------------------------------

  private onAccepted(view: DataView, b: number): void {
    const slot = this.openOrderSlot(readI64(view, b + OrderAccepted.o.orderId));
    const orders = this.orders;
    assert(orders.leaves[slot] === readI64(view, b + OrderAccepted.o.leavesQuantity), 'OrderAccepted leaves must match the order');
    orders.status[slot] = orders.cum[slot] > 0 ? OrderStatus.PARTIALLY_FILLED : OrderStatus.NEW;
    this.touch(slot, 0);
    this.addReport(slot, orders.gatewayId[slot], orders.requestId[slot]);
  }

  private onRejected(view: DataView, b: number): void {
    const orderId = readI64(view, b + OrderRejected.o.orderId);
    const inSeq = readI64(view, b + OrderRejected.o.inSeq);
    const accountId = readU32(view, b + OrderRejected.o.accountId);
    const reason = readU16(view, b + OrderRejected.o.reason);
    const commandType = readU16(view, b + OrderRejected.o.commandType);
    const gatewayId = readU16(view, b + OrderRejected.o.gatewayId);
    const requestId = readU32(view, b + OrderRejected.o.requestId);
    const orders = this.orders;
    const slot = orders.find(orderId);
    const ownOrder = slot !== NOT_FOUND && this.accounts.accountId[orders.accountRow[slot]] === accountId;
    if (commandType === TypeId.NewOrder) {
      // Only the rejection of the command that created this order finishes it (a NewOrder that
      // reused an id is rejected too, and that rejection names the same id).
      if (ownOrder && orders.newSeq[slot] === inSeq && orders.phase[slot] === OrderPhase.OPEN) {
        orders.leaves[slot] = 0;
        orders.lastReason[slot] = reason;
        this.finish(slot, OrderStatus.REJECTED);
        this.touch(slot, reason);
        this.settle(slot);
        this.addReport(slot, gatewayId, requestId);
        return;
      }
    } else if (ownOrder) {
      if (commandType === TypeId.AmendOrder && orders.pendingAmends[slot] > 0) {
        orders.pendingAmends[slot]--;
        this.settle(slot);
      }
      // A rejected cancel or amend: the order as it stands, with the reason.
      this.addReport(slot, gatewayId, requestId);
      this.reports.setEvent(this.reportCount - 1, reason, this.lastSeq, this.lastTimestampUs);
      return;
    }
    // Not this account's order, or an order nobody knows: the requester learns only the reason.
    this.addBareReport(orderId, accountId, readU32(view, b + OrderRejected.o.productId), OrderStatus.REJECTED, reason, gatewayId, requestId);
  }

  private onFill(view: DataView, b: number): void {
    const price = readI64(view, b + Fill.o.price);
    const quantity = readI64(view, b + Fill.o.quantity);
    const execId = readI64(view, b + Fill.o.execId);
    const maker = this.openOrderSlot(readI64(view, b + Fill.o.makerOrderId));
    const taker = this.openOrderSlot(readI64(view, b + Fill.o.takerOrderId));
    const product = this.orders.productRow[maker];
    assert(product === this.orders.productRow[taker], 'both sides of a fill trade the same product');
    assert(this.orders.side[maker] !== this.orders.side[taker], 'a fill matches an inflow with an outflow');
    this.products.lastTradePrice[product] = price;
    // Each side's report is taken right after its execution: finishing the taker may already
    // forget the maker when the finished-order memory is at its bound.
    this.execute(maker, price, quantity, readI64(view, b + Fill.o.makerLeaves), readI64(view, b + Fill.o.makerCumQuantity), execId);
    this.addReport(maker, this.orders.gatewayId[maker], this.orders.requestId[maker]);
    this.execute(taker, price, quantity, readI64(view, b + Fill.o.takerLeaves), readI64(view, b + Fill.o.takerCumQuantity), execId);
    this.addReport(taker, this.orders.gatewayId[taker], this.orders.requestId[taker]);
  }

  private onCanceled(view: DataView, b: number): void {
    const slot = this.openOrderSlot(readI64(view, b + OrderCanceled.o.orderId));
    const orders = this.orders;
    const canceled = readI64(view, b + OrderCanceled.o.canceledQuantity);
    const reason = readU8(view, b + OrderCanceled.o.reason);
    assert(canceled > 0 && canceled <= orders.leaves[slot], 'a cancel removes at most the open quantity');
    orders.leaves[slot] -= canceled;
    assert(orders.leaves[slot] === readI64(view, b + OrderCanceled.o.leavesQuantity), 'a cancel leaves what the engine says it leaves');
    orders.lastReason[slot] = reason;
    // A self-trade decrement leaves the rest of the order open (status unchanged).
    if (orders.leaves[slot] === 0) this.finish(slot, OrderStatus.CANCELED);
    this.touch(slot, reason);
    this.settle(slot);
    const gatewayId = readU16(view, b + OrderCanceled.o.gatewayId);
    if (gatewayId !== 0) this.addReport(slot, gatewayId, readU32(view, b + OrderCanceled.o.requestId));
    else this.addReport(slot, orders.gatewayId[slot], orders.requestId[slot]);
  }

  private onAmended(view: DataView, b: number): void {
    const slot = this.openOrderSlot(readI64(view, b + OrderAmended.o.orderId));
    const orders = this.orders;
    const newQuantity = readI64(view, b + OrderAmended.o.newQuantity);
    const leaves = readI64(view, b + OrderAmended.o.leavesQuantity);
    assert(orders.pendingAmends[slot] > 0, 'an OrderAmended answers a journaled amend');
    assert(leaves === newQuantity - orders.cum[slot] && leaves > 0, 'an amended order keeps its filled quantity');
    orders.price[slot] = readI64(view, b + OrderAmended.o.newPrice);
    orders.quantity[slot] = newQuantity;
    orders.leaves[slot] = leaves;
    orders.pendingAmends[slot]--;
    orders.status[slot] = OrderStatus.REPLACED;
    const gatewayId = readU16(view, b + OrderAmended.o.gatewayId);
    const requestId = readU32(view, b + OrderAmended.o.requestId);
    if (gatewayId !== 0) orders.gatewayId[slot] = gatewayId;
    this.touch(slot, 0);
    this.settle(slot);
    this.addReport(slot, gatewayId !== 0 ? gatewayId : orders.gatewayId[slot], requestId);
  }

  private onExpired(view: DataView, b: number): void {
    const slot = this.openOrderSlot(readI64(view, b + OrderExpired.o.orderId));
    const orders = this.orders;
    const expired = readI64(view, b + OrderExpired.o.expiredQuantity);
    assert(expired === orders.leaves[slot], 'an expiry removes the whole open quantity');
    orders.leaves[slot] = 0;
    this.finish(slot, OrderStatus.EXPIRED);
    this.touch(slot, 0);
    this.settle(slot);
    this.addReport(slot, orders.gatewayId[slot], orders.requestId[slot]);
  }

  /** The slot of an open order named by an engine output; anything else is a broken journal. */
  private openOrderSlot(orderId: number): number {
    const slot = this.orders.find(orderId);
    assert(slot !== NOT_FOUND && this.orders.phase[slot] === OrderPhase.OPEN, 'an engine output names an open order the product manager knows');
    return slot;
  }

  /** One execution of an order: moves cash and units, then settles its reservation. */
  private execute(slot: number, price: number, quantity: number, leavesAfter: number, cumAfter: number, execId: number): void {
    const orders = this.orders;
    assert(orders.leaves[slot] - quantity === leavesAfter && orders.cum[slot] + quantity === cumAfter, 'a fill agrees with the order it fills');
    const account = orders.accountRow[slot];
    const position = this.positions.rowOf(account, orders.productRow[slot]);
    const value = price * quantity;
    if (orders.side[slot] === INFLOW) {
      assert(price <= orders.price[slot], 'an inflow never pays above its limit');
      this.accounts.cashBalance[account] -= value;
      this.positions.balance[position] += quantity;
    } else {
      assert(price >= orders.price[slot], 'an outflow never receives below its limit');
      this.positions.balance[position] -= quantity;
      this.accounts.cashBalance[account] += value;
      assert(this.accounts.cashBalance[account] <= Number.MAX_SAFE_INTEGER, 'cash balances stay safe integers');
    }
    orders.cum[slot] = cumAfter;
    orders.leaves[slot] = leavesAfter;
    orders.lastPrice[slot] = price;
    orders.lastQuantity[slot] = quantity;
    orders.lastExecId[slot] = execId;
    orders.status[slot] = OrderStatus.PARTIALLY_FILLED;
    if (leavesAfter === 0) this.finish(slot, OrderStatus.FILLED);
    this.touch(slot, 0);
    this.settle(slot);
  }

  /** Stamps an order with the current entry's seq and time (the fields, not arguments: no boxing of big doubles). */
  private touch(slot: number, reason: number): void {
    this.orders.lastEventSeq[slot] = this.lastSeq;
    this.orders.lastEventTimeUs[slot] = this.lastTimestampUs;
    this.orders.lastReason[slot] = reason;
  }

  /** An order leaves the book: remembered as finished, the oldest finished orders forgotten past the bounds. */
  private finish(slot: number, status: number): void {
    const orders = this.orders;
    assert(orders.phase[slot] === OrderPhase.OPEN, 'only an open order finishes');
    const account = orders.accountRow[slot];
    orders.status[slot] = status;
    orders.phase[slot] = OrderPhase.FINISHED;
    this.accounts.openOrders[account]--;
    while (orders.acctFinCount[account] >= this.maxFinishedOrdersPerAccount) this.forget(orders.acctFinHead[account]);
    while (orders.finCount >= this.maxFinishedOrders) this.forget(orders.finHead);
    orders.pushFinished(slot);
  }

  /** Drops a finished order from memory (its client order id with it). */
  private forget(slot: number): void {
    const orders = this.orders;
    assert(orders.phase[slot] === OrderPhase.FINISHED && orders.reserved[slot] === 0 && orders.held[slot] === 0, 'only a settled finished order is forgotten');
    if (orders.hasCoid[slot] === 1) this.coids.remove(slot);
    orders.unlinkFinished(slot);
    orders.free(slot);
  }

  // --- administration --------------------------------------------------------------------------

  private onListProduct(view: DataView, b: number): void {
    const productId = readU32(view, b + ListProduct.o.productId);
    const tickSize = readI64(view, b + ListProduct.o.tickSize);
    const lotSize = readI64(view, b + ListProduct.o.lotSize);
    const referencePrice = readI64(view, b + ListProduct.o.referencePrice);
    if (productId === 0 || !isPositiveSafeInteger(tickSize) || !isPositiveSafeInteger(lotSize) || referencePrice < 0) {
      return this.ignore(RejectReason.INVALID_COMMAND);
    }
    const products = this.products;
    let row = products.find(productId);
    if (row !== NOT_FOUND && products.delisted[row] === 0) return this.ignore(RejectReason.PRODUCT_ALREADY_LISTED);
    const brandRow = products.brandRowOf(readU32(view, b + ListProduct.o.brandId));
    if (brandRow === NOT_FOUND) return this.ignore(RejectReason.INVALID_COMMAND);
    if (row === NOT_FOUND) {
      row = products.add(productId);
      if (row === NOT_FOUND) return this.ignore(RejectReason.INVALID_COMMAND);
    }
    products.brandRow[row] = brandRow;
    products.tickSize[row] = tickSize;
    products.lotSize[row] = lotSize;
    products.referencePrice[row] = referencePrice;
    products.lastTradePrice[row] = 0;
    products.halted[row] = 0;
    products.delisted[row] = 0;
  }

  private onProductState(view: DataView, b: number, typeId: number): void {
    const row = this.products.find(readU32(view, b + HaltProduct.o.productId));
    if (row === NOT_FOUND || this.products.delisted[row] === 1) return this.ignore(RejectReason.UNKNOWN_PRODUCT);
    if (typeId === TypeId.HaltProduct) this.products.halted[row] = 1;
    else if (typeId === TypeId.ResumeProduct) this.products.halted[row] = 0;
    else this.products.delisted[row] = 1;
  }

  private onTradingDayOpen(tradingDay: number): void {
    this.tradingDay = tradingDay;
    this.sessionOpen = true;
    this.accounts.notionalDay.fill(0, 0, this.accounts.rows);
    this.brandCounters.resetDay();
    // The idempotency window is the trading day: finished orders of earlier days are forgotten.
    const orders = this.orders;
    while (orders.finHead !== NO_SLOT) this.forget(orders.finHead);
  }

  private onAccountOpened(view: DataView, b: number): void {
    const accountId = readU32(view, b + AccountOpened.o.accountId);
    if (accountId === 0) return this.ignore(RejectReason.INVALID_COMMAND);
    let row = this.accounts.find(accountId);
    if (row === NOT_FOUND) {
      row = this.accounts.add(accountId);
      if (row === NOT_FOUND) return this.ignore(RejectReason.INVALID_COMMAND);
    }
    this.accounts.outletId[row] = readU32(view, b + AccountOpened.o.outletId);
    this.accounts.role[row] = readU8(view, b + AccountOpened.o.role);
    this.accounts.status[row] = AccountStatus.ACTIVE;
  }

  /**
   * A new role (and the outlet that goes with it) for a known account; active or suspended stays as
   * it was. Only colleagues trade (checkNewOrder and friends test the role), so a colleague made
   * staff can no longer place, amend or cancel; its resting orders stay in the book until filled or
   * expired, exactly as for a suspension, and keep settling into the same cash and positions.
   */
  private onAccountRoleChanged(view: DataView, b: number): void {
    const row = this.accounts.find(readU32(view, b + AccountRoleChanged.o.accountId));
    if (row === NOT_FOUND) return this.ignore(RejectReason.ACCOUNT_NOT_ACTIVE);
    this.accounts.outletId[row] = readU32(view, b + AccountRoleChanged.o.outletId);
    this.accounts.role[row] = readU8(view, b + AccountRoleChanged.o.role);
  }

  private onAccountSuspended(view: DataView, b: number): void {
    const row = this.accounts.find(readU32(view, b + AccountSuspended.o.accountId));
    if (row === NOT_FOUND) return this.ignore(RejectReason.ACCOUNT_NOT_ACTIVE);
    this.accounts.status[row] = AccountStatus.SUSPENDED;
  }

  private onDeposit(view: DataView, b: number): void {
    const row = this.accounts.find(readU32(view, b + Deposit.o.accountId));
    const amount = readI64(view, b + Deposit.o.amount);
    if (row === NOT_FOUND) return this.ignore(RejectReason.ACCOUNT_NOT_ACTIVE);
    if (!isPositiveSafeInteger(amount) || this.accounts.cashBalance[row] + amount > Number.MAX_SAFE_INTEGER) {
      return this.ignore(RejectReason.INVALID_COMMAND);
    }
    this.accounts.cashBalance[row] += amount;
  }

  private onWithdraw(view: DataView, b: number, sourceId: number, epoch: number): void {
    const row = this.accounts.find(readU32(view, b + Withdraw.o.accountId));
    const amount = readI64(view, b + Withdraw.o.amount);
    if (row === NOT_FOUND) return this.ignore(RejectReason.ACCOUNT_NOT_ACTIVE);
    this.takeOwnInFlight(TypeId.Withdraw, readI64(view, b + Withdraw.o.reference), row, sourceId, epoch);
    if (!isPositiveSafeInteger(amount)) return this.ignore(RejectReason.INVALID_COMMAND);
    const accounts = this.accounts;
    if (accounts.cashBalance[row] - accounts.cashReserved[row] < amount) return this.ignore(RejectReason.INSUFFICIENT_FUNDS);
    accounts.cashBalance[row] -= amount;
    assert(accounts.hasAvailableCash(row, 0), 'a withdrawal checked here leaves available cash non-negative');
  }

  private onReceipt(view: DataView, b: number): void {
    const row = this.accounts.find(readU32(view, b + InventoryReceipt.o.accountId));
    const product = this.products.find(readU32(view, b + InventoryReceipt.o.productId));
    const quantity = readI64(view, b + InventoryReceipt.o.quantity);
    if (row === NOT_FOUND) return this.ignore(RejectReason.ACCOUNT_NOT_ACTIVE);
    if (product === NOT_FOUND) return this.ignore(RejectReason.UNKNOWN_PRODUCT);
    const position = this.positions.rowOf(row, product);
    if (!isPositiveSafeInteger(quantity) || this.positions.balance[position] + quantity > Number.MAX_SAFE_INTEGER) {
      return this.ignore(RejectReason.INVALID_COMMAND);
    }
    this.positions.balance[position] += quantity;
  }

  private onDispatch(view: DataView, b: number, sourceId: number, epoch: number): void {
    const row = this.accounts.find(readU32(view, b + InventoryDispatch.o.accountId));
    const product = this.products.find(readU32(view, b + InventoryDispatch.o.productId));
    const quantity = readI64(view, b + InventoryDispatch.o.quantity);
    if (row === NOT_FOUND) return this.ignore(RejectReason.ACCOUNT_NOT_ACTIVE);
    this.takeOwnInFlight(TypeId.InventoryDispatch, readI64(view, b + InventoryDispatch.o.reference), row, sourceId, epoch);
    if (product === NOT_FOUND) return this.ignore(RejectReason.UNKNOWN_PRODUCT);
    if (!isPositiveSafeInteger(quantity)) return this.ignore(RejectReason.INVALID_COMMAND);
    const position = this.positions.find(row, product);
    const positions = this.positions;
    if (position === NOT_FOUND || positions.balance[position] - positions.reserved[position] < quantity) {
      return this.ignore(RejectReason.INSUFFICIENT_INVENTORY);
    }
    positions.balance[position] -= quantity;
    assert(positions.hasAvailable(position, 0), 'a dispatch checked here leaves available units non-negative');
  }

  private onSetRiskRule(view: DataView, b: number): void {
    const kind = readU8(view, b + SetRiskRule.o.ruleKind);
    const limit = readI64(view, b + SetRiskRule.o.limit);
    const accountId = readU32(view, b + SetRiskRule.o.accountId);
    const brandId = readU32(view, b + SetRiskRule.o.brandId);
    if (!isRiskRuleKind(kind) || !Number.isSafeInteger(limit)) return this.ignore(RejectReason.INVALID_COMMAND);
    if (brandId !== 0 && isAccountWideKind(kind)) return this.ignore(RejectReason.INVALID_COMMAND);
    let brandRow = NO_ROW;
    if (brandId !== 0) {
      brandRow = this.products.brandRowOf(brandId);
      if (brandRow === NOT_FOUND) return this.ignore(RejectReason.INVALID_COMMAND);
    }
    this.rules.set(kind, accountId, brandRow, limit);
  }

  private ignore(reason: number): void {
    this.lastApplyResult = reason;
  }

  /** Adds a journaled update to the account's day counters (brand units, notional). */
  private countUpdate(account: number, product: number, units: number, notional: number): void {
    if (units > 0) {
      const counter = this.brandCounters.rowOf(account, this.products.brandRow[product]);
      this.brandCounters.unitsDay[counter] += units;
    }
    this.accounts.notionalDay[account] += notional;
  }

  // =============================================================================================
  // Reservations

  /**
   * The worst-case open commitment of an order as (price, units) in needPrice / needUnits.
   * Journal view: what the journal says the order may still fill. Live view: the same including
   * this product manager's commands for it that are still in flight.
   */
  private needOf(slot: number, live: boolean): void {
    const orders = this.orders;
    const phase = orders.phase[slot];
    let price = 0;
    let units = 0;
    if (phase === OrderPhase.OPEN) {
      if (orders.pendingAmends[slot] > 0) {
        price = orders.priceMax[slot];
        units = orders.quantityMax[slot] - orders.cum[slot];
      } else {
        price = orders.price[slot];
        units = orders.leaves[slot];
      }
    } else if (phase === OrderPhase.IN_FLIGHT && live) {
      price = orders.price[slot];
      units = orders.leaves[slot];
    }
    if (live && phase !== OrderPhase.FINISHED && orders.inFlight[slot] > 0) {
      if (orders.inFlightPriceMax[slot] > price) price = orders.inFlightPriceMax[slot];
      const inFlightUnits = orders.inFlightQuantityMax[slot] - orders.cum[slot];
      if (inFlightUnits > units) units = inFlightUnits;
    }
    this.needPrice = price;
    this.needUnits = units;
  }

  private needAmount(slot: number, live: boolean): number {
    this.needOf(slot, live);
    return this.orders.side[slot] === INFLOW ? this.needPrice * this.needUnits : this.needUnits;
  }

  /**
   * Brings an order's reservation (journal view) and hold (live view minus reservation) to what
   * they must be now, moving the difference in and out of the wallet, and asserts that the
   * wallet's available amount stayed non-negative.
   */
  private settle(slot: number): void {
    const orders = this.orders;
    const reserved = this.needAmount(slot, false);
    let held = 0;
    if (orders.inFlight[slot] > 0) {
      const live = this.needAmount(slot, true);
      if (live > reserved) held = live - reserved;
    }
    const dReserved = reserved - orders.reserved[slot];
    const dHeld = held - orders.held[slot];
    if (dReserved === 0 && dHeld === 0) return;
    orders.reserved[slot] = reserved;
    orders.held[slot] = held;
    const account = orders.accountRow[slot];
    if (orders.side[slot] === INFLOW) {
      this.accounts.cashReserved[account] += dReserved;
      this.accounts.cashHeld[account] += dHeld;
      assert(this.accounts.hasAvailableCash(account, 0), 'available cash must never be negative');
    } else {
      const position = this.positions.rowOf(account, orders.productRow[slot]);
      this.positions.reserved[position] += dReserved;
      this.positions.held[position] += dHeld;
      assert(this.positions.hasAvailable(position, 0), 'available units must never be negative');
    }
  }

  /** The order has no command in flight any more: the live view collapses onto the journal view. */
  private endInFlight(slot: number): void {
    const orders = this.orders;
    orders.inFlightPriceMax[slot] = 0;
    orders.inFlightQuantityMax[slot] = 0;
    orders.liveCmdPrice[slot] = orders.cmdPrice[slot];
    orders.liveCmdQuantity[slot] = orders.cmdQuantity[slot];
  }

  // =============================================================================================
  // In flight

  /**
   * When a journaled command is one this product manager checked (same source and epoch, and an
   * in-flight entry of the same type, key and account), releases what the check held for it and
   * returns true. Entries older than the match were dropped by the sequencer (never journaled):
   * they are abandoned. The caller then applies the command as a replay would.
   */
  private takeOwnInFlight(typeId: number, key: number, accountRow: number, sourceId: number, epoch: number): boolean {
    const queue = this.inFlight;
    if (sourceId !== this.sourceId || queue.size === 0) return false;
    const i = queue.indexOf(typeId, key, accountRow, epoch);
    if (i < 0) return false;
    for (let k = 0; k < i; k++) {
      this.releaseInFlight(queue.at(0), true);
      queue.shift();
    }
    this.releaseInFlight(queue.at(0), false);
    queue.shift();
    return true;
  }

  /** Releases an in-flight entry's counters and holds; for an abandoned command also its order-level holds. */
  private releaseInFlight(p: number, abandoned: boolean): void {
    const queue = this.inFlight;
    const account = queue.accountRow[p];
    const counter = queue.brandCounterRow[p];
    if (counter !== NO_ROW) this.brandCounters.unitsHeld[counter] -= queue.units[p];
    this.accounts.notionalHeld[account] -= queue.notional[p];
    this.accounts.openOrdersHeld[account] -= queue.openOrders[p];
    const typeId = queue.typeId[p];
    if (typeId === TypeId.Withdraw) {
      this.accounts.cashHeld[account] -= queue.amount[p];
      return;
    }
    if (typeId === TypeId.InventoryDispatch) {
      this.positions.held[queue.positionRow[p]] -= queue.amount[p];
      return;
    }
    if (!abandoned) return;
    const orders = this.orders;
    const slot = orders.find(queue.key[p]);
    if (slot === NOT_FOUND) return;
    orders.inFlight[slot]--;
    if (typeId === TypeId.NewOrder && orders.phase[slot] === OrderPhase.IN_FLIGHT) {
      // Never journaled: the order never existed.
      assert(orders.inFlight[slot] === 0, 'commands for an order are sent after the order');
      this.settle(slot);
      if (orders.hasCoid[slot] === 1) this.coids.remove(slot);
      orders.free(slot);
      return;
    }
    if (orders.inFlight[slot] === 0) this.endInFlight(slot);
    this.settle(slot);
  }

  /**
   * The newest checked command could not be sent (its ring stayed back-pressured, the process is
   * stopping): releases everything its check held, as if it had never been checked.
   */
  abandonNewestInFlight(): boolean {
    const queue = this.inFlight;
    if (queue.size === 0) return false;
    this.releaseInFlight(queue.at(queue.size - 1), true);
    queue.pop();
    return true;
  }

  // =============================================================================================
  // Pre-sequencing checks

  /**
   * Checks a colleague's new order. 0: accepted — an order id is assigned (lastOrderId), cash or
   * units and the risk counters are held, and the caller forwards the NewOrder with that id.
   * CHECK_DUPLICATE: the account already used this client order id in the window — nothing was
   * created, reply with the original order's report (lastOrderId). CHECK_BACK_PRESSURED: too many
   * commands in flight, try again. Otherwise the RejectReason. The client order id is the 24-byte
   * char field at coidView/coidOffset (all zero = none).
   */
  checkNewOrder(
    accountId: number,
    productId: number,
    side: number,
    price: number,
    quantity: number,
    timeInForce: number,
    flags: number,
    gatewayId: number,
    requestId: number,
    coidView: DataView,
    coidOffset: number,
  ): number {
    this.lastOrderId = 0;
    const accounts = this.accounts;
    const account = accounts.find(accountId);
    if (account === NOT_FOUND || accounts.status[account] !== AccountStatus.ACTIVE || accounts.role[account] !== AccountRole.COLLEAGUE) {
      return RejectReason.ACCOUNT_NOT_ACTIVE;
    }
    const hasCoid = !isEmptyClientOrderId(coidView, coidOffset);
    const coidHash = hasCoid ? hashClientOrderId(coidView, coidOffset) : 0;
    if (hasCoid) {
      const original = this.coids.find(account, coidHash, coidView, coidOffset);
      if (original !== NO_SLOT) {
        this.lastOrderId = this.orders.orderId[original];
        return CHECK_DUPLICATE;
      }
    }
    if (!this.sessionOpen) return RejectReason.MARKET_CLOSED;
    const products = this.products;
    const product = products.find(productId);
    if (product === NOT_FOUND || products.delisted[product] === 1) return RejectReason.UNKNOWN_PRODUCT;
    if (products.halted[product] === 1) return RejectReason.PRODUCT_HALTED;
    if (
      (side !== INFLOW && side !== OUTFLOW) ||
      !(timeInForce >= TimeInForce.GTC && timeInForce <= TimeInForce.FOK) ||
      (flags !== 0 && flags !== OrderFlags.POST_ONLY) ||
      (flags !== 0 && (timeInForce === TimeInForce.IOC || timeInForce === TimeInForce.FOK)) ||
      !Number.isInteger(gatewayId) ||
      gatewayId < 0 ||
      gatewayId > 0xffff ||
      requestId >>> 0 !== requestId
    ) {
      return RejectReason.INVALID_COMMAND;
    }
    if (!isPositiveSafeInteger(price) || price % products.tickSize[product] !== 0) return RejectReason.INVALID_PRICE;
    if (!isPositiveSafeInteger(quantity) || quantity > ENGINE_MAX_ORDER_QUANTITY || quantity % products.lotSize[product] !== 0) {
      return RejectReason.INVALID_QUANTITY;
    }
    const notional = price * quantity;
    if (notional > Number.MAX_SAFE_INTEGER) return RejectReason.INVALID_QUANTITY;
    const brandRow = products.brandRow[product];
    const reason = this.checkOrderRisk(account, accountId, product, brandRow, price, quantity, quantity, notional);
    if (reason !== 0) return reason;
    if (this.rules.exceeds(RiskRuleKind.MAX_OPEN_ORDERS, accountId, NO_ROW, accounts.openOrders[account] + accounts.openOrdersHeld[account] + 1)) {
      return RejectReason.RISK_MAX_OPEN_ORDERS;
    }
    let position = NO_ROW;
    if (side === INFLOW) {
      if (!accounts.hasAvailableCash(account, notional)) return RejectReason.INSUFFICIENT_FUNDS;
    } else {
      position = this.positions.find(account, product);
      if (position === NOT_FOUND || !this.positions.hasAvailable(position, quantity)) return RejectReason.INSUFFICIENT_INVENTORY;
    }
    if (this.inFlight.isFull) return CHECK_BACK_PRESSURED;
    if (!this.orders.hasRoom) return RejectReason.RISK_MAX_OPEN_ORDERS;

    // Accepted: create the in-flight order and hold what it may spend.
    const orderId = this.nextOrderId++;
    assert(Number.isSafeInteger(orderId), 'order ids stay safe integers');
    const orders = this.orders;
    const slot = orders.alloc(orderId);
    orders.accountRow[slot] = account;
    orders.productRow[slot] = product;
    orders.side[slot] = side;
    orders.timeInForce[slot] = timeInForce;
    orders.flags[slot] = flags;
    orders.status[slot] = OrderStatus.NEW;
    orders.phase[slot] = OrderPhase.IN_FLIGHT;
    orders.price[slot] = price;
    orders.quantity[slot] = quantity;
    orders.leaves[slot] = quantity;
    orders.liveCmdPrice[slot] = price;
    orders.liveCmdQuantity[slot] = quantity;
    orders.inFlight[slot] = 1;
    orders.inFlightPriceMax[slot] = price;
    orders.inFlightQuantityMax[slot] = quantity;
    orders.gatewayId[slot] = gatewayId;
    orders.requestId[slot] = requestId;
    const coidBase = slot * CLIENT_ORDER_ID_BYTES;
    for (let i = 0; i < CLIENT_ORDER_ID_BYTES; i++) orders.coid[coidBase + i] = coidView.getUint8(coidOffset + i);
    if (hasCoid) {
      orders.coidHash[slot] = coidHash;
      orders.hasCoid[slot] = 1;
      this.coids.insert(slot);
    }
    const p = this.inFlight.push(TypeId.NewOrder, orderId, account, this.epoch);
    this.holdUpdate(p, account, brandRow, quantity, notional);
    this.inFlight.openOrders[p] = 1;
    accounts.openOrdersHeld[account]++;
    this.settle(slot);
    this.lastOrderId = orderId;
    return 0;
  }

  /**
   * Checks a cancel. Cancels are allowed while the market is closed, the product halted or the
   * account suspended (they only reduce risk). 0: accepted (lastProductId set for the command).
   */
  checkCancel(accountId: number, orderId: number, gatewayId: number, requestId: number): number {
    this.lastProductId = 0;
    const account = this.accounts.find(accountId);
    if (account === NOT_FOUND || this.accounts.role[account] !== AccountRole.COLLEAGUE) return RejectReason.ACCOUNT_NOT_ACTIVE;
    const owner = this.checkOwnership(accountId, orderId);
    if (owner !== 0) return owner;
    const slot = this.orders.find(orderId);
    if (this.orders.phase[slot] === OrderPhase.FINISHED) return this.finishedReason(slot);
    if (gatewayId >>> 0 !== gatewayId || gatewayId > 0xffff || requestId >>> 0 !== requestId) return RejectReason.INVALID_COMMAND;
    if (this.inFlight.isFull) return CHECK_BACK_PRESSURED;
    this.inFlight.push(TypeId.CancelOrder, orderId, account, this.epoch);
    this.orders.inFlight[slot]++;
    this.lastProductId = this.products.productId[this.orders.productRow[slot]];
    return 0;
  }

  /**
   * Checks an amend to a new price and total quantity (filled included, as the engine counts it);
   * 0 for either means "unchanged" (a gateway that has not seen the order sends 0) and is replaced
   * by the order's current value. 0: accepted — lastAmendPrice / lastAmendQuantity hold the values
   * to forward, any extra reservation (a higher price or quantity) is held, and the increase over
   * the order's previous command is counted against the day limits.
   */
  checkAmend(accountId: number, orderId: number, newPrice: number, newQuantity: number, gatewayId: number, requestId: number): number {
    this.lastProductId = 0;
    const accounts = this.accounts;
    const account = accounts.find(accountId);
    if (account === NOT_FOUND || accounts.status[account] !== AccountStatus.ACTIVE || accounts.role[account] !== AccountRole.COLLEAGUE) {
      return RejectReason.ACCOUNT_NOT_ACTIVE;
    }
    const owner = this.checkOwnership(accountId, orderId);
    if (owner !== 0) return owner;
    const orders = this.orders;
    const slot = orders.find(orderId);
    if (orders.phase[slot] === OrderPhase.FINISHED) return this.finishedReason(slot);
    if (!this.sessionOpen) return RejectReason.MARKET_CLOSED;
    const products = this.products;
    const product = orders.productRow[slot];
    if (products.delisted[product] === 1) return RejectReason.UNKNOWN_PRODUCT;
    if (products.halted[product] === 1) return RejectReason.PRODUCT_HALTED;
    if (gatewayId >>> 0 !== gatewayId || gatewayId > 0xffff || requestId >>> 0 !== requestId) return RejectReason.INVALID_COMMAND;
    if (newPrice === 0) newPrice = orders.liveCmdPrice[slot];
    if (newQuantity === 0) newQuantity = orders.liveCmdQuantity[slot];
    if (!isPositiveSafeInteger(newPrice) || newPrice % products.tickSize[product] !== 0) return RejectReason.INVALID_PRICE;
    if (
      !isPositiveSafeInteger(newQuantity) ||
      newQuantity > ENGINE_MAX_ORDER_QUANTITY ||
      newQuantity % products.lotSize[product] !== 0 ||
      newQuantity <= orders.cum[slot]
    ) {
      return RejectReason.INVALID_QUANTITY;
    }
    const oldPrice = orders.liveCmdPrice[slot];
    const oldQuantity = orders.liveCmdQuantity[slot];
    if (newPrice === oldPrice && newQuantity === oldQuantity) return RejectReason.AMEND_NO_CHANGE;
    const notional = newPrice * newQuantity;
    if (notional > Number.MAX_SAFE_INTEGER) return RejectReason.INVALID_QUANTITY;
    const units = newQuantity > oldQuantity ? newQuantity - oldQuantity : 0;
    const oldNotional = oldPrice * oldQuantity;
    const addedNotional = notional > oldNotional ? notional - oldNotional : 0;
    const brandRow = products.brandRow[product];
    const reason = this.checkOrderRisk(account, accountId, product, brandRow, newPrice, newQuantity, units, addedNotional);
    if (reason !== 0) return reason;
    // What the order may spend once this amend is in flight too.
    this.needOf(slot, true);
    const price = newPrice > this.needPrice ? newPrice : this.needPrice;
    const amendUnits = newQuantity - orders.cum[slot];
    const needUnits = amendUnits > this.needUnits ? amendUnits : this.needUnits;
    const side = orders.side[slot];
    const need = side === INFLOW ? price * needUnits : needUnits;
    if (need > Number.MAX_SAFE_INTEGER) return RejectReason.INVALID_QUANTITY;
    const extra = (need > orders.reserved[slot] ? need - orders.reserved[slot] : 0) - orders.held[slot];
    if (extra > 0) {
      if (side === INFLOW) {
        if (!accounts.hasAvailableCash(account, extra)) return RejectReason.INSUFFICIENT_FUNDS;
      } else {
        const position = this.positions.find(account, product);
        if (position === NOT_FOUND || !this.positions.hasAvailable(position, extra)) return RejectReason.INSUFFICIENT_INVENTORY;
      }
    }
    if (this.inFlight.isFull) return CHECK_BACK_PRESSURED;

    const p = this.inFlight.push(TypeId.AmendOrder, orderId, account, this.epoch);
    this.holdUpdate(p, account, brandRow, units, addedNotional);
    orders.inFlight[slot]++;
    if (newPrice > orders.inFlightPriceMax[slot]) orders.inFlightPriceMax[slot] = newPrice;
    if (newQuantity > orders.inFlightQuantityMax[slot]) orders.inFlightQuantityMax[slot] = newQuantity;
    orders.liveCmdPrice[slot] = newPrice;
    orders.liveCmdQuantity[slot] = newQuantity;
    this.settle(slot);
    this.lastProductId = products.productId[product];
    this.lastAmendPrice = newPrice;
    this.lastAmendQuantity = newQuantity;
    return 0;
  }

  /** Checks a cash withdrawal (admin path); 0: accepted and the amount held until journaled. */
  checkWithdraw(accountId: number, amount: number, reference: number): number {
    const account = this.accounts.find(accountId);
    if (account === NOT_FOUND) return RejectReason.ACCOUNT_NOT_ACTIVE;
    if (!isPositiveSafeInteger(amount) || !Number.isSafeInteger(reference)) return RejectReason.INVALID_COMMAND;
    if (!this.accounts.hasAvailableCash(account, amount)) return RejectReason.INSUFFICIENT_FUNDS;
    if (this.inFlight.isFull) return CHECK_BACK_PRESSURED;
    const p = this.inFlight.push(TypeId.Withdraw, reference, account, this.epoch);
    this.inFlight.amount[p] = amount;
    this.accounts.cashHeld[account] += amount;
    return 0;
  }

  /** Checks an inventory dispatch (admin path); 0: accepted and the units held until journaled. */
  checkDispatch(accountId: number, productId: number, quantity: number, reference: number): number {
    const account = this.accounts.find(accountId);
    if (account === NOT_FOUND) return RejectReason.ACCOUNT_NOT_ACTIVE;
    const product = this.products.find(productId);
    if (product === NOT_FOUND) return RejectReason.UNKNOWN_PRODUCT;
    if (!isPositiveSafeInteger(quantity) || !Number.isSafeInteger(reference)) return RejectReason.INVALID_COMMAND;
    const position = this.positions.find(account, product);
    if (position === NOT_FOUND || !this.positions.hasAvailable(position, quantity)) return RejectReason.INSUFFICIENT_INVENTORY;
    if (this.inFlight.isFull) return CHECK_BACK_PRESSURED;
    const p = this.inFlight.push(TypeId.InventoryDispatch, reference, account, this.epoch);
    this.inFlight.amount[p] = quantity;
    this.inFlight.positionRow[p] = position;
    this.positions.held[position] += quantity;
    return 0;
  }

  /**
   * Checks an administrative command before it is forwarded (bad input never reaches the
   * sequencer): the same conditions under which the journaled command would change nothing.
   * Withdraw and InventoryDispatch are checkWithdraw / checkDispatch (they hold what they take out).
   * 0: forward it. Account opening and suspension come from the accounts service and are not
   * checked here; other message types are INVALID_COMMAND.
   */
  checkAdminCommand(typeId: number, view: DataView, body: number): number {
    const accounts = this.accounts;
    const products = this.products;
    switch (typeId) {
      case TypeId.Deposit: {
        const account = accounts.find(readU32(view, body + Deposit.o.accountId));
        const amount = readI64(view, body + Deposit.o.amount);
        if (account === NOT_FOUND) return RejectReason.ACCOUNT_NOT_ACTIVE;
        if (!isPositiveSafeInteger(amount) || accounts.cashBalance[account] + amount > Number.MAX_SAFE_INTEGER) return RejectReason.INVALID_COMMAND;
        return 0;
      }
      case TypeId.Withdraw:
        return this.checkWithdraw(readU32(view, body + Withdraw.o.accountId), readI64(view, body + Withdraw.o.amount), readI64(view, body + Withdraw.o.reference));
      case TypeId.InventoryReceipt: {
        const account = accounts.find(readU32(view, body + InventoryReceipt.o.accountId));
        const product = products.find(readU32(view, body + InventoryReceipt.o.productId));
        const quantity = readI64(view, body + InventoryReceipt.o.quantity);
        if (account === NOT_FOUND) return RejectReason.ACCOUNT_NOT_ACTIVE;
        if (product === NOT_FOUND) return RejectReason.UNKNOWN_PRODUCT;
        const position = this.positions.find(account, product);
        const units = position === NOT_FOUND ? 0 : this.positions.balance[position];
        if (!isPositiveSafeInteger(quantity) || units + quantity > Number.MAX_SAFE_INTEGER) return RejectReason.INVALID_COMMAND;
        return 0;
      }
      case TypeId.InventoryDispatch:
        return this.checkDispatch(
          readU32(view, body + InventoryDispatch.o.accountId),
          readU32(view, body + InventoryDispatch.o.productId),
          readI64(view, body + InventoryDispatch.o.quantity),
          readI64(view, body + InventoryDispatch.o.reference),
        );
      case TypeId.SetRiskRule: {
        const kind = readU8(view, body + SetRiskRule.o.ruleKind);
        const brandId = readU32(view, body + SetRiskRule.o.brandId);
        if (!isRiskRuleKind(kind) || !Number.isSafeInteger(readI64(view, body + SetRiskRule.o.limit))) return RejectReason.INVALID_COMMAND;
        if (brandId !== 0 && isAccountWideKind(kind)) return RejectReason.INVALID_COMMAND;
        if (brandId !== 0 && products.findBrand(brandId) === NOT_FOUND && products.brandRows === products.maxBrands) return RejectReason.INVALID_COMMAND;
        return 0;
      }
      case TypeId.ListProduct: {
        const productId = readU32(view, body + ListProduct.o.productId);
        const row = products.find(productId);
        if (row !== NOT_FOUND && products.delisted[row] === 0) return RejectReason.PRODUCT_ALREADY_LISTED;
        if (
          productId === 0 ||
          !isPositiveSafeInteger(readI64(view, body + ListProduct.o.tickSize)) ||
          !isPositiveSafeInteger(readI64(view, body + ListProduct.o.lotSize)) ||
          readI64(view, body + ListProduct.o.referencePrice) < 0 ||
          (row === NOT_FOUND && products.rows === products.maxRows)
        ) {
          return RejectReason.INVALID_COMMAND;
        }
        const brandId = readU32(view, body + ListProduct.o.brandId);
        if (products.findBrand(brandId) === NOT_FOUND && products.brandRows === products.maxBrands) return RejectReason.INVALID_COMMAND;
        return 0;
      }
      case TypeId.HaltProduct:
      case TypeId.ResumeProduct:
      case TypeId.DelistProduct: {
        const row = products.find(readU32(view, body + HaltProduct.o.productId));
        return row === NOT_FOUND || products.delisted[row] === 1 ? RejectReason.UNKNOWN_PRODUCT : 0;
      }
      default:
        return RejectReason.INVALID_COMMAND;
    }
  }

  /** checkNewOrder over a NewOrder body from the gateway; on 0 writes the assigned orderId into it. */
  checkNewOrderCommand(view: DataView, body: number): number {
    const result = this.checkNewOrder(
      readU32(view, body + NewOrder.o.accountId),
      readU32(view, body + NewOrder.o.productId),
      readU8(view, body + NewOrder.o.side),
      readI64(view, body + NewOrder.o.price),
      readI64(view, body + NewOrder.o.quantity),
      readU8(view, body + NewOrder.o.timeInForce),
      readU8(view, body + NewOrder.o.flags),
      readU16(view, body + NewOrder.o.gatewayId),
      readU32(view, body + NewOrder.o.requestId),
      view,
      body + NewOrder.o.clientOrderId,
    );
    if (result === 0) writeI64(view, body + NewOrder.o.orderId, this.lastOrderId);
    return result;
  }

  /** checkCancel over a CancelOrder body; on 0 writes the order's productId into it. */
  checkCancelCommand(view: DataView, body: number): number {
    const result = this.checkCancel(
      readU32(view, body + CancelOrder.o.accountId),
      readI64(view, body + CancelOrder.o.orderId),
      readU16(view, body + CancelOrder.o.gatewayId),
      readU32(view, body + CancelOrder.o.requestId),
    );
    if (result === 0) writeU32(view, body + CancelOrder.o.productId, this.lastProductId);
    return result;
  }

  /** checkAmend over an AmendOrder body; on 0 writes the order's productId and the resolved new price and quantity into it. */
  checkAmendCommand(view: DataView, body: number): number {
    const result = this.checkAmend(
      readU32(view, body + AmendOrder.o.accountId),
      readI64(view, body + AmendOrder.o.orderId),
      readI64(view, body + AmendOrder.o.newPrice),
      readI64(view, body + AmendOrder.o.newQuantity),
      readU16(view, body + AmendOrder.o.gatewayId),
      readU32(view, body + AmendOrder.o.requestId),
    );
    if (result === 0) {
      writeU32(view, body + AmendOrder.o.productId, this.lastProductId);
      writeI64(view, body + AmendOrder.o.newPrice, this.lastAmendPrice);
      writeI64(view, body + AmendOrder.o.newQuantity, this.lastAmendQuantity);
    }
    return result;
  }

  /**
   * Who may touch an order: only the account that placed it (the engine checks the same on cancel
   * and amend). 0, UNKNOWN_ORDER or NOT_OWNER. Used for cancel, amend and every read of an order.
   */
  checkOwnership(accountId: number, orderId: number): number {
    const slot = this.orders.find(orderId);
    if (slot === NOT_FOUND) return RejectReason.UNKNOWN_ORDER;
    if (this.accounts.accountId[this.orders.accountRow[slot]] !== accountId) return RejectReason.NOT_OWNER;
    return 0;
  }

  /** The risk rules common to new orders and amends (units and notional are the day-counter increments). */
  private checkOrderRisk(
    account: number,
    accountId: number,
    product: number,
    brandRow: number,
    price: number,
    quantity: number,
    units: number,
    notional: number,
  ): number {
    const rules = this.rules;
    if (rules.exceeds(RiskRuleKind.MAX_ORDER_QUANTITY, accountId, brandRow, quantity)) return RejectReason.RISK_MAX_ORDER_QUANTITY;
    if (!this.withinCollar(product, price, rules.find(RiskRuleKind.PRICE_COLLAR_BPS, accountId, brandRow))) return RejectReason.RISK_PRICE_COLLAR;
    if (units > 0) {
      const counter = this.brandCounters.find(account, brandRow);
      const used = counter === NOT_FOUND ? 0 : this.brandCounters.unitsDay[counter] + this.brandCounters.unitsHeld[counter];
      if (rules.exceeds(RiskRuleKind.BRAND_DAILY_UNITS, accountId, brandRow, used + units)) return RejectReason.RISK_BRAND_DAILY_LIMIT;
    }
    if (notional > 0) {
      const used = this.accounts.notionalDay[account] + this.accounts.notionalHeld[account];
      if (rules.exceeds(RiskRuleKind.NOTIONAL_DAILY, accountId, NO_ROW, used + notional)) return RejectReason.RISK_NOTIONAL_DAILY_LIMIT;
    }
    return 0;
  }

  /**
   * |price − reference| ≤ bps/10,000 × reference; the reference is the last trade, else the
   * listing's reference price. `ruleRow` is the collar rule that applies (RiskRules.find).
   */
  private withinCollar(product: number, price: number, ruleRow: number): boolean {
    const bps = ruleRow === NO_RULE ? DEFAULT_RISK_LIMITS[RiskRuleKind.PRICE_COLLAR_BPS] : this.rules.limitAt(ruleRow);
    const last = this.products.lastTradePrice[product];
    const reference = last > 0 ? last : this.products.referencePrice[product];
    if (reference <= 0) return true;
    const distance = price > reference ? price - reference : reference - price;
    const lhs = distance * BPS_PER_UNIT;
    const rhs = bps * reference;
    if (lhs <= Number.MAX_SAFE_INTEGER && rhs <= Number.MAX_SAFE_INTEGER) return lhs <= rhs;
    return (distance / reference) * BPS_PER_UNIT <= bps;
  }

  /** Holds an update's day-counter increments for an in-flight entry. */
  private holdUpdate(p: number, account: number, brandRow: number, units: number, notional: number): void {
    const queue = this.inFlight;
    if (units > 0) {
      const counter = this.brandCounters.rowOf(account, brandRow);
      this.brandCounters.unitsHeld[counter] += units;
      queue.brandCounterRow[p] = counter;
      queue.units[p] = units;
    }
    queue.notional[p] = notional;
    this.accounts.notionalHeld[account] += notional;
  }

  private finishedReason(slot: number): number {
    switch (this.orders.status[slot]) {
      case OrderStatus.FILLED:
        return RejectReason.ALREADY_FILLED;
      case OrderStatus.CANCELED:
        return RejectReason.ALREADY_CANCELED;
      case OrderStatus.EXPIRED:
        return RejectReason.ALREADY_EXPIRED;
      default:
        return RejectReason.UNKNOWN_ORDER; // rejected: it never was an order
    }
  }

  // =============================================================================================
  // Execution reports

  private addReport(slot: number, gatewayId: number, requestId: number): void {
    assert(this.reportCount < MAX_REPORTS_PER_ENTRY, 'a journal entry produces at most two reports');
    this.reports.fillFromOrder(this.reportCount++, this.orders, slot, this.accounts.accountId[this.orders.accountRow[slot]], this.products.productId[this.orders.productRow[slot]], gatewayId, requestId);
  }

  /** A report that tells the requester only what it sent and why it failed (no other account's data). */
  private addBareReport(orderId: number, accountId: number, productId: number, status: number, reason: number, gatewayId: number, requestId: number): void {
    assert(this.reportCount < MAX_REPORTS_PER_ENTRY, 'a journal entry produces at most two reports');
    this.reports.fillBare(this.reportCount++, orderId, accountId, productId, status, reason, gatewayId, requestId, this.lastSeq, this.lastTimestampUs);
  }

  /** Writes report `index` (< the count applyJournalEntry returned) as an ExecutionReport body at `offset`. */
  writeExecutionReport(index: number, view: DataView, offset: number): void {
    assert(index >= 0 && index < this.reportCount, 'report index within the last entry’s reports');
    this.reports.write(index, view, offset);
  }

  /** The gateway the report `index` of the last entry goes to (0: none — the engine acted on its own and the order has no session). */
  reportGatewayId(index: number): number {
    return this.reports.gatewayId[index];
  }

  /** The account report `index` of the last entry belongs to (the only account that may see it). */
  reportAccountId(index: number): number {
    return this.reports.accountId[index];
  }

  /**
   * The current report of an order for its owner (an order-status read, or the reply to a
   * resubmitted client order id): 0 and the report written at `offset`, or UNKNOWN_ORDER /
   * NOT_OWNER and nothing written. Same ownership check as cancel and amend.
   */
  executionReportFor(accountId: number, orderId: number, gatewayId: number, requestId: number, view: DataView, offset: number): number {
    const owner = this.checkOwnership(accountId, orderId);
    if (owner !== 0) return owner;
    const slot = this.orders.find(orderId);
    this.reports.fillFromOrder(READ_REPORT_ROW, this.orders, slot, accountId, this.products.productId[this.orders.productRow[slot]], gatewayId, requestId);
    this.reports.write(READ_REPORT_ROW, view, offset);
    return 0;
  }

  /**
   * The reply to a command refused before sequencing (a check's RejectReason): a REJECTED report
   * that carries only what the requester sent — orderId 0 for a new order, the order id it named
   * for a cancel or amend — and the reason. eventSeq 0: it describes no journal entry.
   */
  writeRejectionReport(accountId: number, orderId: number, productId: number, reason: number, gatewayId: number, requestId: number, view: DataView, offset: number): void {
    this.reports.fillBare(READ_REPORT_ROW, orderId, accountId, productId, OrderStatus.REJECTED, reason, gatewayId, requestId, 0, this.lastTimestampUs);
    this.reports.write(READ_REPORT_ROW, view, offset);
  }

  // =============================================================================================
  // State hash, invariants, inspection (allocating; not the hot path)

  /** Hash of the journal-derived state (holds of commands in flight are not part of it). */
  stateHash(): StateHash {
    const hasher = new StateHasher();
    this.writeState(hasher);
    return hasher.digest();
  }

  stateHashHex(): string {
    return stateHashHex(this.stateHash());
  }

  /**
   * The canonical encoding of the journal-derived state: everything in key order (accounts and
   * products by id, positions and counters by (account id, product or brand id), rules by scope,
   * open orders by id, finished orders in the order they finished), zero rows skipped, so it does
   * not depend on row or slot numbering.
   */
  writeState(w: StateWriter): void {
    const accounts = this.accounts;
    const products = this.products;
    const orders = this.orders;
    w.f64(this.lastSeq);
    w.f64(this.lastTimestampUs);
    w.u32(this.tradingDay);
    w.u8(this.sessionOpen ? 1 : 0);
    w.f64(this.maxOrderIdSeen);
    const accountRows = sortedRows(accounts.rows, (r) => accounts.accountId[r]);
    w.u32(accountRows.length);
    for (const r of accountRows) {
      w.u32(accounts.accountId[r]);
      w.u32(accounts.outletId[r]);
      w.u8(accounts.role[r]);
      w.u8(accounts.status[r]);
      w.f64(accounts.cashBalance[r]);
      w.f64(accounts.cashReserved[r]);
      w.f64(accounts.notionalDay[r]);
      w.u32(accounts.openOrders[r]);
    }
    const productRows = sortedRows(products.rows, (r) => products.productId[r]);
    w.u32(productRows.length);
    for (const r of productRows) {
      w.u32(products.productId[r]);
      w.u32(products.brandId[products.brandRow[r]]);
      w.f64(products.tickSize[r]);
      w.f64(products.lotSize[r]);
      w.f64(products.referencePrice[r]);
      w.f64(products.lastTradePrice[r]);
      w.u8(products.halted[r]);
      w.u8(products.delisted[r]);
    }
    const positions = this.positions;
    const positionRows = sortedPairRows(
      positions.rows,
      (r) => accounts.accountId[positions.accountRow[r]],
      (r) => products.productId[positions.productRow[r]],
      (r) => positions.balance[r] !== 0 || positions.reserved[r] !== 0,
    );
    w.u32(positionRows.length);
    for (const r of positionRows) {
      w.u32(accounts.accountId[positions.accountRow[r]]);
      w.u32(products.productId[positions.productRow[r]]);
      w.f64(positions.balance[r]);
      w.f64(positions.reserved[r]);
    }
    const counters = this.brandCounters;
    const counterRows = sortedPairRows(
      counters.rows,
      (r) => accounts.accountId[counters.accountRow[r]],
      (r) => products.brandId[counters.brandRow[r]],
      (r) => counters.unitsDay[r] !== 0,
    );
    w.u32(counterRows.length);
    for (const r of counterRows) {
      w.u32(accounts.accountId[counters.accountRow[r]]);
      w.u32(products.brandId[counters.brandRow[r]]);
      w.f64(counters.unitsDay[r]);
    }
    const rules = this.rules
      .list()
      .map((rule) => ({ ...rule, brandId: rule.brandRow < 0 ? 0 : products.brandId[rule.brandRow] }))
      .sort((a, b) => a.accountId - b.accountId || a.brandId - b.brandId || a.kind - b.kind);
    w.u32(rules.length);
    for (const rule of rules) {
      w.u32(rule.accountId);
      w.u32(rule.brandId);
      w.u8(rule.kind);
      w.f64(rule.limit);
    }
    const open: number[] = [];
    for (let slot = 0; slot < orders.capacity; slot++) if (orders.phase[slot] === OrderPhase.OPEN) open.push(slot);
    open.sort((a, b) => orders.orderId[a] - orders.orderId[b]);
    w.u32(open.length);
    for (const slot of open) this.writeOrder(w, slot);
    w.u32(orders.finCount);
    for (let slot = orders.finHead; slot !== NO_SLOT; slot = orders.finNext[slot]) this.writeOrder(w, slot);
  }

  /**
   * The journal-derived state as snapshot bytes (header + the canonical encoding the hash reads).
   * Commands in flight are not in it: a restored product manager has none, like a replay.
   */
  snapshot(): Uint8Array {
    const counter = new ByteCounter();
    this.writeState(counter);
    const bytes = new Uint8Array(SNAPSHOT_HEADER_BYTES + counter.bytes);
    const writer = new ByteWriter(bytes, SNAPSHOT_HEADER_BYTES);
    this.writeState(writer);
    assert(writer.offset === bytes.length, 'the snapshot body fills exactly the bytes counted');
    sealSnapshot(bytes, counter.bytes);
    return bytes;
  }

  /**
   * Rebuilds a product manager from snapshot() bytes; replay the journal after snapshot.lastSeq
   * to catch up. Throws (saying what is wrong) on a bad header, checksum or body, so the caller can
   * fall back to an older snapshot or a full replay. The options must give room for the state.
   */
  static restore(bytes: Uint8Array, options: ProductManagerOptions = {}): ProductManagerState {
    const r = openSnapshot(bytes);
    const s = new ProductManagerState(options);
    s.lastSeq = r.f64();
    s.lastTimestampUs = r.f64();
    s.tradingDay = r.u32();
    s.sessionOpen = r.u8() === 1;
    s.maxOrderIdSeen = r.f64();
    s.nextOrderId = s.maxOrderIdSeen + 1;
    const accounts = s.accounts;
    for (let n = r.u32(); n > 0; n--) {
      const row = accounts.add(r.u32());
      if (row === NOT_FOUND) throw new Error(`product-manager snapshot: more accounts than maxAccounts ${accounts.maxRows}`);
      accounts.outletId[row] = r.u32();
      accounts.role[row] = r.u8();
      accounts.status[row] = r.u8();
      accounts.cashBalance[row] = r.f64();
      accounts.cashReserved[row] = r.f64();
      accounts.notionalDay[row] = r.f64();
      accounts.openOrders[row] = r.u32();
    }
    const products = s.products;
    for (let n = r.u32(); n > 0; n--) {
      const productId = r.u32();
      const brandRow = products.brandRowOf(r.u32());
      const row = products.add(productId);
      if (row === NOT_FOUND || brandRow === NOT_FOUND) throw new Error('product-manager snapshot: more products or brands than this product manager holds');
      products.brandRow[row] = brandRow;
      products.tickSize[row] = r.f64();
      products.lotSize[row] = r.f64();
      products.referencePrice[row] = r.f64();
      products.lastTradePrice[row] = r.f64();
      products.halted[row] = r.u8();
      products.delisted[row] = r.u8();
    }
    for (let n = r.u32(); n > 0; n--) {
      const position = s.positions.rowOf(s.snapshotAccountRow(r.u32()), s.snapshotProductRow(r.u32()));
      s.positions.balance[position] = r.f64();
      s.positions.reserved[position] = r.f64();
    }
    for (let n = r.u32(); n > 0; n--) {
      const account = s.snapshotAccountRow(r.u32());
      const counter = s.brandCounters.rowOf(account, products.brandRowOf(r.u32()));
      s.brandCounters.unitsDay[counter] = r.f64();
    }
    for (let n = r.u32(); n > 0; n--) {
      const accountId = r.u32();
      const brandId = r.u32();
      const kind = r.u8();
      s.rules.set(kind, accountId, brandId === 0 ? NO_ROW : products.brandRowOf(brandId), r.f64());
    }
    for (let n = r.u32(); n > 0; n--) s.restoreOrder(r);
    for (let n = r.u32(); n > 0; n--) s.orders.pushFinished(s.restoreOrder(r));
    if (!r.atEnd) throw new Error('product-manager snapshot: bytes left over after the last section');
    s.assertInvariants();
    return s;
  }

  private snapshotAccountRow(accountId: number): number {
    const row = this.accounts.find(accountId);
    if (row === NOT_FOUND) throw new Error(`product-manager snapshot: account ${accountId} is referenced but not listed`);
    return row;
  }

  private snapshotProductRow(productId: number): number {
    const row = this.products.find(productId);
    if (row === NOT_FOUND) throw new Error(`product-manager snapshot: product ${productId} is referenced but not listed`);
    return row;
  }

  /** Reads one order written by writeOrder into a new slot. */
  private restoreOrder(r: SnapshotReader): number {
    const o = this.orders;
    const orderId = r.f64();
    if (!o.hasRoom || o.find(orderId) !== NOT_FOUND) throw new Error(`product-manager snapshot: order ${orderId} does not fit or is listed twice`);
    const slot = o.alloc(orderId);
    o.accountRow[slot] = this.snapshotAccountRow(r.u32());
    o.productRow[slot] = this.snapshotProductRow(r.u32());
    o.side[slot] = r.u8();
    o.timeInForce[slot] = r.u8();
    o.flags[slot] = r.u8();
    o.status[slot] = r.u8();
    o.phase[slot] = r.u8();
    o.price[slot] = r.f64();
    o.quantity[slot] = r.f64();
    o.cum[slot] = r.f64();
    o.leaves[slot] = r.f64();
    o.cmdPrice[slot] = r.f64();
    o.cmdQuantity[slot] = r.f64();
    o.liveCmdPrice[slot] = o.cmdPrice[slot];
    o.liveCmdQuantity[slot] = o.cmdQuantity[slot];
    o.pendingAmends[slot] = r.u32();
    o.priceMax[slot] = r.f64();
    o.quantityMax[slot] = r.f64();
    o.reserved[slot] = r.f64();
    o.newSeq[slot] = r.f64();
    o.creationTimeUs[slot] = r.f64();
    o.lastPrice[slot] = r.f64();
    o.lastQuantity[slot] = r.f64();
    o.lastExecId[slot] = r.f64();
    o.lastEventSeq[slot] = r.f64();
    o.lastEventTimeUs[slot] = r.f64();
    o.lastReason[slot] = r.u32();
    o.gatewayId[slot] = r.u32();
    o.requestId[slot] = r.u32();
    o.hasCoid[slot] = r.u8();
    const base = slot * CLIENT_ORDER_ID_BYTES;
    for (let i = 0; i < CLIENT_ORDER_ID_BYTES; i++) o.coid[base + i] = r.u8();
    if (o.phase[slot] !== OrderPhase.OPEN && o.phase[slot] !== OrderPhase.FINISHED) {
      throw new Error(`product-manager snapshot: order ${orderId} has phase ${o.phase[slot]}`);
    }
    o.coidHash[slot] = hashClientOrderIdBytes(o.coid, base);
    if (o.hasCoid[slot] === 1) this.coids.insert(slot);
    return slot;
  }

  private writeOrder(w: StateWriter, slot: number): void {
    const o = this.orders;
    w.f64(o.orderId[slot]);
    w.u32(this.accounts.accountId[o.accountRow[slot]]);
    w.u32(this.products.productId[o.productRow[slot]]);
    w.u8(o.side[slot]);
    w.u8(o.timeInForce[slot]);
    w.u8(o.flags[slot]);
    w.u8(o.status[slot]);
    w.u8(o.phase[slot]);
    w.f64(o.price[slot]);
    w.f64(o.quantity[slot]);
    w.f64(o.cum[slot]);
    w.f64(o.leaves[slot]);
    w.f64(o.cmdPrice[slot]);
    w.f64(o.cmdQuantity[slot]);
    w.u32(o.pendingAmends[slot]);
    w.f64(o.pendingAmends[slot] > 0 ? o.priceMax[slot] : 0);
    w.f64(o.pendingAmends[slot] > 0 ? o.quantityMax[slot] : 0);
    w.f64(o.reserved[slot]);
    w.f64(o.newSeq[slot]);
    w.f64(o.creationTimeUs[slot]);
    w.f64(o.lastPrice[slot]);
    w.f64(o.lastQuantity[slot]);
    w.f64(o.lastExecId[slot]);
    w.f64(o.lastEventSeq[slot]);
    w.f64(o.lastEventTimeUs[slot]);
    w.u32(o.lastReason[slot]);
    w.u32(o.gatewayId[slot]);
    w.u32(o.requestId[slot]);
    w.u8(o.hasCoid[slot]);
    const base = slot * CLIENT_ORDER_ID_BYTES;
    for (let i = 0; i < CLIENT_ORDER_ID_BYTES; i++) w.u8(o.coid[base + i]);
  }

  /**
   * Recomputes every aggregate from the orders and the in-flight queue and throws on any
   * difference: reserved = Σ open orders' reservations, held = Σ holds, available ≥ 0, open-order
   * and held counters. O(state); for tests, recovery and `ims status --check`.
   */
  assertInvariants(): void {
    const accounts = this.accounts;
    const positions = this.positions;
    const orders = this.orders;
    const cashReserved = new Float64Array(accounts.rows);
    const cashHeld = new Float64Array(accounts.rows);
    const openOrders = new Int32Array(accounts.rows);
    const openOrdersHeld = new Int32Array(accounts.rows);
    const notionalHeld = new Float64Array(accounts.rows);
    const unitsReserved = new Float64Array(positions.rows);
    const unitsHeld = new Float64Array(positions.rows);
    const brandHeld = new Float64Array(this.brandCounters.rows);
    for (let slot = 0; slot < orders.capacity; slot++) {
      const phase = orders.phase[slot];
      if (phase === OrderPhase.FREE) continue;
      const account = orders.accountRow[slot];
      const expectReserved = this.needAmount(slot, false);
      check(orders.reserved[slot] === expectReserved, `order ${orders.orderId[slot]} reserves ${orders.reserved[slot]}, its need is ${expectReserved}`);
      if (phase === OrderPhase.FINISHED) check(orders.reserved[slot] === 0 && orders.held[slot] === 0, `finished order ${orders.orderId[slot]} still reserves`);
      if (phase === OrderPhase.OPEN) openOrders[account]++;
      check(orders.leaves[slot] >= 0 && orders.cum[slot] >= 0, `order ${orders.orderId[slot]} has negative quantities`);
      if (orders.side[slot] === INFLOW) {
        cashReserved[account] += orders.reserved[slot];
        cashHeld[account] += orders.held[slot];
      } else if (orders.reserved[slot] !== 0 || orders.held[slot] !== 0) {
        const position = positions.find(account, orders.productRow[slot]);
        check(position !== NOT_FOUND, `order ${orders.orderId[slot]} reserves units of a position that does not exist`);
        unitsReserved[position] += orders.reserved[slot];
        unitsHeld[position] += orders.held[slot];
      }
    }
    const queue = this.inFlight;
    for (let i = 0; i < queue.size; i++) {
      const p = queue.at(i);
      const account = queue.accountRow[p];
      openOrdersHeld[account] += queue.openOrders[p];
      notionalHeld[account] += queue.notional[p];
      if (queue.brandCounterRow[p] !== NO_ROW) brandHeld[queue.brandCounterRow[p]] += queue.units[p];
      if (queue.typeId[p] === TypeId.Withdraw) cashHeld[account] += queue.amount[p];
      if (queue.typeId[p] === TypeId.InventoryDispatch) unitsHeld[queue.positionRow[p]] += queue.amount[p];
    }
    for (let r = 0; r < accounts.rows; r++) {
      const id = accounts.accountId[r];
      check(accounts.cashReserved[r] === cashReserved[r], `account ${id}: cash reserved ${accounts.cashReserved[r]} ≠ Σ open inflows ${cashReserved[r]}`);
      check(accounts.cashHeld[r] === cashHeld[r], `account ${id}: cash held ${accounts.cashHeld[r]} ≠ Σ holds ${cashHeld[r]}`);
      check(accounts.availableCash(r) >= 0, `account ${id}: available cash ${accounts.availableCash(r)} < 0`);
      check(accounts.openOrders[r] === openOrders[r], `account ${id}: ${accounts.openOrders[r]} open orders counted, ${openOrders[r]} found`);
      check(accounts.openOrdersHeld[r] === openOrdersHeld[r], `account ${id}: open orders held ${accounts.openOrdersHeld[r]} ≠ ${openOrdersHeld[r]}`);
      check(accounts.notionalHeld[r] === notionalHeld[r], `account ${id}: notional held ${accounts.notionalHeld[r]} ≠ ${notionalHeld[r]}`);
      check(Number.isSafeInteger(accounts.cashBalance[r]), `account ${id}: cash ${accounts.cashBalance[r]} is not a safe integer`);
    }
    for (let r = 0; r < positions.rows; r++) {
      const where = `position (account ${accounts.accountId[positions.accountRow[r]]}, product ${this.products.productId[positions.productRow[r]]})`;
      check(positions.reserved[r] === unitsReserved[r], `${where}: reserved ${positions.reserved[r]} ≠ Σ open outflows ${unitsReserved[r]}`);
      check(positions.held[r] === unitsHeld[r], `${where}: held ${positions.held[r]} ≠ Σ holds ${unitsHeld[r]}`);
      check(positions.available(r) >= 0, `${where}: available ${positions.available(r)} < 0`);
    }
    for (let r = 0; r < this.brandCounters.rows; r++) {
      check(this.brandCounters.unitsHeld[r] === brandHeld[r], `brand counter ${r}: held ${this.brandCounters.unitsHeld[r]} ≠ ${brandHeld[r]}`);
    }
  }

  account(accountId: number): AccountView | undefined {
    const a = this.accounts;
    const r = a.find(accountId);
    if (r === NOT_FOUND) return undefined;
    return {
      accountId,
      outletId: a.outletId[r],
      role: a.role[r],
      active: a.status[r] === AccountStatus.ACTIVE,
      cash: a.cashBalance[r],
      cashReserved: a.cashReserved[r],
      cashHeld: a.cashHeld[r],
      cashAvailable: a.availableCash(r),
      notionalToday: a.notionalDay[r],
      openOrders: a.openOrders[r],
    };
  }

  position(accountId: number, productId: number): PositionView {
    const account = this.accounts.find(accountId);
    const product = this.products.find(productId);
    const r = account === NOT_FOUND || product === NOT_FOUND ? NOT_FOUND : this.positions.find(account, product);
    if (r === NOT_FOUND) return { units: 0, reserved: 0, held: 0, available: 0 };
    const p = this.positions;
    return { units: p.balance[r], reserved: p.reserved[r], held: p.held[r], available: p.available(r) };
  }

  /** Units of a brand updated today by an account (journaled; in flight not included). */
  brandUnitsToday(accountId: number, brandId: number): number {
    const account = this.accounts.find(accountId);
    const brand = this.products.findBrand(brandId);
    if (account === NOT_FOUND || brand === NOT_FOUND) return 0;
    const r = this.brandCounters.find(account, brand);
    return r === NOT_FOUND ? 0 : this.brandCounters.unitsDay[r];
  }

  order(orderId: number): OrderView | undefined {
    const o = this.orders;
    const slot = o.find(orderId);
    if (slot === NOT_FOUND) return undefined;
    let coid = '';
    for (let i = 0; i < CLIENT_ORDER_ID_BYTES; i++) {
      const c = o.coid[slot * CLIENT_ORDER_ID_BYTES + i];
      if (c === 0) break;
      coid += String.fromCharCode(c);
    }
    const phase = o.phase[slot];
    return {
      orderId,
      accountId: this.accounts.accountId[o.accountRow[slot]],
      productId: this.products.productId[o.productRow[slot]],
      side: o.side[slot],
      timeInForce: o.timeInForce[slot],
      status: o.status[slot],
      phase: phase === OrderPhase.IN_FLIGHT ? 'in-flight' : phase === OrderPhase.OPEN ? 'open' : 'finished',
      price: o.price[slot],
      quantity: o.quantity[slot],
      filledQuantity: o.cum[slot],
      remainingQuantity: o.leaves[slot],
      reserved: o.reserved[slot],
      held: o.held[slot],
      pendingAmends: o.pendingAmends[slot],
      creationTimeUs: o.creationTimeUs[slot],
      lastPrice: o.lastPrice[slot],
      lastQuantity: o.lastQuantity[slot],
      lastExecId: o.lastExecId[slot],
      clientOrderId: coid,
    };
  }

  /** Account ids in ascending order. */
  accountIds(): number[] {
    return Array.from(this.accounts.accountId.subarray(0, this.accounts.rows)).sort((a, b) => a - b);
  }

  /** Σ cash balances (conservation checks). */
  totalCash(): number {
    let total = 0;
    for (let r = 0; r < this.accounts.rows; r++) total += this.accounts.cashBalance[r];
    return total;
  }

  /** Σ units of one product over all accounts (conservation checks). */
  totalUnits(productId: number): number {
    const product = this.products.find(productId);
    if (product === NOT_FOUND) return 0;
    let total = 0;
    for (let r = 0; r < this.positions.rows; r++) if (this.positions.productRow[r] === product) total += this.positions.balance[r];
    return total;
  }
}

function check(condition: boolean, message: string): void {
  assert(condition, message);
}

function sortedRows(rows: number, key: (row: number) => number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) out.push(r);
  return out.sort((a, b) => key(a) - key(b));
}

function sortedPairRows(rows: number, first: (row: number) => number, second: (row: number) => number, keep: (row: number) => boolean): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) if (keep(r)) out.push(r);
  return out.sort((a, b) => first(a) - first(b) || second(a) - second(b));
}
