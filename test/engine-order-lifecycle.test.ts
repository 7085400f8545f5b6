// Behaviour of single orders through the engine: matching and priority, cancel and amend, and the
// reject reasons for everything the engine refuses. Each test is named after the rule it proves.

import t from 'tap';
import { CancelReason, RejectReason, Side, TimeInForce } from '../bus/enums';
import { EngineInvariantError } from '../processes/matching-engine/assert';
import { TestMarket } from './reference-book';

const A = 1; // accounts
const B = 2;
const C = 3;

function market(): TestMarket {
  const m = new TestMarket({ initialOrderCapacity: 4, initialLevelCapacity: 2, initialOrderIndexCapacity: 4 });
  m.list(1, 1, 1);
  return m;
}

t.test('a resting order is accepted and its level published', (t) => {
  const m = market();
  t.strictSame(m.buy(10, A, 100, 5), [
    { kind: 'accepted', inSeq: 2, outIndex: 0, orderId: 10, accountId: A, productId: 1, side: Side.INFLOW, price: 100, quantity: 5, leavesQuantity: 5 },
    { kind: 'level', inSeq: 2, outIndex: 1, productId: 1, side: Side.INFLOW, price: 100, quantity: 5, orderCount: 1 },
  ]);
  t.end();
});

t.test('matches execute at the resting order price in price-time priority', (t) => {
  const m = market();
  m.sell(1, A, 101, 3);
  m.sell(2, B, 100, 3);
  m.sell(3, C, 100, 3);
  const outs = m.buy(4, A + 10, 105, 7);
  t.match(outs, [
    { kind: 'fill', execId: 1, price: 100, quantity: 3, makerOrderId: 2, makerLeaves: 0, makerCumQuantity: 3, takerOrderId: 4, takerLeaves: 4, takerCumQuantity: 3, takerSide: Side.INFLOW },
    { kind: 'level', price: 100, quantity: 3, orderCount: 1 },
    { kind: 'fill', execId: 2, price: 100, quantity: 3, makerOrderId: 3, takerLeaves: 1 },
    { kind: 'level', price: 100, quantity: 0, orderCount: 0 },
    { kind: 'fill', execId: 3, price: 101, quantity: 1, makerOrderId: 1, makerLeaves: 2, makerCumQuantity: 1, takerLeaves: 0, takerCumQuantity: 7 },
    { kind: 'level', price: 101, quantity: 2, orderCount: 1 },
  ]);
  t.equal(outs.length, 6, 'a fully filled taker is not accepted');
  t.end();
});

t.test('an order never fills beyond its limit price', (t) => {
  const m = market();
  m.sell(1, A, 102, 5);
  const outs = m.buy(2, B, 101, 5);
  t.match(outs, [{ kind: 'accepted', price: 101, leavesQuantity: 5 }, { kind: 'level' }]);
  t.end();
});

t.test('cancel of a resting order emits canceled with reason user and removes its level', (t) => {
  const m = market();
  m.buy(1, A, 100, 5);
  t.strictSame(m.cancel(1, A), [
    { kind: 'canceled', inSeq: 3, outIndex: 0, orderId: 1, accountId: A, productId: 1, side: Side.INFLOW, price: 100, canceledQuantity: 5, leavesQuantity: 0, reason: CancelReason.USER },
    { kind: 'level', inSeq: 3, outIndex: 1, productId: 1, side: Side.INFLOW, price: 100, quantity: 0, orderCount: 0 },
  ]);
  t.equal(m.engine.restingOrderCount, 0);
  t.end();
});

t.test('cancel of a filled order is rejected with already_filled', (t) => {
  const m = market();
  m.sell(1, A, 100, 5);
  m.buy(2, B, 100, 5);
  t.match(m.cancel(1, A), [{ kind: 'rejected', orderId: 1, productId: 1, reason: RejectReason.ALREADY_FILLED }]);
  t.match(m.cancel(2, B), [{ kind: 'rejected', orderId: 2, productId: 1, reason: RejectReason.ALREADY_FILLED }], 'the taker too');
  t.end();
});

t.test('cancel of a canceled order is rejected with already_canceled', (t) => {
  const m = market();
  m.sell(1, A, 100, 5);
  m.cancel(1, A);
  t.match(m.cancel(1, A), [{ kind: 'rejected', reason: RejectReason.ALREADY_CANCELED }]);
  t.match(m.amend(1, A, 101, 5), [{ kind: 'rejected', reason: RejectReason.ALREADY_CANCELED }]);
  t.end();
});

