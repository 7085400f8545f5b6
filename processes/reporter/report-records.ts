// The reporter's in-memory records: what the model keeps between journal entries (open orders,
// products, accounts, wallets, the current trading day and its product statistics) and what a
// store loads back at start. Each record remembers the batch it was last queued in (`mark`), so
// the model queues a record once per batch however many entries touch it: ten fills of one order
// in one batch are one row write.

export class OrderRecord {
  mark = 0;
  filledQuantity = 0;
  /** Σ price × quantity of its fills (for the average fill price in statements). */
  filledNotional = 0;
  remainingQuantity: number;
  /** OrderStatus code. */
  status: number;
  /** Why it was rejected, canceled or expired (a reason name), else null. */
  reason: string | null = null;
  updatedSeq: number;
  updatedTimeUs: number;

  constructor(
    readonly orderId: number,
    readonly accountId: number,
    readonly productId: number,
    readonly symbol: string,
    readonly brand: string,
    readonly side: number,
    readonly timeInForce: number,
    public price: number,
    public quantity: number,
    readonly clientOrderId: string,
    readonly createdSeq: number,
    readonly createdTimeUs: number,
    status: number,
  ) {
    this.remainingQuantity = quantity;
    this.status = status;
    this.updatedSeq = createdSeq;
    this.updatedTimeUs = createdTimeUs;
  }
}

export class ProductRecord {
  mark = 0;
  constructor(
    readonly productId: number,
    public symbol: string,
    public brand: string,
    public brandId: number,
    public tickSize: number,
    public lotSize: number,
    public referencePrice: number,
    public state: string,
    public listedSeq: number,
    public updatedSeq: number,
  ) {}
}

export class AccountRecord {
  mark = 0;
  constructor(
    readonly accountId: number,
    public outletId: number,
    public role: string,
    public state: string,
    public openedSeq: number,
    public updatedSeq: number,
  ) {}
}

export class CashRecord {
  mark = 0;
  constructor(
    readonly accountId: number,
    public cash: number,
    public updatedSeq: number,
  ) {}
}

export class PositionRecord {
  mark = 0;
  constructor(
    readonly accountId: number,
    readonly productId: number,
    public units: number,
    public updatedSeq: number,
  ) {}
}

export class TradingDayRecord {
  mark = 0;
  constructor(
    readonly tradingDay: number,
    public firstSeq: number,
    public firstTimeUs: number,
    public lastSeq: number,
    public lastTimeUs: number,
    public openedSeq: number | null,
    public closedSeq: number | null,
  ) {}
}

export class ProductDayStatsRecord {
  mark = 0;
  constructor(
    readonly tradingDay: number,
    readonly productId: number,
    public trades: number,
    public volume: number,
    public notional: number,
    public openPrice: number,
    public highPrice: number,
    public lowPrice: number,
    public closePrice: number,
    public firstExecId: number,
    public lastExecId: number,
  ) {}
}

/** Everything a restarted reporter needs to continue at lastSeq + 1, as a store loads it. */
export interface ReporterState {
  readonly lastSeq: number;
  readonly lastTimeUs: number;
  /** The day of the last TradingDayOpen applied (0 before the first). */
  readonly tradingDay: number;
  readonly products: readonly ProductRecord[];
  readonly accounts: readonly AccountRecord[];
  /** Orders whose status is open (new, partially_filled, replaced). */
  readonly openOrders: readonly OrderRecord[];
  readonly cash: readonly CashRecord[];
  readonly positions: readonly PositionRecord[];
  /** The trading day of the last entry applied (null before the first entry). */
  readonly currentDay: TradingDayRecord | null;
  /** That day's product statistics. */
  readonly currentDayStats: readonly ProductDayStatsRecord[];
}

export const EMPTY_REPORTER_STATE: ReporterState = Object.freeze({
  lastSeq: 0,
  lastTimeUs: 0,
  tradingDay: 0,
  products: [],
  accounts: [],
  openOrders: [],
  cash: [],
  positions: [],
  currentDay: null,
  currentDayStats: [],
});
