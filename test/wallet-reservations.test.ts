// Wallet reservations through a whole order life, with the real matching engine behind the
// journal: what a check holds, what the journaled command reserves, how fills settle both sides,
// and that cancel, IOC remainder, engine rejection, reduce-amend and expiry release the rest.
import t from 'tap';
import { RejectReason, Side, TimeInForce, OrderFlags } from '../bus/enums';
import { InProcessExchange } from '../processes/product-manager/in-process-exchange';
import type { JournalBuilder } from '../processes/product-manager/journal-builder';
import { InProcessProductManager } from '../processes/product-manager/in-process-product-manager';
import { OrderStatus } from '../bus/schema';

const PRODUCT = 1;
const BRAND = 10;
const BUYER = 101;
const SELLER = 202;
const CASH = 100_000;
const UNITS = 1_000;

/** The engine, its outputs and the product manager all caught up. */
class Market {
  readonly ex = new InProcessExchange();
  readonly pm = new InProcessProductManager(this.ex.journal);
  settle(): void {
    this.ex.settle();
    this.pm.poll();
  }
}

function market(): { ex: JournalBuilder; pm: InProcessProductManager; settle: () => void } {
  const m = new Market();
  const j = m.ex.journal;
  j.listProduct(PRODUCT, BRAND, 1, 1, 100);
  j.openAccount(BUYER);
  j.openAccount(SELLER);
  j.deposit(BUYER, CASH);
  j.receiveInventory(SELLER, PRODUCT, UNITS);
  j.openTradingDay(20250102);
  m.settle();
  return { ex: j, pm: m.pm, settle: () => m.settle() };
}

t.test('a new inflow holds price × quantity at check time and reserves it once journaled', (t) => {
  const { pm, settle } = market();
  t.equal(pm.submitNewOrder(BUYER, PRODUCT, Side.INFLOW, 105, 10), 0);
  t.match(pm.state.account(BUYER), { cashHeld: 1050, cashReserved: 0, cashAvailable: CASH - 1050 });
  pm.poll(); // the journaled NewOrder comes back: the hold becomes a reservation, not a second one
  t.match(pm.state.account(BUYER), { cashHeld: 0, cashReserved: 1050, cashAvailable: CASH - 1050 });
  settle();
  t.match(pm.state.order(pm.state.lastOrderId), { status: OrderStatus.NEW, reserved: 1050, remainingQuantity: 10 });
  pm.state.assertInvariants();
  t.end();
});

t.test('a fill at a better price settles both wallets and releases the buyer’s unused reservation', (t) => {
  const { pm, settle } = market();
  t.equal(pm.submitNewOrder(SELLER, PRODUCT, Side.OUTFLOW, 100, 10), 0);
  const sellId = pm.state.lastOrderId;
  t.match(pm.state.position(SELLER, PRODUCT), { units: UNITS, held: 10, available: UNITS - 10 });
  settle();
  t.match(pm.state.position(SELLER, PRODUCT), { units: UNITS, reserved: 10, held: 0 });
  t.equal(pm.submitNewOrder(BUYER, PRODUCT, Side.INFLOW, 105, 10), 0);
  const buyId = pm.state.lastOrderId;
  settle();
  t.match(pm.state.account(BUYER), { cash: CASH - 1000, cashReserved: 0, cashHeld: 0, cashAvailable: CASH - 1000 });
  t.match(pm.state.position(BUYER, PRODUCT), { units: 10, reserved: 0 });
  t.match(pm.state.account(SELLER), { cash: 1000, cashReserved: 0 });
  t.match(pm.state.position(SELLER, PRODUCT), { units: UNITS - 10, reserved: 0, available: UNITS - 10 });
  t.match(pm.state.order(buyId), { status: OrderStatus.FILLED, filledQuantity: 10, remainingQuantity: 0, lastPrice: 100, lastQuantity: 10 });
  t.match(pm.state.order(sellId), { status: OrderStatus.FILLED, filledQuantity: 10 });
  pm.state.assertInvariants();
  t.end();
});

