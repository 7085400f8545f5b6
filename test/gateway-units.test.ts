// The gateway's building blocks in isolation: exact decimal prices (against a BigInt reference
// model, fast-check with a printed seed), token buckets, the pending-request table, the product
// catalog, order normalization, schema error codes, reply completion in the report router, the
// OpenAPI document's coverage, and the measured cost of the hot-path rate limiter.

import fc from 'fast-check';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import t from 'tap';
import { OrderStatus } from '../bus/schema';
import { PlaceOrderBody } from '../processes/gateway/api-schemas';
import { adminRoutes } from '../processes/gateway/admin-routes';
import { accountRoutes } from '../processes/gateway/account-routes';
import { formatDecimalPrice, parseDecimalPrice, PRICE_MALFORMED, PRICE_TOO_LARGE, PRICE_TOO_PRECISE } from '../processes/gateway/decimal-price';
import type { GatewayServices } from '../processes/gateway/gateway-services';
import { buildOpenApi } from '../processes/gateway/openapi';
import { normalizePlace } from '../processes/gateway/order-normalization';
import { orderRoutes } from '../processes/gateway/order-routes';
import { OrderView } from '../processes/gateway/order-view';
import { NO_SLOT, NOT_A_REPLY, PendingRequests, type PendingWaiter } from '../processes/gateway/pending-requests';
import type { ExecutionReportValue } from '../processes/gateway/pm-link';
import { ProductCatalog } from '../processes/gateway/product-catalog';
import { ReportRouter, SETTLE_MS } from '../processes/gateway/report-router';
import { ApiFailure } from '../processes/gateway/api-failure';
import { Validator } from '../processes/gateway/schema-validation';
import { TokenBucketTable } from '../processes/gateway/token-bucket';
import { testSeed } from './support/seeded-random';

const SEED = testSeed(7_331);
t.comment(`fast-check seed ${SEED} (replay with IMS_TEST_SEED=${SEED})`);

/** The reference: BigInt arithmetic on the digits, no floats anywhere. */
function referenceParse(text: string, decimals: number): number {
  if (!/^(0|[1-9][0-9]{0,14})(\.[0-9]{1,12})?$/.test(text)) return PRICE_MALFORMED;
  const [whole, frac = ''] = text.split('.');
  const trimmed = frac.replace(/0+$/, '');
  if (trimmed.length > decimals) return PRICE_TOO_PRECISE;
  const v = BigInt(whole!) * 10n ** BigInt(decimals) + BigInt(trimmed.padEnd(decimals, '0') || '0');
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? PRICE_TOO_LARGE : Number(v);
}

t.test('decimal prices become integer minor units exactly, as BigInt arithmetic says', async (t) => {
  const digits = fc.stringMatching(/^(0|[1-9][0-9]{0,14})(\.[0-9]{1,12})?$/);
  const junk = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('1e3', '-1', '01', '1.', '.5', ' 1', '1,5', '+1', 'Infinity', '0x1', '1.2.3'));
  fc.assert(
    fc.property(fc.oneof(digits, junk), fc.integer({ min: 0, max: 8 }), (text, decimals) => parseDecimalPrice(text, decimals) === referenceParse(text, decimals)),
    { seed: SEED, numRuns: 20_000 },
  );
  fc.assert(
    // Every safe integer whose whole part fits the grammar's 15 digits survives a round trip.
    fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 0, max: 8 }), (minor, decimals) => {
      if (minor >= 10 ** (15 + decimals)) return true;
      return parseDecimalPrice(formatDecimalPrice(minor, decimals), decimals) === minor;
    }),
    { seed: SEED, numRuns: 20_000 },
  );
  t.equal(parseDecimalPrice('10.05', 2), 1005, 'where parseFloat("10.05") * 100 gives 1004.9999999999999');
  t.equal(parseDecimalPrice('0.29', 2), 29);
  t.equal(parseDecimalPrice('10.050', 2), 1005, 'trailing zeros beyond the minor unit are exact');
  t.equal(parseDecimalPrice('10.005', 2), PRICE_TOO_PRECISE);
  t.equal(parseDecimalPrice('90071992547409.91', 2), Number.MAX_SAFE_INTEGER, 'the largest exact price');
  t.equal(parseDecimalPrice('90071992547409.92', 2), PRICE_TOO_LARGE, 'one cent more is refused, not rounded');
  t.equal(formatDecimalPrice(5, 2), '0.05');
  t.equal(formatDecimalPrice(100, 0), '100');
});

