// Reconciliation: does the report database say what the journal says? (`ims reconcile`)
//
// The journal on disk is replayed from seq 1 up to the seq the database says it holds, through a
// fresh ReportModel (the same library the reporter runs), and what that replay produces is tallied;
// the database is tallied with SQL aggregates; every difference is returned. Compared, per key:
//
//   orders              per (account, product, status): count, Σ quantity, Σ filled, Σ remaining,
//                       Σ filled notional
//   executions          per product: count, Σ quantity, Σ notional
//   fills               per (account, product): units and notional bought and sold
//   cash movements      per (account, kind, applied): count, Σ amount
//   inventory movements per (account, product, kind, applied): count, Σ quantity
//   cash                per account: the balance; inventory per (account, product): the units
//   totals              per product: units across all accounts; cash across all accounts
//   product day stats   per (day, product): trades, volume, notional, open/high/low/close
// and, inside the database, what must agree with itself:
//   every order's filled quantity = Σ of its executions;
//   every account's cash = applied deposits − withdrawals − bought + sold notional, and likewise
//   units per product; every day's product stats = its executions' aggregates.
//
// Memory: the replay holds what the reporter holds (open orders, wallets) plus the tallies, whose
// size is accounts × products, not orders. The database may lag the journal (the reporter is
// behind, or stopped): entries after its last seq are counted (lagEntries), not compared.

import * as fs from 'node:fs';
import { JournalDiskReader, TO_DISK_END } from '../../bus/journal-disk-reader';
import { ENTRY_SEQ, getI64 } from '../../bus/journal-format';
import type { RecordBuffer } from '../../bus/ring';
import { isOpenStatus, OPEN_STATUS_NAMES } from './report-codes';
import { orderRow, ReportModel, type ReportBatch } from './report-model';
import { openReportStore, type ReportReader, type ReportStore, type ReportStoreOptions } from './report-store';
import { columnIndex, EXECUTIONS, ORDERS, PRODUCT_DAY_STATS, CASH_MOVEMENTS, INVENTORY_MOVEMENTS } from './report-tables';
import { BATCH_MAX_ENTRIES, MAX_LISTED_DIFFERENCES, RECONCILE_READ_ENTRIES } from './reporter-limits';

export interface ReconcileOptions {
  /** The report database: options to open it, or an open store (left open). */
  readonly database: ReportStoreOptions | ReportStore;
  /** The journal's segment directory (the sequencer's --data-dir). */
  readonly journalDir: string;
  /** Where closed days were archived (the sequencer's --archive-dir), if any were. */
  readonly archiveDir?: string;
  /** The exchange's time zone, as the reporter was run with (default America/New_York). */
  readonly timeZone?: string;
}

export interface ReconcileDifference {
  /** What was compared: 'orders', 'cash', 'order_filled_vs_executions', ... */
  readonly measure: string;
  /** Which row of it: 'account=7 product=3 status=filled', ... */
  readonly key: string;
  readonly field: string;
  /** The value the journal gives (or, for a check inside the database, the value it should have). */
  readonly journal: number | null;
  readonly database: number | null;
}

export interface ReconcileResult {
  /** True when there is no difference at all. */
  readonly ok: boolean;
  readonly databaseLastSeq: number;
  /** The last seq found in the journal on disk. */
  readonly journalLastSeq: number;
  /** Journal entries the database does not hold yet (the reporter is behind or stopped). */
  readonly lagEntries: number;
  /** Every difference, up to MAX_LISTED_DIFFERENCES. */
  readonly differences: readonly ReconcileDifference[];
  /** All differences, listed or not. */
  readonly differenceCount: number;
  /** How much was compared. */
  readonly checked: { readonly orders: number; readonly executions: number; readonly accounts: number; readonly movements: number; readonly keys: number };
  readonly durationMs: number;
}

/** Named numbers per key: one side of one measure. */
type Tally = Map<string, Record<string, number>>;

function add(tally: Tally, key: string, values: Record<string, number>): void {
  const row = tally.get(key);
  if (row === undefined) {
    tally.set(key, { ...values });
    return;
  }
  for (const [field, v] of Object.entries(values)) row[field] = (row[field] ?? 0) + v;
}

