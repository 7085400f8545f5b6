// A trivial, obviously correct reference model of the matching engine, for property tests: plain
// objects in plain arrays, linear scans, a sort to find the best order. It implements the same
// command API and the same output contract (which outputs, in which order) as
// processes/matching-engine/engine.ts, written from the rules rather than from the engine's code:
//
// - price-time priority: better price first, then earlier arrival; a fill is at the resting price;
// - every change of a price level is followed by that level's new aggregate (onBookLevel);
// - new order: fills; then Accepted + level (rests), or Canceled IOC_REMAINDER, or nothing (filled);
//   FOK that cannot fill completely (own orders stop it unless the policy is CANCEL_OLDEST):
//   Canceled FOK_NOT_FILLABLE; post-only that would take: Rejected POST_ONLY_WOULD_TAKE;
// - amend: same price and less quantity keeps priority; otherwise back of the queue, and a new price
//   leaves the old level, may take, and rests at the new one;
// - self-trade: see the policy table in order-book.ts (the rules, restated in selfTrade() below);
// - finished orders are remembered in a table of `capacity` entries; a later finished order whose
//   id maps to the same entry replaces (forgets) the earlier one.
//
// The file also holds what the engine test files share: a sink that records every output as a
// plain tuple, the command vocabulary, and a runner that feeds one command to either model.

import fc from 'fast-check';
import { CancelReason, OrderFlags, RejectReason, SelfTradePolicy, Side, TimeInForce } from '../bus/enums';
import { Engine, type EngineOptions } from '../processes/matching-engine/engine';
import type { EngineSink } from '../processes/matching-engine/engine-sink';

const MAX_ORDER_QUANTITY = 2 ** 30; // the engine's bound (engine-limits.ts), restated

interface RefOrder {
  id: number;
  account: number;
  productId: number;
  side: number;
  price: number;
  /** Current total quantity (shrinks with self-trade decrements). */
  quantity: number;
  cum: number;
  leaves: number;
  tif: number;
  flags: number;
  /** Arrival time for priority; a new arrival (or loss of priority) takes the next tick of `clock`. */
  time: number;
}

interface RefProduct {
  id: number;
  tick: number;
  lot: number;
  policy: number;
  halted: boolean;
  /** Resting orders of both sides, in no particular order. */
  resting: RefOrder[];
}

interface Finished {
  id: number;
  account: number;
  productId: number;
  reason: number; // the RejectReason an amend/cancel of it gets
}

export interface ReferenceOptions {
  selfTradePolicy?: number;
  terminalOrderMemoryCapacity?: number;
}

const isId = (v: number): boolean => Number.isSafeInteger(v) && v > 0;
/** Accounts are u32 on the wire (bus/schema.ts). */
const isAccount = (v: number): boolean => Number.isInteger(v) && v >= 1 && v <= 0xffffffff;

export class ReferenceEngine {
  private readonly products = new Map<number, RefProduct>();
  /** Finished orders by entry (see entryOf). */
  private readonly finished = new Map<number, Finished>();
  private readonly capacity: number;
  private readonly defaultPolicy: number;
  private nextExecId = 1;
  private clock = 0;
  private inSeq = -1;
  private out = 0;

  constructor(
    private readonly sink: EngineSink,
    options: ReferenceOptions = {},
  ) {
    this.capacity = options.terminalOrderMemoryCapacity ?? 2 ** 20;
    this.defaultPolicy = options.selfTradePolicy ?? SelfTradePolicy.CANCEL_NEWEST;
  }

  listProduct(inSeq: number, _ts: number, productId: number, tickSize: number, lotSize: number, selfTradePolicy = 0): number {
    this.begin(inSeq);
    if (!isAccount(productId) || !isId(tickSize) || !isId(lotSize)) return RejectReason.INVALID_COMMAND; // product ids are u32 too
    const policy = selfTradePolicy === 0 ? this.defaultPolicy : selfTradePolicy;
    if (![1, 2, 3, 4].includes(policy)) return RejectReason.INVALID_COMMAND;
    if (this.products.has(productId)) return RejectReason.PRODUCT_ALREADY_LISTED;
    this.products.set(productId, { id: productId, tick: tickSize, lot: lotSize, policy, halted: false, resting: [] });
    return RejectReason.NONE;
  }

  haltProduct(inSeq: number, _ts: number, productId: number): number {
    this.begin(inSeq);
    const p = this.products.get(productId);
    if (!p) return RejectReason.UNKNOWN_PRODUCT;
    p.halted = true;
    return RejectReason.NONE;
  }

  resumeProduct(inSeq: number, _ts: number, productId: number): number {
    this.begin(inSeq);
    const p = this.products.get(productId);
    if (!p) return RejectReason.UNKNOWN_PRODUCT;
    p.halted = false;
    return RejectReason.NONE;
  }

