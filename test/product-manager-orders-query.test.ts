// The product manager's order reads (orders-query.ts) against a real state and a real reply ring:
// an account's open orders spread over an order table larger than one scan step are all found,
// over several hot iterations, and answered once; an order that finishes during the scan is left
// out; one order is answered only to its owner (another account's order and a missing one get the
// same NONE record); ALL adds the finished orders; a list longer than the bound is TRUNCATED.
import t, { type Test } from 'tap';
import { decode, encode } from '../bus/codec';
import { RiskRuleKind, Side } from '../bus/enums';
import { RingConsumer, RingFile, RingProducer, type RecordBuffer } from '../bus/ring';
import { OrderRecord, OrdersQuery, OrdersScope, OrderStatus, ReadStatus, type ValueOf } from '../bus/schema';
import { InProcessExchange } from '../processes/product-manager/in-process-exchange';
import { InProcessProductManager } from '../processes/product-manager/in-process-product-manager';
import { ORDER_SCAN_SLOTS_PER_ITERATION, ORDERS_QUEUED, OrdersAnswerer } from '../processes/product-manager/orders-query';
import { shmPath } from './support/shm';

const PRODUCT = 1;
const MINE = 31;
const OTHER = 32;
const IDLE = 33;
const GATEWAY = 1;
/** Orders of OTHER: more than one scan step of slots, so a list of MINE spans iterations. */
const FILLER = ORDER_SCAN_SLOTS_PER_ITERATION + 8_000;
/** Where MINE's orders fall among OTHER's (the i-th order placed takes roughly slot i). */
const MINE_AT = new Set([5, 20_000, FILLER - 10]);

type Rec = ValueOf<typeof OrderRecord>;

function setup(t: Test) {
  const ex = new InProcessExchange();
  const j = ex.journal;
  const pm = new InProcessProductManager(j);
  j.listProduct(PRODUCT, 10, 1, 1, 100);
  for (const a of [MINE, OTHER, IDLE]) {
    j.openAccount(a);
    j.deposit(a, 1_000_000_000);
  }
  j.setRiskRule(RiskRuleKind.MAX_OPEN_ORDERS, 1_000_000);
  j.setRiskRule(RiskRuleKind.NOTIONAL_DAILY, 1_000_000_000);
  j.openTradingDay(20250102);
  const settle = (): void => {
    ex.settle();
    pm.poll();
  };
  settle();
  const mine: number[] = [];
  for (let i = 0; i < FILLER; i++) {
    if (MINE_AT.has(i)) {
      t.equal(pm.submitNewOrder(MINE, PRODUCT, Side.INFLOW, 96 + mine.length, 3 + mine.length, { clientOrderId: `mine-${mine.length}` }), 0);
      pm.poll();
      mine.push(pm.state.lastOrderId);
    }
    if (pm.submitNewOrder(OTHER, PRODUCT, Side.INFLOW, 95, 1) !== 0) throw new Error(`order ${i} of OTHER refused`);
    if ((i & 1023) === 0) pm.poll();
  }
  settle();
  const path = shmPath(t, 'orders-answers');
  const ring = RingFile.create(path, { capacityBytes: 1 << 20, maxConsumers: 2 });
  const consumer = new RingConsumer(ring, 'gateway-1');
  const producer = new RingProducer(RingFile.open(path));
  t.teardown(() => {
    producer.close();
    consumer.close();
  });
  const answerer = new OrdersAnswerer(pm.state);
  const query = new DataView(new ArrayBuffer(OrdersQuery.size));
  const take = (accountId: number, scope: number, orderId = 0, maxOrders = 1000, requestId = 77): number => {
    encode(OrdersQuery, { orderId, accountId, requestId, maxOrders, gatewayId: GATEWAY, scope }, query, 0);
    return answerer.take(producer, query, 0, GATEWAY);
  };
  const read = (): Rec[] => {
    producer.commit();
    const out: Rec[] = [];
    consumer.poll((_type: number, _v: number, buf: RecordBuffer, offset: number) => void out.push(decode(OrderRecord, buf.view, offset)), 10_000);
    return out;
  };
  return { pm, j, settle, mine, answerer, take, read };
}

