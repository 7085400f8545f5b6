// Client order ids are idempotent per account: a resubmission returns the original order and
// creates nothing — while the original is in flight, open or finished, and after a product
// manager is rebuilt from the journal — within the stated window (the trading day) and memory
// bound (finished orders per account and exchange-wide).
import t from 'tap';
import { RejectReason, Side, TimeInForce } from '../bus/enums';
import { decode } from '../bus/codec';
import { ExecutionReport, OrderStatus } from '../bus/schema';
import { CHECK_DUPLICATE, ProductManagerState, type ProductManagerOptions } from '../processes/product-manager/product-manager-state';
import { InProcessExchange } from '../processes/product-manager/in-process-exchange';
import { InProcessProductManager } from '../processes/product-manager/in-process-product-manager';
import { clientOrderIdField } from '../processes/product-manager/journal-builder';
import { CLIENT_ORDER_ID_WINDOW, MAX_FINISHED_ORDERS, MAX_FINISHED_ORDERS_PER_ACCOUNT } from '../processes/product-manager/pm-limits';

const PRODUCT = 1;
const A = 101;
const B = 202;
const SMALL: ProductManagerOptions = { maxAccounts: 16, maxProducts: 8, initialOrderSlots: 16 };
const { INFLOW, OUTFLOW } = Side;

function market(options: ProductManagerOptions = SMALL): { ex: InProcessExchange; pm: InProcessProductManager; settle: () => void } {
  const ex = new InProcessExchange();
  const j = ex.journal;
  j.listProduct(PRODUCT, 5, 1, 1, 100);
  for (const account of [A, B]) {
    j.openAccount(account);
    j.deposit(account, 1_000_000);
    j.receiveInventory(account, PRODUCT, 1_000);
  }
  j.openTradingDay(20250106);
  const pm = new InProcessProductManager(j, options);
  const settle = (): void => {
    ex.settle();
    pm.poll();
  };
  settle();
  return { ex, pm, settle };
}

t.test(`the window and the memory bound are named: ${CLIENT_ORDER_ID_WINDOW}, ${MAX_FINISHED_ORDERS_PER_ACCOUNT} finished orders per account, ${MAX_FINISHED_ORDERS} in all`, (t) => {
  t.equal(CLIENT_ORDER_ID_WINDOW, 'trading day');
  t.ok(MAX_FINISHED_ORDERS_PER_ACCOUNT > 0 && MAX_FINISHED_ORDERS >= MAX_FINISHED_ORDERS_PER_ACCOUNT);
  t.end();
});

t.test('the same client order id twice while the first is in flight creates one order and holds cash once', (t) => {
  const { pm, settle } = market();
  t.equal(pm.submitNewOrder(A, PRODUCT, INFLOW, 100, 10, { clientOrderId: 'kiosk-7-0001' }), 0);
  const id = pm.state.lastOrderId;
  t.equal(pm.submitNewOrder(A, PRODUCT, INFLOW, 100, 10, { clientOrderId: 'kiosk-7-0001' }), CHECK_DUPLICATE);
  t.equal(pm.state.lastOrderId, id, 'the duplicate names the original order');
  t.equal(pm.state.account(A)?.cashHeld, 1_000);
  settle();
  t.equal(pm.submitNewOrder(A, PRODUCT, INFLOW, 99, 3, { clientOrderId: 'kiosk-7-0001' }), CHECK_DUPLICATE, 'different fields, same id: still the original');
  t.equal(pm.state.lastOrderId, id);
  t.equal(pm.state.account(A)?.cashReserved, 1_000);
  t.equal(pm.state.account(A)?.openOrders, 1);
  pm.state.assertInvariants();
  t.end();
});

t.test('a resubmission of a filled order returns the original order’s report', (t) => {
  const { pm, settle } = market();
  pm.submitNewOrder(B, PRODUCT, OUTFLOW, 100, 10);
  pm.submitNewOrder(A, PRODUCT, INFLOW, 100, 10, { clientOrderId: 'buy-1' });
  const id = pm.state.lastOrderId;
  settle();
  t.equal(pm.submitNewOrder(A, PRODUCT, INFLOW, 100, 10, { clientOrderId: 'buy-1' }), CHECK_DUPLICATE);
  const view = new DataView(new ArrayBuffer(ExecutionReport.size));
  t.equal(pm.state.executionReportFor(A, pm.state.lastOrderId, 3, 44, view, 0), 0);
  t.match(decode(ExecutionReport, view, 0), {
    orderId: id,
    status: OrderStatus.FILLED,
    filledQuantity: 10,
    remainingQuantity: 0,
    clientOrderId: 'buy-1',
    gatewayId: 3,
    requestId: 44,
  });
  t.equal(pm.state.position(A, PRODUCT).units, 1_010, 'bought once');
  t.end();
});

