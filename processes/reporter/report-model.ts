// Journal entries in, consolidated records out. The reporter's library: a deterministic function
// of the journal (no clock, no I/O, no randomness) that keeps the state a record needs between
// entries — open orders, products, accounts, wallets, the trading day — and hands the records that
// changed as one ReportBatch per transaction:
//
//   orders              one row per order, its latest state (client_id = account id, product,
//                       symbol, brand, side, price, quantity, filled, remaining, status, reason,
//                       creation and last update time)
//   executions          one row per match: exec id, both orders and both accounts, product,
//                       price, quantity, taker side, time
//   cash_movements      deposits and withdrawals as journaled, and whether the wallet applied them
//   inventory_movements receipts and dispatches likewise
//   account_cash, account_inventory   every wallet's balance (for cash and inventory reconciliation)
//   products, accounts  listings and accounts (symbol, brand, outlet) the reports join to
//   trading_days, product_day_stats   each day's journal range and per-product trades, volume,
//                       notional (VWAP), open/high/low/close
//
// Idempotent by sequence id: the model remembers the last seq it applied and skips anything at or
// below it; a store writes a batch together with its last seq in one transaction and a restarted
// reporter continues at that seq + 1, so a crash never loses or doubles a row.
//
// What each journal entry does (the same rules the product manager applies; see
// processes/product-manager/product-manager-state.ts):
//   NewOrder         a new order row (status new) unless the id is already open here
//   OrderAccepted    remaining = leaves; new or partially_filled
//   OrderRejected    of the NewOrder that created the order: rejected, remaining 0, the reason;
//                    of a cancel or an amend: nothing changes
//   Fill             an execution row; both orders' filled (the engine's cumulative quantity),
//                    remaining, status; cash and units move between the two wallets
//   OrderCanceled    remaining = leaves; at 0 canceled with the reason (a self-trade decrement
//                    leaves the order open)
//   OrderAmended     price, quantity, remaining; replaced
//   OrderExpired     expired, remaining 0
//   Deposit/Withdraw, InventoryReceipt/Dispatch   a movement row; applied unless the account (or
//                    product) is unknown, the amount is not positive, or (withdrawal, dispatch) it
//                    exceeds the balance. The reporter cannot see reservations, so it checks the
//                    balance, not the available amount: a withdrawal the product manager forwarded
//                    was checked against available cash and always applies.
//   ListProduct, Halt/Resume/DelistProduct, AccountOpened/Suspended/RoleChanged, TradingDayOpen/Close
//   everything else (cancel and amend commands, book levels, checkpoints, risk rules) is skipped.

import { readChars, readI64, readU16, readU32, readU8 } from '../../bus/codec';
import { CancelReason, RejectReason, Side } from '../../bus/enums';
import {
  AccountOpened,
  AccountRoleChanged,
  AccountSuspended,
  Deposit,
  Fill,
  HaltProduct,
  InventoryDispatch,
  InventoryReceipt,
  JOURNAL_HEADER_BYTES,
  JournalHeader,
  ListProduct,
  messageByTypeId,
  NewOrder,
  OrderAccepted,
  OrderAmended,
  OrderCanceled,
  OrderExpired,
  OrderRejected,
  OrderStatus,
  TradingDayClose,
  TradingDayOpen,
  TypeId,
  Withdraw,
} from '../../bus/schema';
import {
  AccountState,
  CashMovementKind,
  cancelReasonName,
  InventoryMovementKind,
  isOpenStatus,
  nameOr,
  ORDER_STATUS_NAMES,
  ProductState,
  rejectReasonName,
  ROLE_NAMES,
  SIDE_NAMES,
  TIME_IN_FORCE_NAMES,
} from './report-codes';
import {
  AccountRecord,
  CashRecord,
  EMPTY_REPORTER_STATE,
  OrderRecord,
  PositionRecord,
  ProductDayStatsRecord,
  ProductRecord,
  TradingDayRecord,
  type ReporterState,
} from './report-records';
import {
  ACCOUNT_CASH,
  ACCOUNT_INVENTORY,
  ACCOUNTS,
  BATCH_TABLES,
  CASH_MOVEMENTS,
  EXECUTIONS,
  INVENTORY_MOVEMENTS,
  ORDERS,
  PRODUCT_DAY_STATS,
  PRODUCTS,
  TRADING_DAYS,
  type TableSpec,
} from './report-tables';
import { MAX_OPEN_ORDERS } from './reporter-limits';
import { CalendarDayClock, DEFAULT_EXCHANGE_TIME_ZONE } from './trading-day';
import type { SqlValue } from '../accounts/sql-store';

export class ReporterInvariantError extends Error {
  override readonly name = 'ReporterInvariantError';
}

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new ReporterInvariantError(`reporter invariant broken: ${message}`);
}