  delistProduct(inSeq: number, _ts: number, productId: number): number {
    this.begin(inSeq);
    const p = this.products.get(productId);
    if (!p) return RejectReason.UNKNOWN_PRODUCT;
    for (const side of [Side.INFLOW, Side.OUTFLOW]) {
      for (const o of this.inPriority(p, side)) this.cancelResting(p, o, CancelReason.DELISTED);
    }
    this.products.delete(productId);
    return RejectReason.NONE;
  }

  newOrder(
    inSeq: number,
    _ts: number,
    orderId: number,
    accountId: number,
    productId: number,
    side: number,
    price: number,
    quantity: number,
    tif: number,
    flags: number,
  ): number {
    this.begin(inSeq);
    const reject = (reason: number): number => {
      this.sink.onRejected(this.inSeq, this.out++, orderId, accountId, productId, reason);
      return this.out;
    };
    const validShape =
      isId(orderId) &&
      isAccount(accountId) &&
      (side === Side.INFLOW || side === Side.OUTFLOW) &&
      [TimeInForce.GTC, TimeInForce.DAY, TimeInForce.IOC, TimeInForce.FOK].includes(tif as 1) &&
      (flags === 0 || (flags === OrderFlags.POST_ONLY && (tif === TimeInForce.GTC || tif === TimeInForce.DAY)));
    if (!validShape) return reject(RejectReason.INVALID_COMMAND);
    const p = this.products.get(productId);
    if (!p) return reject(RejectReason.UNKNOWN_PRODUCT);
    if (p.halted) return reject(RejectReason.PRODUCT_HALTED);
    if (!isId(price) || price % p.tick !== 0) return reject(RejectReason.INVALID_PRICE);
    if (!isId(quantity) || quantity > MAX_ORDER_QUANTITY || quantity % p.lot !== 0) return reject(RejectReason.INVALID_QUANTITY);
    if (this.findResting(orderId) || this.findFinished(orderId)) return reject(RejectReason.DUPLICATE_ORDER_ID);

    const crossing = this.crossing(p, side, price);
    if (flags === OrderFlags.POST_ONLY && crossing.length > 0) return reject(RejectReason.POST_ONLY_WOULD_TAKE);
    if (tif === TimeInForce.FOK) {
      let available = 0;
      for (const o of crossing) {
        if (o.account === accountId) {
          if (p.policy === SelfTradePolicy.CANCEL_OLDEST) continue;
          break;
        }
        available += o.leaves;
      }
      if (available < quantity) {
        this.sink.onCanceled(this.inSeq, this.out++, orderId, accountId, productId, side, price, quantity, 0, CancelReason.FOK_NOT_FILLABLE);
        this.remember(orderId, accountId, productId, RejectReason.ALREADY_CANCELED);
        return this.out;
      }
    }
    const taker: RefOrder = { id: orderId, account: accountId, productId, side, price, quantity, cum: 0, leaves: quantity, tif, flags, time: 0 };
    this.takeThenRest(p, taker, true);
    return this.out;
  }

  cancel(inSeq: number, _ts: number, orderId: number, accountId: number): number {
    this.begin(inSeq);
    if (!isId(orderId) || !isAccount(accountId)) {
      this.sink.onRejected(this.inSeq, this.out++, orderId, accountId, 0, RejectReason.INVALID_COMMAND);
      return this.out;
    }
    const found = this.findResting(orderId);
    if (!found) {
      this.rejectNotResting(orderId, accountId);
      return this.out;
    }
    const [p, o] = found;
    if (o.account !== accountId) {
      this.sink.onRejected(this.inSeq, this.out++, orderId, accountId, p.id, RejectReason.NOT_OWNER);
      return this.out;
    }
    this.cancelResting(p, o, CancelReason.USER);
    return this.out;
  }