t.test('cancel or amend of an unknown order is rejected with unknown_order', (t) => {
  const m = market();
  t.match(m.cancel(77, A), [{ kind: 'rejected', orderId: 77, productId: 0, reason: RejectReason.UNKNOWN_ORDER }]);
  t.match(m.amend(77, A, 100, 1), [{ kind: 'rejected', reason: RejectReason.UNKNOWN_ORDER }]);
  t.end();
});

t.test('cancel or amend by an account that does not own the order is rejected with not_owner', (t) => {
  const m = market();
  m.buy(1, A, 100, 5);
  t.match(m.cancel(1, B), [{ kind: 'rejected', reason: RejectReason.NOT_OWNER, productId: 1 }]);
  t.match(m.amend(1, B, 100, 3), [{ kind: 'rejected', reason: RejectReason.NOT_OWNER }]);
  m.sell(2, C, 100, 5);
  t.match(m.cancel(1, B), [{ kind: 'rejected', reason: RejectReason.NOT_OWNER }], 'also once the order is finished: nothing leaks to another account');
  t.strictSame(m.queue(Side.INFLOW), []);
  t.end();
});

t.test('a finished order is forgotten when an order capacity ids later finishes, then answers unknown_order', (t) => {
  const m = new TestMarket({ terminalOrderMemoryCapacity: 4 });
  m.list();
  for (let id = 1; id <= 5; id++) {
    m.buy(id, A, 100, 1);
    m.cancel(id, A);
  }
  t.match(m.cancel(1, A), [{ kind: 'rejected', reason: RejectReason.UNKNOWN_ORDER }], 'order 1 was replaced by order 5');
  for (const id of [2, 3, 4, 5]) t.match(m.cancel(id, A), [{ kind: 'rejected', reason: RejectReason.ALREADY_CANCELED }], `order ${id} is remembered`);
  t.match(m.buy(1, A, 100, 1), [{ kind: 'accepted' }], 'a forgotten id is no longer a duplicate');
  t.match(m.buy(2, A, 100, 1), [{ kind: 'rejected', reason: RejectReason.DUPLICATE_ORDER_ID }]);
  t.throws(() => new TestMarket({ terminalOrderMemoryCapacity: 3 }), /power of two/);
  t.end();
});

t.test('a duplicate order id is rejected whether the order rests or finished', (t) => {
  const m = market();
  m.buy(1, A, 100, 5);
  t.match(m.buy(1, A, 99, 5), [{ kind: 'rejected', reason: RejectReason.DUPLICATE_ORDER_ID }]);
  m.sell(2, B, 100, 5);
  t.match(m.sell(2, B, 120, 5), [{ kind: 'rejected', reason: RejectReason.DUPLICATE_ORDER_ID }]);
  t.end();
});

t.test('reducing quantity keeps time priority', (t) => {
  const m = market();
  m.buy(1, A, 100, 10);
  m.buy(2, B, 100, 10);
  t.strictSame(m.amend(1, A, 100, 4), [
    { kind: 'amended', inSeq: 4, outIndex: 0, orderId: 1, accountId: A, productId: 1, side: Side.INFLOW, oldPrice: 100, newPrice: 100, newQuantity: 4, leavesQuantity: 4, lostPriority: false },
    { kind: 'level', inSeq: 4, outIndex: 1, productId: 1, side: Side.INFLOW, price: 100, quantity: 14, orderCount: 2 },
  ]);
  t.strictSame(m.queue(Side.INFLOW), [1, 2], 'order 1 is still first');
  t.match(m.sell(3, C, 100, 4), [{ kind: 'fill', makerOrderId: 1, quantity: 4 }]);
  t.end();
});

t.test('increasing quantity loses time priority', (t) => {
  const m = market();
  m.buy(1, A, 100, 10);
  m.buy(2, B, 100, 10);
  t.match(m.amend(1, A, 100, 12), [
    { kind: 'amended', lostPriority: true, newQuantity: 12, leavesQuantity: 12 },
    { kind: 'level', price: 100, quantity: 22, orderCount: 2 },
  ]);
  t.strictSame(m.queue(Side.INFLOW), [2, 1]);
  t.end();
});

