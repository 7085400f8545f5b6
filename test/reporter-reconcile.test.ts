// Reconciliation finds what is wrong, not only that nothing is: over a realistic journal on disk
// (real segment files) and its report database (SQLite and PostgreSQL), zero differences when the
// database is right; a database that lags the journal is compared up to its own seq; and every
// kind of damage — a lost execution, a wrong filled quantity, a wrong balance, a lost order, a
// database that claims more than the journal holds — is reported with its measure and key.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t, { type Test } from 'tap';
import { formatReconcileResult, reconcile, type ReconcileResult } from '../processes/reporter/reconcile';
import { ReportModel } from '../processes/reporter/report-model';
import { openReportStore, type ReportStore } from '../processes/reporter/report-store';
import { buildWorkload } from '../processes/reporter/report-workload';
import { findTestPostgres, postgresMissingMessage, postgresRequired, postgresTestDatabase, sqliteTestDatabase, type TestDatabase } from '../processes/reporter/report-test-database';
import { writeJournalSegments } from '../processes/reporter/workload-journal';

const SEED = Number(process.env['IMS_TEST_SEED'] ?? 0x4ec_0c11);
t.comment(`seed ${SEED} (set IMS_TEST_SEED to change)`);
const workload = buildWorkload({ seed: SEED, operations: 3_000, accounts: 12, outlets: 3, products: 5, dayEvery: 1_500 });
const journal = workload.journal;

const journalDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ims-test-reporter-reconcile-'));
t.teardown(() => fs.rmSync(journalDir, { recursive: true, force: true }));
writeJournalSegments(journal, journalDir, { segmentBytes: 1 << 19 });
// A shorter journal: what a database that claims more than the journal holds is compared with.
const shortJournalDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ims-test-reporter-reconcile-short-'));
t.teardown(() => fs.rmSync(shortJournalDir, { recursive: true, force: true }));
writeJournalSegments(journal, shortJournalDir, { count: journal.length - 100 });

async function reported(store: ReportStore, count = journal.length): Promise<void> {
  const model = new ReportModel(await store.loadState());
  for (let i = 0; i < count; i++) {
    const e = journal.entries[i]!;
    model.apply(journal.view, e.offset, e.typeId, e.desc.version);
    if (model.pendingEntries >= 800) await store.writeBatch(model.takeBatch());
  }
  await store.writeBatch(model.takeBatch());
}

function measures(r: ReconcileResult): string[] {
  return [...new Set(r.differences.map((d) => d.measure))].sort();
}

function forEachDatabase(t: Test, body: (t: Test, db: TestDatabase) => Promise<void>): void {
  t.test('sqlite', async (t) => {
    const db = sqliteTestDatabase('reconcile');
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
    const db = postgresTestDatabase(found.url, 'reconcile');
    t.teardown(() => db.remove());
    await body(t, db);
  });
}

t.test('reconcile: zero differences for a right database, every kind of damage named', async (t) => {
  forEachDatabase(t, async (t, db) => {
    const store = await openReportStore(db.options);
    t.teardown(() => store.close());

    await reported(store, journal.length - 500);
    const lagging = await reconcile({ database: db.options, journalDir });
    t.match(lagging, { ok: true, differenceCount: 0, lagEntries: 500, journalLastSeq: journal.lastSeq, databaseLastSeq: journal.lastSeq - 500 }, 'a database behind the journal: compared up to its own seq, the lag reported');
    await reported(store);
    const clean = await reconcile({ database: store, journalDir });
    t.equal(clean.differenceCount, 0, formatReconcileResult(clean));
    t.ok(clean.checked.executions > 200 && clean.checked.orders > 500, `compared ${clean.checked.orders} orders and ${clean.checked.executions} executions`);

    const ahead = await reconcile({ database: store, journalDir: shortJournalDir });
    t.ok(ahead.differences.some((d) => d.measure === 'journal_position' && d.journal === journal.lastSeq - 100 && d.database === journal.lastSeq), 'a database that claims entries the journal does not hold');

    // Damage, one kind at a time, each undone before the next.
    const exec = (await store.all<{ exec_id: number; seq: number; time_us: number; product_id: number; price: number; quantity: number; taker_side: string; maker_order_id: number; maker_account_id: number; taker_order_id: number; taker_account_id: number }>(
      'SELECT exec_id, seq, time_us, product_id, price, quantity, taker_side, maker_order_id, maker_account_id, taker_order_id, taker_account_id FROM executions ORDER BY exec_id LIMIT 1',
    ))[0]!;
    await store.run('DELETE FROM executions WHERE exec_id = ?', [exec.exec_id]);
    const lost = await reconcile({ database: store, journalDir });
    t.same(measures(lost), ['executions', 'fills', 'order_filled_vs_executions', 'product_day_stats_vs_executions', 'cash_vs_movements_and_fills', 'units_vs_movements_and_fills'].sort(), 'a lost execution: counts, fills, both orders, the day stats and the wallets it explains');
    t.ok(lost.differences.some((d) => d.measure === 'order_filled_vs_executions' && d.key === `order=${exec.maker_order_id}`), 'names the maker order');
    await store.run('INSERT INTO executions (exec_id, seq, time_us, product_id, price, quantity, taker_side, maker_order_id, maker_account_id, taker_order_id, taker_account_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', [
      exec.exec_id, exec.seq, exec.time_us, exec.product_id, exec.price, exec.quantity, exec.taker_side, exec.maker_order_id, exec.maker_account_id, exec.taker_order_id, exec.taker_account_id,
    ]);
    t.equal((await reconcile({ database: store, journalDir })).differenceCount, 0, 'restored');

    await store.run('UPDATE orders SET filled_quantity = filled_quantity + 1 WHERE order_id = ?', [exec.taker_order_id]);
    const wrongFill = await reconcile({ database: store, journalDir });
    t.same(measures(wrongFill), ['order_filled_vs_executions', 'orders'], 'a wrong filled quantity');
    await store.run('UPDATE orders SET filled_quantity = filled_quantity - 1 WHERE order_id = ?', [exec.taker_order_id]);

    await store.run('UPDATE account_cash SET cash = cash + 7 WHERE account_id = ?', [exec.maker_account_id]);
    const wrongCash = await reconcile({ database: store, journalDir });
    t.same(measures(wrongCash), ['cash', 'cash_vs_movements_and_fills', 'total_cash'], 'a wrong balance');
    t.ok(wrongCash.differences.some((d) => d.measure === 'cash' && d.key === `account=${exec.maker_account_id}` && d.database === d.journal! + 7), 'names the account and both values');
    await store.run('UPDATE account_cash SET cash = cash - 7 WHERE account_id = ?', [exec.maker_account_id]);

    const someOrder = (await store.all<{ order_id: number }>("SELECT order_id FROM orders WHERE status = 'canceled' AND filled_quantity = 0 ORDER BY order_id LIMIT 1"))[0]!;
    await store.run('DELETE FROM orders WHERE order_id = ?', [someOrder.order_id]);
    const lostOrder = await reconcile({ database: store, journalDir });
    t.same(measures(lostOrder), ['orders'], 'a lost order');
    t.ok(lostOrder.differences.some((d) => d.field === 'count' && d.journal === d.database! + 1), 'one order short');
    t.match(formatReconcileResult(lostOrder), /\d+ differences:\n {2}orders account=\d+ product=\d+ status=canceled count: journal \d+, database \d+/);
  });
});