t.test('the product catalog validates its list and finds symbols in any case', async (t) => {
  const c = ProductCatalog.fromList({ products: [{ productId: 1, symbol: 'APPL-128', brand: 'Apple', tickSize: 1, lotSize: 1 }, { productId: 2, symbol: 'SMSN-S24', brand: 'Samsung', tickSize: 5, lotSize: 10 }] });
  t.equal(c.bySymbolAnyCase('appl-128')?.productId, 1);
  t.equal(c.priceDecimals, 2, 'cents unless told otherwise');
  t.equal(c.brandIdOf('samsung'), 2);
  t.throws(() => ProductCatalog.fromList({ products: [{ productId: 1, symbol: 'A', brand: 'X', tickSize: 1, lotSize: 1 }, { productId: 2, symbol: 'A', brand: 'X', tickSize: 1, lotSize: 1 }] }), /listed twice/);
  t.throws(() => ProductCatalog.fromList({ products: [{ productId: 1, symbol: 'A', brand: 'X', tickSize: 0, lotSize: 1 }] }), /tickSize/);
  t.throws(() => ProductCatalog.fromList({ products: [{ productId: 1, symbol: 'lower', brand: 'X', tickSize: 1, lotSize: 1 }] }), /symbol/);
  const place = normalizePlace({ symbol: 'smsn-s24', side: 'sell', price: '10.05', quantity: 20 }, c);
  t.match(place, { productId: 2, side: 2, price: 1005, quantity: 20, timeInForce: 1, flags: 0 });
  const offTick = normalizePlace({ symbol: 'SMSN-S24', side: 'sell', price: '10.07', quantity: 20 }, c) as ApiFailure;
  t.equal(offTick.detail, 'price 10.07 is not a multiple of tick 0.05 for SMSN-S24');
  const offLot = normalizePlace({ symbol: 'SMSN-S24', side: 'sell', price: '10.05', quantity: 25 }, c) as ApiFailure;
  t.equal(offLot.code, 'quantity_not_on_lot');
});

t.test('schema violations map to precise codes, an unknown field first', async (t) => {
  const v = new Validator(PlaceOrderBody, 'request body');
  const code = (x: unknown): string => (v.validate(x) as ApiFailure).code;
  t.equal(code({ symbol: 'A', side: 'inflow', price: '1', quantity: 0 }), 'quantity_out_of_range');
  t.equal(code({ symbol: 'A', side: 'up', price: '1', quantity: 1 }), 'invalid_side');
  t.equal(code({ symbol: 'A', side: 'inflow', quantity: 1 }), 'missing_field');
  t.equal(code({ side: 'up', price: 5, quantity: -1, status: 'filled' }), 'unknown_field', 'mass assignment is reported before anything else');
  const all = v.validate({ side: 'up', price: 5, quantity: -1, status: 'filled' }) as ApiFailure;
  t.ok(all.fields!.length >= 4, 'and every other problem is listed too');
  t.equal(code('text'), 'invalid_body');
});

t.test('token buckets allow the burst, then refuse with the wait until the next token', async (t) => {
  const b = new TokenBucketTable<number>(10, 10, 4);
  for (let i = 0; i < 10; i++) t.equal(b.take(7, 1_000), 0);
  t.equal(b.take(7, 1_000), 100, 'the 11th in the same instant waits 100 ms (10/s)');
  t.equal(b.take(7, 1_100), 0, 'a token 100 ms later');
  t.equal(b.take(8, 1_100), 0, 'another key has its own bucket');
  for (let k = 0; k < 10; k++) b.take(100 + k, 1_200);
  t.ok(b.size <= 4, 'the table never tracks more keys than its bound');
  t.ok(b.evictions > 0);
});