t.test('price amend loses priority and can take', (t) => {
  const m = market();
  m.sell(1, A, 103, 5);
  m.buy(2, B, 100, 5);
  m.buy(3, C, 101, 5);
  m.buy(4, A + 10, 101, 5);
  // Order 2 moves to 101: behind 3 and 4.
  t.match(m.amend(2, B, 101, 5), [
    { kind: 'amended', oldPrice: 100, newPrice: 101, lostPriority: true },
    { kind: 'level', price: 100, quantity: 0, orderCount: 0 },
    { kind: 'level', price: 101, quantity: 15, orderCount: 3 },
  ]);
  t.strictSame(m.queue(Side.INFLOW), [3, 4, 2]);
  // Order 2 moves to 104: it crosses the ask at 103 and takes it at the ask's price, then rests.
  t.match(m.amend(2, B, 104, 8), [
    { kind: 'amended', oldPrice: 101, newPrice: 104, newQuantity: 8, leavesQuantity: 8, lostPriority: true },
    { kind: 'level', price: 101, quantity: 10, orderCount: 2 },
    { kind: 'fill', price: 103, quantity: 5, makerOrderId: 1, takerOrderId: 2, takerLeaves: 3, takerCumQuantity: 5, takerSide: Side.INFLOW },
    { kind: 'level', side: Side.OUTFLOW, price: 103, quantity: 0, orderCount: 0 },
    { kind: 'level', side: Side.INFLOW, price: 104, quantity: 3, orderCount: 1 },
  ]);
  t.end();
});

t.test('an amended total quantity counts what is already filled', (t) => {
  const m = market();
  m.buy(1, A, 100, 10);
  m.sell(2, B, 100, 4);
  t.match(m.amend(1, A, 100, 4), [{ kind: 'rejected', reason: RejectReason.INVALID_QUANTITY }], 'not at or below the filled 4');
  t.match(m.amend(1, A, 100, 6), [{ kind: 'amended', newQuantity: 6, leavesQuantity: 2, lostPriority: false }]);
  t.match(m.amend(1, A, 100, 6), [{ kind: 'rejected', reason: RejectReason.AMEND_NO_CHANGE }]);
  t.end();
});

t.test('prices must be positive multiples of the tick and quantities of the lot', (t) => {
  const m = new TestMarket();
  m.list(5, 25, 10);
  const order = (price: number, quantity: number) => m.order(m.seq + 100, A, Side.INFLOW, price, quantity, TimeInForce.GTC, 0, 5);
  t.match(order(110, 10), [{ kind: 'rejected', reason: RejectReason.INVALID_PRICE }]);
  t.match(order(0, 10), [{ kind: 'rejected', reason: RejectReason.INVALID_PRICE }]);
  t.match(order(-25, 10), [{ kind: 'rejected', reason: RejectReason.INVALID_PRICE }]);
  t.match(order(100.5, 10), [{ kind: 'rejected', reason: RejectReason.INVALID_PRICE }]);
  t.match(order(2 ** 53, 10), [{ kind: 'rejected', reason: RejectReason.INVALID_PRICE }]);
  t.match(order(100, 15), [{ kind: 'rejected', reason: RejectReason.INVALID_QUANTITY }]);
  t.match(order(100, 0), [{ kind: 'rejected', reason: RejectReason.INVALID_QUANTITY }]);
  t.match(order(100, 2 ** 31), [{ kind: 'rejected', reason: RejectReason.INVALID_QUANTITY }]);
  t.match(order(100, 20), [{ kind: 'accepted', price: 100, quantity: 20 }]);
  t.match(m.engine.levels(5, Side.INFLOW), [{ price: 100, quantity: 20, orderCount: 1 }]);
  t.end();
});

t.test('malformed commands are rejected with invalid_command and change nothing', (t) => {
  const m = market();
  t.match(m.order(0, A, Side.INFLOW, 100, 1), [{ kind: 'rejected', reason: RejectReason.INVALID_COMMAND }], 'order id 0');
  t.match(m.order(1, -1, Side.INFLOW, 100, 1), [{ kind: 'rejected', reason: RejectReason.INVALID_COMMAND }], 'negative account');
  t.match(m.order(1, 2 ** 32, Side.INFLOW, 100, 1), [{ kind: 'rejected', reason: RejectReason.INVALID_COMMAND }], 'account beyond u32');
  t.match(m.order(1, 2 ** 32 - 1, Side.INFLOW, 100, 1), [{ kind: 'accepted', accountId: 2 ** 32 - 1 }], 'the largest u32 account');
  t.match(m.cancel(1, 2 ** 32 - 1), [{ kind: 'canceled', accountId: 2 ** 32 - 1 }]);
  t.match(m.order(1, A, 3, 100, 1), [{ kind: 'rejected', reason: RejectReason.INVALID_COMMAND }], 'side 3');
  t.match(m.order(1, A, Side.INFLOW, 100, 1, 7), [{ kind: 'rejected', reason: RejectReason.INVALID_COMMAND }], 'time in force 7');
  t.match(m.order(1, A, Side.INFLOW, 100, 1, TimeInForce.GTC, 2), [{ kind: 'rejected', reason: RejectReason.INVALID_COMMAND }], 'unknown flag');
  t.match(m.order(1, A, Side.INFLOW, 100, 1, TimeInForce.IOC, 1), [{ kind: 'rejected', reason: RejectReason.INVALID_COMMAND }], 'post-only IOC');
  t.match(m.order(2, A, Side.INFLOW, 100, 1, TimeInForce.GTC, 0, 9), [{ kind: 'rejected', reason: RejectReason.UNKNOWN_PRODUCT }]);
  t.match(m.cancel(Number.NaN, A), [{ kind: 'rejected', reason: RejectReason.INVALID_COMMAND }]);
  t.equal(m.engine.restingOrderCount, 0);
  t.end();
});

