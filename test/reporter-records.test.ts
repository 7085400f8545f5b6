// The reporter library over a realistic journal — colleagues of several outlets trading through the
// REAL product manager and matching engine, with cancels, amends, every time in force, self-trade
// policies, deposits, withdrawals, receipts, dispatches and day rollovers — written in batches of
// random sizes into SQLite and PostgreSQL. Its rows are held against computations that do not use
// the reporter's code:
//   * the product manager's own order states and wallets (an independent implementation);
//   * the journal's Fill entries, decoded field by field: every execution row, and every order's
//     filled quantity = Σ of its fills;
//   * the rules every order must satisfy, with the quantity self-trade prevention decremented (from
//     the journal's OrderCanceled entries that leave the order open): filled ⇒ filled + decremented
//     = quantity and nothing remains; canceled, expired, rejected ⇒ nothing remains; open ⇒
//     remaining = quantity − filled − decremented > 0.
import t, { type Test } from 'tap';
import { decode, readChars, readI64, readU32 } from '../bus/codec';
import { AccountOpened, Fill, JOURNAL_HEADER_BYTES, ListProduct, NewOrder, OrderAmended, OrderCanceled, TypeId } from '../bus/schema';
import { ORDER_STATUS_NAMES, SIDE_NAMES } from '../processes/reporter/report-codes';
import { ApplyResult, ReportModel, ReporterInvariantError } from '../processes/reporter/report-model';
import { openReportStore, type ReportStore } from '../processes/reporter/report-store';
import { BATCH_TABLES } from '../processes/reporter/report-tables';
import { buildWorkload, seededRandom } from '../processes/reporter/report-workload';
import { findTestPostgres, postgresMissingMessage, postgresRequired, postgresTestDatabase, sqliteTestDatabase, type TestDatabase } from '../processes/reporter/report-test-database';
import { JournalBuilder } from '../processes/product-manager/journal-builder';

const SEED = Number(process.env['IMS_TEST_SEED'] ?? 0x7e9_0a11);
t.comment(`seed ${SEED} (set IMS_TEST_SEED to change)`);

const workload = buildWorkload({ seed: SEED, operations: 9_000, accounts: 24, outlets: 4, products: 8, dayEvery: 4_000 });
const journal = workload.journal;
t.comment(`${journal.length} journal entries, ${workload.accepted} commands accepted, days ${workload.tradingDays.join(', ')}`);

/** Runs `body` against SQLite, and against PostgreSQL when reachable (required with CI=true). */
function forEachDatabase(t: Test, label: string, body: (t: Test, db: TestDatabase) => Promise<void>): void {
  t.test('sqlite', async (t) => {
    const db = sqliteTestDatabase(label);
    t.teardown(() => db.remove());
    await body(t, db);
  });
  t.test('postgres', async (t) => {
    const found = await findTestPostgres();
    if (found.url === undefined) {
      if (postgresRequired()) t.fail(postgresMissingMessage(found.why));
      else t.skip(postgresMissingMessage(found.why), () => undefined);
      return;
    }
    const db = postgresTestDatabase(found.url, label);
    t.teardown(() => db.remove());
    await body(t, db);
  });
}

/** Applies the whole journal, writing a batch every 1..maxBatch entries (seeded). */
async function report(store: ReportStore, maxBatch: number, seed: number): Promise<ReportModel> {
  const model = new ReportModel(await store.loadState());
  const random = seededRandom(seed);
  let due = 1 + Math.floor(random() * maxBatch);
  for (const e of journal.entries) {
    model.apply(journal.view, e.offset, e.typeId, e.desc.version);
    if (model.pendingEntries >= due) {
      await store.writeBatch(model.takeBatch());
      due = 1 + Math.floor(random() * maxBatch);
    }
  }
  await store.writeBatch(model.takeBatch());
  return model;
}

interface OrderRow {
  order_id: number;
  account_id: number;
  product_id: number;
  symbol: string;
  brand: string;
  product_type: string;
  side: string;
  price: number;
  quantity: number;
  filled_quantity: number;
  filled_notional: number;
  remaining_quantity: number;
  status: string;
  reason: string | null;
  client_order_id: string;
  created_seq: number;
  created_time_us: number;
}