t.test('the token bucket is cheaper per request than the rate-limiter-flexible memory limiter (measured)', async (t) => {
  const N = 200_000;
  const bucket = new TokenBucketTable<number>(1e9, 1e9, 1 << 16);
  const lib = new RateLimiterMemory({ points: 1e9, duration: 1 });
  for (let i = 0; i < 10_000; i++) bucket.take(i & 1023, i);
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) bucket.take(i & 1023, 1_000_000 + i);
  const bucketNs = Number(process.hrtime.bigint() - t0) / N;
  t0 = process.hrtime.bigint();
  for (let i = 0; i < N / 10; i++) await lib.consume(i & 1023);
  const libNs = Number(process.hrtime.bigint() - t0) / (N / 10);
  t.comment(`per request: token bucket ${bucketNs.toFixed(0)} ns, RateLimiterMemory.consume ${libNs.toFixed(0)} ns (await included)`);
  t.ok(bucketNs < libNs, 'the typed-array bucket is the cheaper one on the order path');
});

function report(fields: Partial<ExecutionReportValue>): ExecutionReportValue {
  return {
    orderId: 0, price: 1000, quantity: 10, filledQuantity: 0, remainingQuantity: 10, lastPrice: 0, lastQuantity: 0, execId: 0, creationTimeUs: 1, eventTimeUs: 1,
    eventSeq: 0, requestId: 0, accountId: 5, productId: 1, gatewayId: 1, reason: 0, side: 1, status: OrderStatus.NEW, timeInForce: 1, clientOrderId: '',
    ...fields,
  };
}

class Waiter implements PendingWaiter {
  postOnly: boolean | undefined = false;
  gone = false;
  replies: ExecutionReportValue[] = [];
  timeouts = 0;
  onReply(r: ExecutionReportValue): void {
    this.replies.push({ ...r });
  }
  onTimeout(): void {
    this.timeouts++;
  }
}

t.test('pending requests: replies match by id, generation and account; stale ones do not; deadlines expire', async (t) => {
  const p = new PendingRequests(4, 1_000, 0xffff_ffff);
  const w = new Waiter();
  const id = p.reserve(w, 0, 5, 0);
  t.not(id, NO_SLOT, 'a requestId is never 0, even when the generation wraps');
  t.equal(p.slotOf(report({ requestId: id, accountId: 6 })), NOT_A_REPLY, "another account's report is not the reply");
  const slot = p.slotOf(report({ requestId: id, accountId: 5, orderId: 77 }));
  t.not(slot, NOT_A_REPLY);
  t.equal(p.slotOf(report({ requestId: id, accountId: 5, orderId: 78 })), NOT_A_REPLY, 'once an order is named, reports of other orders are not the reply');
  t.equal(p.complete(slot), w);
  t.equal(p.slotOf(report({ requestId: id, accountId: 5, orderId: 77 })), NOT_A_REPLY, 'a later report with the same requestId (a fill of the resting order) is not a reply');
  const ids = [1, 2, 3, 4].map(() => p.reserve(new Waiter(), 0, 5, 0));
  t.ok(ids.every((x) => x !== NO_SLOT));
  t.equal(p.reserve(new Waiter(), 0, 5, 0), NO_SLOT, 'a full table refuses');
  t.notOk(ids.includes(id), 'a reused slot gets a new requestId');
  const expired: number[] = [];
  t.equal(p.expire(999, (rid) => expired.push(rid)), 0);
  t.equal(p.expire(1_010, (rid) => expired.push(rid)), 4, 'swept at most every 10 ms');
  t.same(expired.sort(), [...ids].sort());
  t.equal(p.inFlight, 0);
});

