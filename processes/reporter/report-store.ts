// The report database: where the reporter writes its batches and where queries, reconciliation
// and end-of-day reports read. Two implementations with one interface:
//
//   IMS_DATABASE_URL=postgres://... (or postgresql://)  → PostgreSQL, schema IMS_REPORTER_DATABASE_SCHEMA
//                                                         (default ims_reports)
//   otherwise                                           → SQLite file <data dir>/reports.sqlite (WAL)
//
// A batch is written in ONE transaction together with the journal seq it brings the database to
// (reporter_progress.last_seq). The transaction first locks the progress row and checks it: a
// batch whose entries are already in (last_seq ≥ batch.lastSeq) is skipped whole, and one that does
// not start right after last_seq is refused (entries would be missing: a bug or a second writer).
// So a crash at any instant leaves the database at a batch boundary, and the restarted reporter
// continues at last_seq + 1: nothing lost, nothing doubled.

import * as path from 'node:path';
import type { SqlDialect, SqlValue } from '../accounts/sql-store';
import { isPostgresUrl } from '../accounts/account-store';
import { ORDER_STATUS_CODES, SIDE_CODES, TIME_IN_FORCE_CODES } from './report-codes';
import type { ReportBatch } from './report-model';
import {
  AccountRecord,
  CashRecord,
  OrderRecord,
  PositionRecord,
  ProductDayStatsRecord,
  ProductRecord,
  TradingDayRecord,
  type ReporterState,
} from './report-records';
import { DEFAULT_POSTGRES_SCHEMA, SQLITE_FILE_NAME } from './reporter-limits';

export type ReportStoreOptions =
  | { readonly kind: 'sqlite'; readonly file: string; readonly readOnly?: boolean }
  | { readonly kind: 'postgres'; readonly url: string; readonly schema?: string; readonly readOnly?: boolean };

export const WriteResult = {
  WRITTEN: 1,
  /** Every entry of the batch was already in the database (a replay after a crash): nothing written. */
  ALREADY_WRITTEN: 0,
} as const;
export type WriteResult = (typeof WriteResult)[keyof typeof WriteResult];

export interface ReporterProgress {
  readonly lastSeq: number;
  readonly lastTimeUs: number;
  readonly tradingDay: number;
}

/** Reading the report database: queries with `?` placeholders, and the progress row. */
export interface ReportReader {
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  progress(): Promise<ReporterProgress>;
}