t.test('orders, executions and wallets from a realistic journal match the product manager and the fills', async (t) => {
  forEachDatabase(t, 'records', async (t, db) => {
    const store = await openReportStore(db.options);
    t.teardown(() => store.close());
    await report(store, 3_000, SEED ^ 0x55);
    t.equal((await store.progress()).lastSeq, journal.lastSeq, 'the database holds every entry');

    // Independent facts from the journal itself.
    const newOrders = new Map<number, { seq: number; timeUs: number; account: number; product: number; coid: string; price: number; quantity: number }>();
    const fills: Array<ReturnType<typeof decode<typeof Fill>> & { seq: number; timeUs: number }> = [];
    const filledByOrder = new Map<number, number>();
    const decremented = new Map<number, number>();
    const v = journal.view;
    for (const e of journal.entries) {
      const b = e.offset + JOURNAL_HEADER_BYTES;
      const timeUs = readI64(v, e.offset + 8);
      if (e.typeId === TypeId.NewOrder) {
        const id = readI64(v, b + NewOrder.o.orderId);
        if (!newOrders.has(id)) {
          newOrders.set(id, {
            seq: e.seq,
            timeUs,
            account: readU32(v, b + NewOrder.o.accountId),
            product: readU32(v, b + NewOrder.o.productId),
            coid: readChars(v, b + NewOrder.o.clientOrderId, 24),
            price: readI64(v, b + NewOrder.o.price),
            quantity: readI64(v, b + NewOrder.o.quantity),
          });
        }
      } else if (e.typeId === TypeId.Fill) {
        const f = decode(Fill, v, b);
        fills.push({ ...f, seq: e.seq, timeUs });
        filledByOrder.set(f.makerOrderId, (filledByOrder.get(f.makerOrderId) ?? 0) + f.quantity);
        filledByOrder.set(f.takerOrderId, (filledByOrder.get(f.takerOrderId) ?? 0) + f.quantity);
      } else if (e.typeId === TypeId.OrderCanceled) {
        // A self-trade decrement takes quantity off an order that stays open.
        const c = decode(OrderCanceled, v, b);
        if (c.leavesQuantity > 0) decremented.set(c.orderId, (decremented.get(c.orderId) ?? 0) + c.canceledQuantity);
      } else if (e.typeId === TypeId.OrderAmended) {
        decremented.delete(readI64(v, b + OrderAmended.o.orderId)); // an amend sets quantity = filled + open again
      }
    }
    t.ok(fills.length > 1_000, `the workload trades (${fills.length} fills)`);

    const orders = await store.all<OrderRow>(
      'SELECT order_id, account_id, product_id, symbol, brand, product_type, side, price, quantity, filled_quantity, filled_notional, remaining_quantity, status, reason, client_order_id, created_seq, created_time_us FROM orders ORDER BY order_id',
    );
    t.equal(orders.length, newOrders.size, 'one row per order');
    const pm = workload.pm;
    let comparedWithPm = 0;
    const problems: string[] = [];
    const statusCounts: Record<string, number> = {};
    for (const o of orders) {
      statusCounts[o.status] = (statusCounts[o.status] ?? 0) + 1;
      const n = newOrders.get(o.order_id);
      const where = `order ${o.order_id}`;
      if (n === undefined) {
        problems.push(`${where}: no NewOrder in the journal`);
        continue;
      }
      if (o.account_id !== n.account || o.product_id !== n.product || o.client_order_id !== n.coid || o.created_seq !== n.seq || o.created_time_us !== n.timeUs) {
        problems.push(`${where}: identity ${JSON.stringify(o)} differs from its NewOrder ${JSON.stringify(n)}`);
      }
      if (o.symbol !== `SKU-${o.product_id}` || o.product_type !== o.brand || o.brand === '') problems.push(`${where}: product ${o.product_id} shows as ${o.symbol}/${o.brand}/${o.product_type}`);
      if (o.filled_quantity !== (filledByOrder.get(o.order_id) ?? 0)) problems.push(`${where}: filled ${o.filled_quantity} but its fills sum to ${filledByOrder.get(o.order_id) ?? 0}`);
      const off = decremented.get(o.order_id) ?? 0;
      if (o.status === 'filled' && (o.filled_quantity + off !== o.quantity || o.remaining_quantity !== 0)) {
        problems.push(`${where}: filled with ${o.filled_quantity}/${o.quantity} (${off} decremented), ${o.remaining_quantity} remaining`);
      }
      if (['canceled', 'rejected', 'expired'].includes(o.status) && o.remaining_quantity !== 0) problems.push(`${where}: ${o.status} with ${o.remaining_quantity} remaining`);
      if (['new', 'partially_filled', 'replaced'].includes(o.status) && !(o.remaining_quantity > 0 && o.remaining_quantity === o.quantity - o.filled_quantity - off)) {
        problems.push(`${where}: ${o.status} with remaining ${o.remaining_quantity} ≠ quantity ${o.quantity} − filled ${o.filled_quantity} − decremented ${off}`);
      }
      if (o.status === 'new' && o.filled_quantity !== 0) problems.push(`${where}: new but filled ${o.filled_quantity}`);
      const view = pm.order(o.order_id);
      if (view !== undefined) {
        comparedWithPm++;
        const expected = { status: ORDER_STATUS_NAMES[view.status], filled: view.filledQuantity, remaining: view.remainingQuantity, price: view.price, quantity: view.quantity, side: SIDE_NAMES[view.side] };
        const actual = { status: o.status, filled: o.filled_quantity, remaining: o.remaining_quantity, price: o.price, quantity: o.quantity, side: o.side };
        if (JSON.stringify(expected) !== JSON.stringify(actual)) problems.push(`${where}: product manager says ${JSON.stringify(expected)}, reporter ${JSON.stringify(actual)}`);
      }
    }
    t.same(problems.slice(0, 20), [], `every order agrees (${problems.length} problems)`);
    t.ok(comparedWithPm > 500, `${comparedWithPm} orders compared with the product manager's state (it forgets finished orders at each day open)`);
    t.ok(['new', 'partially_filled', 'filled', 'canceled', 'replaced', 'rejected'].every((s) => (statusCounts[s] ?? 0) > 0), `every status occurs: ${JSON.stringify(statusCounts)}`);

    const executions = await store.all<{ exec_id: number; seq: number; time_us: number; product_id: number; price: number; quantity: number; taker_side: string; maker_order_id: number; maker_account_id: number; taker_order_id: number; taker_account_id: number }>(
      'SELECT exec_id, seq, time_us, product_id, price, quantity, taker_side, maker_order_id, maker_account_id, taker_order_id, taker_account_id FROM executions ORDER BY exec_id',
    );
    t.equal(executions.length, fills.length, 'one row per fill');
    const execProblems: string[] = [];
    for (let i = 0; i < Math.min(fills.length, executions.length); i++) {
      const f = fills[i]!;
      const x = executions[i]!;
      const expected = [f.execId, f.seq, f.timeUs, f.productId, f.price, f.quantity, SIDE_NAMES[f.takerSide], f.makerOrderId, f.makerAccountId, f.takerOrderId, f.takerAccountId];
      const actual = [x.exec_id, x.seq, x.time_us, x.product_id, x.price, x.quantity, x.taker_side, x.maker_order_id, x.maker_account_id, x.taker_order_id, x.taker_account_id];
      if (JSON.stringify(expected) !== JSON.stringify(actual)) execProblems.push(`fill ${i}: journal ${JSON.stringify(expected)}, database ${JSON.stringify(actual)}`);
    }
    t.same(execProblems.slice(0, 10), [], 'every execution row is its Fill');

    const cash = new Map((await store.all<{ account_id: number; cash: number }>('SELECT account_id, cash FROM account_cash')).map((r) => [r.account_id, r.cash]));
    const units = new Map((await store.all<{ account_id: number; product_id: number; units: number }>('SELECT account_id, product_id, units FROM account_inventory')).map((r) => [`${r.account_id}/${r.product_id}`, r.units]));
    const walletProblems: string[] = [];
    for (const a of workload.accountIds) {
      if ((cash.get(a) ?? 0) !== pm.account(a)!.cash) walletProblems.push(`account ${a}: cash ${cash.get(a)} ≠ product manager's ${pm.account(a)!.cash}`);
      for (const p of workload.productIds) {
        if ((units.get(`${a}/${p}`) ?? 0) !== pm.position(a, p).units) walletProblems.push(`account ${a} product ${p}: ${units.get(`${a}/${p}`)} units ≠ ${pm.position(a, p).units}`);
      }
    }
    t.same(walletProblems.slice(0, 10), [], 'every wallet (cash and units per product) equals the product manager’s');
    const refused = await store.all<{ n: number }>('SELECT COUNT(*) AS n FROM cash_movements WHERE applied = 0');
    t.equal(Number(refused[0]!.n), 0, 'every withdrawal the product manager forwarded applied');
    const movementCounts = await store.all<{ kind: string; n: number }>('SELECT kind, COUNT(*) AS n FROM cash_movements GROUP BY kind ORDER BY kind');
    const journalDeposits = journal.entries.filter((e) => e.typeId === TypeId.Deposit).length;
    t.equal(Number(movementCounts.find((m) => m.kind === 'deposit')?.n), journalDeposits, 'one row per deposit');

    const accounts = await store.all<{ account_id: number; outlet_id: number; role: string }>('SELECT account_id, outlet_id, role FROM accounts ORDER BY account_id');
    const opened = journal.entries.filter((e) => e.typeId === TypeId.AccountOpened).map((e) => decode(AccountOpened, v, e.offset + JOURNAL_HEADER_BYTES));
    t.same(
      accounts.map((a) => [a.account_id, a.outlet_id, a.role]),
      opened.map((a) => [a.accountId, a.outletId, 'colleague']),
      'accounts carry their outlets',
    );
    const listed = journal.entries.filter((e) => e.typeId === TypeId.ListProduct).map((e) => decode(ListProduct, v, e.offset + JOURNAL_HEADER_BYTES));
    const products = await store.all<{ product_id: number; symbol: string; brand: string }>('SELECT product_id, symbol, brand FROM products ORDER BY product_id');
    t.same(
      products.map((p) => [p.product_id, p.symbol, p.brand]),
      listed.map((p) => [p.productId, p.symbol, p.brand]),
      'products carry symbol and brand from ListProduct',
    );
    const receipts = await store.all<{ n: number }>("SELECT COUNT(*) AS n FROM inventory_movements WHERE kind = 'receipt'");
    t.equal(Number(receipts[0]!.n), journal.entries.filter((e) => e.typeId === TypeId.InventoryReceipt).length, 'one row per inventory receipt');
  });
});