  amend(inSeq: number, _ts: number, orderId: number, accountId: number, newPrice: number, newQuantity: number): number {
    this.begin(inSeq);
    if (!isId(orderId) || !isAccount(accountId)) {
      this.sink.onRejected(this.inSeq, this.out++, orderId, accountId, 0, RejectReason.INVALID_COMMAND);
      return this.out;
    }
    const found = this.findResting(orderId);
    if (!found) {
      this.rejectNotResting(orderId, accountId);
      return this.out;
    }
    const [p, o] = found;
    const reject = (reason: number): number => {
      this.sink.onRejected(this.inSeq, this.out++, orderId, accountId, p.id, reason);
      return this.out;
    };
    if (o.account !== accountId) return reject(RejectReason.NOT_OWNER);
    if (p.halted) return reject(RejectReason.PRODUCT_HALTED);
    if (!isId(newPrice) || newPrice % p.tick !== 0) return reject(RejectReason.INVALID_PRICE);
    if (!isId(newQuantity) || newQuantity > MAX_ORDER_QUANTITY || newQuantity % p.lot !== 0 || newQuantity <= o.cum) {
      return reject(RejectReason.INVALID_QUANTITY);
    }
    if (newPrice === o.price && newQuantity === o.quantity) return reject(RejectReason.AMEND_NO_CHANGE);
    if (o.flags === OrderFlags.POST_ONLY && newPrice !== o.price && this.crossing(p, o.side, newPrice).length > 0) {
      return reject(RejectReason.POST_ONLY_WOULD_TAKE);
    }
    const oldPrice = o.price;
    const newLeaves = newQuantity - o.cum;
    if (newPrice === oldPrice && newLeaves < o.leaves) {
      o.leaves = newLeaves;
      o.quantity = newQuantity;
      this.sink.onAmended(this.inSeq, this.out++, o.id, o.account, p.id, o.side, oldPrice, newPrice, newQuantity, newLeaves, false);
      this.publishLevel(p, o.side, oldPrice);
      return this.out;
    }
    this.sink.onAmended(this.inSeq, this.out++, o.id, o.account, p.id, o.side, oldPrice, newPrice, newQuantity, newLeaves, true);
    if (newPrice === oldPrice) {
      o.leaves = newLeaves;
      o.quantity = newQuantity;
      o.time = ++this.clock;
      this.publishLevel(p, o.side, oldPrice);
      return this.out;
    }
    p.resting.splice(p.resting.indexOf(o), 1);
    this.publishLevel(p, o.side, oldPrice);
    o.price = newPrice;
    o.leaves = newLeaves;
    o.quantity = newQuantity;
    this.takeThenRest(p, o, false);
    return this.out;
  }

  closeTradingDay(inSeq: number, _ts: number, _tradingDay = 0): number {
    this.begin(inSeq);
    const ids = [...this.products.keys()].sort((a, b) => a - b);
    for (const id of ids) {
      const p = this.products.get(id) as RefProduct;
      for (const side of [Side.INFLOW, Side.OUTFLOW]) {
        for (const o of this.inPriority(p, side)) {
          if (o.tif !== TimeInForce.DAY) continue;
          this.sink.onExpired(this.inSeq, this.out++, o.id, o.account, p.id, o.side, o.price, o.leaves);
          p.resting.splice(p.resting.indexOf(o), 1);
          this.publishLevel(p, o.side, o.price);
          this.remember(o.id, o.account, p.id, RejectReason.ALREADY_EXPIRED);
        }
      }
    }
    return this.out;
  }

  /** Resting orders of one side in priority order, as the engine's restingOrders() reports them. */
  restingOrders(productId: number, side: number): Array<Record<string, number>> {
    const p = this.products.get(productId);
    if (!p) return [];
    return this.inPriority(p, side).map((o) => ({
      orderId: o.id,
      accountId: o.account,
      productId,
      side,
      price: o.price,
      quantity: o.quantity,
      leavesQuantity: o.leaves,
      cumQuantity: o.cum,
      timeInForce: o.tif,
      flags: o.flags,
    }));
  }

  // --- the rules -----------------------------------------------------------------------------------

  private takeThenRest(p: RefProduct, taker: RefOrder, isNew: boolean): void {
    const outcome = this.match(p, taker);
    if (outcome === 'filled') {
      this.remember(taker.id, taker.account, p.id, RejectReason.ALREADY_FILLED);
      return;
    }
    if (outcome === 'canceled') {
      this.remember(taker.id, taker.account, p.id, RejectReason.ALREADY_CANCELED);
      return;
    }
    if (taker.tif === TimeInForce.IOC) {
      this.sink.onCanceled(this.inSeq, this.out++, taker.id, taker.account, p.id, taker.side, taker.price, taker.leaves, 0, CancelReason.IOC_REMAINDER);
      this.remember(taker.id, taker.account, p.id, RejectReason.ALREADY_CANCELED);
      return;
    }
    if (isNew) {
      this.sink.onAccepted(this.inSeq, this.out++, taker.id, taker.account, p.id, taker.side, taker.price, taker.quantity, taker.leaves);
    }
    taker.time = ++this.clock;
    p.resting.push(taker);
    this.publishLevel(p, taker.side, taker.price);
  }

  private match(p: RefProduct, taker: RefOrder): 'open' | 'filled' | 'canceled' {
    while (taker.leaves > 0) {
      const crossing = this.crossing(p, taker.side, taker.price);
      if (crossing.length === 0) return 'open';
      const maker = crossing[0];
      if (maker.account === taker.account) {
        if (this.selfTrade(p, taker, maker)) return 'canceled';
        continue;
      }
      const quantity = Math.min(taker.leaves, maker.leaves);
      maker.leaves -= quantity;
      maker.cum += quantity;
      taker.leaves -= quantity;
      taker.cum += quantity;
      this.sink.onFill(
        this.inSeq,
        this.out++,
        this.nextExecId++,
        p.id,
        maker.price,
        quantity,
        taker.side,
        maker.id,
        maker.account,
        maker.leaves,
        maker.cum,
        taker.id,
        taker.account,
        taker.leaves,
        taker.cum,
      );
      if (maker.leaves === 0) {
        p.resting.splice(p.resting.indexOf(maker), 1);
        this.remember(maker.id, maker.account, p.id, RejectReason.ALREADY_FILLED);
      }
      this.publishLevel(p, maker.side, maker.price);
    }
    return 'filled';
  }