export interface ReportStore extends ReportReader {
  readonly dialect: SqlDialect;
  /** Where the data lives (file, or URL without password and schema), for logs. */
  readonly description: string;
  /** What a ReportModel needs to continue at lastSeq + 1. */
  loadState(): Promise<ReporterState>;
  /** Writes the batch and its progress in one transaction (see the file comment). */
  writeBatch(batch: ReportBatch): Promise<WriteResult>;
  /**
   * Runs `fn` with a reader whose queries all see ONE consistent state of the database (a read
   * transaction; REPEATABLE READ in PostgreSQL), whatever the reporter commits meanwhile:
   * reconciliation and reports compare figures from several queries. Nothing else may use this
   * store until `fn` is done.
   */
  readSnapshot<T>(fn: (reader: ReportReader) => Promise<T>): Promise<T>;
  /** A statement outside the batch path (maintenance, tests); resolves to the rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  close(): Promise<void>;
}

/** The batch does not continue what the database holds: a bug, or a second writer. */
export class ReportProgressError extends Error {
  override readonly name = 'ReportProgressError';
}

export function progressMismatch(description: string, stored: number, batch: ReportBatch): ReportProgressError {
  return new ReportProgressError(
    `${description} holds journal entries up to seq ${stored}, but this batch covers seqs ${batch.afterSeq + 1}..${batch.lastSeq}: ` +
      `entries would be missing. Is a second reporter writing to the same database? Stop it, then restart this one (it resumes at seq ${stored + 1})`,
  );
}

/** The store the environment asks for (see the file comment). */
export function reportStoreOptionsFromEnv(dataDir: string, env: NodeJS.ProcessEnv = process.env, readOnly = false): ReportStoreOptions {
  const url = env['IMS_DATABASE_URL'];
  if (url !== undefined && url !== '' && !isPostgresUrl(url)) {
    throw new TypeError(`IMS_DATABASE_URL must be a postgres:// or postgresql:// URL (or unset for SQLite), got a '${url.split(':')[0]}:' URL`);
  }
  if (url !== undefined && isPostgresUrl(url)) return { kind: 'postgres', url, schema: env['IMS_REPORTER_DATABASE_SCHEMA'] || DEFAULT_POSTGRES_SCHEMA, readOnly };
  return { kind: 'sqlite', file: path.join(dataDir, SQLITE_FILE_NAME), readOnly };
}

/**
 * Opens the store and (unless read-only) applies pending migrations. The implementations are
 * loaded on demand so a SQLite deployment never loads pg and the other way round.
 */
export async function openReportStore(options: ReportStoreOptions): Promise<ReportStore> {
  if (options.kind === 'sqlite') {
    const { SqliteReportStore } = await import('./sqlite-report-store');
    return SqliteReportStore.open(options.file, { readOnly: options.readOnly ?? false });
  }
  const { PostgresReportStore } = await import('./postgres-report-store');
  return PostgresReportStore.open(options.url, options.schema ?? DEFAULT_POSTGRES_SCHEMA, { readOnly: options.readOnly ?? false });
}

// ---------------------------------------------------------------------------------------------
// Loading the model's state: the same queries and row mapping for both databases.

interface ProgressRow {
  last_seq: number;
  last_time_us: number;
  trading_day: number;
}

/** The SELECT behind progress(). */
export const PROGRESS_SQL = 'SELECT last_seq, last_time_us, trading_day FROM reporter_progress WHERE id = 1';

export function progressOf(row: ProgressRow | undefined, description: string): ReporterProgress {
  if (row === undefined) throw new Error(`${description} has no reporter_progress row: it was not created by the reporter's migrations`);
  return { lastSeq: Number(row.last_seq), lastTimeUs: Number(row.last_time_us), tradingDay: Number(row.trading_day) };
}

function codeOf(codes: ReadonlyMap<string, number>, name: string, what: string): number {
  const code = codes.get(name);
  if (code === undefined) throw new Error(`report database holds ${what} '${name}', which this reporter does not know`);
  return code;
}

/** Reads everything ReporterState holds through `all` (either database). */
export async function loadReporterState(all: <T>(sql: string, params?: readonly SqlValue[]) => Promise<T[]>, description: string): Promise<ReporterState> {
  const progress = progressOf((await all<ProgressRow>(PROGRESS_SQL))[0], description);
  const products = (
    await all<{ product_id: number; symbol: string; brand: string; brand_id: number; tick_size: number; lot_size: number; reference_price: number; state: string; listed_seq: number; updated_seq: number }>(
      'SELECT product_id, symbol, brand, brand_id, tick_size, lot_size, reference_price, state, listed_seq, updated_seq FROM products',
    )
  ).map((r) => new ProductRecord(r.product_id, r.symbol, r.brand, r.brand_id, r.tick_size, r.lot_size, r.reference_price, r.state, r.listed_seq, r.updated_seq));
  const accounts = (
    await all<{ account_id: number; outlet_id: number; role: string; state: string; opened_seq: number; updated_seq: number }>(
      'SELECT account_id, outlet_id, role, state, opened_seq, updated_seq FROM accounts',
    )
  ).map((r) => new AccountRecord(r.account_id, r.outlet_id, r.role, r.state, r.opened_seq, r.updated_seq));
  const openOrders = (
    await all<{
      order_id: number;
      account_id: number;
      product_id: number;
      symbol: string;
      brand: string;
      side: string;
      time_in_force: string;
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
      updated_seq: number;
      updated_time_us: number;
    }>(
      `SELECT order_id, account_id, product_id, symbol, brand, side, time_in_force, price, quantity, filled_quantity, filled_notional,
              remaining_quantity, status, reason, client_order_id, created_seq, created_time_us, updated_seq, updated_time_us
         FROM orders WHERE status IN ('new', 'partially_filled', 'replaced') ORDER BY order_id`,
    )
  ).map((r) => {
    const o = new OrderRecord(
      r.order_id,
      r.account_id,
      r.product_id,
      r.symbol,
      r.brand,
      codeOf(SIDE_CODES, r.side, 'side'),
      codeOf(TIME_IN_FORCE_CODES, r.time_in_force, 'time in force'),
      r.price,
      r.quantity,
      r.client_order_id,
      r.created_seq,
      r.created_time_us,
      codeOf(ORDER_STATUS_CODES, r.status, 'order status'),
    );
    o.filledQuantity = r.filled_quantity;
    o.filledNotional = r.filled_notional;
    o.remainingQuantity = r.remaining_quantity;
    o.reason = r.reason;
    o.updatedSeq = r.updated_seq;
    o.updatedTimeUs = r.updated_time_us;
    return o;
  });
  const cash = (await all<{ account_id: number; cash: number; updated_seq: number }>('SELECT account_id, cash, updated_seq FROM account_cash')).map(
    (r) => new CashRecord(r.account_id, r.cash, r.updated_seq),
  );
  const positions = (
    await all<{ account_id: number; product_id: number; units: number; updated_seq: number }>('SELECT account_id, product_id, units, updated_seq FROM account_inventory')
  ).map((r) => new PositionRecord(r.account_id, r.product_id, r.units, r.updated_seq));
  const dayRow = (
    await all<{ trading_day: number; first_seq: number; first_time_us: number; last_seq: number; last_time_us: number; opened_seq: number | null; closed_seq: number | null }>(
      'SELECT trading_day, first_seq, first_time_us, last_seq, last_time_us, opened_seq, closed_seq FROM trading_days ORDER BY last_seq DESC LIMIT 1',
    )
  )[0];
  const currentDay =
    dayRow === undefined ? null : new TradingDayRecord(dayRow.trading_day, dayRow.first_seq, dayRow.first_time_us, dayRow.last_seq, dayRow.last_time_us, dayRow.opened_seq, dayRow.closed_seq);
  const currentDayStats =
    currentDay === null
      ? []
      : (
          await all<{
            trading_day: number;
            product_id: number;
            trades: number;
            volume: number;
            notional: number;
            open_price: number;
            high_price: number;
            low_price: number;
            close_price: number;
            first_exec_id: number;
            last_exec_id: number;
          }>(
            'SELECT trading_day, product_id, trades, volume, notional, open_price, high_price, low_price, close_price, first_exec_id, last_exec_id FROM product_day_stats WHERE trading_day = ?',
            [currentDay.tradingDay],
          )
        ).map((r) => new ProductDayStatsRecord(r.trading_day, r.product_id, r.trades, r.volume, r.notional, r.open_price, r.high_price, r.low_price, r.close_price, r.first_exec_id, r.last_exec_id));
  return { ...progress, products, accounts, openOrders, cash, positions, currentDay, currentDayStats };
}