t.test('a partial fill keeps the rest reserved at the limit price; cancel releases it', (t) => {
  const { pm, settle } = market();
  pm.submitNewOrder(SELLER, PRODUCT, Side.OUTFLOW, 99, 4);
  settle();
  pm.submitNewOrder(BUYER, PRODUCT, Side.INFLOW, 101, 10);
  const buyId = pm.state.lastOrderId;
  settle();
  t.match(pm.state.order(buyId), { status: OrderStatus.PARTIALLY_FILLED, filledQuantity: 4, remainingQuantity: 6, reserved: 606 });
  t.match(pm.state.account(BUYER), { cash: CASH - 396, cashReserved: 606 });
  t.equal(pm.submitCancel(BUYER, buyId), 0);
  settle();
  t.match(pm.state.order(buyId), { status: OrderStatus.CANCELED, remainingQuantity: 0, reserved: 0 });
  t.match(pm.state.account(BUYER), { cash: CASH - 396, cashReserved: 0, cashAvailable: CASH - 396 });
  pm.state.assertInvariants();
  t.end();
});

t.test('an IOC remainder and an engine rejection release what was reserved', (t) => {
  const { pm, settle } = market();
  pm.submitNewOrder(SELLER, PRODUCT, Side.OUTFLOW, 100, 3);
  settle();
  pm.submitNewOrder(BUYER, PRODUCT, Side.INFLOW, 100, 10, { timeInForce: TimeInForce.IOC });
  const iocId = pm.state.lastOrderId;
  settle();
  t.match(pm.state.order(iocId), { status: OrderStatus.CANCELED, filledQuantity: 3, reserved: 0 });
  t.match(pm.state.account(BUYER), { cash: CASH - 300, cashReserved: 0 });
  // Post-only that would take: the PM cannot know, the engine rejects it.
  pm.submitNewOrder(SELLER, PRODUCT, Side.OUTFLOW, 100, 5);
  settle();
  pm.submitNewOrder(BUYER, PRODUCT, Side.INFLOW, 100, 5, { flags: OrderFlags.POST_ONLY });
  const postOnlyId = pm.state.lastOrderId;
  settle();
  t.match(pm.state.order(postOnlyId), { status: OrderStatus.REJECTED, reserved: 0 });
  t.match(pm.state.account(BUYER), { cash: CASH - 300, cashReserved: 0 });
  pm.state.assertInvariants();
  t.end();
});

t.test('a price-up amend of an inflow needs the extra cash; a reduce-amend releases on confirmation', (t) => {
  const { pm, settle } = market();
  const { state } = pm;
  pm.submitNewOrder(BUYER, PRODUCT, Side.INFLOW, 100, 900);
  const id = state.lastOrderId;
  settle();
  t.equal(state.account(BUYER)?.cashReserved, 90_000);
  // 1000 × 105 = 105,000 > 100,000 cash.
  t.equal(pm.submitAmend(BUYER, id, 105, 1000), RejectReason.INSUFFICIENT_FUNDS);
  t.equal(pm.submitAmend(BUYER, id, 105, 900), 0);
  t.match(state.account(BUYER), { cashReserved: 90_000, cashHeld: 4_500 });
  pm.poll(); // the amend is journaled: it reserves the worst case until the engine answers
  t.match(state.account(BUYER), { cashReserved: 94_500, cashHeld: 0 });
  settle();
  t.match(state.order(id), { status: OrderStatus.REPLACED, price: 105, reserved: 94_500, pendingAmends: 0 });
  t.equal(pm.submitAmend(BUYER, id, 105, 100), 0);
  t.equal(state.account(BUYER)?.cashReserved, 94_500, 'a reduce keeps the reservation until the engine confirms it');
  settle();
  t.match(state.account(BUYER), { cashReserved: 10_500, cashAvailable: CASH - 10_500 });
  t.equal(pm.submitAmend(BUYER, id, 105, 100), RejectReason.AMEND_NO_CHANGE);
  state.assertInvariants();
  t.end();
});

