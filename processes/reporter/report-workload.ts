// A realistic journal for the reporter's tests and benchmark: colleagues of several outlets trading
// many products through the REAL product manager (risk, wallet checks, order ids, client order ids)
// and the REAL matching engine, with deposits, withdrawals, receipts, dispatches, cancels, amends,
// every time in force and trading-day rollovers. Commands and engine outputs are interleaved at
// random (commands journaled before earlier commands' outputs, the product manager reading
// behind), as the processes interleave them. Deterministic for a seed.
//
// It returns the in-memory journal (JournalBuilder: entries laid out exactly as the sequencer
// journals them) and the live product manager's state, an independent implementation of order
// state and wallets that tests hold the reporter's records against.

import { OrderFlags, RiskRuleKind, SelfTradePolicy, Side, TimeInForce } from '../../bus/enums';
import { InProcessExchange } from '../product-manager/in-process-exchange';
import { InProcessProductManager } from '../product-manager/in-process-product-manager';
import type { JournalBuilder } from '../product-manager/journal-builder';
import type { ProductManagerState } from '../product-manager/product-manager-state';

export interface WorkloadOptions {
  readonly seed: number;
  /** Colleague accounts (ids 1..accounts). */
  readonly accounts?: number;
  /** Outlets the accounts belong to (account a is in outlet 1 + a % outlets). */
  readonly outlets?: number;
  /** Products (ids 1..products), over a few brands. */
  readonly products?: number;
  /** Commands submitted (orders, cancels, amends, movements); many more journal entries result. */
  readonly operations: number;
  /** Every this many operations the trading day closes and the next opens (0: one day). */
  readonly dayEvery?: number;
  /** Largest pending-work lag: how far the engine and the product manager may fall behind. */
  readonly maxLag?: number;
  /** yyyymmdd of the first trading day. */
  readonly firstDay?: number;
  /** Timestamp (µs) of the first entry; entries are 1 µs apart unless stepped. */
  readonly startTimestampUs?: number;
}

export interface Workload {
  readonly journal: JournalBuilder;
  readonly exchange: InProcessExchange;
  readonly productManager: InProcessProductManager;
  readonly pm: ProductManagerState;
  readonly accountIds: readonly number[];
  readonly productIds: readonly number[];
  readonly tradingDays: readonly number[];
  /** Commands the product manager accepted, and refused (by reason code). */
  readonly accepted: number;
  readonly refused: Readonly<Record<number, number>>;
}

