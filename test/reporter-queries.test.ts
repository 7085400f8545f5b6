// The data service's queries over the report database (SQLite and PostgreSQL): pages walked to the
// end return exactly the rows an independent computation from the journal's Fill and NewOrder
// entries gives, in order, none twice, whatever the page size — also when many entries share a
// timestamp (the sequencer stamps a whole batch with one clock read); limits and bad cursors are
// refused with clear errors; and a colleague sees only their own executions and orders.
import t, { type Test } from 'tap';
import { decode, readI64, writeI64 } from '../bus/codec';
import { Fill, JOURNAL_HEADER_BYTES, NewOrder, TypeId } from '../bus/schema';
import { ReportModel } from '../processes/reporter/report-model';
import { openReportStore, type ReportStore } from '../processes/reporter/report-store';
import { executionsFor, ordersFor, ReportQueryError, type ExecutionQuery, type ExecutionView, type OrderQuery, type OrderView, type Viewer } from '../processes/reporter/report-queries';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../processes/reporter/reporter-limits';
import { buildWorkload } from '../processes/reporter/report-workload';
import { findTestPostgres, postgresMissingMessage, postgresRequired, postgresTestDatabase, sqliteTestDatabase, type TestDatabase } from '../processes/reporter/report-test-database';

const SEED = Number(process.env['IMS_TEST_SEED'] ?? 0x9e7_1e5);
t.comment(`seed ${SEED} (set IMS_TEST_SEED to change)`);

const workload = buildWorkload({ seed: SEED, operations: 4_000, accounts: 10, outlets: 2, products: 5 });
const journal = workload.journal;
// Coarse timestamps: 16 consecutive entries share one µs, as a sequencer batch does.
const BASE_US = 1_736_000_000_000_000;
for (const e of journal.entries) writeI64(journal.view, e.offset + 8, BASE_US + Math.floor(e.seq / 16));

interface Side {
  execId: number;
  orderId: number;
  accountId: number;
  productId: number;
  side: string;
  liquidity: string;
  price: number;
  quantity: number;
  timeUs: number;
}

/** Every execution side, from the journal's Fill entries, in the order the queries promise. */
const allSides: Side[] = [];
const orderCreation = new Map<number, { accountId: number; timeUs: number; productId: number }>();
for (const e of journal.entries) {
  const timeUs = readI64(journal.view, e.offset + 8);
  if (e.typeId === TypeId.Fill) {
    const f = decode(Fill, journal.view, e.offset + JOURNAL_HEADER_BYTES);
    const takerSide = f.takerSide === 1 ? 'inflow' : 'outflow';
    const makerSide = f.takerSide === 1 ? 'outflow' : 'inflow';
    const common = { execId: f.execId, productId: f.productId, price: f.price, quantity: f.quantity, timeUs };
    allSides.push({ ...common, orderId: f.makerOrderId, accountId: f.makerAccountId, side: makerSide, liquidity: 'maker' });
    allSides.push({ ...common, orderId: f.takerOrderId, accountId: f.takerAccountId, side: takerSide, liquidity: 'taker' });
  } else if (e.typeId === TypeId.NewOrder) {
    const n = decode(NewOrder, journal.view, e.offset + JOURNAL_HEADER_BYTES);
    if (!orderCreation.has(n.orderId)) orderCreation.set(n.orderId, { accountId: n.accountId, timeUs, productId: n.productId });
  }
}
allSides.sort((a, b) => a.timeUs - b.timeUs || a.execId - b.execId || (a.liquidity === 'maker' ? 0 : 1) - (b.liquidity === 'maker' ? 0 : 1));

function comparable(v: ExecutionView): Side {
  return { execId: v.execId, orderId: v.orderId, accountId: v.accountId, productId: v.productId, side: v.side, liquidity: v.liquidity, price: v.price, quantity: v.quantity, timeUs: v.timeUs };
}