t.test('idempotency survives a rebuild from the journal (a product manager restart)', (t) => {
  const { ex, pm, settle } = market();
  pm.submitNewOrder(A, PRODUCT, INFLOW, 100, 10, { clientOrderId: 'restart-1' });
  const id = pm.state.lastOrderId;
  pm.submitNewOrder(A, PRODUCT, INFLOW, 100, 5, { clientOrderId: 'restart-2' });
  settle();
  const rebuilt = new ProductManagerState({ ...SMALL, sourceId: 1, epoch: 2 });
  ex.journal.replayInto(rebuilt);
  t.equal(rebuilt.stateHashHex(), pm.state.stateHashHex());
  const check = (coid: string): number =>
    rebuilt.checkNewOrder(A, PRODUCT, INFLOW, 100, 10, TimeInForce.GTC, 0, 1, 9, clientOrderIdField(coid), 0);
  t.equal(check('restart-1'), CHECK_DUPLICATE);
  t.equal(rebuilt.lastOrderId, id);
  t.equal(check('restart-3'), 0, 'a new id is a new order');
  t.equal(rebuilt.lastOrderId, id + 2, 'the order id counter is rebuilt: max seen + 1');
  t.end();
});

t.test('client order ids are per account, and an empty one opts out', (t) => {
  const { pm } = market();
  t.equal(pm.submitNewOrder(A, PRODUCT, INFLOW, 100, 1, { clientOrderId: 'same' }), 0);
  t.equal(pm.submitNewOrder(B, PRODUCT, INFLOW, 100, 1, { clientOrderId: 'same' }), 0, 'B’s "same" is not A’s');
  t.equal(pm.submitNewOrder(A, PRODUCT, INFLOW, 100, 1), 0);
  t.equal(pm.submitNewOrder(A, PRODUCT, INFLOW, 100, 1), 0, 'no client order id: two orders');
  t.end();
});

t.test('a refused or abandoned order does not use up its client order id', (t) => {
  const { pm } = market();
  t.equal(pm.submitNewOrder(A, PRODUCT, INFLOW, 100, 100_000, { clientOrderId: 'retry-me' }), RejectReason.INSUFFICIENT_FUNDS);
  t.equal(pm.submitNewOrder(A, PRODUCT, INFLOW, 100, 10, { clientOrderId: 'retry-me' }), 0);
  const coid = clientOrderIdField('abandoned');
  t.equal(pm.state.checkNewOrder(A, PRODUCT, INFLOW, 100, 1, TimeInForce.GTC, 0, 1, 1, coid, 0), 0);
  t.ok(pm.state.abandonNewestInFlight());
  t.equal(pm.state.checkNewOrder(A, PRODUCT, INFLOW, 100, 1, TimeInForce.GTC, 0, 1, 1, coid, 0), 0);
  t.end();
});

t.test('the window is the trading day: finished orders are forgotten at the next TradingDayOpen, open ones are kept', (t) => {
  const { ex, pm, settle } = market();
  pm.submitNewOrder(A, PRODUCT, INFLOW, 100, 1, { clientOrderId: 'day1-finished', timeInForce: TimeInForce.IOC });
  pm.submitNewOrder(A, PRODUCT, INFLOW, 100, 1, { clientOrderId: 'day1-open' });
  const openId = pm.state.lastOrderId;
  settle();
  t.equal(pm.submitNewOrder(A, PRODUCT, INFLOW, 100, 1, { clientOrderId: 'day1-finished' }), CHECK_DUPLICATE, 'same day: remembered');
  ex.journal.closeTradingDay(20250106);
  ex.journal.openTradingDay(20250107);
  settle();
  t.equal(pm.submitNewOrder(A, PRODUCT, INFLOW, 100, 1, { clientOrderId: 'day1-open' }), CHECK_DUPLICATE, 'the GTC order is still open');
  t.equal(pm.state.lastOrderId, openId);
  t.equal(pm.submitNewOrder(A, PRODUCT, INFLOW, 100, 1, { clientOrderId: 'day1-finished' }), 0, 'a new day: the id is free again');
  t.end();
});

t.test('the memory bound: past N finished orders per account the oldest is forgotten, deterministically', (t) => {
  const options = { ...SMALL, maxFinishedOrdersPerAccount: 3, maxFinishedOrders: 4 };
  const { ex, pm, settle } = market(options);
  for (let i = 1; i <= 4; i++) pm.submitNewOrder(A, PRODUCT, INFLOW, 100, 1, { clientOrderId: `a-${i}`, timeInForce: TimeInForce.IOC });
  for (let i = 1; i <= 2; i++) pm.submitNewOrder(B, PRODUCT, INFLOW, 100, 1, { clientOrderId: `b-${i}`, timeInForce: TimeInForce.IOC });
  settle();
  const dup = (account: number, coid: string): boolean => pm.submitNewOrder(account, PRODUCT, INFLOW, 100, 1, { clientOrderId: coid }) === CHECK_DUPLICATE;
  // Finished in this order: a-1 a-2 a-3 a-4 (a-1 forgotten: 3 per account), b-1, b-2 (a-2
  // forgotten: 4 in all, the oldest first).
  t.notOk(dup(A, 'a-1'), 'A’s oldest finished order went at A’s fourth');
  t.notOk(dup(A, 'a-2'), 'the exchange-wide oldest went at the fifth finished order in all');
  t.ok(dup(A, 'a-3') && dup(A, 'a-4') && dup(B, 'b-1') && dup(B, 'b-2'));
  const rebuilt = new ProductManagerState({ ...options, sourceId: 9 });
  ex.journal.replayInto(rebuilt, 0, pm.follower.cursor);
  t.equal(rebuilt.stateHashHex(), pm.state.stateHashHex(), 'a replay forgets exactly the same orders');
  t.end();
});