/** The journal side of every measure, fed batch by batch from the replay. */
class JournalTally {
  readonly orders: Tally = new Map();
  readonly executions: Tally = new Map();
  readonly fills: Tally = new Map();
  readonly cashMovements: Tally = new Map();
  readonly inventoryMovements: Tally = new Map();
  /** Per (day, product): the last row written wins, as in the database. */
  readonly dayStats: Tally = new Map();
  orderCount = 0;
  executionCount = 0;
  movementCount = 0;

  private readonly o = {
    account: columnIndex(ORDERS, 'account_id'),
    product: columnIndex(ORDERS, 'product_id'),
    status: columnIndex(ORDERS, 'status'),
    quantity: columnIndex(ORDERS, 'quantity'),
    filled: columnIndex(ORDERS, 'filled_quantity'),
    remaining: columnIndex(ORDERS, 'remaining_quantity'),
    notional: columnIndex(ORDERS, 'filled_notional'),
  };
  private readonly x = {
    product: columnIndex(EXECUTIONS, 'product_id'),
    price: columnIndex(EXECUTIONS, 'price'),
    quantity: columnIndex(EXECUTIONS, 'quantity'),
    takerSide: columnIndex(EXECUTIONS, 'taker_side'),
    maker: columnIndex(EXECUTIONS, 'maker_account_id'),
    taker: columnIndex(EXECUTIONS, 'taker_account_id'),
  };

  private readonly c = {
    account: columnIndex(CASH_MOVEMENTS, 'account_id'),
    kind: columnIndex(CASH_MOVEMENTS, 'kind'),
    amount: columnIndex(CASH_MOVEMENTS, 'amount'),
    applied: columnIndex(CASH_MOVEMENTS, 'applied'),
  };
  private readonly i = {
    account: columnIndex(INVENTORY_MOVEMENTS, 'account_id'),
    product: columnIndex(INVENTORY_MOVEMENTS, 'product_id'),
    kind: columnIndex(INVENTORY_MOVEMENTS, 'kind'),
    quantity: columnIndex(INVENTORY_MOVEMENTS, 'quantity'),
    applied: columnIndex(INVENTORY_MOVEMENTS, 'applied'),
  };
  private readonly d = {
    day: columnIndex(PRODUCT_DAY_STATS, 'trading_day'),
    product: columnIndex(PRODUCT_DAY_STATS, 'product_id'),
    trades: columnIndex(PRODUCT_DAY_STATS, 'trades'),
    volume: columnIndex(PRODUCT_DAY_STATS, 'volume'),
    notional: columnIndex(PRODUCT_DAY_STATS, 'notional'),
    open: columnIndex(PRODUCT_DAY_STATS, 'open_price'),
    high: columnIndex(PRODUCT_DAY_STATS, 'high_price'),
    low: columnIndex(PRODUCT_DAY_STATS, 'low_price'),
    close: columnIndex(PRODUCT_DAY_STATS, 'close_price'),
  };

  onBatch(batch: ReportBatch): void {
    for (const t of batch.tables) {
      if (t.spec === ORDERS) {
        // A finished order's row is final (it leaves the model); open ones are tallied at the end.
        for (const r of t.rows) if (!OPEN_STATUS_NAMES.includes(r[this.o.status] as string)) this.order(r);
      } else if (t.spec === EXECUTIONS) {
        for (const r of t.rows) this.execution(r);
      } else if (t.spec === CASH_MOVEMENTS) {
        const c = this.c;
        for (const r of t.rows) {
          add(this.cashMovements, `account=${r[c.account]} kind=${r[c.kind]} applied=${r[c.applied]}`, { count: 1, amount: r[c.amount] as number });
          this.movementCount++;
        }
      } else if (t.spec === INVENTORY_MOVEMENTS) {
        const i = this.i;
        for (const r of t.rows) {
          add(this.inventoryMovements, `account=${r[i.account]} product=${r[i.product]} kind=${r[i.kind]} applied=${r[i.applied]}`, { count: 1, quantity: r[i.quantity] as number });
          this.movementCount++;
        }
      } else if (t.spec === PRODUCT_DAY_STATS) {
        const d = this.d;
        for (const r of t.rows) {
          this.dayStats.set(`day=${r[d.day]} product=${r[d.product]}`, {
            trades: r[d.trades] as number,
            volume: r[d.volume] as number,
            notional: r[d.notional] as number,
            open: r[d.open] as number,
            high: r[d.high] as number,
            low: r[d.low] as number,
            close: r[d.close] as number,
          });
        }
      }
    }
  }