  /** Applies the product's self-trade policy; true when the taker is done (canceled). */
  private selfTrade(p: RefProduct, taker: RefOrder, maker: RefOrder): boolean {
    const cancelTaker = (canceled: number): void => {
      taker.leaves -= canceled;
      taker.quantity -= canceled;
      this.sink.onCanceled(this.inSeq, this.out++, taker.id, taker.account, p.id, taker.side, taker.price, canceled, taker.leaves, CancelReason.SELF_TRADE);
    };
    switch (p.policy) {
      case SelfTradePolicy.CANCEL_NEWEST:
        cancelTaker(taker.leaves);
        return true;
      case SelfTradePolicy.CANCEL_OLDEST:
        this.cancelResting(p, maker, CancelReason.SELF_TRADE);
        return false;
      case SelfTradePolicy.CANCEL_BOTH:
        this.cancelResting(p, maker, CancelReason.SELF_TRADE);
        cancelTaker(taker.leaves);
        return true;
      default: {
        const d = Math.min(taker.leaves, maker.leaves);
        if (d === maker.leaves) {
          this.cancelResting(p, maker, CancelReason.SELF_TRADE);
        } else {
          maker.leaves -= d;
          maker.quantity -= d;
          this.sink.onCanceled(this.inSeq, this.out++, maker.id, maker.account, p.id, maker.side, maker.price, d, maker.leaves, CancelReason.SELF_TRADE);
          this.publishLevel(p, maker.side, maker.price);
        }
        cancelTaker(d);
        return taker.leaves === 0;
      }
    }
  }

  private cancelResting(p: RefProduct, o: RefOrder, reason: number): void {
    this.sink.onCanceled(this.inSeq, this.out++, o.id, o.account, p.id, o.side, o.price, o.leaves, 0, reason);
    p.resting.splice(p.resting.indexOf(o), 1);
    this.publishLevel(p, o.side, o.price);
    this.remember(o.id, o.account, p.id, RejectReason.ALREADY_CANCELED);
  }

  /** Opposite orders an order of `side` at `price` would match, best first. */
  private crossing(p: RefProduct, side: number, price: number): RefOrder[] {
    const opposite = side === Side.INFLOW ? Side.OUTFLOW : Side.INFLOW;
    return this.inPriority(p, opposite).filter((o) => (side === Side.INFLOW ? o.price <= price : o.price >= price));
  }

  private inPriority(p: RefProduct, side: number): RefOrder[] {
    return p.resting
      .filter((o) => o.side === side)
      .sort((a, b) => (a.price !== b.price ? (side === Side.INFLOW ? b.price - a.price : a.price - b.price) : a.time - b.time));
  }

  private publishLevel(p: RefProduct, side: number, price: number): void {
    const at = p.resting.filter((o) => o.side === side && o.price === price);
    const quantity = at.reduce((s, o) => s + o.leaves, 0);
    this.sink.onBookLevel(this.inSeq, this.out++, p.id, side, price, quantity, at.length);
  }

  private findResting(id: number): [RefProduct, RefOrder] | undefined {
    for (const p of this.products.values()) {
      const o = p.resting.find((r) => r.id === id);
      if (o) return [p, o];
    }
    return undefined;
  }

  /**
   * The entry a finished order id occupies, restated from the engine's rule: the id's low 32 bits,
   * xor those bits shifted right by 15, xor (high 32 bits times 0x9e3779b1 mod 2^32), modulo the
   * capacity (a power of two).
   */
  private entryOf(id: number): number {
    const lo = id % 2 ** 32;
    const hi = Math.floor(id / 2 ** 32);
    const mixedHi = Number((BigInt(hi) * 0x9e3779b1n) % 2n ** 32n);
    return Number((BigInt(lo) ^ BigInt(Math.floor(lo / 2 ** 15)) ^ BigInt(mixedHi)) % BigInt(this.capacity));
  }

  private findFinished(id: number): Finished | undefined {
    const f = this.finished.get(this.entryOf(id));
    return f !== undefined && f.id === id ? f : undefined;
  }

  private remember(id: number, account: number, productId: number, reason: number): void {
    this.finished.set(this.entryOf(id), { id, account, productId, reason });
  }

  private rejectNotResting(orderId: number, accountId: number): void {
    const f = this.findFinished(orderId);
    if (!f) this.sink.onRejected(this.inSeq, this.out++, orderId, accountId, 0, RejectReason.UNKNOWN_ORDER);
    else if (f.account !== accountId) this.sink.onRejected(this.inSeq, this.out++, orderId, accountId, f.productId, RejectReason.NOT_OWNER);
    else this.sink.onRejected(this.inSeq, this.out++, orderId, accountId, f.productId, f.reason);
  }