async function walkExecutions(store: ReportStore, q: ExecutionQuery): Promise<{ rows: Side[]; pages: number }> {
  const rows: Side[] = [];
  let cursor: string | undefined;
  let pages = 0;
  for (;;) {
    const page = await executionsFor(store, { ...q, cursor });
    pages++;
    if (page.items.length > (q.limit ?? DEFAULT_PAGE_SIZE)) throw new Error('a page is longer than its limit');
    rows.push(...page.items.map(comparable));
    if (page.nextCursor === null) return { rows, pages };
    if (pages > 10_000) throw new Error('the pages never end');
    cursor = page.nextCursor;
  }
}

async function walkOrders(store: ReportStore, q: OrderQuery): Promise<OrderView[]> {
  const rows: OrderView[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 10_000; pages++) {
    const page = await ordersFor(store, { ...q, cursor });
    rows.push(...page.items);
    if (page.nextCursor === null) return rows;
    cursor = page.nextCursor;
  }
  throw new Error('the pages never end');
}

function forEachDatabase(t: Test, body: (t: Test, store: ReportStore) => Promise<void>): void {
  const withStore = async (t: Test, db: TestDatabase): Promise<void> => {
    t.teardown(() => db.remove());
    const store = await openReportStore(db.options);
    t.teardown(() => store.close());
    const model = new ReportModel(await store.loadState());
    for (const e of journal.entries) {
      model.apply(journal.view, e.offset, e.typeId, e.desc.version);
      if (model.pendingEntries >= 1_000) await store.writeBatch(model.takeBatch());
    }
    await store.writeBatch(model.takeBatch());
    await body(t, store);
  };
  t.test('sqlite', async (t) => withStore(t, sqliteTestDatabase('queries')));
  t.test('postgres', async (t) => {
    const found = await findTestPostgres();
    if (found.url === undefined) {
      if (postgresRequired()) t.fail(postgresMissingMessage(found.why));
      else t.skip(postgresMissingMessage(found.why), () => undefined);
      return;
    }
    await withStore(t, postgresTestDatabase(found.url, 'queries'));
  });
}

const colleague = (accountId: number): Viewer => ({ accountId, role: 'colleague' });
const ANALYST: Viewer = { accountId: 9_001, role: 'analyst' };

async function rejectsWith(t: Test, promise: Promise<unknown>, code: string, detail: RegExp, what: string): Promise<void> {
  try {
    await promise;
    t.fail(`${what}: expected ${code}`);
  } catch (e) {
    t.ok(e instanceof ReportQueryError && e.code === code && detail.test(e.detail), `${what}: ${(e as Error).message}`);
  }
}

t.test('executions: pages of any size walk to exactly the independent list, in order, none twice', async (t) => {
  t.ok(allSides.length > 1_500, `${allSides.length} execution sides`);
  forEachDatabase(t, async (t, store) => {
    for (const accountId of [1, 4, 7]) {
      const expected = allSides.filter((s) => s.accountId === accountId);
      for (const limit of [1, 7, 100]) {
        if (limit === 1 && expected.length > 400) continue; // one row per page: a shorter account suffices
        const { rows, pages } = await walkExecutions(store, { viewer: colleague(accountId), limit });
        t.same(rows, expected, `account ${accountId}, limit ${limit}: ${rows.length} sides in ${pages} pages`);
      }
    }
    const everyone = await walkExecutions(store, { viewer: ANALYST, limit: 97 });
    t.same(everyone.rows, allSides, `an analyst walks every side of every execution (${everyone.rows.length} in ${everyone.pages} pages)`);
    const oneRowPages = await walkExecutions(store, { viewer: ANALYST, limit: 1, endTimeUs: allSides[40]!.timeUs });
    t.same(oneRowPages.rows, allSides.filter((s) => s.timeUs < allSides[40]!.timeUs), 'pages of one row split the two sides of an execution correctly');
  });
});

