// End-of-day reports from the report database (`ims report eod --date D [--outlet O] --csv`):
//
//   per outlet, five CSV statements of its accounts for trading day D:
//     eod-D-outlet-O-accounts.csv   per account: orders placed, fills, units and notional bought
//                                   and sold, deposits and withdrawals, cash at the open and close
//                                   of the day and its change
//     eod-D-outlet-O-positions.csv  per account and product: units at the open, bought, sold,
//                                   received, dispatched, units at the close
//     eod-D-outlet-O-orders.csv     every order placed that day, in its current state
//     eod-D-outlet-O-fills.csv      every execution of the outlet's accounts that day (their side)
//     eod-D-outlet-O-movements.csv  every deposit, withdrawal, receipt and dispatch that day
//   and one exchange-wide summary:
//     eod-D-products.csv            per product traded: trades, volume, notional, VWAP, open, high,
//                                   low, close
//
// A trading day is the journal range the reporter recorded for it (trading_days: from its
// TradingDayOpen to the next one), so the report is exact whenever it runs; balances "at the
// close" are today's balances minus what changed after the day's last entry. Prices and cash are
// integer minor units as journaled; VWAP is Σ(price × quantity) / Σ quantity rounded half-up to
// VWAP_DECIMALS places.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SqlValue } from '../accounts/sql-store';
import { CsvTable, formatRatio, isoTimeOfUs } from './csv-text';
import { openReportStore, type ReportReader, type ReportStore, type ReportStoreOptions } from './report-store';
import { MAX_EOD_ACCOUNTS } from './reporter-limits';
import { formatTradingDay, parseReportDate } from './trading-day';

/** Decimal places of the VWAP (in minor units of the price). */
export const VWAP_DECIMALS = 4;
/** Accounts per `IN (...)` list of one statement query. */
const ACCOUNTS_PER_QUERY = 500;

export interface EodReportOptions {
  /** The report database: options to open it, or an open store (left open). */
  readonly database: ReportStoreOptions | ReportStore;
  /** The trading day: `2025-01-06` or `20250106`. */
  readonly date: string;
  /** Only this outlet's statements (default: every outlet with accounts, staff outlet 0 excepted). */
  readonly outlet?: number;
  /** The output format; CSV is the one there is (the CLI's --csv). */
  readonly csv: true;
  /** Write the files into this directory (created if missing); without it they are only returned. */
  readonly outDir?: string;
}

export interface EodFile {
  readonly name: string;
  /** Where it was written, or null when no outDir was given. */
  readonly path: string | null;
  /** Data rows (the header not counted). */
  readonly rows: number;
  readonly csv: string;
}

export interface ProductDaySummary {
  readonly productId: number;
  readonly symbol: string;
  readonly brand: string;
  readonly trades: number;
  readonly volume: number;
  readonly notional: number;
  /** notional / volume, as text with VWAP_DECIMALS places (exact rounding). */
  readonly vwap: string;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
}

export interface EodReport {
  readonly tradingDay: number;
  readonly date: string;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly outlets: readonly number[];
  readonly products: readonly ProductDaySummary[];
  readonly files: readonly EodFile[];
}

/** A report that cannot be made as asked (no such day, no such outlet): `detail` says what to do. */
export class EodReportError extends Error {
  override readonly name = 'EodReportError';
}

interface DayRow {
  trading_day: number;
  first_seq: number;
  first_time_us: number;
  last_seq: number;
  last_time_us: number;
}

interface ExecutionSide {
  exec_id: number;
  seq: number;
  time_us: number;
  product_id: number;
  price: number;
  quantity: number;
  taker_side: string;
  order_id: number;
  account_id: number;
  is_taker: number;
}

interface CashMovementRow {
  seq: number;
  time_us: number;
  account_id: number;
  kind: string;
  amount: number;
  reference: number;
  applied: number;
  reason: string | null;
}

interface InventoryMovementRow {
  seq: number;
  time_us: number;
  account_id: number;
  product_id: number;
  kind: string;
  quantity: number;
  reference: number;
  applied: number;
  reason: string | null;
}

/** What one account did in a seq range: the change of its cash and of each product's units. */
class Activity {
  fills = 0;
  boughtUnits = 0;
  boughtNotional = 0;
  soldUnits = 0;
  soldNotional = 0;
  deposits = 0;
  withdrawals = 0;
  readonly units = new Map<number, { bought: number; sold: number; received: number; dispatched: number }>();