/** The rows of one table in a batch, each an array in the table's column order. */
export interface TableRows {
  readonly spec: TableSpec;
  readonly rows: SqlValue[][];
}

/** What one transaction writes: the rows that changed and the journal position they bring the database to. */
export interface ReportBatch {
  /** The last seq the database holds before this batch (its progress must say exactly this). */
  readonly afterSeq: number;
  /** The last seq applied in this batch: the progress the transaction stores. */
  readonly lastSeq: number;
  readonly lastTimeUs: number;
  /** The last TradingDayOpen's day (0 before the first), stored with the progress. */
  readonly tradingDay: number;
  /** Journal entries the batch covers (lastSeq − afterSeq). */
  readonly entries: number;
  /** One entry per table, in BATCH_TABLES order. */
  readonly tables: readonly TableRows[];
  /** Rows over all tables. */
  readonly rowCount: number;
}

/** What apply() did with an entry. */
export const ApplyResult = {
  /** Applied (or it concerns nothing the reporter records, which is also progress). */
  APPLIED: 1,
  /** seq ≤ the last seq applied: already in the database, skipped. */
  ALREADY_APPLIED: 0,
} as const;
export type ApplyResult = (typeof ApplyResult)[keyof typeof ApplyResult];

export interface ReportModelOptions {
  /** IANA zone of calendar days before the first TradingDayOpen (default America/New_York). */
  readonly timeZone?: string;
  /** Open orders held before the model refuses (asserts); default MAX_OPEN_ORDERS. */
  readonly maxOpenOrders?: number;
}

/** Message types whose bodies the model reads: a record of another layout version is refused. */
const READ_TYPES: ReadonlySet<number> = new Set<number>([
  TypeId.NewOrder,
  TypeId.OrderAccepted,
  TypeId.OrderRejected,
  TypeId.Fill,
  TypeId.OrderCanceled,
  TypeId.OrderAmended,
  TypeId.OrderExpired,
  TypeId.ListProduct,
  TypeId.HaltProduct,
  TypeId.ResumeProduct,
  TypeId.DelistProduct,
  TypeId.TradingDayOpen,
  TypeId.TradingDayClose,
  TypeId.AccountOpened,
  TypeId.AccountSuspended,
  TypeId.AccountRoleChanged,
  TypeId.Deposit,
  TypeId.Withdraw,
  TypeId.InventoryReceipt,
  TypeId.InventoryDispatch,
]);

const J_SEQ = JournalHeader.o.seq;
const J_TIMESTAMP = JournalHeader.o.timestampUs;
const CLIENT_ORDER_ID_CHARS = 24;
const EXPIRED_REASON = cancelReasonName(CancelReason.EXPIRED);

function isPositiveSafeInteger(value: number): boolean {
  return Number.isSafeInteger(value) && value > 0;
}

export class ReportModel {
  /** The last journal seq applied (0 = none). */
  lastSeq: number;
  lastTimeUs: number;
  /** The day of the last TradingDayOpen (0 = none yet: calendar days of the exchange's zone). */
  tradingDay: number;

  /** NewOrders whose id was already open here (the engine rejects them; no row is written). */
  duplicateOrderIds = 0;
  /** Engine outputs naming an order the model does not hold (never, for a journal read from seq 1). */
  unknownOrderEvents = 0;
  /** Rejections of cancels and amends (the order is unchanged). */
  rejectedCommands = 0;
  /** Movements the wallet did not apply (their rows carry applied = 0 and the reason). */
  refusedMovements = 0;

  private readonly orders = new Map<number, OrderRecord>();
  private readonly products = new Map<number, ProductRecord>();
  private readonly accounts = new Map<number, AccountRecord>();
  private readonly cash = new Map<number, CashRecord>();
  private readonly positions = new Map<number, Map<number, PositionRecord>>();
  private readonly days = new Map<number, TradingDayRecord>();
  private currentDay: TradingDayRecord | null;
  /** Product statistics of `statsDay` (only the current day's are kept). */
  private statsDay: number;
  private stats = new Map<number, ProductDayStatsRecord>();
  private readonly calendar: CalendarDayClock;
  private readonly maxOpenOrders: number;
  private openOrders = 0;

  // The batch being built.
  private batchNumber = 1;
  private batchAfterSeq: number;
  private dirtyOrders: OrderRecord[] = [];
  private dirtyProducts: ProductRecord[] = [];
  private dirtyAccounts: AccountRecord[] = [];
  private dirtyCash: CashRecord[] = [];
  private dirtyPositions: PositionRecord[] = [];
  private dirtyDays: TradingDayRecord[] = [];
  private dirtyStats: ProductDayStatsRecord[] = [];
  private executionRows: SqlValue[][] = [];
  private cashMovementRows: SqlValue[][] = [];
  private inventoryMovementRows: SqlValue[][] = [];