t.test('orders of one account spread over a large table: found over several iterations, answered once', async (t) => {
  const { pm, mine, answerer, take, read } = setup(t);
  t.ok(pm.state.orders.capacity > ORDER_SCAN_SLOTS_PER_ITERATION, `the order table (${pm.state.orders.capacity} slots) is larger than one scan step`);
  t.equal(take(MINE, OrdersScope.OPEN), ORDERS_QUEUED, 'a list is queued, not scanned in the taking iteration');
  let iterations = 0;
  let records: Rec[] = [];
  while (records.length === 0 && iterations < 100) {
    answerer.advance();
    iterations++;
    records = read();
  }
  t.ok(iterations >= 2, `the scan took ${iterations} iterations of at most ${ORDER_SCAN_SLOTS_PER_ITERATION} slots`);
  t.same(records.map((r) => r.orderId).sort((a, b) => a - b), [...mine].sort((a, b) => a - b), 'every open order of the account, no other');
  t.same(records.map((r) => r.more), [1, 1, 0], 'more = 1 on all but the last');
  t.ok(records.every((r) => r.answerStatus === ReadStatus.OK && r.requestId === 77 && r.accountId === MINE && r.gatewayId === GATEWAY));
  const first = records.find((r) => r.orderId === mine[0])!;
  t.match(first, { price: 96, quantity: 3, filledQuantity: 0, remainingQuantity: 3, side: Side.INFLOW, status: OrderStatus.NEW, productId: PRODUCT, clientOrderId: 'mine-0' }, 'with the order as the table holds it');
  t.ok(first.creationTimeUs > 0, 'and its creation time');
  t.equal(answerer.pendingScans, 0);
  answerer.advance();
  t.same(read(), [], 'answered exactly once');
});

t.test('an account with nothing open is answered at once with one NONE record', async (t) => {
  const { take, read } = setup(t);
  t.equal(take(IDLE, OrdersScope.OPEN), 1);
  t.match(read(), [{ answerStatus: ReadStatus.NONE, orderId: 0, more: 0, accountId: IDLE }]);
  t.equal(take(4_000_000, OrdersScope.OPEN), 1, 'an unknown account too');
  t.match(read(), [{ answerStatus: ReadStatus.NONE, more: 0 }]);
});

t.test("one order: its owner reads it; another account's order and a missing one answer the same NONE", async (t) => {
  const { pm, mine, take, read } = setup(t);
  t.equal(take(MINE, OrdersScope.ONE, mine[1]!), 1);
  t.match(read(), [{ orderId: mine[1], answerStatus: ReadStatus.OK, price: 97, quantity: 4, more: 0 }]);
  const othersOrder = pm.state.lastOrderId;
  take(MINE, OrdersScope.ONE, othersOrder);
  const theirs = read();
  take(MINE, OrdersScope.ONE, 987_654_321);
  const missing = read();
  t.match(theirs, [{ answerStatus: ReadStatus.NONE, orderId: 0, price: 0 }], "another account's order: NONE, nothing of it");
  t.same(theirs, missing, 'byte for byte the answer to a missing order');
});

t.test('an order that finishes during the scan is left out; ALL lists it among the finished', async (t) => {
  const { pm, mine, answerer, take, read, settle } = setup(t);
  t.equal(take(MINE, OrdersScope.OPEN), ORDERS_QUEUED);
  answerer.advance(); // the first step holds mine[0] (slot 5) already
  t.same(read(), []);
  t.equal(pm.submitCancel(MINE, mine[0]!), 0);
  settle();
  let records: Rec[] = [];
  for (let i = 0; i < 100 && records.length === 0; i++) {
    answerer.advance();
    records = read();
  }
  t.same(records.map((r) => r.orderId).sort((a, b) => a - b), [mine[1], mine[2]].sort((a, b) => a - b), 'the canceled order is not listed as open');

  t.equal(take(MINE, OrdersScope.ALL), ORDERS_QUEUED);
  let all: Rec[] = [];
  for (let i = 0; i < 100 && all.length === 0; i++) {
    answerer.advance();
    all = read();
  }
  t.equal(all.length, 3, 'ALL: two open and the finished one');
  t.match(all.find((r) => r.orderId === mine[0]), { status: OrderStatus.CANCELED, remainingQuantity: 0 }, 'the finished order as it ended');
});

t.test('a list longer than the bound is TRUNCATED at the bound', async (t) => {
  const { answerer, take, read } = setup(t);
  t.equal(take(OTHER, OrdersScope.OPEN, 0, 10), ORDERS_QUEUED);
  let records: Rec[] = [];
  for (let i = 0; i < 100 && records.length === 0; i++) {
    answerer.advance();
    records = read();
  }
  t.equal(records.length, 10, 'ten records');
  t.ok(records.every((r) => r.answerStatus === ReadStatus.TRUNCATED), 'each says TRUNCATED');
  t.equal(records[9]!.more, 0);
});