  private begin(inSeq: number): void {
    if (!(inSeq > this.inSeq)) throw new Error(`reference: inSeq ${inSeq} after ${this.inSeq}`);
    this.inSeq = inSeq;
    this.out = 0;
  }
}

// --- recording sink ----------------------------------------------------------------------------------

/** One output as a plain tuple: [kind, inSeq, outIndex, ...fields in the sink's argument order]. */
export type Output = readonly [string, ...Array<number | boolean>];

/** Records every output; `outputs` compares with t.same / JSON. */
export class RecordingSink implements EngineSink {
  readonly outputs: Output[] = [];
  onAccepted(...a: [number, number, number, number, number, number, number, number, number]): void {
    this.outputs.push(['accepted', ...a]);
  }
  onRejected(...a: [number, number, number, number, number, number]): void {
    this.outputs.push(['rejected', ...a]);
  }
  onFill(...a: [number, number, number, number, number, number, number, number, number, number, number, number, number, number, number]): void {
    this.outputs.push(['fill', ...a]);
  }
  onCanceled(...a: [number, number, number, number, number, number, number, number, number, number]): void {
    this.outputs.push(['canceled', ...a]);
  }
  onAmended(...a: [number, number, number, number, number, number, number, number, number, number, boolean]): void {
    this.outputs.push(['amended', ...a]);
  }
  onExpired(...a: [number, number, number, number, number, number, number, number]): void {
    this.outputs.push(['expired', ...a]);
  }
  onBookLevel(...a: [number, number, number, number, number, number, number]): void {
    this.outputs.push(['level', ...a]);
  }
}

// --- commands ------------------------------------------------------------------------------------------

export type EngineCommand =
  | { kind: 'list'; productId: number; tickSize: number; lotSize: number; policy: number }
  | { kind: 'halt' | 'resume' | 'delist'; productId: number }
  | {
      kind: 'new';
      orderId: number;
      accountId: number;
      productId: number;
      side: number;
      price: number;
      quantity: number;
      tif: number;
      flags: number;
    }
  | { kind: 'cancel'; orderId: number; accountId: number }
  | { kind: 'amend'; orderId: number; accountId: number; newPrice: number; newQuantity: number }
  | { kind: 'close'; tradingDay: number };

/** What both the engine and the reference implement. */
export interface CommandTarget {
  listProduct(inSeq: number, ts: number, productId: number, tickSize: number, lotSize: number, policy?: number): number;
  haltProduct(inSeq: number, ts: number, productId: number): number;
  resumeProduct(inSeq: number, ts: number, productId: number): number;
  delistProduct(inSeq: number, ts: number, productId: number): number;
  newOrder(
    inSeq: number,
    ts: number,
    orderId: number,
    accountId: number,
    productId: number,
    side: number,
    price: number,
    quantity: number,
    tif: number,
    flags: number,
  ): number;
  cancel(inSeq: number, ts: number, orderId: number, accountId: number): number;
  amend(inSeq: number, ts: number, orderId: number, accountId: number, newPrice: number, newQuantity: number): number;
  closeTradingDay(inSeq: number, ts: number, tradingDay?: number): number;
}

/** Applies one command; the result of an admin command (a RejectReason) is recorded as an output too. */
export function applyCommand(target: CommandTarget, inSeq: number, c: EngineCommand, record: Output[]): void {
  const ts = 1_700_000_000_000_000 + inSeq * 10;
  switch (c.kind) {
    case 'list':
      record.push(['admin-result', inSeq, target.listProduct(inSeq, ts, c.productId, c.tickSize, c.lotSize, c.policy)]);
      return;
    case 'halt':
      record.push(['admin-result', inSeq, target.haltProduct(inSeq, ts, c.productId)]);
      return;
    case 'resume':
      record.push(['admin-result', inSeq, target.resumeProduct(inSeq, ts, c.productId)]);
      return;
    case 'delist':
      record.push(['admin-result', inSeq, target.delistProduct(inSeq, ts, c.productId)]);
      return;
    case 'new':
      target.newOrder(inSeq, ts, c.orderId, c.accountId, c.productId, c.side, c.price, c.quantity, c.tif, c.flags);
      return;
    case 'cancel':
      target.cancel(inSeq, ts, c.orderId, c.accountId);
      return;
    case 'amend':
      target.amend(inSeq, ts, c.orderId, c.accountId, c.newPrice, c.newQuantity);
      return;
    case 'close':
      target.closeTradingDay(inSeq, ts, c.tradingDay);
      return;
  }
}

// --- random command streams --------------------------------------------------------------------------

/** Products of every random scenario: ids, ticks and lots differ so unit conversions are exercised. */
export const SCENARIO_PRODUCTS = [
  { productId: 1, tickSize: 1, lotSize: 1 },
  { productId: 7, tickSize: 5, lotSize: 10 },
  { productId: 42, tickSize: 25, lotSize: 1 },
] as const;