  constructor(state: ReporterState = EMPTY_REPORTER_STATE, options: ReportModelOptions = {}) {
    this.calendar = new CalendarDayClock(options.timeZone ?? DEFAULT_EXCHANGE_TIME_ZONE);
    this.maxOpenOrders = options.maxOpenOrders ?? MAX_OPEN_ORDERS;
    this.lastSeq = state.lastSeq;
    this.lastTimeUs = state.lastTimeUs;
    this.tradingDay = state.tradingDay;
    this.batchAfterSeq = state.lastSeq;
    for (const p of state.products) this.products.set(p.productId, p);
    for (const a of state.accounts) this.accounts.set(a.accountId, a);
    for (const o of state.openOrders) {
      assert(isOpenStatus(o.status), 'a store loads only open orders into the model');
      this.orders.set(o.orderId, o);
    }
    this.openOrders = state.openOrders.length;
    assert(this.openOrders <= this.maxOpenOrders, 'the open orders loaded fit the model');
    for (const c of state.cash) this.cash.set(c.accountId, c);
    for (const p of state.positions) this.positionsOf(p.accountId).set(p.productId, p);
    this.currentDay = state.currentDay;
    if (state.currentDay !== null) this.days.set(state.currentDay.tradingDay, state.currentDay);
    this.statsDay = state.currentDay?.tradingDay ?? 0;
    for (const s of state.currentDayStats) {
      assert(s.tradingDay === this.statsDay, 'the product statistics loaded are the current day');
      this.stats.set(s.productId, s);
    }
  }

  /** Entries applied since the last takeBatch(). */
  get pendingEntries(): number {
    return this.lastSeq - this.batchAfterSeq;
  }

  /** Orders held in memory (open ones, and finished ones until their batch is taken). */
  get ordersInMemory(): number {
    return this.orders.size;
  }

  /**
   * Applies one journal entry: its JournalHeader starts at `entryOffset` in `view`, the body
   * follows. `version` is the record's layout version (the ring or frame header's). Returns
   * ALREADY_APPLIED for seq ≤ lastSeq. A gap in seqs, or a known message in a layout version this
   * build does not read, is refused with an exception: records made from it would be wrong.
   */
  apply(view: DataView, entryOffset: number, typeId: number, version: number): ApplyResult {
    const seq = readI64(view, entryOffset + J_SEQ);
    if (seq <= this.lastSeq) return ApplyResult.ALREADY_APPLIED;
    if (seq !== this.lastSeq + 1) {
      throw new ReporterInvariantError(`journal seq ${seq} follows seq ${this.lastSeq}: the journal is gap-free, so the reader skipped entries; restart the reporter`);
    }
    if (READ_TYPES.has(typeId)) {
      const desc = messageByTypeId(typeId)!;
      if (version !== desc.version) {
        throw new ReporterInvariantError(
          `journal seq ${seq} is ${desc.name} version ${version}, this reporter reads version ${desc.version}: it was written by another IMS release; deploy a matching reporter`,
        );
      }
    }
    const timeUs = readI64(view, entryOffset + J_TIMESTAMP);
    const b = entryOffset + JOURNAL_HEADER_BYTES;
    if (typeId === TypeId.TradingDayOpen) this.tradingDay = readU32(view, b + TradingDayOpen.o.tradingDay);
    const day = this.dayRecord(seq, timeUs);
    switch (typeId) {
      case TypeId.NewOrder:
        this.onNewOrder(view, b, seq, timeUs);
        break;
      case TypeId.OrderAccepted:
        this.onAccepted(view, b, seq, timeUs);
        break;
      case TypeId.OrderRejected:
        this.onRejected(view, b, seq, timeUs);
        break;
      case TypeId.Fill:
        this.onFill(view, b, seq, timeUs, day.tradingDay);
        break;
      case TypeId.OrderCanceled:
        this.onCanceled(view, b, seq, timeUs);
        break;
      case TypeId.OrderAmended:
        this.onAmended(view, b, seq, timeUs);
        break;
      case TypeId.OrderExpired:
        this.onExpired(view, b, seq, timeUs);
        break;
      case TypeId.ListProduct:
        this.onListProduct(view, b, seq);
        break;
      case TypeId.HaltProduct:
      case TypeId.ResumeProduct:
      case TypeId.DelistProduct:
        this.onProductState(view, b, seq, typeId);
        break;
      case TypeId.TradingDayOpen:
        day.openedSeq = seq;
        break;
      case TypeId.TradingDayClose: {
        const closed = this.days.get(readU32(view, b + TradingDayClose.o.tradingDay));
        if (closed !== undefined) {
          closed.closedSeq = seq;
          this.queueDay(closed);
        }
        break;
      }
      case TypeId.AccountOpened:
        this.onAccountOpened(view, b, seq);
        break;
      case TypeId.AccountSuspended:
        this.onAccountSuspended(view, b, seq);
        break;
      case TypeId.AccountRoleChanged:
        this.onAccountRoleChanged(view, b, seq);
        break;
      case TypeId.Deposit:
      case TypeId.Withdraw:
        this.onCashMovement(view, b, seq, timeUs, typeId);
        break;
      case TypeId.InventoryReceipt:
      case TypeId.InventoryDispatch:
        this.onInventoryMovement(view, b, seq, timeUs, typeId);
        break;
      default:
        break; // commands the engine answers (cancel, amend), book levels, checkpoints, risk rules
    }
    this.lastSeq = seq;
    this.lastTimeUs = timeUs;
    return ApplyResult.APPLIED;
  }