t.test('executions: symbol, order id and time filters', async (t) => {
  forEachDatabase(t, async (t, store) => {
    const bySymbol = await walkExecutions(store, { viewer: colleague(3), symbol: 'SKU-2', limit: 50 });
    t.same(bySymbol.rows, allSides.filter((s) => s.accountId === 3 && s.productId === 2), "a colleague's executions of one product");
    const allOfSymbol = await walkExecutions(store, { viewer: ANALYST, symbol: 'SKU-4', limit: 200 });
    t.same(allOfSymbol.rows, allSides.filter((s) => s.productId === 4), "every account's executions of one product");
    const from = allSides[Math.floor(allSides.length / 3)]!.timeUs;
    const to = allSides[Math.floor((2 * allSides.length) / 3)]!.timeUs;
    const window = await walkExecutions(store, { viewer: colleague(5), startTimeUs: from, endTimeUs: to, limit: 13 });
    t.same(window.rows, allSides.filter((s) => s.accountId === 5 && s.timeUs >= from && s.timeUs < to), 'startTimeUs inclusive, endTimeUs exclusive');
    const someSide = allSides.find((s) => s.accountId === 6 && s.liquidity === 'maker')!;
    const ofOrder = await walkExecutions(store, { viewer: colleague(6), orderId: someSide.orderId });
    t.same(ofOrder.rows, allSides.filter((s) => s.orderId === someSide.orderId), "the executions of one of the colleague's orders");
    const analystOfOrder = await walkExecutions(store, { viewer: ANALYST, orderId: someSide.orderId });
    t.same(analystOfOrder.rows, ofOrder.rows, 'the same order seen by an analyst');
  });
});

t.test("authorization: a colleague sees only their own executions and orders; other roles as their role allows", async (t) => {
  forEachDatabase(t, async (t, store) => {
    const mine = await walkExecutions(store, { viewer: colleague(2), limit: 1_000 });
    t.ok(mine.rows.length > 0 && mine.rows.every((r) => r.accountId === 2), `colleague 2 gets ${mine.rows.length} sides, all their own`);
    await rejectsWith(t, executionsFor(store, { viewer: colleague(2), accountId: 3 }), 'forbidden', /only its own/, "colleague 2 asking for account 3's executions");
    await rejectsWith(t, ordersFor(store, { viewer: colleague(2), accountId: 3 }), 'forbidden', /only its own/, "colleague 2 asking for account 3's orders");
    const foreign = allSides.find((s) => s.accountId === 3 && !allSides.some((o) => o.orderId === s.orderId && o.accountId === 2))!;
    const peek = await executionsFor(store, { viewer: colleague(2), orderId: foreign.orderId });
    t.same(peek.items, [], "another account's order id matches nothing for a colleague (its existence does not leak)");
    const peekOrder = await ordersFor(store, { viewer: colleague(2), orderId: foreign.orderId });
    t.same(peekOrder.items, [], "nor does it in the order history");
    t.ok(mine.rows.every((r) => !('counterpartyAccountId' in r)), 'a side never names the counterparty');
    const page = await executionsFor(store, { viewer: colleague(2), limit: 5 });
    t.ok(page.items.every((v) => Object.keys(v).sort().join() === 'accountId,execId,liquidity,orderId,price,productId,quantity,seq,side,symbol,timeUs'), 'the view has exactly its documented fields');
    const analystOf3 = await walkExecutions(store, { viewer: ANALYST, accountId: 3, limit: 500 });
    t.same(analystOf3.rows, allSides.filter((s) => s.accountId === 3), 'an analyst may read one named account');
    const admin = await executionsFor(store, { viewer: { accountId: 1, role: 'admin' }, limit: 10 });
    t.equal(admin.items.length, 10, 'an admin reads every account');
    await rejectsWith(t, executionsFor(store, { viewer: { accountId: 1, role: 'operator' } }), 'forbidden', /operator role/, 'an operator');
    t.equal(new ReportQueryError('forbidden', 'x').httpStatus, 403);
    t.equal(new ReportQueryError('limit_out_of_range', 'x').httpStatus, 400);
  });
});

