// Self-trade prevention: an inflow and an outflow of the same account never match each other. What
// happens instead depends on the product's policy; every variant is reported as cancels with reason
// self_trade, and an order of another account behind the self-trade is matched normally.

import t from 'tap';
import { CancelReason, RejectReason, SelfTradePolicy, Side } from '../bus/enums';
import { TestMarket } from './reference-book';

const A = 1;
const B = 2;
const STP = CancelReason.SELF_TRADE;

/** Resting: A sells 5 @100 (order 1), then B sells 5 @100 (order 2). */
function market(policy: number): TestMarket {
  const m = new TestMarket();
  if (m.list(1, 1, 1, policy) !== RejectReason.NONE) throw new Error(`listing with policy ${policy} failed`);
  m.sell(1, A, 100, 5);
  m.sell(2, B, 100, 5);
  return m;
}

t.test('cancel newest (the default): the incoming remainder is canceled, the resting order stays', (t) => {
  const m = new TestMarket();
  m.list(); // policy 0 = the engine default
  m.sell(1, A, 100, 5);
  m.sell(2, B, 100, 5);
  t.strictSame(m.buy(3, A, 100, 8), [
    { kind: 'canceled', inSeq: 4, outIndex: 0, orderId: 3, accountId: A, productId: 1, side: Side.INFLOW, price: 100, canceledQuantity: 8, leavesQuantity: 0, reason: STP },
  ]);
  t.strictSame(m.queue(Side.OUTFLOW), [1, 2]);
  t.match(m.cancel(3, A), [{ kind: 'rejected', reason: RejectReason.ALREADY_CANCELED }]);
  t.end();
});

t.test('cancel newest after partial fills cancels only what is left', (t) => {
  const m = new TestMarket();
  m.list(1, 1, 1, SelfTradePolicy.CANCEL_NEWEST);
  m.sell(1, B, 100, 3);
  m.sell(2, A, 100, 5);
  t.match(m.buy(3, A, 100, 8), [
    { kind: 'fill', makerOrderId: 1, quantity: 3, takerLeaves: 5 },
    { kind: 'level', quantity: 5, orderCount: 1 },
    { kind: 'canceled', orderId: 3, canceledQuantity: 5, leavesQuantity: 0, reason: STP },
  ]);
  t.end();
});

t.test('cancel oldest: the resting order is canceled and matching continues', (t) => {
  const m = market(SelfTradePolicy.CANCEL_OLDEST);
  t.match(m.buy(3, A, 100, 8), [
    { kind: 'canceled', orderId: 1, accountId: A, side: Side.OUTFLOW, canceledQuantity: 5, leavesQuantity: 0, reason: STP },
    { kind: 'level', quantity: 5, orderCount: 1 },
    { kind: 'fill', makerOrderId: 2, takerOrderId: 3, quantity: 5, takerLeaves: 3 },
    { kind: 'level', quantity: 0, orderCount: 0 },
    { kind: 'accepted', orderId: 3, quantity: 8, leavesQuantity: 3 },
    { kind: 'level', side: Side.INFLOW, price: 100, quantity: 3 },
  ]);
  t.end();
});

t.test('cancel both: the resting order, then the incoming remainder, are canceled', (t) => {
  const m = market(SelfTradePolicy.CANCEL_BOTH);
  t.match(m.buy(3, A, 100, 8), [
    { kind: 'canceled', orderId: 1, canceledQuantity: 5, reason: STP },
    { kind: 'level', quantity: 5, orderCount: 1 },
    { kind: 'canceled', orderId: 3, canceledQuantity: 8, leavesQuantity: 0, reason: STP },
  ]);
  t.strictSame(m.queue(Side.OUTFLOW), [2]);
  t.end();
});

t.test('decrement and cancel: a smaller incoming order is canceled and the resting one shrinks in place', (t) => {
  const m = market(SelfTradePolicy.DECREMENT_AND_CANCEL);
  t.match(m.buy(3, A, 100, 2), [
    { kind: 'canceled', orderId: 1, canceledQuantity: 2, leavesQuantity: 3, reason: STP },
    { kind: 'level', quantity: 8, orderCount: 2 },
    { kind: 'canceled', orderId: 3, canceledQuantity: 2, leavesQuantity: 0, reason: STP },
  ]);
  t.strictSame(m.queue(Side.OUTFLOW), [1, 2], 'the shrunk order keeps its priority');
  t.match(m.engine.restingOrder(1), { quantity: 3, leavesQuantity: 3 });
  t.end();
});

t.test('decrement and cancel: a larger incoming order shrinks, the resting one is canceled, matching goes on', (t) => {
  const m = market(SelfTradePolicy.DECREMENT_AND_CANCEL);
  t.match(m.buy(3, A, 100, 8), [
    { kind: 'canceled', orderId: 1, canceledQuantity: 5, leavesQuantity: 0, reason: STP },
    { kind: 'level', quantity: 5, orderCount: 1 },
    { kind: 'canceled', orderId: 3, canceledQuantity: 5, leavesQuantity: 3, reason: STP },
    { kind: 'fill', makerOrderId: 2, takerOrderId: 3, quantity: 3, takerLeaves: 0, takerCumQuantity: 3, makerLeaves: 2 },
    { kind: 'level', quantity: 2, orderCount: 1 },
  ]);
  t.match(m.cancel(3, A), [{ kind: 'rejected', reason: RejectReason.ALREADY_FILLED }], 'its last event was a fill');
  t.end();
});

t.test('decrement and cancel: equal quantities cancel both', (t) => {
  const m = market(SelfTradePolicy.DECREMENT_AND_CANCEL);
  t.match(m.buy(3, A, 100, 5), [
    { kind: 'canceled', orderId: 1, canceledQuantity: 5, leavesQuantity: 0, reason: STP },
    { kind: 'level', quantity: 5 },
    { kind: 'canceled', orderId: 3, canceledQuantity: 5, leavesQuantity: 0, reason: STP },
  ]);
  t.end();
});

t.test('a price amend that would self-trade follows the policy too', (t) => {
  const m = market(SelfTradePolicy.CANCEL_NEWEST);
  m.buy(3, A, 99, 4);
  t.match(m.amend(3, A, 100, 4), [
    { kind: 'amended', oldPrice: 99, newPrice: 100, lostPriority: true },
    { kind: 'level', side: Side.INFLOW, price: 99, quantity: 0 },
    { kind: 'canceled', orderId: 3, canceledQuantity: 4, reason: STP },
  ]);
  t.match(m.cancel(3, A), [{ kind: 'rejected', reason: RejectReason.ALREADY_CANCELED }]);
  t.end();
});

t.test('orders of different accounts match whatever the policy', (t) => {
  for (const policy of [1, 2, 3, 4]) {
    const m = market(policy);
    t.match(m.buy(3, B + 1, 100, 10), [{ kind: 'fill', makerOrderId: 1 }, { kind: 'level' }, { kind: 'fill', makerOrderId: 2 }, { kind: 'level' }], `policy ${policy}`);
  }
  t.end();
});