  order(r: readonly unknown[]): void {
    const o = this.o;
    add(this.orders, `account=${r[o.account]} product=${r[o.product]} status=${r[o.status]}`, {
      count: 1,
      quantity: r[o.quantity] as number,
      filled: r[o.filled] as number,
      remaining: r[o.remaining] as number,
      notional: r[o.notional] as number,
    });
    this.orderCount++;
  }

  private execution(r: readonly unknown[]): void {
    const x = this.x;
    const price = r[x.price] as number;
    const quantity = r[x.quantity] as number;
    const product = r[x.product] as number;
    add(this.executions, `product=${product}`, { count: 1, quantity, notional: price * quantity });
    const takerBuys = r[x.takerSide] === 'inflow';
    const buyer = takerBuys ? r[x.taker] : r[x.maker];
    const seller = takerBuys ? r[x.maker] : r[x.taker];
    add(this.fills, `account=${buyer} product=${product}`, { boughtUnits: quantity, boughtNotional: price * quantity, soldUnits: 0, soldNotional: 0 });
    add(this.fills, `account=${seller} product=${product}`, { boughtUnits: 0, boughtNotional: 0, soldUnits: quantity, soldNotional: price * quantity });
    this.executionCount++;
  }
}

/** Collects differences, listing at most MAX_LISTED_DIFFERENCES. */
class Differences {
  readonly listed: ReconcileDifference[] = [];
  count = 0;
  keys = 0;

  note(d: ReconcileDifference): void {
    this.count++;
    if (this.listed.length < MAX_LISTED_DIFFERENCES) this.listed.push(d);
  }

  /** Compares two tallies over the union of their keys; a missing key counts as all zeros. */
  compare(measure: string, journal: Tally, database: Tally): void {
    const keys = new Set([...journal.keys(), ...database.keys()]);
    for (const key of [...keys].sort()) {
      this.keys++;
      const j = journal.get(key) ?? {};
      const d = database.get(key) ?? {};
      for (const field of new Set([...Object.keys(j), ...Object.keys(d)])) {
        const jv = j[field] ?? 0;
        const dv = d[field] ?? 0;
        if (jv !== dv) this.note({ measure, key, field, journal: jv, database: dv });
      }
    }
  }
}

function tallyRows<R>(rows: readonly R[], keyOf: (r: R) => string, valuesOf: (r: R) => Record<string, number>): Tally {
  const t: Tally = new Map();
  for (const r of rows) add(t, keyOf(r), valuesOf(r));
  return t;
}

/** Compares the report database with the journal on disk; see the file comment. */
export async function reconcile(options: ReconcileOptions): Promise<ReconcileResult> {
  const startMs = Date.now();
  if (!fs.existsSync(options.journalDir)) throw new Error(`journal directory ${options.journalDir} does not exist: give the sequencer's --data-dir`);
  const ownStore = !('writeBatch' in options.database);
  const store = ownStore ? await openReportStore({ ...(options.database as ReportStoreOptions), readOnly: true }) : (options.database as ReportStore);
  try {
    return await store.readSnapshot((db) => compare(db, options, startMs));
  } finally {
    if (ownStore) await store.close();
  }
}