  /**
   * The rows that changed since the last call, with the journal position they bring the database
   * to. Finished orders leave memory here: their final row is in this batch.
   */
  takeBatch(): ReportBatch {
    const tables: TableRows[] = [];
    let rowCount = 0;
    for (const spec of BATCH_TABLES) {
      const rows = this.rowsOf(spec);
      rowCount += rows.length;
      tables.push({ spec, rows });
    }
    for (const o of this.dirtyOrders) {
      if (!isOpenStatus(o.status) && this.orders.get(o.orderId) === o) this.orders.delete(o.orderId);
    }
    // Days other than the current one are complete: their last rows are in this batch.
    for (const d of this.dirtyDays) if (d !== this.currentDay) this.days.delete(d.tradingDay);
    const batch: ReportBatch = {
      afterSeq: this.batchAfterSeq,
      lastSeq: this.lastSeq,
      lastTimeUs: this.lastTimeUs,
      tradingDay: this.tradingDay,
      entries: this.lastSeq - this.batchAfterSeq,
      tables,
      rowCount,
    };
    this.batchAfterSeq = this.lastSeq;
    this.batchNumber++;
    this.dirtyOrders = [];
    this.dirtyProducts = [];
    this.dirtyAccounts = [];
    this.dirtyCash = [];
    this.dirtyPositions = [];
    this.dirtyDays = [];
    this.dirtyStats = [];
    this.executionRows = [];
    this.cashMovementRows = [];
    this.inventoryMovementRows = [];
    return batch;
  }

  // --- reads for tests, tools and reconciliation -----------------------------------------------

  order(orderId: number): OrderRecord | undefined {
    return this.orders.get(orderId);
  }

  cashOf(accountId: number): number {
    return this.cash.get(accountId)?.cash ?? 0;
  }

  unitsOf(accountId: number, productId: number): number {
    return this.positions.get(accountId)?.get(productId)?.units ?? 0;
  }

  /** Every wallet balance, ordered by account (and product). */
  balances(): { cash: Array<[number, number]>; units: Array<[number, number, number]> } {
    const cash = [...this.cash.values()].map((c): [number, number] => [c.accountId, c.cash]).sort((a, b) => a[0] - b[0]);
    const units: Array<[number, number, number]> = [];
    for (const [accountId, byProduct] of this.positions) for (const p of byProduct.values()) units.push([accountId, p.productId, p.units]);
    units.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    return { cash, units };
  }

  /** The orders held in memory: after takeBatch(), exactly the open ones. */
  heldOrders(): IterableIterator<OrderRecord> {
    return this.orders.values();
  }

  product(productId: number): ProductRecord | undefined {
    return this.products.get(productId);
  }

  account(accountId: number): AccountRecord | undefined {
    return this.accounts.get(accountId);
  }

  // --- orders ------------------------------------------------------------------------------------

  private onNewOrder(view: DataView, b: number, seq: number, timeUs: number): void {
    const orderId = readI64(view, b + NewOrder.o.orderId);
    if (this.orders.has(orderId)) {
      this.duplicateOrderIds++;
      return;
    }
    const productId = readU32(view, b + NewOrder.o.productId);
    const product = this.products.get(productId);
    const order = new OrderRecord(
      orderId,
      readU32(view, b + NewOrder.o.accountId),
      productId,
      product?.symbol ?? '',
      product?.brand ?? '',
      readU8(view, b + NewOrder.o.side),
      readU8(view, b + NewOrder.o.timeInForce),
      readI64(view, b + NewOrder.o.price),
      readI64(view, b + NewOrder.o.quantity),
      readChars(view, b + NewOrder.o.clientOrderId, CLIENT_ORDER_ID_CHARS),
      seq,
      timeUs,
      OrderStatus.NEW,
    );
    this.orders.set(orderId, order);
    this.openOrders++;
    assert(this.openOrders <= this.maxOpenOrders, 'open orders stay within MAX_OPEN_ORDERS (the engine holds no more)');
    this.queueOrder(order);
  }

