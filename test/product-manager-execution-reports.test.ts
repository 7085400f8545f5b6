// Engine outputs from the journal become execution reports for the gateway that owns the session:
// every field of ExecutionReport, for every order status, routed by the echoed gatewayId /
// requestId (or the order's own session for what the engine did on its own).
import t from 'tap';
import { CancelReason, OrderFlags, RejectReason, Side, TimeInForce } from '../bus/enums';
import { decode, encode, readI64 } from '../bus/codec';
import { AmendOrder, ExecutionReport, JournalHeader, OrderStatus } from '../bus/schema';
import { InProcessExchange } from '../processes/product-manager/in-process-exchange';
import { InProcessProductManager } from '../processes/product-manager/in-process-product-manager';

const PRODUCT = 7;
const ALICE = 101;
const BOB = 202;
const ALICE_GW = 3;
const BOB_GW = 4;
const { INFLOW, OUTFLOW } = Side;

function market(): { ex: InProcessExchange; pm: InProcessProductManager } {
  const ex = new InProcessExchange();
  const j = ex.journal;
  j.listProduct(PRODUCT, 5, 5, 10, 1_000);
  j.openAccount(ALICE, 1);
  j.openAccount(BOB, 2);
  j.deposit(ALICE, 10_000_000);
  j.receiveInventory(BOB, PRODUCT, 10_000);
  j.openTradingDay(20250106);
  const pm = new InProcessProductManager(j, { maxAccounts: 16, maxProducts: 8, initialOrderSlots: 16 });
  ex.settle();
  pm.poll();
  return { ex, pm };
}

t.test('a resting order is reported NEW with its creation time, then both sides of each fill', (t) => {
  const { ex, pm } = market();
  pm.submitNewOrder(BOB, PRODUCT, OUTFLOW, 1_000, 30, { clientOrderId: 'bob-1', gatewayId: BOB_GW, requestId: 11 });
  const sell = pm.state.lastOrderId;
  const newOrderEntry = ex.journal.entries[ex.journal.length - 1];
  ex.settle();
  const accepted = pm.pollReports();
  t.equal(accepted.length, 1);
  t.match(accepted[0], {
    orderId: sell,
    accountId: BOB,
    productId: PRODUCT,
    side: OUTFLOW,
    price: 1_000,
    quantity: 30,
    filledQuantity: 0,
    remainingQuantity: 30,
    status: OrderStatus.NEW,
    timeInForce: TimeInForce.GTC,
    gatewayId: BOB_GW,
    requestId: 11,
    clientOrderId: 'bob-1',
    lastPrice: 0,
    lastQuantity: 0,
    execId: 0,
  });
  t.equal(accepted[0].creationTimeUs, readI64(ex.journal.view, newOrderEntry.offset + JournalHeader.o.timestampUs), 'creation time = the journal time of the NewOrder');
  t.equal(accepted[0].eventSeq, ex.journal.entries[ex.journal.length - 1].seq, 'eventSeq = the journal seq of the OrderAccepted');

  pm.submitNewOrder(ALICE, PRODUCT, INFLOW, 1_005, 20, { clientOrderId: 'alice-1', gatewayId: ALICE_GW, requestId: 21 });
  const buy = pm.state.lastOrderId;
  ex.settle();
  const fill = pm.pollReports();
  t.equal(fill.length, 2, 'one report per side');
  t.match(fill[0], { orderId: sell, accountId: BOB, gatewayId: BOB_GW, status: OrderStatus.PARTIALLY_FILLED, lastPrice: 1_000, lastQuantity: 20, filledQuantity: 20, remainingQuantity: 10 });
  t.match(fill[1], { orderId: buy, accountId: ALICE, gatewayId: ALICE_GW, requestId: 21, status: OrderStatus.FILLED, price: 1_005, lastPrice: 1_000, lastQuantity: 20, filledQuantity: 20, remainingQuantity: 0, clientOrderId: 'alice-1' });
  t.equal(fill[0].execId, fill[1].execId, 'both executions carry the match’s exec id');
  t.ok(fill[0].execId > 0);
  t.equal(fill[0].eventSeq, fill[1].eventSeq);
  t.end();
});

t.test('cancel, amend and IOC remainder are reported with their status, reason and the request they answer', (t) => {
  const { ex, pm } = market();
  pm.submitNewOrder(ALICE, PRODUCT, INFLOW, 990, 50, { gatewayId: ALICE_GW, requestId: 1 });
  const id = pm.state.lastOrderId;
  ex.settle();
  pm.pollReports();
  pm.submitAmend(ALICE, id, 995, 40, ALICE_GW, 2);
  ex.settle();
  t.match(pm.pollReports(), [{ orderId: id, status: OrderStatus.REPLACED, price: 995, quantity: 40, remainingQuantity: 40, requestId: 2, gatewayId: ALICE_GW }]);
  pm.submitCancel(ALICE, id, ALICE_GW, 3);
  ex.settle();
  t.match(pm.pollReports(), [{ orderId: id, status: OrderStatus.CANCELED, reason: CancelReason.USER, remainingQuantity: 0, requestId: 3 }]);
  pm.submitNewOrder(ALICE, PRODUCT, INFLOW, 990, 10, { timeInForce: TimeInForce.IOC, gatewayId: ALICE_GW, requestId: 4 });
  ex.settle();
  t.match(pm.pollReports(), [{ status: OrderStatus.CANCELED, reason: CancelReason.IOC_REMAINDER, gatewayId: ALICE_GW, requestId: 4, timeInForce: TimeInForce.IOC }]);
  t.end();
});