/** mulberry32: a small, fast, seedable PRNG (no Math.random: the workload is reproducible). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const REFERENCE_PRICE = 1_000;
const START_CASH = 1_000_000_000;
const START_UNITS = 1_000_000;
const STOCKED_ONE_IN = 4;
const SELF_TRADE_POLICIES = [SelfTradePolicy.CANCEL_NEWEST, SelfTradePolicy.CANCEL_OLDEST, SelfTradePolicy.CANCEL_BOTH, SelfTradePolicy.DECREMENT_AND_CANCEL];
const TIME_IN_FORCE = [TimeInForce.GTC, TimeInForce.GTC, TimeInForce.GTC, TimeInForce.DAY, TimeInForce.IOC, TimeInForce.FOK];

export function buildWorkload(options: WorkloadOptions): Workload {
  const random = seededRandom(options.seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
  const accountCount = options.accounts ?? 20;
  const outlets = options.outlets ?? 4;
  const productCount = options.products ?? 8;
  const maxLag = options.maxLag ?? 8;
  const ex = new InProcessExchange();
  const journal = ex.journal;
  if (options.startTimestampUs !== undefined) journal.timestampUs = options.startTimestampUs;
  const accountIds = Array.from({ length: accountCount }, (_, i) => i + 1);
  const productIds = Array.from({ length: productCount }, (_, i) => i + 1);
  const ticks = productIds.map((p) => (p % 3 === 0 ? 5 : 1));
  const lots = productIds.map((p) => (p % 4 === 0 ? 10 : 1));
  for (const p of productIds) {
    journal.listProduct(p, 1 + (p % 3), ticks[p - 1]!, lots[p - 1]!, REFERENCE_PRICE, `SKU-${p}`, SELF_TRADE_POLICIES[p % SELF_TRADE_POLICIES.length]);
  }
  // The workload is about volume, not risk limits: lift the daily limits for everyone.
  journal.setRiskRule(RiskRuleKind.NOTIONAL_DAILY, 1e15);
  journal.setRiskRule(RiskRuleKind.BRAND_DAILY_UNITS, 1e12);
  // Each colleague stocks a share of the catalogue (every product is stocked by some) and sells
  // from it; anyone may buy anything.
  const stocked = new Map<number, number[]>();
  for (const a of accountIds) {
    journal.openAccount(a, 1 + (a % outlets));
    journal.deposit(a, START_CASH);
    const own = productIds.filter((p) => (a + p) % STOCKED_ONE_IN === 0 || productCount < STOCKED_ONE_IN);
    stocked.set(a, own.length > 0 ? own : [productIds[a % productCount]!]);
    for (const p of stocked.get(a)!) journal.receiveInventory(a, p, START_UNITS);
  }
  let day = options.firstDay ?? 20250106;
  const tradingDays = [day];
  journal.openTradingDay(day);
  const pm = new InProcessProductManager(journal, { sourceId: 1, epoch: 1 });
  ex.settle();
  pm.poll();

  const orderIds: number[] = [];
  const owner = new Map<number, number>();
  const refused: Record<number, number> = {};
  let accepted = 0;
  let reference = 1_000_000;
  let request = 0;
  const note = (result: number): void => {
    if (result === 0) accepted++;
    else refused[result] = (refused[result] ?? 0) + 1;
  };
  const pickOrder = (): number | undefined => (orderIds.length === 0 ? undefined : orderIds[orderIds.length - 1 - Math.min(orderIds.length - 1, Math.floor(random() * random() * 400))]);
  const priceFor = (p: number): number => {
    const tick = ticks[p - 1]!;
    return Math.max(tick, Math.round(int(REFERENCE_PRICE - 40, REFERENCE_PRICE + 40) / tick) * tick);
  };

  for (let op = 0; op < options.operations; op++) {
    if (options.dayEvery !== undefined && options.dayEvery > 0 && op > 0 && op % options.dayEvery === 0) {
      journal.closeTradingDay(day);
      day = nextWeekday(day);
      tradingDays.push(day);
      journal.openTradingDay(day);
    }
    const a = accountIds[int(0, accountIds.length - 1)]!;
    const own = stocked.get(a)!;
    const r = random();
    const outflow = random() < 0.5;
    const p = outflow || r >= 0.91 ? own[int(0, own.length - 1)]! : productIds[int(0, productIds.length - 1)]!;
    if (r < 0.58) {
      const tif = TIME_IN_FORCE[int(0, TIME_IN_FORCE.length - 1)]!;
      const postOnly = (tif === TimeInForce.GTC || tif === TimeInForce.DAY) && random() < 0.1;
      const result = pm.submitNewOrder(a, p, outflow ? Side.OUTFLOW : Side.INFLOW, priceFor(p), int(1, 40) * lots[p - 1]!, {
        timeInForce: tif,
        flags: postOnly ? OrderFlags.POST_ONLY : 0,
        clientOrderId: random() < 0.3 ? `k${a}-${int(0, 5000)}` : '',
        requestId: ++request,
      });
      note(result);
      if (result === 0) {
        orderIds.push(pm.state.lastOrderId);
        owner.set(pm.state.lastOrderId, a);
      }
    } else if (r < 0.74) {
      const id = pickOrder();
      if (id !== undefined) note(pm.submitCancel(random() < 0.9 ? owner.get(id)! : a, id));
    } else if (r < 0.88) {
      const id = pickOrder();
      const view = id === undefined ? undefined : pm.state.order(id);
      if (id !== undefined && view !== undefined) note(pm.submitAmend(owner.get(id)!, id, priceFor(view.productId), int(1, 45) * lots[view.productId - 1]!));
    } else if (r < 0.91) {
      journal.deposit(a, int(1, 500_000));
    } else if (r < 0.94) {
      note(pm.submitWithdraw(a, int(1, 300_000), ++reference));
    } else if (r < 0.97) {
      journal.receiveInventory(a, p, int(1, 500));
    } else {
      note(pm.submitDispatch(a, p, int(1, 500), ++reference));
    }
    // The engine and the product manager follow at their own pace.
    if (random() < 0.7) ex.runEngine(int(1, maxLag));
    if (random() < 0.7) ex.flushOutputs(int(1, maxLag * 2));
    if (random() < 0.7 || pm.follower.behind > maxLag * 8) pm.poll(int(1, maxLag * 3));
  }
  ex.settle();
  pm.poll();
  return { journal, exchange: ex, productManager: pm, pm: pm.state, accountIds, productIds, tradingDays, accepted, refused };
}

/** The next Monday-to-Friday date after yyyymmdd `day`. */
export function nextWeekday(day: number): number {
  const d = new Date(Date.UTC(Math.floor(day / 10_000), (Math.floor(day / 100) % 100) - 1, day % 100));
  do d.setUTCDate(d.getUTCDate() + 1);
  while (d.getUTCDay() === 0 || d.getUTCDay() === 6);
  return d.getUTCFullYear() * 10_000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
}