t.test('every table the model writes has exactly the columns its migration created', async (t) => {
  forEachDatabase(t, 'columns', async (t, db) => {
    const store = await openReportStore(db.options);
    t.teardown(() => store.close());
    for (const spec of BATCH_TABLES) {
      const columns =
        store.dialect === 'sqlite'
          ? (await store.all<{ name: string }>(`SELECT name FROM pragma_table_info('${spec.name}') ORDER BY cid`)).map((r) => r.name)
          : (
              await store.all<{ column_name: string }>('SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position', [
                spec.name,
              ])
            ).map((r) => r.column_name);
      t.same(columns, spec.columns.map((c) => c.name), spec.name);
    }
  });
});

t.test('the model refuses a gap in seqs and a message layout it does not read, and skips what it applied', async (t) => {
  const j = new JournalBuilder();
  j.listProduct(1, 1, 1, 1, 100);
  j.openAccount(5, 2);
  j.deposit(5, 1000);
  const model = new ReportModel();
  const first = j.entries[0]!;
  t.equal(model.apply(j.view, first.offset, first.typeId, first.desc.version), ApplyResult.APPLIED);
  t.equal(model.apply(j.view, first.offset, first.typeId, first.desc.version), ApplyResult.ALREADY_APPLIED, 'seq 1 again: already applied');
  const third = j.entries[2]!;
  t.throws(() => model.apply(j.view, third.offset, third.typeId, third.desc.version), ReporterInvariantError, 'seq 3 after seq 1: a gap is refused');
  const second = j.entries[1]!;
  t.throws(() => model.apply(j.view, second.offset, second.typeId, second.desc.version + 1), /AccountOpened version 2, this reporter reads version 1/, 'an unknown layout version is refused with what to do');
  t.equal(model.apply(j.view, second.offset, second.typeId, second.desc.version), ApplyResult.APPLIED);
  t.equal(model.lastSeq, 2);
});