  private onAccepted(view: DataView, b: number, seq: number, timeUs: number): void {
    const order = this.openOrder(readI64(view, b + OrderAccepted.o.orderId));
    if (order === undefined) return;
    order.remainingQuantity = readI64(view, b + OrderAccepted.o.leavesQuantity);
    order.status = order.filledQuantity > 0 ? OrderStatus.PARTIALLY_FILLED : OrderStatus.NEW;
    this.touch(order, seq, timeUs);
  }

  private onRejected(view: DataView, b: number, seq: number, timeUs: number): void {
    const order = this.orders.get(readI64(view, b + OrderRejected.o.orderId));
    const commandType = readU16(view, b + OrderRejected.o.commandType);
    // Only the rejection of the NewOrder that created the order finishes it; a rejected cancel or
    // amend (or a NewOrder that reused the id) leaves the order as it is.
    if (commandType === TypeId.NewOrder && order !== undefined && order.createdSeq === readI64(view, b + OrderRejected.o.inSeq) && isOpenStatus(order.status)) {
      order.remainingQuantity = 0;
      order.reason = rejectReasonName(readU16(view, b + OrderRejected.o.reason));
      this.finish(order, OrderStatus.REJECTED);
      this.touch(order, seq, timeUs);
      return;
    }
    this.rejectedCommands++;
  }

  private onFill(view: DataView, b: number, seq: number, timeUs: number, tradingDay: number): void {
    const execId = readI64(view, b + Fill.o.execId);
    const price = readI64(view, b + Fill.o.price);
    const quantity = readI64(view, b + Fill.o.quantity);
    const productId = readU32(view, b + Fill.o.productId);
    const makerOrderId = readI64(view, b + Fill.o.makerOrderId);
    const takerOrderId = readI64(view, b + Fill.o.takerOrderId);
    const makerAccountId = readU32(view, b + Fill.o.makerAccountId);
    const takerAccountId = readU32(view, b + Fill.o.takerAccountId);
    const takerSide = readU8(view, b + Fill.o.takerSide);
    const value = price * quantity;
    assert(Number.isSafeInteger(value) && quantity > 0 && price > 0, 'a fill has a positive price and quantity whose product is a safe integer');
    this.executionRows.push([
      execId,
      seq,
      timeUs,
      productId,
      price,
      quantity,
      nameOr(SIDE_NAMES, takerSide),
      makerOrderId,
      makerAccountId,
      takerOrderId,
      takerAccountId,
    ]);
    this.execute(makerOrderId, price, quantity, readI64(view, b + Fill.o.makerLeaves), readI64(view, b + Fill.o.makerCumQuantity), seq, timeUs);
    this.execute(takerOrderId, price, quantity, readI64(view, b + Fill.o.takerLeaves), readI64(view, b + Fill.o.takerCumQuantity), seq, timeUs);
    // The inflow side pays and receives the units; the outflow side the reverse.
    const buyer = takerSide === Side.INFLOW ? takerAccountId : makerAccountId;
    const seller = takerSide === Side.INFLOW ? makerAccountId : takerAccountId;
    this.moveCash(buyer, -value, seq);
    this.moveCash(seller, value, seq);
    this.moveUnits(buyer, productId, quantity, seq);
    this.moveUnits(seller, productId, -quantity, seq);
    this.countTrade(tradingDay, productId, execId, price, quantity, value);
  }

  private execute(orderId: number, price: number, quantity: number, leaves: number, cumQuantity: number, seq: number, timeUs: number): void {
    const order = this.openOrder(orderId);
    if (order === undefined) return;
    order.filledQuantity = cumQuantity;
    order.filledNotional += price * quantity;
    assert(Number.isSafeInteger(order.filledNotional), "an order's filled notional stays a safe integer");
    order.remainingQuantity = leaves;
    if (leaves === 0) this.finish(order, OrderStatus.FILLED);
    else order.status = OrderStatus.PARTIALLY_FILLED;
    this.touch(order, seq, timeUs);
  }

  private onCanceled(view: DataView, b: number, seq: number, timeUs: number): void {
    const order = this.openOrder(readI64(view, b + OrderCanceled.o.orderId));
    if (order === undefined) return;
    order.remainingQuantity = readI64(view, b + OrderCanceled.o.leavesQuantity);
    // A self-trade decrement leaves the rest of the order open with its status.
    if (order.remainingQuantity === 0) {
      order.reason = cancelReasonName(readU8(view, b + OrderCanceled.o.reason));
      this.finish(order, OrderStatus.CANCELED);
    }
    this.touch(order, seq, timeUs);
  }

  private onAmended(view: DataView, b: number, seq: number, timeUs: number): void {
    const order = this.openOrder(readI64(view, b + OrderAmended.o.orderId));
    if (order === undefined) return;
    order.price = readI64(view, b + OrderAmended.o.newPrice);
    order.quantity = readI64(view, b + OrderAmended.o.newQuantity);
    order.remainingQuantity = readI64(view, b + OrderAmended.o.leavesQuantity);
    order.status = OrderStatus.REPLACED;
    this.touch(order, seq, timeUs);
  }

