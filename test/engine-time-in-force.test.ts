// Time in force and the post-only flag: what happens to the part of an order that does not match.

import t from 'tap';
import { CancelReason, OrderFlags, RejectReason, SelfTradePolicy, Side, TimeInForce } from '../bus/enums';
import { TestMarket } from './reference-book';

const A = 1;
const B = 2;
const C = 3;

function market(policy = 0): TestMarket {
  const m = new TestMarket();
  m.list(1, 1, 1, policy);
  return m;
}

t.test('IOC remainder canceled', (t) => {
  const m = market();
  m.sell(1, A, 100, 3);
  t.match(m.buy(2, B, 101, 10, TimeInForce.IOC), [
    { kind: 'fill', quantity: 3, takerLeaves: 7 },
    { kind: 'level', quantity: 0 },
    { kind: 'canceled', orderId: 2, price: 101, canceledQuantity: 7, leavesQuantity: 0, reason: CancelReason.IOC_REMAINDER },
  ]);
  t.strictSame(m.queue(Side.INFLOW), [], 'an IOC never rests');
  t.match(m.buy(3, B, 101, 10, TimeInForce.IOC), [{ kind: 'canceled', canceledQuantity: 10, reason: CancelReason.IOC_REMAINDER }], 'with nothing to take, all of it');
  t.match(m.cancel(3, B), [{ kind: 'rejected', reason: RejectReason.ALREADY_CANCELED }]);
  t.end();
});

t.test('an IOC that fills completely is not canceled', (t) => {
  const m = market();
  m.sell(1, A, 100, 10);
  const outs = m.buy(2, B, 100, 10, TimeInForce.IOC);
  t.strictSame(outs.map((o) => o.kind), ['fill', 'level']);
  t.match(m.cancel(2, B), [{ kind: 'rejected', reason: RejectReason.ALREADY_FILLED }]);
  t.end();
});

t.test('FOK all-or-nothing: it fills completely or leaves the book untouched', (t) => {
  const m = market();
  m.sell(1, A, 100, 4);
  m.sell(2, B, 101, 4);
  t.strictSame(m.buy(3, C, 101, 9, TimeInForce.FOK), [
    { kind: 'canceled', inSeq: 4, outIndex: 0, orderId: 3, accountId: C, productId: 1, side: Side.INFLOW, price: 101, canceledQuantity: 9, leavesQuantity: 0, reason: CancelReason.FOK_NOT_FILLABLE },
  ]);
  t.strictSame(m.queue(Side.OUTFLOW), [1, 2], 'nothing was taken');
  t.match(m.buy(4, C, 100, 5, TimeInForce.FOK), [{ kind: 'canceled', reason: CancelReason.FOK_NOT_FILLABLE }], 'liquidity beyond the limit does not count');
  t.match(m.buy(5, C, 101, 8, TimeInForce.FOK), [
    { kind: 'fill', makerOrderId: 1, quantity: 4 },
    { kind: 'level' },
    { kind: 'fill', makerOrderId: 2, quantity: 4, takerLeaves: 0 },
    { kind: 'level' },
  ]);
  t.end();
});

t.test('FOK counts only liquidity it could reach past self-trade prevention', (t) => {
  const newest = market(SelfTradePolicy.CANCEL_NEWEST);
  newest.sell(1, A, 100, 5);
  newest.sell(2, B, 100, 5);
  t.match(newest.buy(3, A, 100, 5, TimeInForce.FOK), [{ kind: 'canceled', reason: CancelReason.FOK_NOT_FILLABLE }], 'its own order stops it first');
  const oldest = market(SelfTradePolicy.CANCEL_OLDEST);
  oldest.sell(1, A, 100, 5);
  oldest.sell(2, B, 100, 5);
  t.match(oldest.buy(3, A, 100, 5, TimeInForce.FOK), [
    { kind: 'canceled', orderId: 1, reason: CancelReason.SELF_TRADE },
    { kind: 'level', quantity: 5 },
    { kind: 'fill', makerOrderId: 2, takerOrderId: 3, quantity: 5 },
    { kind: 'level', quantity: 0 },
  ], 'under cancel-oldest its own order is canceled and skipped');
  t.end();
});

t.test('post-only is rejected with post_only_would_take when it would take, and rests otherwise', (t) => {
  const m = market();
  m.sell(1, A, 100, 5);
  t.match(m.buy(2, B, 100, 5, TimeInForce.GTC, OrderFlags.POST_ONLY), [{ kind: 'rejected', orderId: 2, reason: RejectReason.POST_ONLY_WOULD_TAKE }]);
  t.strictSame(m.queue(Side.OUTFLOW), [1]);
  t.match(m.buy(2, B, 99, 5, TimeInForce.GTC, OrderFlags.POST_ONLY), [{ kind: 'accepted', orderId: 2 }, { kind: 'level' }], 'the rejected id was never an order');
  t.match(m.amend(2, B, 100, 5), [{ kind: 'rejected', reason: RejectReason.POST_ONLY_WOULD_TAKE }], 'an amend of a post-only order may not take either');
  t.match(m.amend(2, B, 99, 3), [{ kind: 'amended', lostPriority: false }]);
  t.end();
});

t.test('DAY expiry: the day close expires DAY orders only, best first, FIFO, products in id order', (t) => {
  const m = market();
  m.list(2, 1, 1);
  m.order(1, A, Side.INFLOW, 99, 1, TimeInForce.DAY, 0, 2);
  m.buy(2, A, 100, 2, TimeInForce.DAY);
  m.buy(3, B, 100, 3, TimeInForce.GTC);
  m.buy(4, C, 100, 4, TimeInForce.DAY);
  m.sell(5, C, 105, 5, TimeInForce.DAY);
  m.buy(6, C, 98, 6, TimeInForce.DAY);
  m.sell(7, A, 106, 7, TimeInForce.GTC);
  t.strictSame(
    m.closeDay().map((o) => [o.kind, o.orderId ?? o.price, o.kind === 'expired' ? o.expiredQuantity : o.quantity]),
    [
      ['expired', 2, 2],
      ['level', 100, 7],
      ['expired', 4, 4],
      ['level', 100, 3],
      ['expired', 6, 6],
      ['level', 98, 0],
      ['expired', 5, 5],
      ['level', 105, 0],
      ['expired', 1, 1],
      ['level', 99, 0],
    ],
  );
  t.strictSame(m.queue(Side.INFLOW), [3], 'GTC orders survive the close');
  t.strictSame(m.queue(Side.OUTFLOW), [7]);
  t.match(m.cancel(2, A), [{ kind: 'rejected', reason: RejectReason.ALREADY_EXPIRED }]);
  t.strictSame(m.closeDay(), [], 'a second close has nothing to expire');
  t.end();
});

t.test('a partly filled DAY order expires with what is left', (t) => {
  const m = market();
  m.buy(1, A, 100, 10, TimeInForce.DAY);
  m.sell(2, B, 100, 4);
  t.match(m.closeDay(), [{ kind: 'expired', orderId: 1, expiredQuantity: 6 }, { kind: 'level', quantity: 0 }]);
  t.end();
});

t.test('an amended DAY order stays a DAY order', (t) => {
  const m = market();
  m.buy(1, A, 100, 10, TimeInForce.DAY);
  m.amend(1, A, 101, 12);
  t.match(m.closeDay(), [{ kind: 'expired', orderId: 1, price: 101, expiredQuantity: 12 }, { kind: 'level' }]);
  t.end();
});