t.test("text with quotes, backslashes, commas, braces, spaces and the word NULL is stored exactly", async (t) => {
  const j = new JournalBuilder();
  const symbol = `A'B"C\\D,{E}`;
  j.append(ListProduct, { tickSize: 1, lotSize: 1, referencePrice: 100, productId: 3, brandId: 4, selfTradePolicy: 0, symbol, brand: 'NULL' });
  j.openAccount(9, 1);
  const ids = [`it's "quoted"`, 'back\\slash\\', 'a,b{c}d', 'NULL', ' ', `'; DROP TABLE orders; --`];
  ids.forEach((clientOrderId, i) =>
    j.append(NewOrder, { orderId: 100 + i, price: 100, quantity: 1, accountId: 9, productId: 3, requestId: 0, gatewayId: 0, side: 1, timeInForce: 1, flags: 0, clientOrderId }),
  );
  forEachDatabase(t, 'text', async (t, db) => {
    const store = await openReportStore(db.options);
    t.teardown(() => store.close());
    const model = new ReportModel();
    for (const e of j.entries) model.apply(j.view, e.offset, e.typeId, e.desc.version);
    await store.writeBatch(model.takeBatch());
    const rows = await store.all<{ client_order_id: string; symbol: string; brand: string }>('SELECT client_order_id, symbol, brand FROM orders ORDER BY order_id');
    t.same(rows.map((r) => r.client_order_id), ids, 'client order ids');
    t.ok(rows.every((r) => r.symbol === symbol && r.brand === 'NULL'), 'symbol and brand');
  });
});