  private onExpired(view: DataView, b: number, seq: number, timeUs: number): void {
    const order = this.openOrder(readI64(view, b + OrderExpired.o.orderId));
    if (order === undefined) return;
    order.remainingQuantity = 0;
    order.reason = EXPIRED_REASON;
    this.finish(order, OrderStatus.EXPIRED);
    this.touch(order, seq, timeUs);
  }

  /** The open order an engine output names, or undefined (counted: a journal read from seq 1 has none). */
  private openOrder(orderId: number): OrderRecord | undefined {
    const order = this.orders.get(orderId);
    if (order === undefined || !isOpenStatus(order.status)) {
      this.unknownOrderEvents++;
      return undefined;
    }
    return order;
  }

  private finish(order: OrderRecord, status: number): void {
    order.status = status;
    this.openOrders--;
  }

  private touch(order: OrderRecord, seq: number, timeUs: number): void {
    order.updatedSeq = seq;
    order.updatedTimeUs = timeUs;
    this.queueOrder(order);
  }

  private queueOrder(order: OrderRecord): void {
    if (order.mark === this.batchNumber) return;
    order.mark = this.batchNumber;
    this.dirtyOrders.push(order);
  }

  // --- wallets -----------------------------------------------------------------------------------

  private cashRecord(accountId: number): CashRecord {
    let c = this.cash.get(accountId);
    if (c === undefined) this.cash.set(accountId, (c = new CashRecord(accountId, 0, 0)));
    return c;
  }

  private positionsOf(accountId: number): Map<number, PositionRecord> {
    let byProduct = this.positions.get(accountId);
    if (byProduct === undefined) this.positions.set(accountId, (byProduct = new Map()));
    return byProduct;
  }

  private moveCash(accountId: number, amount: number, seq: number): void {
    const c = this.cashRecord(accountId);
    c.cash += amount;
    assert(Number.isSafeInteger(c.cash), 'cash balances stay safe integers');
    c.updatedSeq = seq;
    if (c.mark !== this.batchNumber) {
      c.mark = this.batchNumber;
      this.dirtyCash.push(c);
    }
  }

  private moveUnits(accountId: number, productId: number, units: number, seq: number): void {
    const byProduct = this.positionsOf(accountId);
    let p = byProduct.get(productId);
    if (p === undefined) byProduct.set(productId, (p = new PositionRecord(accountId, productId, 0, 0)));
    p.units += units;
    assert(Number.isSafeInteger(p.units), 'unit balances stay safe integers');
    p.updatedSeq = seq;
    if (p.mark !== this.batchNumber) {
      p.mark = this.batchNumber;
      this.dirtyPositions.push(p);
    }
  }

  private onCashMovement(view: DataView, b: number, seq: number, timeUs: number, typeId: number): void {
    const deposit = typeId === TypeId.Deposit;
    const accountId = readU32(view, b + (deposit ? Deposit.o.accountId : Withdraw.o.accountId));
    const amount = readI64(view, b + (deposit ? Deposit.o.amount : Withdraw.o.amount));
    const reference = readI64(view, b + (deposit ? Deposit.o.reference : Withdraw.o.reference));
    let refusal: number = RejectReason.NONE;
    if (!this.accounts.has(accountId)) refusal = RejectReason.ACCOUNT_NOT_ACTIVE;
    else if (!isPositiveSafeInteger(amount)) refusal = RejectReason.INVALID_COMMAND;
    else if (deposit && this.cashOf(accountId) + amount > Number.MAX_SAFE_INTEGER) refusal = RejectReason.INVALID_COMMAND;
    else if (!deposit && this.cashOf(accountId) < amount) refusal = RejectReason.INSUFFICIENT_FUNDS;
    if (refusal === RejectReason.NONE) this.moveCash(accountId, deposit ? amount : -amount, seq);
    else this.refusedMovements++;
    this.cashMovementRows.push([
      seq,
      timeUs,
      accountId,
      deposit ? CashMovementKind.DEPOSIT : CashMovementKind.WITHDRAWAL,
      amount,
      reference,
      refusal === RejectReason.NONE ? 1 : 0,
      refusal === RejectReason.NONE ? null : rejectReasonName(refusal),
    ]);
  }