/**
 * An abstract step; `pick` chooses among previously used order ids at resolution time, so cancels
 * and amends usually target real (resting or finished) orders while the arbitrary stays stateless.
 */
type Step =
  | {
      t: 'new';
      product: number;
      account: number;
      side: number;
      tick: number;
      /** Ticks inflows sit below, and outflows above, the mid: the larger, the deeper the books. */
      skew: number;
      lots: number;
      tif: number;
      postOnly: boolean;
      dup: number;
      bad: number;
    }
  | { t: 'cancel'; pick: number; wrongOwner: boolean }
  | { t: 'amend'; pick: number; wrongOwner: boolean; dTick: number; dLots: number; bad: number }
  | { t: 'halt' | 'resume' | 'delist' | 'relist'; product: number }
  | { t: 'close' };

const ACCOUNTS = 4; // few accounts, so self-trades are frequent
const MID_TICKS = 100;

/**
 * 'mixed': everything, including invalid input, halts and delistings. 'busy': valid orders only on
 * open products, longer streams, so books grow several levels deep and sweeps cross many of them.
 */
export type ScenarioProfile = 'mixed' | 'busy';

function stepArbitrary(profile: ScenarioProfile): fc.Arbitrary<Step> {
  const busy = profile === 'busy';
  return fc.oneof(
    {
      weight: busy ? 60 : 50,
      arbitrary: fc.record({
        t: fc.constant('new' as const),
        product: fc.nat(SCENARIO_PRODUCTS.length - 1),
        account: fc.integer({ min: 1, max: ACCOUNTS }),
        side: fc.constantFrom(Side.INFLOW, Side.OUTFLOW),
        tick: busy ? fc.integer({ min: -8, max: 8 }) : fc.integer({ min: -3, max: 3 }),
        skew: busy ? fc.constant(4) : fc.constant(0),
        lots: busy ? fc.integer({ min: 1, max: 12 }) : fc.integer({ min: 1, max: 6 }),
        tif: fc.constantFrom(
          TimeInForce.GTC,
          TimeInForce.GTC,
          TimeInForce.GTC,
          TimeInForce.DAY,
          TimeInForce.DAY,
          TimeInForce.IOC,
          TimeInForce.FOK,
        ),
        postOnly: fc.nat(5).map((n) => n === 0),
        dup: busy ? fc.constant(1) : fc.nat(30), // 0: reuse an existing id
        bad: busy ? fc.constant(99) : fc.nat(40), // 0..5: an invalid field
      }),
    },
    {
      weight: busy ? 10 : 14,
      arbitrary: fc.record({ t: fc.constant('cancel' as const), pick: fc.nat(1000), wrongOwner: fc.nat(15).map((n) => !busy && n === 0) }),
    },
    {
      weight: busy ? 30 : 24,
      arbitrary: fc.record({
        t: fc.constant('amend' as const),
        pick: fc.nat(1000),
        wrongOwner: fc.nat(15).map((n) => !busy && n === 0),
        dTick: busy ? fc.integer({ min: -6, max: 6 }) : fc.integer({ min: -3, max: 3 }),
        dLots: fc.integer({ min: -3, max: 3 }),
        bad: busy ? fc.constant(99) : fc.nat(30),
      }),
    },
    // Resume and relist are likelier than halt and delist, so products are mostly open for trading.
    {
      weight: busy ? 0 : 3,
      arbitrary: fc.record({
        t: fc.constantFrom('halt' as const, 'resume' as const, 'resume' as const, 'resume' as const),
        product: fc.nat(SCENARIO_PRODUCTS.length - 1),
      }),
    },
    {
      weight: busy ? 0 : 2,
      arbitrary: fc.record({
        t: fc.constantFrom('delist' as const, 'relist' as const, 'relist' as const, 'relist' as const),
        product: fc.nat(SCENARIO_PRODUCTS.length - 1),
      }),
    },
    { weight: busy ? 1 : 2, arbitrary: fc.constant({ t: 'close' as const }) },
  );
}

/** Mostly one of the last dozen orders (likely still resting), sometimes any earlier one. */
function pickIssued<T>(issued: readonly T[], pick: number): T {
  if (pick % 5 === 0) return issued[pick % issued.length];
  return issued[issued.length - 1 - (pick % Math.min(issued.length, 12))];
}

export interface Scenario {
  policies: number[];
  terminalOrderMemoryCapacity: number;
  commands: EngineCommand[];
}

/**
 * Turns abstract steps into concrete commands. Deterministic, and independent of any engine's state:
 * it only remembers which ids and (product, side, price, quantity) it has issued.
 */