/** The comparison, inside one read snapshot of the database. */
async function compare(db: ReportReader, options: ReconcileOptions, startMs: number): Promise<ReconcileResult> {
  const databaseLastSeq = (await db.progress()).lastSeq;
  const diffs = new Differences();

  // --- the journal side: replay 1..databaseLastSeq through the reporter's own library.
  const model = new ReportModel(undefined, { timeZone: options.timeZone });
  const tally = new JournalTally();
  let journalLastSeq = 0;
  const reader = new JournalDiskReader({ dataDir: options.journalDir, archiveDir: options.archiveDir, fromSeq: 1 });
  try {
    const handler = (typeId: number, version: number, buf: RecordBuffer, offset: number): void => {
      const seq = getI64(buf.view, offset + ENTRY_SEQ);
      journalLastSeq = seq;
      if (seq > databaseLastSeq) return;
      model.apply(buf.view, offset, typeId, version);
      if (model.pendingEntries >= BATCH_MAX_ENTRIES) tally.onBatch(model.takeBatch());
    };
    while (reader.read(handler, RECONCILE_READ_ENTRIES, TO_DISK_END) > 0);
  } finally {
    reader.close();
  }
  tally.onBatch(model.takeBatch());
  for (const o of model.heldOrders()) {
    if (isOpenStatus(o.status)) {
      tally.order(orderRow(o));
    }
  }
  if (journalLastSeq < databaseLastSeq) {
    diffs.note({ measure: 'journal_position', key: 'last_seq', field: 'seq', journal: journalLastSeq, database: databaseLastSeq });
  }
  const balances = model.balances();
  const journalCash: Tally = new Map(balances.cash.map(([a, cash]) => [`account=${a}`, { cash }]));
  const journalUnits: Tally = new Map(balances.units.map(([a, p, units]) => [`account=${a} product=${p}`, { units }]));

  // --- the database side.
  const dbOrders = tallyRows(
    await db.all<{ account_id: number; product_id: number; status: string; n: number; quantity: number; filled: number; remaining: number; notional: number }>(
      `SELECT account_id, product_id, status, COUNT(*) AS n, CAST(SUM(quantity) AS BIGINT) AS quantity, CAST(SUM(filled_quantity) AS BIGINT) AS filled,
              CAST(SUM(remaining_quantity) AS BIGINT) AS remaining, CAST(SUM(filled_notional) AS BIGINT) AS notional
         FROM orders GROUP BY account_id, product_id, status`,
    ),
    (r) => `account=${r.account_id} product=${r.product_id} status=${r.status}`,
    (r) => ({ count: r.n, quantity: r.quantity, filled: r.filled, remaining: r.remaining, notional: r.notional }),
  );
  diffs.compare('orders', tally.orders, dbOrders);
  const dbExecutions = tallyRows(
    await db.all<{ product_id: number; n: number; quantity: number; notional: number }>(
      'SELECT product_id, COUNT(*) AS n, CAST(SUM(quantity) AS BIGINT) AS quantity, CAST(SUM(price * quantity) AS BIGINT) AS notional FROM executions GROUP BY product_id',
    ),
    (r) => `product=${r.product_id}`,
    (r) => ({ count: r.n, quantity: r.quantity, notional: r.notional }),
  );
  diffs.compare('executions', tally.executions, dbExecutions);
  const sideSql = (who: 'buyer' | 'seller'): string => {
    const account = who === 'buyer' ? "CASE WHEN taker_side = 'inflow' THEN taker_account_id ELSE maker_account_id END" : "CASE WHEN taker_side = 'inflow' THEN maker_account_id ELSE taker_account_id END";
    return `SELECT ${account} AS account_id, product_id, CAST(SUM(quantity) AS BIGINT) AS units, CAST(SUM(price * quantity) AS BIGINT) AS notional FROM executions GROUP BY ${account}, product_id`;
  };
  const dbFills: Tally = new Map();
  for (const r of await db.all<{ account_id: number; product_id: number; units: number; notional: number }>(sideSql('buyer'))) {
    add(dbFills, `account=${r.account_id} product=${r.product_id}`, { boughtUnits: r.units, boughtNotional: r.notional, soldUnits: 0, soldNotional: 0 });
  }
  for (const r of await db.all<{ account_id: number; product_id: number; units: number; notional: number }>(sideSql('seller'))) {
    add(dbFills, `account=${r.account_id} product=${r.product_id}`, { boughtUnits: 0, boughtNotional: 0, soldUnits: r.units, soldNotional: r.notional });
  }
  diffs.compare('fills', tally.fills, dbFills);
  const dbCashMovements = tallyRows(
    await db.all<{ account_id: number; kind: string; applied: number; n: number; amount: number }>(
      'SELECT account_id, kind, applied, COUNT(*) AS n, CAST(SUM(amount) AS BIGINT) AS amount FROM cash_movements GROUP BY account_id, kind, applied',
    ),
    (r) => `account=${r.account_id} kind=${r.kind} applied=${r.applied}`,
    (r) => ({ count: r.n, amount: r.amount }),
  );
  diffs.compare('cash_movements', tally.cashMovements, dbCashMovements);
  const dbInventoryMovements = tallyRows(
    await db.all<{ account_id: number; product_id: number; kind: string; applied: number; n: number; quantity: number }>(
      'SELECT account_id, product_id, kind, applied, COUNT(*) AS n, CAST(SUM(quantity) AS BIGINT) AS quantity FROM inventory_movements GROUP BY account_id, product_id, kind, applied',
    ),
    (r) => `account=${r.account_id} product=${r.product_id} kind=${r.kind} applied=${r.applied}`,
    (r) => ({ count: r.n, quantity: r.quantity }),
  );
  diffs.compare('inventory_movements', tally.inventoryMovements, dbInventoryMovements);
  const dbCash = tallyRows(
    await db.all<{ account_id: number; cash: number }>('SELECT account_id, cash FROM account_cash'),
    (r) => `account=${r.account_id}`,
    (r) => ({ cash: r.cash }),
  );
  diffs.compare('cash', journalCash, dbCash);
  const dbUnits = tallyRows(
    await db.all<{ account_id: number; product_id: number; units: number }>('SELECT account_id, product_id, units FROM account_inventory'),
    (r) => `account=${r.account_id} product=${r.product_id}`,
    (r) => ({ units: r.units }),
  );
  diffs.compare('inventory', journalUnits, dbUnits);
  diffs.compare('total_cash', totalOf(journalCash, () => 'all accounts'), totalOf(dbCash, () => 'all accounts'));
  diffs.compare('total_units', totalOf(journalUnits, productOfKey), totalOf(dbUnits, productOfKey));
  const dbDayStats = tallyRows(
    await db.all<{ trading_day: number; product_id: number; trades: number; volume: number; notional: number; open_price: number; high_price: number; low_price: number; close_price: number }>(
      'SELECT trading_day, product_id, trades, volume, notional, open_price, high_price, low_price, close_price FROM product_day_stats',
    ),
    (r) => `day=${r.trading_day} product=${r.product_id}`,
    (r) => ({ trades: r.trades, volume: r.volume, notional: r.notional, open: r.open_price, high: r.high_price, low: r.low_price, close: r.close_price }),
  );
  diffs.compare('product_day_stats', tally.dayStats, dbDayStats);

  // --- the database against itself.
  for (const r of await db.all<{ order_id: number; filled_quantity: number; executed: number }>(
    `SELECT o.order_id, o.filled_quantity, COALESCE(f.executed, 0) AS executed
       FROM orders o LEFT JOIN (
         SELECT order_id, CAST(SUM(quantity) AS BIGINT) AS executed FROM (
           SELECT maker_order_id AS order_id, quantity FROM executions UNION ALL SELECT taker_order_id AS order_id, quantity FROM executions
         ) AS sides GROUP BY order_id
       ) AS f ON f.order_id = o.order_id
      WHERE o.filled_quantity <> COALESCE(f.executed, 0)
      ORDER BY o.order_id`,
  )) {
    diffs.note({ measure: 'order_filled_vs_executions', key: `order=${r.order_id}`, field: 'filled_quantity', journal: r.executed, database: r.filled_quantity });
  }
  const derivedCash: Tally = new Map();
  for (const [key, v] of dbCashMovements) {
    if (!key.endsWith('applied=1')) continue;
    add(derivedCash, key.split(' ')[0]!, { cash: key.includes('kind=deposit') ? v['amount']! : -v['amount']! });
  }
  for (const [key, v] of dbFills) add(derivedCash, key.split(' ')[0]!, { cash: v['soldNotional']! - v['boughtNotional']! });
  diffs.compare('cash_vs_movements_and_fills', derivedCash, dbCash);
  const derivedUnits: Tally = new Map();
  for (const [key, v] of dbInventoryMovements) {
    if (!key.endsWith('applied=1')) continue;
    const parts = key.split(' ');
    add(derivedUnits, `${parts[0]} ${parts[1]}`, { units: key.includes('kind=receipt') ? v['quantity']! : -v['quantity']! });
  }
  for (const [key, v] of dbFills) add(derivedUnits, key, { units: v['boughtUnits']! - v['soldUnits']! });
  diffs.compare('units_vs_movements_and_fills', derivedUnits, dbUnits);
  const executedByDay: Tally = new Map();
  for (const day of await db.all<{ trading_day: number; first_seq: number; last_seq: number }>('SELECT trading_day, first_seq, last_seq FROM trading_days ORDER BY trading_day')) {
    for (const r of await db.all<{ product_id: number; n: number; volume: number; notional: number; high: number; low: number }>(
      `SELECT product_id, COUNT(*) AS n, CAST(SUM(quantity) AS BIGINT) AS volume, CAST(SUM(price * quantity) AS BIGINT) AS notional, MAX(price) AS high, MIN(price) AS low
         FROM executions WHERE seq >= ? AND seq <= ? GROUP BY product_id`,
      [day.first_seq, day.last_seq],
    )) {
      executedByDay.set(`day=${day.trading_day} product=${r.product_id}`, { trades: r.n, volume: r.volume, notional: r.notional, high: r.high, low: r.low });
    }
  }
  const statsSubset: Tally = new Map([...dbDayStats].map(([k, v]) => [k, { trades: v['trades']!, volume: v['volume']!, notional: v['notional']!, high: v['high']!, low: v['low']! }]));
  diffs.compare('product_day_stats_vs_executions', executedByDay, statsSubset);

  const accounts = new Set([...journalCash.keys(), ...dbCash.keys()]).size;
  return {
    ok: diffs.count === 0,
    databaseLastSeq,
    journalLastSeq,
    lagEntries: Math.max(0, journalLastSeq - databaseLastSeq),
    differences: diffs.listed,
    differenceCount: diffs.count,
    checked: { orders: tally.orderCount, executions: tally.executionCount, accounts, movements: tally.movementCount, keys: diffs.keys },
    durationMs: Date.now() - startMs,
  };
}