t.test('engine rejections: of a new order (REJECTED), of a cancel of a filled order (the order as it stands, with the reason)', (t) => {
  const { ex, pm } = market();
  pm.submitNewOrder(BOB, PRODUCT, OUTFLOW, 1_000, 10, { gatewayId: BOB_GW });
  ex.settle();
  pm.pollReports();
  pm.submitNewOrder(ALICE, PRODUCT, INFLOW, 1_000, 10, { flags: OrderFlags.POST_ONLY, gatewayId: ALICE_GW, requestId: 5 });
  const postOnly = pm.state.lastOrderId;
  ex.settle();
  t.match(pm.pollReports(), [{ orderId: postOnly, status: OrderStatus.REJECTED, reason: RejectReason.POST_ONLY_WOULD_TAKE, requestId: 5, quantity: 10 }]);
  pm.submitNewOrder(ALICE, PRODUCT, INFLOW, 1_000, 10, { gatewayId: ALICE_GW, requestId: 6 });
  const buy = pm.state.lastOrderId;
  t.equal(pm.submitCancel(ALICE, buy, ALICE_GW, 7), 0, 'checked while the order is still open in the product manager’s view');
  ex.settle();
  const reports = pm.pollReports();
  t.match(reports.at(-1), { orderId: buy, status: OrderStatus.FILLED, reason: RejectReason.ALREADY_FILLED, requestId: 7, filledQuantity: 10 });
  t.end();
});

t.test('a DAY order is reported EXPIRED at the day close, to the session that placed it', (t) => {
  const { ex, pm } = market();
  pm.submitNewOrder(BOB, PRODUCT, OUTFLOW, 1_050, 20, { timeInForce: TimeInForce.DAY, gatewayId: BOB_GW, requestId: 9 });
  const id = pm.state.lastOrderId;
  ex.settle();
  pm.pollReports();
  ex.journal.closeTradingDay(20250106);
  ex.settle();
  t.match(pm.pollReports(), [{ orderId: id, status: OrderStatus.EXPIRED, remainingQuantity: 0, gatewayId: BOB_GW, requestId: 9, timeInForce: TimeInForce.DAY }]);
  t.end();
});

t.test('a command refused before sequencing gets a bare REJECTED report: only what the requester sent, and why', (t) => {
  const { pm } = market();
  t.equal(pm.submitNewOrder(ALICE, PRODUCT, INFLOW, 1_002, 10), RejectReason.INVALID_PRICE);
  const view = new DataView(new ArrayBuffer(ExecutionReport.size));
  pm.state.writeRejectionReport(ALICE, 0, PRODUCT, RejectReason.INVALID_PRICE, ALICE_GW, 12, view, 0);
  t.match(decode(ExecutionReport, view, 0), {
    orderId: 0,
    accountId: ALICE,
    productId: PRODUCT,
    status: OrderStatus.REJECTED,
    reason: RejectReason.INVALID_PRICE,
    gatewayId: ALICE_GW,
    requestId: 12,
    eventSeq: 0,
    quantity: 0,
    clientOrderId: '',
  });
  t.end();
});

t.test('an amend that names 0 for an unchanged price or quantity is completed with the order’s current value', (t) => {
  const { ex, pm } = market();
  pm.submitNewOrder(ALICE, PRODUCT, INFLOW, 990, 50, { gatewayId: ALICE_GW, requestId: 1 });
  const id = pm.state.lastOrderId;
  ex.settle();
  pm.pollReports();
  const body = new DataView(new ArrayBuffer(AmendOrder.size));
  encode(AmendOrder, { orderId: id, newPrice: 0, newQuantity: 30, accountId: ALICE, productId: 0, requestId: 2, gatewayId: ALICE_GW }, body, 0);
  t.equal(pm.state.checkAmendCommand(body, 0), 0);
  t.match(decode(AmendOrder, body, 0), { newPrice: 990, newQuantity: 30, productId: PRODUCT }, 'the forwarded command carries real values');
  encode(AmendOrder, { orderId: id, newPrice: 0, newQuantity: 0, accountId: ALICE, productId: 0, requestId: 3, gatewayId: ALICE_GW }, body, 0);
  t.equal(pm.state.checkAmendCommand(body, 0), RejectReason.AMEND_NO_CHANGE);
  t.end();
});