export function resolveSteps(policies: readonly number[], steps: readonly Step[], idBase = 1000): EngineCommand[] {
  const commands: EngineCommand[] = [];
  SCENARIO_PRODUCTS.forEach((p, i) => commands.push({ kind: 'list', ...p, policy: policies[i] }));
  const issued: Array<{ orderId: number; accountId: number; productIndex: number; tick: number; lots: number }> = [];
  let nextId = idBase;
  for (const s of steps) {
    switch (s.t) {
      case 'new': {
        const p = SCENARIO_PRODUCTS[s.product];
        let orderId = nextId++;
        if (s.dup === 0 && issued.length > 0) orderId = issued[orderId % issued.length].orderId;
        const tick = MID_TICKS + s.tick + (s.side === Side.INFLOW ? -s.skew : s.skew);
        let price = tick * p.tickSize;
        let quantity = s.lots * p.lotSize;
        let side: number = s.side;
        let tif: number = s.tif;
        if (s.bad === 0) price += p.tickSize > 1 ? 1 : -price; // off tick, or zero
        if (s.bad === 1) quantity = p.lotSize > 1 ? quantity + 1 : 0; // off lot, or zero
        if (s.bad === 2) side = 3;
        if (s.bad === 3) tif = 9;
        const flags = s.postOnly && (tif === TimeInForce.GTC || tif === TimeInForce.DAY || s.bad === 4) ? OrderFlags.POST_ONLY : 0;
        commands.push({ kind: 'new', orderId, accountId: s.account, productId: s.bad === 5 ? 99 : p.productId, side, price, quantity, tif, flags });
        issued.push({ orderId, accountId: s.account, productIndex: s.product, tick, lots: s.lots });
        break;
      }
      case 'cancel': {
        if (issued.length === 0) break;
        const o = pickIssued(issued, s.pick);
        commands.push({ kind: 'cancel', orderId: s.pick % 97 === 0 ? idBase + 999_999 : o.orderId, accountId: s.wrongOwner ? (o.accountId % ACCOUNTS) + 1 : o.accountId });
        break;
      }
      case 'amend': {
        if (issued.length === 0) break;
        const o = pickIssued(issued, s.pick);
        const p = SCENARIO_PRODUCTS[o.productIndex];
        const tick = o.tick + s.dTick;
        const lots = Math.max(1, o.lots + s.dLots);
        let newPrice = tick * p.tickSize;
        let newQuantity = lots * p.lotSize;
        if (s.bad === 0) newPrice = 0;
        if (s.bad === 1) newQuantity = p.lotSize > 1 ? newQuantity + 1 : 0;
        commands.push({
          kind: 'amend',
          orderId: o.orderId,
          accountId: s.wrongOwner ? (o.accountId % ACCOUNTS) + 1 : o.accountId,
          newPrice,
          newQuantity,
        });
        if (s.bad > 1) {
          o.tick = tick;
          o.lots = lots;
        }
        break;
      }
      case 'halt':
      case 'resume':
      case 'delist':
        commands.push({ kind: s.t, productId: SCENARIO_PRODUCTS[s.product].productId });
        break;
      case 'relist': {
        const p = SCENARIO_PRODUCTS[s.product];
        commands.push({ kind: 'list', ...p, policy: policies[s.product] });
        break;
      }
      case 'close':
        commands.push({ kind: 'close', tradingDay: 20240101 + commands.length });
        break;
    }
  }
  return commands;
}

/** A random scenario: per-product self-trade policies, a small finished-order memory, and commands. */
export function scenarioArbitrary(minSteps: number, maxSteps: number, profile: ScenarioProfile = 'mixed'): fc.Arbitrary<Scenario> {
  return fc
    .record({
      policies: fc.tuple(
        ...SCENARIO_PRODUCTS.map(() =>
          fc.constantFrom(
            SelfTradePolicy.CANCEL_NEWEST,
            SelfTradePolicy.CANCEL_OLDEST,
            SelfTradePolicy.CANCEL_BOTH,
            SelfTradePolicy.DECREMENT_AND_CANCEL,
          ),
        ),
      ),
      terminalOrderMemoryCapacity: fc.constantFrom(8, 64, 1024),
      // Small ids, ids around 2^32 (the u32 boundary of hashes and words) and ids near 2^53.
      idBase: fc.constantFrom(1000, 2 ** 32 - 100, 2 ** 53 - 2_000_000),
      steps: fc.array(stepArbitrary(profile), { minLength: minSteps, maxLength: maxSteps, size: 'max' }),
    })
    .map(({ policies, terminalOrderMemoryCapacity, idBase, steps }) => ({
      policies,
      terminalOrderMemoryCapacity,
      commands: resolveSteps(policies, steps, idBase),
    }));
}

/** Small pools, so that growth by doubling is exercised and thousands of engines are cheap. */
export const SMALL_ENGINE_SIZING = {
  initialOrderCapacity: 2,
  initialLevelCapacity: 2,
  initialOrderIndexCapacity: 2,
} as const;