function productOfKey(key: string): string {
  return key.split(' ')[1] ?? key;
}

/** Sums a tally's fields over groups of its keys. */
function totalOf(tally: Tally, groupOf: (key: string) => string): Tally {
  const out: Tally = new Map();
  for (const [key, v] of tally) add(out, groupOf(key), v);
  return out;
}

/** A human-readable summary of a reconciliation (what `ims reconcile` prints). */
export function formatReconcileResult(r: ReconcileResult): string {
  const lines = [
    `database holds journal entries up to seq ${r.databaseLastSeq}; the journal on disk ends at seq ${r.journalLastSeq}` + (r.lagEntries > 0 ? ` (${r.lagEntries} entries not reported yet)` : ''),
    `compared ${r.checked.orders} orders, ${r.checked.executions} executions, ${r.checked.movements} movements, ${r.checked.accounts} accounts (${r.checked.keys} keys) in ${r.durationMs} ms`,
  ];
  if (r.ok) lines.push('0 differences');
  else {
    lines.push(`${r.differenceCount} differences${r.differenceCount > r.differences.length ? ` (first ${r.differences.length} listed)` : ''}:`);
    for (const d of r.differences) lines.push(`  ${d.measure} ${d.key} ${d.field}: journal ${d.journal}, database ${d.database}`);
  }
  return lines.join('\n');
}