  private onInventoryMovement(view: DataView, b: number, seq: number, timeUs: number, typeId: number): void {
    const receipt = typeId === TypeId.InventoryReceipt;
    const o = receipt ? InventoryReceipt.o : InventoryDispatch.o;
    const accountId = readU32(view, b + o.accountId);
    const productId = readU32(view, b + o.productId);
    const quantity = readI64(view, b + o.quantity);
    const reference = readI64(view, b + o.reference);
    let refusal: number = RejectReason.NONE;
    if (!this.accounts.has(accountId)) refusal = RejectReason.ACCOUNT_NOT_ACTIVE;
    else if (!this.products.has(productId)) refusal = RejectReason.UNKNOWN_PRODUCT;
    else if (!isPositiveSafeInteger(quantity)) refusal = RejectReason.INVALID_COMMAND;
    else if (receipt && this.unitsOf(accountId, productId) + quantity > Number.MAX_SAFE_INTEGER) refusal = RejectReason.INVALID_COMMAND;
    else if (!receipt && this.unitsOf(accountId, productId) < quantity) refusal = RejectReason.INSUFFICIENT_INVENTORY;
    if (refusal === RejectReason.NONE) this.moveUnits(accountId, productId, receipt ? quantity : -quantity, seq);
    else this.refusedMovements++;
    this.inventoryMovementRows.push([
      seq,
      timeUs,
      accountId,
      productId,
      receipt ? InventoryMovementKind.RECEIPT : InventoryMovementKind.DISPATCH,
      quantity,
      reference,
      refusal === RejectReason.NONE ? 1 : 0,
      refusal === RejectReason.NONE ? null : rejectReasonName(refusal),
    ]);
  }

  // --- products, accounts, days ------------------------------------------------------------------

  private onListProduct(view: DataView, b: number, seq: number): void {
    const productId = readU32(view, b + ListProduct.o.productId);
    const tickSize = readI64(view, b + ListProduct.o.tickSize);
    const lotSize = readI64(view, b + ListProduct.o.lotSize);
    const referencePrice = readI64(view, b + ListProduct.o.referencePrice);
    // The product manager's rules: an invalid listing, or one of a product listed now, changes nothing.
    if (productId === 0 || !isPositiveSafeInteger(tickSize) || !isPositiveSafeInteger(lotSize) || referencePrice < 0) return;
    let p = this.products.get(productId);
    if (p !== undefined && p.state !== ProductState.DELISTED) return;
    const symbol = readChars(view, b + ListProduct.o.symbol, 16);
    const brand = readChars(view, b + ListProduct.o.brand, 16);
    const brandId = readU32(view, b + ListProduct.o.brandId);
    if (p === undefined) {
      p = new ProductRecord(productId, symbol, brand, brandId, tickSize, lotSize, referencePrice, ProductState.LISTED, seq, seq);
      this.products.set(productId, p);
    } else {
      p.symbol = symbol;
      p.brand = brand;
      p.brandId = brandId;
      p.tickSize = tickSize;
      p.lotSize = lotSize;
      p.referencePrice = referencePrice;
      p.state = ProductState.LISTED;
      p.listedSeq = seq;
      p.updatedSeq = seq;
    }
    this.queueProduct(p);
  }

  private onProductState(view: DataView, b: number, seq: number, typeId: number): void {
    const p = this.products.get(readU32(view, b + HaltProduct.o.productId));
    if (p === undefined || p.state === ProductState.DELISTED) return;
    p.state = typeId === TypeId.HaltProduct ? ProductState.HALTED : typeId === TypeId.ResumeProduct ? ProductState.LISTED : ProductState.DELISTED;
    p.updatedSeq = seq;
    this.queueProduct(p);
  }

  private queueProduct(p: ProductRecord): void {
    if (p.mark === this.batchNumber) return;
    p.mark = this.batchNumber;
    this.dirtyProducts.push(p);
  }

  private onAccountOpened(view: DataView, b: number, seq: number): void {
    const accountId = readU32(view, b + AccountOpened.o.accountId);
    if (accountId === 0) return;
    const outletId = readU32(view, b + AccountOpened.o.outletId);
    const role = nameOr(ROLE_NAMES, readU8(view, b + AccountOpened.o.role));
    let a = this.accounts.get(accountId);
    if (a === undefined) this.accounts.set(accountId, (a = new AccountRecord(accountId, outletId, role, AccountState.ACTIVE, seq, seq)));
    a.outletId = outletId;
    a.role = role;
    a.state = AccountState.ACTIVE;
    a.updatedSeq = seq;
    this.queueAccount(a);
  }

  /** A new role and outlet; active or suspended stays as it was. */
  private onAccountRoleChanged(view: DataView, b: number, seq: number): void {
    const a = this.accounts.get(readU32(view, b + AccountRoleChanged.o.accountId));
    if (a === undefined) return;
    a.outletId = readU32(view, b + AccountRoleChanged.o.outletId);
    a.role = nameOr(ROLE_NAMES, readU8(view, b + AccountRoleChanged.o.role));
    a.updatedSeq = seq;
    this.queueAccount(a);
  }

