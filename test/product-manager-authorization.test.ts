// No one reads or changes what is not theirs (DESIGN.md invariant 6): a colleague cannot cancel,
// amend or read another account's order — through the same checks the gateway path uses (the
// command bodies as they arrive from the gateway) — and when a foreign cancel reaches the engine
// anyway, the reply carries nothing of the other account's order.
import t from 'tap';
import { CancelReason, RejectReason, Side } from '../bus/enums';
import { decode, encode } from '../bus/codec';
import { AmendOrder, CancelOrder, ExecutionReport, NewOrder, OrderStatus } from '../bus/schema';
import { InProcessExchange } from '../processes/product-manager/in-process-exchange';
import { InProcessProductManager } from '../processes/product-manager/in-process-product-manager';

const PRODUCT = 1;
const ALICE = 101; // outlet 1
const BOB = 202; // outlet 2
const { INFLOW } = Side;

function market(): { ex: InProcessExchange; pm: InProcessProductManager; settle: () => void; bobOrder: number } {
  const ex = new InProcessExchange();
  const j = ex.journal;
  j.listProduct(PRODUCT, 5, 1, 1, 100);
  j.openAccount(ALICE, 1);
  j.openAccount(BOB, 2);
  j.deposit(ALICE, 100_000);
  j.deposit(BOB, 100_000);
  j.openTradingDay(20250106);
  const pm = new InProcessProductManager(j, { maxAccounts: 16, maxProducts: 8, initialOrderSlots: 16 });
  const settle = (): void => {
    ex.settle();
    pm.poll();
  };
  settle();
  pm.submitNewOrder(BOB, PRODUCT, INFLOW, 100, 10, { clientOrderId: 'bob-secret', gatewayId: 2, requestId: 1 });
  const bobOrder = pm.state.lastOrderId;
  settle();
  return { ex, pm, settle, bobOrder };
}

t.test('a colleague cannot cancel or amend another outlet’s order (gateway command path)', (t) => {
  const { ex, pm, bobOrder } = market();
  const before = ex.journal.length;
  const body = new DataView(new ArrayBuffer(64));
  encode(CancelOrder, { orderId: bobOrder, accountId: ALICE, productId: 0, requestId: 5, gatewayId: 1 }, body, 0);
  t.equal(pm.state.checkCancelCommand(body, 0), RejectReason.NOT_OWNER);
  encode(AmendOrder, { orderId: bobOrder, newPrice: 101, newQuantity: 1, accountId: ALICE, productId: 0, requestId: 6, gatewayId: 1 }, body, 0);
  t.equal(pm.state.checkAmendCommand(body, 0), RejectReason.NOT_OWNER);
  t.equal(pm.submitCancel(ALICE, bobOrder), RejectReason.NOT_OWNER);
  t.equal(pm.submitAmend(ALICE, bobOrder, 100, 1), RejectReason.NOT_OWNER);
  t.equal(ex.journal.length, before, 'nothing reached the sequencer');
  t.equal(pm.state.inFlightCount, 0);
  t.match(pm.state.order(bobOrder), { status: OrderStatus.NEW, remainingQuantity: 10, price: 100 });
  // The owner's own commands pass the same check.
  encode(CancelOrder, { orderId: bobOrder, accountId: BOB, productId: 0, requestId: 7, gatewayId: 2 }, body, 0);
  t.equal(pm.state.checkCancelCommand(body, 0), 0);
  t.equal(decode(CancelOrder, body, 0).productId, PRODUCT, 'the accepted command is completed with the order’s product');
  t.end();
});

t.test('a colleague cannot read another outlet’s order; nothing is written', (t) => {
  const { pm, bobOrder } = market();
  const view = new DataView(new ArrayBuffer(ExecutionReport.size));
  new Uint8Array(view.buffer).fill(0xee);
  t.equal(pm.state.executionReportFor(ALICE, bobOrder, 1, 9, view, 0), RejectReason.NOT_OWNER);
  t.ok(new Uint8Array(view.buffer).every((b) => b === 0xee), 'the buffer is untouched');
  t.equal(pm.state.executionReportFor(ALICE, 987654, 1, 9, view, 0), RejectReason.UNKNOWN_ORDER);
  t.equal(pm.state.executionReportFor(BOB, bobOrder, 2, 9, view, 0), 0);
  t.match(decode(ExecutionReport, view, 0), { orderId: bobOrder, accountId: BOB, clientOrderId: 'bob-secret' });
  t.equal(pm.state.checkOwnership(ALICE, bobOrder), RejectReason.NOT_OWNER);
  t.equal(pm.state.checkOwnership(BOB, bobOrder), 0);
  t.end();
});

t.test('a client order id of another account is not a duplicate and reveals nothing', (t) => {
  const { pm, bobOrder } = market();
  t.equal(pm.submitNewOrder(ALICE, PRODUCT, INFLOW, 100, 1, { clientOrderId: 'bob-secret' }), 0);
  t.not(pm.state.lastOrderId, bobOrder);
  t.end();
});

t.test('a foreign cancel that bypassed the checks is refused by the engine; the reply tells only the requester’s own data', (t) => {
  const { ex, pm, bobOrder } = market();
  ex.journal.append(CancelOrder, { orderId: bobOrder, accountId: ALICE, productId: PRODUCT, requestId: 77, gatewayId: 1 }, { sourceId: 55 });
  ex.settle();
  const reports = pm.pollReports();
  t.equal(reports.length, 1);
  t.match(reports[0], {
    orderId: bobOrder,
    accountId: ALICE,
    status: OrderStatus.REJECTED,
    reason: RejectReason.NOT_OWNER,
    gatewayId: 1,
    requestId: 77,
    price: 0,
    quantity: 0,
    remainingQuantity: 0,
    clientOrderId: '',
  });
  t.match(pm.state.order(bobOrder), { status: OrderStatus.NEW, remainingQuantity: 10 });
  t.end();
});

t.test('a suspended colleague may still cancel its own orders, but not place or amend', (t) => {
  const { ex, pm, settle, bobOrder } = market();
  ex.journal.suspendAccount(BOB);
  settle();
  t.equal(pm.submitNewOrder(BOB, PRODUCT, INFLOW, 100, 1), RejectReason.ACCOUNT_NOT_ACTIVE);
  t.equal(pm.submitAmend(BOB, bobOrder, 100, 5), RejectReason.ACCOUNT_NOT_ACTIVE);
  t.equal(pm.submitCancel(BOB, bobOrder, 2, 8), 0);
  ex.settle();
  const reports = pm.pollReports();
  t.match(reports, [{ orderId: bobOrder, accountId: BOB, status: OrderStatus.CANCELED, reason: CancelReason.USER, gatewayId: 2, requestId: 8 }]);
  t.equal(pm.state.account(BOB)?.cashReserved, 0);
  t.end();
});

t.test('a NewOrder body from the gateway gets its order id from the product manager', (t) => {
  const { pm } = market();
  const body = new DataView(new ArrayBuffer(NewOrder.size));
  encode(
    NewOrder,
    { orderId: 0, price: 100, quantity: 2, accountId: ALICE, productId: PRODUCT, requestId: 3, gatewayId: 1, side: INFLOW, timeInForce: 1, flags: 0, clientOrderId: 'g-1' },
    body,
    0,
  );
  t.equal(pm.state.checkNewOrderCommand(body, 0), 0);
  t.equal(decode(NewOrder, body, 0).orderId, pm.state.lastOrderId);
  t.ok(pm.state.lastOrderId > 0);
  t.end();
});