  get cashChange(): number {
    return this.deposits - this.withdrawals - this.boughtNotional + this.soldNotional;
  }

  product(productId: number): { bought: number; sold: number; received: number; dispatched: number } {
    let u = this.units.get(productId);
    if (u === undefined) this.units.set(productId, (u = { bought: 0, sold: 0, received: 0, dispatched: 0 }));
    return u;
  }

  unitsChange(productId: number): number {
    const u = this.units.get(productId);
    return u === undefined ? 0 : u.bought - u.sold + u.received - u.dispatched;
  }

  addFill(side: ExecutionSide): void {
    this.fills++;
    const buys = sideOf(side) === 'inflow';
    const value = side.price * side.quantity;
    const u = this.product(side.product_id);
    if (buys) {
      this.boughtUnits += side.quantity;
      this.boughtNotional += value;
      u.bought += side.quantity;
    } else {
      this.soldUnits += side.quantity;
      this.soldNotional += value;
      u.sold += side.quantity;
    }
  }

  addCash(m: CashMovementRow): void {
    if (m.applied !== 1) return;
    if (m.kind === 'deposit') this.deposits += m.amount;
    else this.withdrawals += m.amount;
  }

  addInventory(m: InventoryMovementRow): void {
    if (m.applied !== 1) return;
    const u = this.product(m.product_id);
    if (m.kind === 'receipt') u.received += m.quantity;
    else u.dispatched += m.quantity;
  }
}