  private onAccountSuspended(view: DataView, b: number, seq: number): void {
    const a = this.accounts.get(readU32(view, b + AccountSuspended.o.accountId));
    if (a === undefined) return;
    a.state = AccountState.SUSPENDED;
    a.updatedSeq = seq;
    this.queueAccount(a);
  }

  private queueAccount(a: AccountRecord): void {
    if (a.mark === this.batchNumber) return;
    a.mark = this.batchNumber;
    this.dirtyAccounts.push(a);
  }

  /** The trading-day record of the entry at `seq`, extended to cover it. */
  private dayRecord(seq: number, timeUs: number): TradingDayRecord {
    const tradingDay = this.tradingDay !== 0 ? this.tradingDay : this.calendar.tradingDayOfUs(timeUs);
    let day = this.currentDay;
    if (day === null || day.tradingDay !== tradingDay) {
      day = this.days.get(tradingDay) ?? null;
      if (day === null) {
        day = new TradingDayRecord(tradingDay, seq, timeUs, seq, timeUs, null, null);
        this.days.set(tradingDay, day);
      }
      this.currentDay = day;
    }
    day.lastSeq = seq;
    day.lastTimeUs = timeUs;
    this.queueDay(day);
    return day;
  }

  private queueDay(day: TradingDayRecord): void {
    if (day.mark === this.batchNumber) return;
    day.mark = this.batchNumber;
    this.dirtyDays.push(day);
  }

  private countTrade(tradingDay: number, productId: number, execId: number, price: number, quantity: number, value: number): void {
    if (tradingDay !== this.statsDay) {
      // A new day: the previous day's statistics are complete (and queued if they changed).
      this.statsDay = tradingDay;
      this.stats = new Map();
    }
    let s = this.stats.get(productId);
    if (s === undefined) {
      s = new ProductDayStatsRecord(tradingDay, productId, 0, 0, 0, price, price, price, price, execId, execId);
      this.stats.set(productId, s);
    }
    s.trades++;
    s.volume += quantity;
    s.notional += value;
    assert(Number.isSafeInteger(s.notional), "a product's daily notional stays a safe integer");
    if (price > s.highPrice) s.highPrice = price;
    if (price < s.lowPrice) s.lowPrice = price;
    s.closePrice = price;
    s.lastExecId = execId;
    if (s.mark !== this.batchNumber) {
      s.mark = this.batchNumber;
      this.dirtyStats.push(s);
    }
  }

  // --- rows --------------------------------------------------------------------------------------

  private rowsOf(spec: TableSpec): SqlValue[][] {
    switch (spec) {
      case ORDERS:
        return this.dirtyOrders.map(orderRow);
      case EXECUTIONS:
        return this.executionRows;
      case CASH_MOVEMENTS:
        return this.cashMovementRows;
      case INVENTORY_MOVEMENTS:
        return this.inventoryMovementRows;
      case PRODUCTS:
        return this.dirtyProducts.map((p) => [p.productId, p.symbol, p.brand, p.brandId, p.tickSize, p.lotSize, p.referencePrice, p.state, p.listedSeq, p.updatedSeq]);
      case ACCOUNTS:
        return this.dirtyAccounts.map((a) => [a.accountId, a.outletId, a.role, a.state, a.openedSeq, a.updatedSeq]);
      case ACCOUNT_CASH:
        return this.dirtyCash.map((c) => [c.accountId, c.cash, c.updatedSeq]);
      case ACCOUNT_INVENTORY:
        return this.dirtyPositions.map((p) => [p.accountId, p.productId, p.units, p.updatedSeq]);
      case TRADING_DAYS:
        return this.dirtyDays.map((d) => [d.tradingDay, d.firstSeq, d.firstTimeUs, d.lastSeq, d.lastTimeUs, d.openedSeq, d.closedSeq]);
      case PRODUCT_DAY_STATS:
        return this.dirtyStats.map((s) => [s.tradingDay, s.productId, s.trades, s.volume, s.notional, s.openPrice, s.highPrice, s.lowPrice, s.closePrice, s.firstExecId, s.lastExecId]);
      default:
        throw new ReporterInvariantError(`no rows are built for table ${spec.name}`);
    }
  }
}

/** An order's row, in ORDERS column order. product_type is the product's brand (its only classification). */
export function orderRow(o: OrderRecord): SqlValue[] {
  return [
    o.orderId,
    o.accountId,
    o.productId,
    o.symbol,
    o.brand,
    o.brand,
    nameOr(SIDE_NAMES, o.side),
    nameOr(TIME_IN_FORCE_NAMES, o.timeInForce),
    o.price,
    o.quantity,
    o.filledQuantity,
    o.filledNotional,
    o.remainingQuantity,
    nameOr(ORDER_STATUS_NAMES, o.status),
    o.reason,
    o.clientOrderId,
    o.createdSeq,
    o.createdTimeUs,
    o.updatedSeq,
    o.updatedTimeUs,
  ];
}
