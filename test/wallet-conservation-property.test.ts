// Property: over random workloads — deposits, withdrawals, receipts, dispatches, orders on both
// sides with every time in force, cancels and amends (also of other accounts' orders), day closes
// and opens — run through the real matching engine with the journal, the engine and the product
// manager interleaved at random (commands journaled before earlier commands' outputs, the product
// manager reading behind both, so its own commands are in flight):
//   * cash and each product's units are conserved across all accounts, except deposits,
//     withdrawals, receipts and dispatches;
//   * reserved = Σ open orders' reservations, held = Σ in-flight holds, available ≥ 0, after
//     every step (assertInvariants recomputes all of it);
//   * a state rebuilt by replaying the same journal prefix has the live state's hash, whatever is
//     in flight; and nothing stays in flight once everything is journaled.
// (A withdrawal or dispatch the product manager refused to apply would break conservation, since
// the expected totals are summed from the journal itself.)
import t from 'tap';
import fc from 'fast-check';
import { RejectReason, SelfTradePolicy, Side, TimeInForce, OrderFlags } from '../bus/enums';
import { readI64, readU32 } from '../bus/codec';
import { Deposit, InventoryDispatch, InventoryReceipt, JOURNAL_HEADER_BYTES, TypeId, Withdraw } from '../bus/schema';
import { InProcessExchange } from '../processes/product-manager/in-process-exchange';
import { InProcessProductManager } from '../processes/product-manager/in-process-product-manager';
import { ProductManagerState, type ProductManagerOptions } from '../processes/product-manager/product-manager-state';
import type { JournalBuilder } from '../processes/product-manager/journal-builder';

const SEED = Number(process.env.IMS_TEST_SEED ?? 0x5eed_3b1d);
const RUNS = Number(process.env.IMS_TEST_RUNS ?? 250);
t.comment(`seed ${SEED} (set IMS_TEST_SEED to change), ${RUNS} runs`);

const ACCOUNTS = [11, 12, 13, 14, 15];
// Every self-trade policy, so partial self-trade cancels (decrement) and canceled makers happen too.
const PRODUCTS = [
  { id: 1, brand: 7, tick: 1, lot: 1, selfTrade: SelfTradePolicy.CANCEL_NEWEST },
  { id: 2, brand: 7, tick: 2, lot: 5, selfTrade: SelfTradePolicy.DECREMENT_AND_CANCEL },
  { id: 3, brand: 8, tick: 5, lot: 1, selfTrade: SelfTradePolicy.CANCEL_OLDEST },
  { id: 4, brand: 8, tick: 1, lot: 1, selfTrade: SelfTradePolicy.CANCEL_BOTH },
];
const REFERENCE_PRICE = 1000;
const SMALL: ProductManagerOptions = { maxAccounts: 16, maxProducts: 8, maxBrands: 8, initialOrderSlots: 16 };

type Op =
  | { kind: 'new'; a: number; p: number; side: number; price: number; lots: number; tif: number; postOnly: boolean; coid: number }
  | { kind: 'cancel'; a: number; own: boolean; pick: number }
  | { kind: 'amend'; a: number; own: boolean; pick: number; price: number; lots: number }
  | { kind: 'engine'; n: number }
  | { kind: 'flush'; n: number }
  | { kind: 'poll'; n: number }
  | { kind: 'deposit'; a: number; amount: number }
  | { kind: 'withdraw'; a: number; amount: number }
  | { kind: 'receipt'; a: number; p: number; units: number }
  | { kind: 'dispatch'; a: number; p: number; units: number }
  | { kind: 'day' }
  | { kind: 'replay' };