function sideOf(s: ExecutionSide): string {
  if (Number(s.is_taker) === 1) return s.taker_side;
  return s.taker_side === 'inflow' ? 'outflow' : 'inflow';
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function inList(n: number): string {
  return `(${new Array<string>(n).fill('?').join(', ')})`;
}

/** Runs `sql` (with `{accounts}` standing for an IN list) over the accounts in chunks. */
async function perAccounts<T>(store: ReportReader, accountIds: readonly number[], sql: string, params: readonly SqlValue[]): Promise<T[]> {
  const out: T[] = [];
  for (const ids of chunks(accountIds, ACCOUNTS_PER_QUERY)) {
    out.push(...(await store.all<T>(sql.replace('{accounts}', inList(ids.length)), [...ids, ...params])));
  }
  return out;
}

/** The executions of `accountIds` (their sides) with seq in [fromSeq, toSeq] and time in [fromUs, toUs]. */
async function executionSides(store: ReportReader, accountIds: readonly number[], fromSeq: number, toSeq: number, fromUs: number, toUs: number): Promise<ExecutionSide[]> {
  const sides: ExecutionSide[] = [];
  for (const role of ['maker', 'taker'] as const) {
    sides.push(
      ...(await perAccounts<ExecutionSide>(
        store,
        accountIds,
        `SELECT exec_id, seq, time_us, product_id, price, quantity, taker_side, ${role}_order_id AS order_id, ${role}_account_id AS account_id, ${role === 'taker' ? 1 : 0} AS is_taker
           FROM executions WHERE ${role}_account_id IN {accounts} AND time_us >= ? AND time_us <= ? AND seq >= ? AND seq <= ?`,
        [fromUs, toUs, fromSeq, toSeq],
      )),
    );
  }
  return sides.sort((a, b) => a.seq - b.seq || Number(a.is_taker) - Number(b.is_taker));
}

async function cashMovements(store: ReportReader, accountIds: readonly number[], fromSeq: number, toSeq: number, fromUs: number, toUs: number): Promise<CashMovementRow[]> {
  return (
    await perAccounts<CashMovementRow>(
      store,
      accountIds,
      'SELECT seq, time_us, account_id, kind, amount, reference, applied, reason FROM cash_movements WHERE account_id IN {accounts} AND time_us >= ? AND time_us <= ? AND seq >= ? AND seq <= ?',
      [fromUs, toUs, fromSeq, toSeq],
    )
  ).sort((a, b) => a.seq - b.seq);
}

async function inventoryMovements(store: ReportReader, accountIds: readonly number[], fromSeq: number, toSeq: number, fromUs: number, toUs: number): Promise<InventoryMovementRow[]> {
  return (
    await perAccounts<InventoryMovementRow>(
      store,
      accountIds,
      'SELECT seq, time_us, account_id, product_id, kind, quantity, reference, applied, reason FROM inventory_movements WHERE account_id IN {accounts} AND time_us >= ? AND time_us <= ? AND seq >= ? AND seq <= ?',
      [fromUs, toUs, fromSeq, toSeq],
    )
  ).sort((a, b) => a.seq - b.seq);
}

/** Per account, what the executions and movements of a range changed. */
function activityOf(sides: readonly ExecutionSide[], cash: readonly CashMovementRow[], inventory: readonly InventoryMovementRow[]): Map<number, Activity> {
  const byAccount = new Map<number, Activity>();
  const of = (accountId: number): Activity => {
    let a = byAccount.get(accountId);
    if (a === undefined) byAccount.set(accountId, (a = new Activity()));
    return a;
  };
  for (const s of sides) of(s.account_id).addFill(s);
  for (const m of cash) of(m.account_id).addCash(m);
  for (const m of inventory) of(m.account_id).addInventory(m);
  return byAccount;
}

/** Writes the end-of-day report of one trading day; see the file comment. */
export async function reportEod(options: EodReportOptions): Promise<EodReport> {
  if (options.csv !== true) throw new EodReportError('only CSV output is implemented: pass csv: true (--csv)');
  const tradingDay = parseReportDate(options.date);
  if (typeof tradingDay === 'string') throw new EodReportError(tradingDay);
  if (options.outlet !== undefined && !(Number.isSafeInteger(options.outlet) && options.outlet >= 0)) {
    throw new EodReportError(`outlet must be a non-negative integer, got ${options.outlet}`);
  }
  const ownStore = !('writeBatch' in options.database);
  const opened = ownStore ? await openReportStore({ ...(options.database as ReportStoreOptions), readOnly: true }) : (options.database as ReportStore);
  try {
    return await opened.readSnapshot((store) => report(store, options, tradingDay));
  } finally {
    if (ownStore) await opened.close();
  }
}

/** The report, inside one read snapshot of the database. */
async function report(store: ReportReader, options: EodReportOptions, tradingDay: number): Promise<EodReport> {
  const date = formatTradingDay(tradingDay);
  const day = (
    await store.all<DayRow>('SELECT trading_day, first_seq, first_time_us, last_seq, last_time_us FROM trading_days WHERE trading_day = ?', [tradingDay])
  )[0];
  if (day === undefined) {
    const known = await store.all<{ trading_day: number }>('SELECT trading_day FROM trading_days ORDER BY trading_day DESC LIMIT 5');
    throw new EodReportError(
      `no journal entries were reported for trading day ${date}` +
        (known.length === 0 ? ': the report database is empty (is the reporter running?)' : `; the latest days reported are ${known.map((k) => formatTradingDay(k.trading_day)).join(', ')}`),
    );
  }
  const outlets =
    options.outlet !== undefined
      ? [options.outlet]
      : (await store.all<{ outlet_id: number }>('SELECT DISTINCT outlet_id FROM accounts WHERE outlet_id > 0 ORDER BY outlet_id')).map((r) => r.outlet_id);
  const symbols = new Map(
    (await store.all<{ product_id: number; symbol: string; brand: string }>('SELECT product_id, symbol, brand FROM products')).map((r) => [r.product_id, r]),
  );
  const symbolOf = (productId: number): string => symbols.get(productId)?.symbol ?? '';
  const files: EodFile[] = [];
  const emit = (name: string, table: CsvTable): void => {
    const csv = table.toString();
    let filePath: string | null = null;
    if (options.outDir !== undefined) {
      fs.mkdirSync(options.outDir, { recursive: true });
      filePath = path.join(options.outDir, name);
      fs.writeFileSync(filePath, csv);
    }
    files.push({ name, path: filePath, rows: table.rows, csv });
  };

  let accountsReported = 0;
  for (const outlet of outlets) {
    const accountIds = (await store.all<{ account_id: number }>('SELECT account_id FROM accounts WHERE outlet_id = ? ORDER BY account_id', [outlet])).map((r) => r.account_id);
    if (accountIds.length === 0 && options.outlet !== undefined) throw new EodReportError(`outlet ${outlet} has no accounts in the report database`);
    accountsReported += accountIds.length;
    if (accountsReported > MAX_EOD_ACCOUNTS) throw new EodReportError(`more than ${MAX_EOD_ACCOUNTS} accounts: run the report per outlet (--outlet)`);
    const f = day.first_seq;
    const l = day.last_seq;
    const dayFills = await executionSides(store, accountIds, f, l, day.first_time_us, day.last_time_us);
    const dayCash = await cashMovements(store, accountIds, f, l, day.first_time_us, day.last_time_us);
    const dayInventory = await inventoryMovements(store, accountIds, f, l, day.first_time_us, day.last_time_us);
    const during = activityOf(dayFills, dayCash, dayInventory);
    const maxUs = Number.MAX_SAFE_INTEGER;
    const after = activityOf(
      await executionSides(store, accountIds, l + 1, maxUs, day.last_time_us, maxUs),
      await cashMovements(store, accountIds, l + 1, maxUs, day.last_time_us, maxUs),
      await inventoryMovements(store, accountIds, l + 1, maxUs, day.last_time_us, maxUs),
    );
    const cashNow = new Map(
      (await perAccounts<{ account_id: number; cash: number }>(store, accountIds, 'SELECT account_id, cash FROM account_cash WHERE account_id IN {accounts}', [])).map((r) => [r.account_id, r.cash]),
    );
    const unitsNow = await perAccounts<{ account_id: number; product_id: number; units: number }>(
      store,
      accountIds,
      'SELECT account_id, product_id, units FROM account_inventory WHERE account_id IN {accounts}',
      [],
    );
    const orders = await perAccounts<{
      order_id: number;
      client_order_id: string;
      account_id: number;
      product_id: number;
      symbol: string;
      side: string;
      time_in_force: string;
      price: number;
      quantity: number;
      filled_quantity: number;
      filled_notional: number;
      remaining_quantity: number;
      status: string;
      reason: string | null;
      created_seq: number;
      created_time_us: number;
      updated_time_us: number;
    }>(
      store,
      accountIds,
      `SELECT order_id, client_order_id, account_id, product_id, symbol, side, time_in_force, price, quantity, filled_quantity, filled_notional, remaining_quantity,
              status, reason, created_seq, created_time_us, updated_time_us
         FROM orders WHERE account_id IN {accounts} AND created_time_us >= ? AND created_time_us <= ? AND created_seq >= ? AND created_seq <= ?`,
      [day.first_time_us, day.last_time_us, f, l],
    );
    orders.sort((a, b) => a.account_id - b.account_id || a.created_seq - b.created_seq);
    const ordersPlaced = new Map<number, number>();
    for (const o of orders) ordersPlaced.set(o.account_id, (ordersPlaced.get(o.account_id) ?? 0) + 1);

    const prefix = `eod-${date}-outlet-${outlet}`;
    const accountsCsv = new CsvTable([
      'trading_day', 'outlet_id', 'account_id', 'orders_placed', 'fills', 'bought_units', 'bought_notional', 'sold_units', 'sold_notional',
      'deposits', 'withdrawals', 'cash_open', 'cash_change', 'cash_close',
    ]);
    for (const accountId of accountIds) {
      const d = during.get(accountId) ?? new Activity();
      const close = (cashNow.get(accountId) ?? 0) - (after.get(accountId)?.cashChange ?? 0);
      accountsCsv.add([
        date, outlet, accountId, ordersPlaced.get(accountId) ?? 0, d.fills, d.boughtUnits, d.boughtNotional, d.soldUnits, d.soldNotional,
        d.deposits, d.withdrawals, close - d.cashChange, d.cashChange, close,
      ]);
    }
    emit(`${prefix}-accounts.csv`, accountsCsv);

    const positionsCsv = new CsvTable(['trading_day', 'outlet_id', 'account_id', 'product_id', 'symbol', 'units_open', 'bought', 'sold', 'received', 'dispatched', 'units_close']);
    const positionKeys = new Map<string, { accountId: number; productId: number; now: number }>();
    for (const u of unitsNow) positionKeys.set(`${u.account_id}:${u.product_id}`, { accountId: u.account_id, productId: u.product_id, now: u.units });
    for (const [accountId, a] of during) for (const productId of a.units.keys()) if (!positionKeys.has(`${accountId}:${productId}`)) positionKeys.set(`${accountId}:${productId}`, { accountId, productId, now: 0 });
    const positions = [...positionKeys.values()].sort((a, b) => a.accountId - b.accountId || a.productId - b.productId);
    for (const p of positions) {
      const d = during.get(p.accountId);
      const u = d?.units.get(p.productId) ?? { bought: 0, sold: 0, received: 0, dispatched: 0 };
      const close = p.now - (after.get(p.accountId)?.unitsChange(p.productId) ?? 0);
      const open = close - (d?.unitsChange(p.productId) ?? 0);
      if (open === 0 && close === 0 && u.bought + u.sold + u.received + u.dispatched === 0) continue;
      positionsCsv.add([date, outlet, p.accountId, p.productId, symbolOf(p.productId), open, u.bought, u.sold, u.received, u.dispatched, close]);
    }
    emit(`${prefix}-positions.csv`, positionsCsv);

    const ordersCsv = new CsvTable([
      'trading_day', 'outlet_id', 'account_id', 'order_id', 'client_order_id', 'product_id', 'symbol', 'side', 'time_in_force', 'price', 'quantity',
      'filled_quantity', 'remaining_quantity', 'average_fill_price', 'status', 'reason', 'created_time', 'updated_time',
    ]);
    for (const o of orders) {
      ordersCsv.add([
        date, outlet, o.account_id, o.order_id, o.client_order_id, o.product_id, o.symbol, o.side, o.time_in_force, o.price, o.quantity,
        o.filled_quantity, o.remaining_quantity, formatRatio(o.filled_notional, o.filled_quantity, VWAP_DECIMALS), o.status, o.reason,
        isoTimeOfUs(o.created_time_us), isoTimeOfUs(o.updated_time_us),
      ]);
    }
    emit(`${prefix}-orders.csv`, ordersCsv);

    const fillsCsv = new CsvTable(['trading_day', 'outlet_id', 'account_id', 'exec_id', 'order_id', 'product_id', 'symbol', 'side', 'liquidity', 'price', 'quantity', 'notional', 'time']);
    for (const s of [...dayFills].sort((a, b) => a.account_id - b.account_id || a.seq - b.seq || Number(a.is_taker) - Number(b.is_taker))) {
      fillsCsv.add([
        date, outlet, s.account_id, s.exec_id, s.order_id, s.product_id, symbolOf(s.product_id), sideOf(s), Number(s.is_taker) === 1 ? 'taker' : 'maker',
        s.price, s.quantity, s.price * s.quantity, isoTimeOfUs(s.time_us),
      ]);
    }
    emit(`${prefix}-fills.csv`, fillsCsv);

    const movementsCsv = new CsvTable(['trading_day', 'outlet_id', 'account_id', 'seq', 'kind', 'product_id', 'symbol', 'amount', 'quantity', 'reference', 'applied', 'reason', 'time']);
    const movements: Array<{ seq: number; row: Array<string | number | null> }> = [];
    for (const m of dayCash) movements.push({ seq: m.seq, row: [date, outlet, m.account_id, m.seq, m.kind, null, null, m.amount, null, m.reference, m.applied, m.reason, isoTimeOfUs(m.time_us)] });
    for (const m of dayInventory) {
      movements.push({ seq: m.seq, row: [date, outlet, m.account_id, m.seq, m.kind, m.product_id, symbolOf(m.product_id), null, m.quantity, m.reference, m.applied, m.reason, isoTimeOfUs(m.time_us)] });
    }
    movements.sort((a, b) => (a.row[2] as number) - (b.row[2] as number) || a.seq - b.seq);
    for (const m of movements) movementsCsv.add(m.row);
    emit(`${prefix}-movements.csv`, movementsCsv);
  }

  const products: ProductDaySummary[] = (
    await store.all<{ product_id: number; trades: number; volume: number; notional: number; open_price: number; high_price: number; low_price: number; close_price: number }>(
      'SELECT product_id, trades, volume, notional, open_price, high_price, low_price, close_price FROM product_day_stats WHERE trading_day = ? ORDER BY product_id',
      [tradingDay],
    )
  ).map((r) => ({
    productId: r.product_id,
    symbol: symbolOf(r.product_id),
    brand: symbols.get(r.product_id)?.brand ?? '',
    trades: r.trades,
    volume: r.volume,
    notional: r.notional,
    vwap: formatRatio(r.notional, r.volume, VWAP_DECIMALS),
    open: r.open_price,
    high: r.high_price,
    low: r.low_price,
    close: r.close_price,
  }));
  const productsCsv = new CsvTable(['trading_day', 'product_id', 'symbol', 'brand', 'trades', 'volume', 'notional', 'vwap', 'open', 'high', 'low', 'close']);
  for (const p of products) productsCsv.add([date, p.productId, p.symbol, p.brand, p.trades, p.volume, p.notional, p.vwap, p.open, p.high, p.low, p.close]);
  emit(`eod-${date}-products.csv`, productsCsv);
  return { tradingDay, date, firstSeq: day.first_seq, lastSeq: day.last_seq, outlets, products, files };
}