/** The first output where two streams differ, described for a failure message; undefined if equal. */
export function firstDifference(a: readonly Output[], b: readonly Output[]): string | undefined {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = JSON.stringify(a[i]);
    const y = JSON.stringify(b[i]);
    if (x !== y) {
      return `output #${i} differs:\n  engine:    ${x}\n  reference: ${y}\n  context:   ${JSON.stringify(a.slice(Math.max(0, i - 4), i))}`;
    }
  }
  return undefined;
}

// --- a readable harness for behaviour tests ---------------------------------------------------------

const FIELD_NAMES: Readonly<Record<string, readonly string[]>> = {
  accepted: ['orderId', 'accountId', 'productId', 'side', 'price', 'quantity', 'leavesQuantity'],
  rejected: ['orderId', 'accountId', 'productId', 'reason'],
  fill: [
    'execId',
    'productId',
    'price',
    'quantity',
    'takerSide',
    'makerOrderId',
    'makerAccountId',
    'makerLeaves',
    'makerCumQuantity',
    'takerOrderId',
    'takerAccountId',
    'takerLeaves',
    'takerCumQuantity',
  ],
  canceled: ['orderId', 'accountId', 'productId', 'side', 'price', 'canceledQuantity', 'leavesQuantity', 'reason'],
  amended: ['orderId', 'accountId', 'productId', 'side', 'oldPrice', 'newPrice', 'newQuantity', 'leavesQuantity', 'lostPriority'],
  expired: ['orderId', 'accountId', 'productId', 'side', 'price', 'expiredQuantity'],
  level: ['productId', 'side', 'price', 'quantity', 'orderCount'],
};

export type NamedOutput = { kind: string } & Record<string, number | boolean | string>;

/** An output tuple as an object with the sink's field names, for readable assertions. */
export function named(o: Output): NamedOutput {
  const [kind, inSeq, outIndex, ...rest] = o;
  const out: NamedOutput = { kind, inSeq: inSeq as number, outIndex: outIndex as number };
  (FIELD_NAMES[kind] ?? []).forEach((name, i) => (out[name] = rest[i] as number | boolean));
  return out;
}

/** An engine with a recording sink and its own journal sequence; each command returns its outputs, named. */
export class TestMarket {
  readonly sink = new RecordingSink();
  readonly engine: Engine;
  seq = 0;

  constructor(options: EngineOptions = {}) {
    this.engine = new Engine(this.sink, options);
  }

  list(productId = 1, tickSize = 1, lotSize = 1, policy = 0): number {
    return this.engine.listProduct(++this.seq, this.seq, productId, tickSize, lotSize, policy);
  }

  order(
    orderId: number,
    accountId: number,
    side: number,
    price: number,
    quantity: number,
    tif: number = TimeInForce.GTC,
    flags = 0,
    productId = 1,
  ): NamedOutput[] {
    return this.capture(() => this.engine.newOrder(++this.seq, this.seq, orderId, accountId, productId, side, price, quantity, tif, flags));
  }

  buy(orderId: number, accountId: number, price: number, quantity: number, tif: number = TimeInForce.GTC, flags = 0): NamedOutput[] {
    return this.order(orderId, accountId, Side.INFLOW, price, quantity, tif, flags);
  }

  sell(orderId: number, accountId: number, price: number, quantity: number, tif: number = TimeInForce.GTC, flags = 0): NamedOutput[] {
    return this.order(orderId, accountId, Side.OUTFLOW, price, quantity, tif, flags);
  }

  cancel(orderId: number, accountId: number): NamedOutput[] {
    return this.capture(() => this.engine.cancel(++this.seq, this.seq, orderId, accountId));
  }

  amend(orderId: number, accountId: number, newPrice: number, newQuantity: number): NamedOutput[] {
    return this.capture(() => this.engine.amend(++this.seq, this.seq, orderId, accountId, newPrice, newQuantity));
  }

  closeDay(tradingDay = 20240102): NamedOutput[] {
    return this.capture(() => this.engine.closeTradingDay(++this.seq, this.seq, tradingDay));
  }

  halt(productId = 1): number {
    return this.engine.haltProduct(++this.seq, this.seq, productId);
  }

  resume(productId = 1): number {
    return this.engine.resumeProduct(++this.seq, this.seq, productId);
  }

  delist(productId = 1): NamedOutput[] {
    let reason = 0;
    const outputs = this.capture(() => {
      reason = this.engine.delistProduct(++this.seq, this.seq, productId);
      return -1; // admin commands return a reason, not an output count
    });
    return [{ kind: 'admin-result', reason }, ...outputs];
  }

  /** Order ids resting on one side, in priority order. */
  queue(side: number, productId = 1): number[] {
    return this.engine.restingOrders(productId, side).map((o) => o.orderId);
  }

  private capture(run: () => number): NamedOutput[] {
    const from = this.sink.outputs.length;
    const count = run();
    const outputs = this.sink.outputs.slice(from);
    if (count !== -1 && outputs.length !== count) throw new Error(`command reported ${count} outputs but emitted ${outputs.length}`);
    return outputs.map(named);
  }
}