const account = fc.integer({ min: 0, max: ACCOUNTS.length - 1 });
const product = fc.integer({ min: 0, max: PRODUCTS.length - 1 });
// Within the default 10 % collar of any trade price that can happen here.
const price = fc.integer({ min: 960, max: 1040 });
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('new' as const),
      a: account,
      p: product,
      side: fc.constantFrom(Side.INFLOW, Side.OUTFLOW),
      price,
      lots: fc.integer({ min: 1, max: 40 }),
      tif: fc.constantFrom(TimeInForce.GTC, TimeInForce.GTC, TimeInForce.DAY, TimeInForce.IOC, TimeInForce.FOK),
      postOnly: fc.boolean(),
      coid: fc.integer({ min: 0, max: 30 }),
    }),
  },
  // Mostly the owner's own cancels and amends; sometimes another account tries.
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), a: account, own: fc.boolean(), pick: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('amend' as const), a: account, own: fc.boolean(), pick: fc.nat(), price, lots: fc.integer({ min: 1, max: 50 }) }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('engine' as const), n: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('flush' as const), n: fc.integer({ min: 1, max: 10 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('poll' as const), n: fc.integer({ min: 1, max: 12 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deposit' as const), a: account, amount: fc.integer({ min: 1, max: 200_000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('withdraw' as const), a: account, amount: fc.integer({ min: 1, max: 200_000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('receipt' as const), a: account, p: product, units: fc.integer({ min: 1, max: 300 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('dispatch' as const), a: account, p: product, units: fc.integer({ min: 1, max: 300 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'day' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'replay' as const }) },
);

/** Σ deposits − withdrawals and Σ receipts − dispatches per product over journal entries [0, to). */
function externalFlows(journal: JournalBuilder, to: number): { cash: number; units: Map<number, number> } {
  let cash = 0;
  const units = new Map<number, number>();
  const v = journal.view;
  for (let i = 0; i < to; i++) {
    const e = journal.entries[i];
    const b = e.offset + JOURNAL_HEADER_BYTES;
    if (e.typeId === TypeId.Deposit) cash += readI64(v, b + Deposit.o.amount);
    else if (e.typeId === TypeId.Withdraw) cash -= readI64(v, b + Withdraw.o.amount);
    else if (e.typeId === TypeId.InventoryReceipt) {
      const p = readU32(v, b + InventoryReceipt.o.productId);
      units.set(p, (units.get(p) ?? 0) + readI64(v, b + InventoryReceipt.o.quantity));
    } else if (e.typeId === TypeId.InventoryDispatch) {
      const p = readU32(v, b + InventoryDispatch.o.productId);
      units.set(p, (units.get(p) ?? 0) - readI64(v, b + InventoryDispatch.o.quantity));
    }
  }
  return { cash, units };
}

function assertConservedAndReplayable(pm: InProcessProductManager, journal: JournalBuilder): void {
  const state = pm.state;
  state.assertInvariants();
  const flows = externalFlows(journal, pm.follower.cursor);
  if (state.totalCash() !== flows.cash) throw new Error(`cash ${state.totalCash()} ≠ external flows ${flows.cash}`);
  for (const p of PRODUCTS) {
    const expected = flows.units.get(p.id) ?? 0;
    if (state.totalUnits(p.id) !== expected) throw new Error(`product ${p.id}: ${state.totalUnits(p.id)} units ≠ external flows ${expected}`);
  }
  const replayed = new ProductManagerState({ ...SMALL, sourceId: 77 });
  journal.replayInto(replayed, 0, pm.follower.cursor);
  replayed.assertInvariants();
  if (replayed.stateHashHex() !== state.stateHashHex()) throw new Error(`replayed hash ${replayed.stateHashHex()} ≠ live ${state.stateHashHex()} at entry ${pm.follower.cursor}`);
}

function run(startCash: number, startUnits: number, ops: readonly Op[]): { orders: number; fills: number; rejects: Record<number, number> } {
  const ex = new InProcessExchange();
  const journal = ex.journal;
  for (const p of PRODUCTS) journal.listProduct(p.id, p.brand, p.tick, p.lot, REFERENCE_PRICE, `P${p.id}`, p.selfTrade);
  for (const a of ACCOUNTS) {
    journal.openAccount(a);
    journal.deposit(a, startCash);
    for (const p of PRODUCTS) journal.receiveInventory(a, p.id, startUnits);
  }
  let day = 20250101;
  journal.openTradingDay(day);
  const pm = new InProcessProductManager(journal, SMALL);
  ex.settle();
  pm.poll();
  const orderIds: number[] = [];
  const owners = new Map<number, number>();
  const rejects: Record<number, number> = {};
  let reference = 0;
  const note = (result: number): void => {
    if (result !== 0) rejects[result] = (rejects[result] ?? 0) + 1;
  };
  for (const o of ops) {
    switch (o.kind) {
      case 'new': {
        const p = PRODUCTS[o.p];
        const px = Math.max(p.tick, Math.round(o.price / p.tick) * p.tick);
        const postOnly = o.postOnly && (o.tif === TimeInForce.GTC || o.tif === TimeInForce.DAY);
        const result = pm.submitNewOrder(ACCOUNTS[o.a], p.id, o.side, px, o.lots * p.lot, {
          timeInForce: o.tif,
          flags: postOnly ? OrderFlags.POST_ONLY : 0,
          clientOrderId: o.coid === 0 ? '' : `c-${o.coid}`,
          requestId: orderIds.length + 1,
        });
        note(result);
        if (result === 0) {
          orderIds.push(pm.state.lastOrderId);
          owners.set(pm.state.lastOrderId, ACCOUNTS[o.a]);
        }
        break;
      }
      case 'cancel': {
        if (orderIds.length === 0) break;
        const id = orderIds[o.pick % orderIds.length];
        note(pm.submitCancel(o.own ? (owners.get(id) as number) : ACCOUNTS[o.a], id));
        break;
      }
      case 'amend': {
        if (orderIds.length === 0) break;
        const id = orderIds[o.pick % orderIds.length];
        const view = pm.state.order(id);
        const p = PRODUCTS.find((x) => x.id === view?.productId) ?? PRODUCTS[0];
        const px = Math.max(p.tick, Math.round(o.price / p.tick) * p.tick);
        note(pm.submitAmend(o.own ? (owners.get(id) as number) : ACCOUNTS[o.a], id, px, o.lots * p.lot));
        break;
      }
      case 'engine':
        ex.runEngine(o.n);
        break;
      case 'flush':
        ex.flushOutputs(o.n);
        break;
      case 'poll':
        pm.poll(o.n);
        break;
      case 'deposit':
        journal.deposit(ACCOUNTS[o.a], o.amount);
        break;
      case 'withdraw':
        note(pm.submitWithdraw(ACCOUNTS[o.a], o.amount, ++reference));
        break;
      case 'receipt':
        journal.receiveInventory(ACCOUNTS[o.a], PRODUCTS[o.p].id, o.units);
        break;
      case 'dispatch':
        note(pm.submitDispatch(ACCOUNTS[o.a], PRODUCTS[o.p].id, o.units, ++reference));
        break;
      case 'day':
        // The day rolls over: DAY orders expire, counters reset (the product manager may read the
        // close before the open and see the market closed in between).
        journal.closeTradingDay(day);
        journal.openTradingDay(++day);
        break;
      case 'replay':
        assertConservedAndReplayable(pm, journal);
        break;
    }
    pm.state.assertInvariants();
  }
  ex.settle();
  pm.poll();
  assertConservedAndReplayable(pm, journal);
  if (pm.state.inFlightCount !== 0) throw new Error(`${pm.state.inFlightCount} commands still in flight after everything was journaled`);
  let fills = 0;
  for (const e of journal.entries) if (e.typeId === TypeId.Fill) fills++;
  return { orders: orderIds.length, fills, rejects };
}

t.test('cash and units are conserved, reservations add up and replay matches, over random interleaved workloads', (t) => {
  let orders = 0;
  let fills = 0;
  const rejects: Record<number, number> = {};
  fc.assert(
    // Tight wallets (a few orders' worth) as well as roomy ones.
    fc.property(fc.integer({ min: 5_000, max: 500_000 }), fc.integer({ min: 5, max: 500 }), fc.array(op, { minLength: 20, maxLength: 220, size: 'max' }), (cash, units, ops) => {
      const r = run(cash, units, ops);
      orders += r.orders;
      fills += r.fills;
      for (const [k, v] of Object.entries(r.rejects)) rejects[Number(k)] = (rejects[Number(k)] ?? 0) + v;
    }),
    { seed: SEED, numRuns: RUNS },
  );
  t.comment(`${orders} orders accepted, ${fills} fills; check rejects by reason: ${JSON.stringify(rejects)}`);
  t.ok(fills > 100, 'the workload trades');
  t.ok((rejects[RejectReason.INSUFFICIENT_FUNDS] ?? 0) + (rejects[RejectReason.INSUFFICIENT_INVENTORY] ?? 0) > 0, 'the workload reaches the wallet limits');
  t.ok((rejects[RejectReason.NOT_OWNER] ?? 0) > 0, 'the workload tries other accounts’ orders');
  t.end();
});