t.test('limits, cursors and parameters are checked with errors that say what to do', async (t) => {
  forEachDatabase(t, async (t, store) => {
    const byDefault = await executionsFor(store, { viewer: ANALYST });
    t.equal(byDefault.items.length, DEFAULT_PAGE_SIZE, `no limit: a page of ${DEFAULT_PAGE_SIZE}`);
    const max = await executionsFor(store, { viewer: ANALYST, limit: MAX_PAGE_SIZE });
    t.equal(max.items.length, MAX_PAGE_SIZE, `the maximum page of ${MAX_PAGE_SIZE}`);
    for (const limit of [0, -1, MAX_PAGE_SIZE + 1, 2.5, Number.NaN]) {
      await rejectsWith(t, executionsFor(store, { viewer: ANALYST, limit }), 'limit_out_of_range', /maximum page size/, `limit ${limit}`);
      await rejectsWith(t, ordersFor(store, { viewer: ANALYST, limit }), 'limit_out_of_range', /maximum page size/, `orders limit ${limit}`);
    }
    const ordersPage = await ordersFor(store, { viewer: ANALYST, limit: 2 });
    for (const cursor of ['garbage', 'x1.' + Buffer.from('[1,2]').toString('base64url'), 'x1.' + Buffer.from('{"a":1}').toString('base64url'), ordersPage.nextCursor!, 'x1.' + 'A'.repeat(300)]) {
      await rejectsWith(t, executionsFor(store, { viewer: ANALYST, cursor }), 'invalid_cursor', /start again without a cursor/, `cursor ${cursor.slice(0, 20)}`);
    }
    await rejectsWith(t, executionsFor(store, { viewer: ANALYST, startTimeUs: 10, endTimeUs: 5 }), 'invalid_time_range', /after endTimeUs/, 'start after end');
    await rejectsWith(t, executionsFor(store, { viewer: ANALYST, startTimeUs: -1 }), 'invalid_time_range', /non-negative/, 'negative start');
    await rejectsWith(t, executionsFor(store, { viewer: ANALYST, symbol: 'NOPE' }), 'unknown_symbol', /no product was ever listed as 'NOPE'/, 'unknown symbol');
    await rejectsWith(t, executionsFor(store, { viewer: ANALYST, orderId: 0 }), 'invalid_parameter', /orderId/, 'order id 0');
    await rejectsWith(t, ordersFor(store, { viewer: ANALYST, status: 'lost' }), 'invalid_parameter', /status must be 'open' or one of/, 'unknown status');
    await rejectsWith(t, executionsFor(store, { viewer: ANALYST, accountId: -4 }), 'invalid_parameter', /accountId/, 'negative account');
  });
});

t.test('orders: pages walk every order of the account by creation time; status filters', async (t) => {
  forEachDatabase(t, async (t, store) => {
    for (const accountId of [2, 8]) {
      const expected = [...orderCreation].filter(([, o]) => o.accountId === accountId).sort((a, b) => a[1].timeUs - b[1].timeUs || a[0] - b[0]).map(([id]) => id);
      for (const limit of [3, 100]) {
        const rows = await walkOrders(store, { viewer: colleague(accountId), limit });
        t.same(rows.map((o) => o.orderId), expected, `account ${accountId}, limit ${limit}: ${rows.length} orders`);
      }
      const all = await walkOrders(store, { viewer: colleague(accountId), limit: 1_000 });
      for (const status of ['open', 'filled', 'canceled', 'new']) {
        const filtered = await walkOrders(store, { viewer: colleague(accountId), status, limit: 11 });
        const want = all.filter((o) => (status === 'open' ? ['new', 'partially_filled', 'replaced'].includes(o.status) : o.status === status)).map((o) => o.orderId);
        t.same(filtered.map((o) => o.orderId), want, `account ${accountId}, status ${status}: ${filtered.length}`);
      }
      const pm = workload.pm;
      const open = await walkOrders(store, { viewer: colleague(accountId), status: 'open', limit: 50 });
      t.ok(open.every((o) => pm.order(o.orderId)?.phase === 'open'), 'the open orders are the ones the product manager holds open');
    }
    const everyone = await walkOrders(store, { viewer: ANALYST, limit: 333 });
    t.equal(everyone.length, orderCreation.size, 'an analyst walks every order');
    const bySymbol = await walkOrders(store, { viewer: ANALYST, symbol: 'SKU-1', limit: 100 });
    t.same(bySymbol.map((o) => o.orderId).sort((a, b) => a - b), [...orderCreation].filter(([, o]) => o.productId === 1).map(([id]) => id).sort((a, b) => a - b), 'orders of one symbol');
  });
});