t.test('a halted product accepts cancels only', (t) => {
  const m = market();
  m.buy(1, A, 100, 5);
  m.buy(2, A, 99, 5);
  t.equal(m.halt(), RejectReason.NONE);
  t.match(m.buy(3, A, 100, 5), [{ kind: 'rejected', reason: RejectReason.PRODUCT_HALTED }]);
  t.match(m.amend(1, A, 101, 5), [{ kind: 'rejected', reason: RejectReason.PRODUCT_HALTED }]);
  t.match(m.cancel(1, A), [{ kind: 'canceled', reason: CancelReason.USER }, { kind: 'level' }]);
  t.equal(m.resume(), RejectReason.NONE);
  t.match(m.buy(3, A, 100, 5), [{ kind: 'accepted' }]);
  t.equal(m.halt(9), RejectReason.UNKNOWN_PRODUCT);
  t.end();
});

t.test('delisting cancels every resting order with reason delisted, best first, then forgets the product', (t) => {
  const m = market();
  m.buy(1, A, 99, 1);
  m.buy(2, B, 100, 2);
  m.sell(3, C, 105, 3);
  t.match(m.delist(), [
    { kind: 'admin-result', reason: RejectReason.NONE },
    { kind: 'canceled', orderId: 2, reason: CancelReason.DELISTED },
    { kind: 'level', price: 100, quantity: 0 },
    { kind: 'canceled', orderId: 1, reason: CancelReason.DELISTED },
    { kind: 'level', price: 99, quantity: 0 },
    { kind: 'canceled', orderId: 3, reason: CancelReason.DELISTED },
    { kind: 'level', price: 105, quantity: 0 },
  ]);
  t.match(m.buy(4, A, 100, 1), [{ kind: 'rejected', reason: RejectReason.UNKNOWN_PRODUCT }]);
  t.match(m.cancel(2, B), [{ kind: 'rejected', reason: RejectReason.ALREADY_CANCELED }]);
  t.equal(m.list(1, 1, 1), RejectReason.NONE, 'the product can be listed again');
  t.equal(m.list(1, 1, 1), RejectReason.PRODUCT_ALREADY_LISTED);
  t.equal(m.list(2 ** 32, 1, 1), RejectReason.INVALID_COMMAND, 'product ids are u32');
  t.equal(m.list(3, 0, 1), RejectReason.INVALID_COMMAND, 'tick size must be positive');
  t.equal(m.list(3, 1, 1, 9), RejectReason.INVALID_COMMAND, 'unknown self-trade policy');
  t.end();
});

t.test('commands must arrive in strictly increasing journal sequence', (t) => {
  const m = market();
  m.buy(1, A, 100, 5);
  t.throws(() => m.engine.cancel(m.seq, 0, 1, A), EngineInvariantError, 'a repeated inSeq would apply a command twice');
  t.equal(m.engine.restingOrderCount, 1);
  t.end();
});

t.test('execution ids are one engine-wide counter across products', (t) => {
  const m = market();
  m.list(2, 1, 1);
  m.sell(1, A, 100, 1);
  m.order(2, A, Side.OUTFLOW, 100, 1, TimeInForce.GTC, 0, 2);
  t.match(m.buy(3, B, 100, 1), [{ kind: 'fill', execId: 1 }]);
  t.match(m.order(4, B, Side.INFLOW, 100, 1, TimeInForce.GTC, 0, 2), [{ kind: 'fill', execId: 2, productId: 2 }]);
  t.end();
});

t.test('pools grow by doubling past their start-up size without losing orders', (t) => {
  const m = market(); // 4 order slots, 2 level slots, 4 index buckets at start
  for (let i = 1; i <= 200; i++) m.buy(i, A, 1000 - (i % 50), 1);
  t.equal(m.engine.restingOrderCount, 200);
  t.equal(m.engine.levels(1, Side.INFLOW).length, 50);
  const outs = m.sell(1000, B, 900, 200);
  t.equal(outs.filter((o) => o.kind === 'fill').length, 200, 'every order is still reachable');
  t.strictSame(m.queue(Side.INFLOW), []);
  t.end();
});