t.test('a new order is answered by the report that ends its command, not by its first fill', async (t) => {
  const pending = new PendingRequests(8, 1_000);
  const pushed: string[] = [];
  const services = {
    pending,
    orders: new OrderView(),
    catalog: ProductCatalog.fromList({ products: [{ productId: 1, symbol: 'APPL-128', brand: 'Apple', tickSize: 1, lotSize: 1 }] }),
    streams: { push: (_a: number, text: string) => pushed.push(text) },
  } as unknown as GatewayServices;
  const router = new ReportRouter(services);
  const w = new Waiter();
  const rid = pending.reserve(w, Date.now(), 5, 0);
  router.handle(report({ requestId: rid, orderId: 9, execId: 101, lastQuantity: 4, lastPrice: 990, filledQuantity: 4, remainingQuantity: 6, status: OrderStatus.PARTIALLY_FILLED, eventSeq: 10 }));
  router.handle(report({ requestId: rid, orderId: 9, execId: 102, lastQuantity: 2, lastPrice: 995, filledQuantity: 6, remainingQuantity: 4, status: OrderStatus.PARTIALLY_FILLED, eventSeq: 11 }));
  t.equal(w.replies.length, 0, 'fills that leave the order open do not answer the request');
  t.equal(pushed.length, 2, 'they are pushed to the stream as executions');
  router.handle(report({ requestId: rid, orderId: 9, execId: 102, lastQuantity: 2, lastPrice: 995, filledQuantity: 6, remainingQuantity: 4, status: OrderStatus.PARTIALLY_FILLED, eventSeq: 12 }));
  t.equal(w.replies.length, 1, 'the accepted report (no new fill) ends the command');
  t.match(w.replies[0], { filledQuantity: 6, remainingQuantity: 4 });
  router.handle(report({ requestId: rid, orderId: 9, execId: 103, filledQuantity: 10, remainingQuantity: 0, lastQuantity: 4, status: OrderStatus.FILLED, eventSeq: 13 }));
  t.equal(w.replies.length, 1);
  t.equal(pushed.length, 3, 'a later fill of the resting order goes to the stream');
  router.handle(report({ requestId: rid, orderId: 9, execId: 103, filledQuantity: 10, remainingQuantity: 0, lastQuantity: 4, status: OrderStatus.FILLED, eventSeq: 13 }));
  t.equal(pushed.length, 3, 'a duplicate (same eventSeq, replayed) is dropped');

  const w2 = new Waiter();
  const rid2 = pending.reserve(w2, Date.now(), 5, 0);
  router.handle(report({ requestId: rid2, orderId: 11, execId: 200, lastQuantity: 1, filledQuantity: 1, remainingQuantity: 9, status: OrderStatus.PARTIALLY_FILLED, eventSeq: 20 }));
  t.equal(w2.replies.length, 0);
  await new Promise((r) => setTimeout(r, SETTLE_MS + 20));
  pending.expire(Date.now(), router.expired);
  t.equal(w2.replies.length, 1, 'when no ending report follows, the latest state answers after SETTLE_MS, not a 503');
  t.equal(w2.timeouts, 0);
});

t.test('the OpenAPI document covers every declared route with the validators\' schemas', async (t) => {
  const s = {} as GatewayServices;
  const decls = [...orderRoutes(s), ...accountRoutes(s), ...adminRoutes(s)];
  const doc = buildOpenApi(decls, { title: 't', version: '1', description: 'd' }) as any;
  for (const d of decls) t.ok(doc.paths[d.path]?.[d.method], `${d.method} ${d.path}`);
  t.equal(doc.openapi, '3.1.0');
  const text = JSON.stringify(doc);
  t.notOk(text.includes('"[Kind]"'), 'no TypeBox internals leak into the document');
  t.same(doc.components.schemas.PlaceOrder.properties.price.pattern, (PlaceOrderBody.properties.price as any).pattern);
});