t.test('a DAY order expires at the sequenced day close and releases its reservation', (t) => {
  const { ex, pm, settle } = market();
  pm.submitNewOrder(SELLER, PRODUCT, Side.OUTFLOW, 110, 50, { timeInForce: TimeInForce.DAY });
  const id = pm.state.lastOrderId;
  settle();
  t.equal(pm.state.position(SELLER, PRODUCT).reserved, 50);
  ex.closeTradingDay(20250102);
  settle();
  t.match(pm.state.order(id), { status: OrderStatus.EXPIRED, reserved: 0 });
  t.match(pm.state.position(SELLER, PRODUCT), { units: UNITS, reserved: 0, available: UNITS });
  t.equal(pm.submitNewOrder(SELLER, PRODUCT, Side.OUTFLOW, 110, 1), RejectReason.MARKET_CLOSED);
  pm.state.assertInvariants();
  t.end();
});

t.test('two rapid orders cannot spend the same cash: the second is refused before either is journaled', (t) => {
  const { pm, settle } = market();
  t.equal(pm.submitNewOrder(BUYER, PRODUCT, Side.INFLOW, 100, 600), 0);
  t.equal(pm.submitNewOrder(BUYER, PRODUCT, Side.INFLOW, 100, 600), RejectReason.INSUFFICIENT_FUNDS);
  t.equal(pm.submitNewOrder(BUYER, PRODUCT, Side.INFLOW, 100, 400), 0);
  t.equal(pm.state.account(BUYER)?.cashAvailable, 0);
  t.equal(pm.submitWithdraw(BUYER, 1, 77), RejectReason.INSUFFICIENT_FUNDS);
  t.equal(pm.submitNewOrder(SELLER, PRODUCT, Side.OUTFLOW, 100, UNITS + 1), RejectReason.INSUFFICIENT_INVENTORY);
  pm.state.assertInvariants();
  settle();
  pm.state.assertInvariants();
  t.end();
});

t.test('withdrawals and dispatches are held when checked and applied once when journaled', (t) => {
  const { pm, settle } = market();
  t.equal(pm.submitWithdraw(BUYER, 30_000, 1), 0);
  t.match(pm.state.account(BUYER), { cash: CASH, cashHeld: 30_000, cashAvailable: CASH - 30_000 });
  t.equal(pm.submitWithdraw(BUYER, 70_001, 2), RejectReason.INSUFFICIENT_FUNDS);
  t.equal(pm.submitDispatch(SELLER, PRODUCT, 400, 3), 0);
  t.equal(pm.submitNewOrder(SELLER, PRODUCT, Side.OUTFLOW, 100, 601), RejectReason.INSUFFICIENT_INVENTORY);
  settle();
  t.match(pm.state.account(BUYER), { cash: CASH - 30_000, cashHeld: 0, cashAvailable: CASH - 30_000 });
  t.match(pm.state.position(SELLER, PRODUCT), { units: UNITS - 400, held: 0 });
  pm.state.assertInvariants();
  t.end();
});

t.test('a checked command that could not be sent is abandoned: its holds and its order disappear', (t) => {
  const { pm } = market();
  const before = pm.state.stateHashHex();
  t.equal(pm.state.checkNewOrder(BUYER, PRODUCT, Side.INFLOW, 100, 10, TimeInForce.GTC, 0, 1, 1, new DataView(new ArrayBuffer(24)), 0), 0);
  const id = pm.state.lastOrderId;
  t.equal(pm.state.account(BUYER)?.cashHeld, 1000);
  t.ok(pm.state.abandonNewestInFlight());
  t.equal(pm.state.order(id), undefined);
  t.match(pm.state.account(BUYER), { cashHeld: 0, cashAvailable: CASH });
  t.equal(pm.state.inFlightCount, 0);
  t.equal(pm.state.stateHashHex(), before);
  pm.state.assertInvariants();
  t.end();
});
