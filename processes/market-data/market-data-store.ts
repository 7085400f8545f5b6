// The market-data history: every trade and every closed candle, for the data service's candle
// queries. Two implementations behind one interface, chosen like the reporter's database:
//
//   IMS_DATABASE_URL=postgres://... (or postgresql://)  → PostgreSQL, schema
//                                                         IMS_MARKET_DATA_DATABASE_SCHEMA (default
//                                                         ims_market_data); postgres-market-data-store.ts
//   otherwise                                           → SQLite <dataDir>/marketdata.sqlite (WAL)
//
// Versioned migrations (market-data-store-migrations.ts) are applied when the store opens.
//
// Writes are batched: rows wait in memory (flat number arrays, no object per row) and go in one
// transaction when the batch is full or FLUSH_INTERVAL_MS after its first row, together with the
// journal seq they reach (`stored_seq`). The publisher rebuilds its state from the journal at every
// start and stores only what comes after stored_seq, so a crash neither loses a row (the journal
// has it) nor doubles one (and the primary keys would refuse a double anyway).
//
// SQLite writes synchronously in flush(), in the publisher's loop. PostgreSQL's flush() only hands the batch to its connection and returns: the
// publisher's loop never waits for a network round trip. Its batches are written in order on ONE
// connection, and a read is queued on the same connection after them, so a read issued after a
// flush sees everything flushed before it. When MAX_BATCHES_IN_FLIGHT batches are still being
// written and MAX_PENDING_ROWS more are waiting, the store is `backPressured` and the publisher
// stops reading the journal until the database catches up (it never gates the journal: it
// catches up from disk later), so memory stays bounded however slow the database is.

import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { isPostgresUrl } from '../accounts/account-store';
import type { CandleRecord } from './candle-rollup';
import { applyMarketDataMigrations } from './market-data-store-migrations';

/** Rows buffered before a flush is forced. */
export const MAX_PENDING_ROWS = 4_096;
/** The longest a stored row waits in memory. */
export const FLUSH_INTERVAL_MS = 50;
/** PostgreSQL: batches handed to the connection and not yet committed before the store pushes back. */
export const MAX_BATCHES_IN_FLIGHT = 4;
/** The SQLite file in the data directory. */
export const SQLITE_FILE_NAME = 'marketdata.sqlite';
/** PostgreSQL schema of the history unless IMS_MARKET_DATA_DATABASE_SCHEMA says otherwise. */
export const DEFAULT_POSTGRES_SCHEMA = 'ims_market_data';

/** Values per buffered trade row: exec id, product, price, quantity, taker side, time, journal seq. */
export const TRADE_FIELDS = 7;
/** Values per buffered candle row: product, resolution, bucket start, open, high, low, close, volume, trades. */
export const CANDLE_FIELDS = 9;

export interface StoredTrade {
  execId: number;
  price: number;
  quantity: number;
  takerSide: number;
  timeUs: number;
}

export interface MarketDataStore {
  /** Where the history lives (file, or URL without password and schema), for logs. */
  readonly description: string;
  /** Journal seq whose effects are all committed (0 = nothing yet). */
  readonly storedSeq: number;
  /** Rows buffered and not yet handed to the database. */
  readonly pending: number;
  /** True while the store takes no more rows without growing memory: stop reading the journal. */
  readonly backPressured: boolean;
  /** A write that failed (the database is gone): the publisher dies loudly and replays on restart. */
  readonly failure: Error | null;
  readonly flushes: number;
  readonly rowsWritten: number;
  addTrade(journalSeq: number, productId: number, execId: number, price: number, quantity: number, takerSide: number, timeUs: number): void;
  addCandle(productId: number, resolutionS: number, bucketStartUs: number, open: number, high: number, low: number, close: number, volume: number, trades: number): void;
  /** True when a batch should be written now: full, old enough, or (`idle`) the journal is quiet. */
  flushDue(nowMs: number, idle: boolean): boolean;
  /** Writes (SQLite) or hands over (PostgreSQL) every pending row and `throughSeq`, one transaction. */
  flush(throughSeq: number): void;
  /**
   * Stored closed candles of one product and resolution with bucket start in [fromUs, toUs),
   * ascending, at most `limit`; every row flushed before the call is included. SQLite answers at
   * once (an array), PostgreSQL later (a promise).
   */
  candles(productId: number, resolutionS: number, fromUs: number, toUs: number, limit: number): CandleRecord[] | Promise<CandleRecord[]>;
  /** Stored trades of one product with time in [fromUs, toUs), by exec id, at most `limit`. */
  trades(productId: number, fromUs: number, toUs: number, limit: number): StoredTrade[] | Promise<StoredTrade[]>;
  /** Flushes, waits for every write, and closes. */
  close(throughSeq?: number): Promise<void>;
}

export type MarketDataStoreOptions = { readonly kind: 'sqlite'; readonly file: string } | { readonly kind: 'postgres'; readonly url: string; readonly schema: string };

/** The store the environment asks for (see the file comment). */
export function marketDataStoreOptionsFromEnv(dataDir: string, env: NodeJS.ProcessEnv = process.env): MarketDataStoreOptions {
  const url = env['IMS_DATABASE_URL'];
  if (url !== undefined && url !== '' && !isPostgresUrl(url)) {
    throw new TypeError(`IMS_DATABASE_URL must be a postgres:// or postgresql:// URL (or unset for SQLite), got a '${url.split(':')[0]}:' URL`);
  }
  if (url !== undefined && isPostgresUrl(url)) return { kind: 'postgres', url, schema: env['IMS_MARKET_DATA_DATABASE_SCHEMA'] || DEFAULT_POSTGRES_SCHEMA };
  return { kind: 'sqlite', file: path.join(dataDir, SQLITE_FILE_NAME) };
}

/** Opens the store and applies pending migrations. pg is loaded only for PostgreSQL. */
export async function openMarketDataStore(options: MarketDataStoreOptions): Promise<MarketDataStore> {
  if (options.kind === 'sqlite') return SqliteMarketDataStore.open(options.file);
  const { PostgresMarketDataStore } = await import('./postgres-market-data-store');
  return PostgresMarketDataStore.open(options.url, options.schema);
}

/**
 * The batch buffers and flush timing both implementations share: rows as flat number arrays
 * (cleared, not reallocated, after each flush) and the time the oldest pending row arrived.
 */
export abstract class BatchingStore {
  flushes = 0;
  rowsWritten = 0;
  protected tradeRows: number[] = [];
  protected candleRows: number[] = [];
  protected pendingRows = 0;
  private firstPendingMs = 0;

  get pending(): number {
    return this.pendingRows;
  }

  addTrade(journalSeq: number, productId: number, execId: number, price: number, quantity: number, takerSide: number, timeUs: number): void {
    this.tradeRows.push(execId, productId, price, quantity, takerSide, timeUs, journalSeq);
    this.noteRow();
  }

  addCandle(productId: number, resolutionS: number, bucketStartUs: number, open: number, high: number, low: number, close: number, volume: number, trades: number): void {
    this.candleRows.push(productId, resolutionS, bucketStartUs, open, high, low, close, volume, trades);
    this.noteRow();
  }

  /** Whether another batch may be written now (PostgreSQL: fewer than MAX_BATCHES_IN_FLIGHT). */
  protected abstract canWrite(): boolean;

  flushDue(nowMs: number, idle: boolean): boolean {
    if (this.pendingRows === 0 || !this.canWrite()) return false;
    return idle || this.pendingRows >= MAX_PENDING_ROWS || nowMs - this.firstPendingMs >= FLUSH_INTERVAL_MS;
  }

  private noteRow(): void {
    if (this.pendingRows === 0) this.firstPendingMs = Date.now();
    this.pendingRows++;
  }
}

export class SqliteMarketDataStore extends BatchingStore implements MarketDataStore {
  storedSeq: number;
  readonly description: string;
  readonly backPressured = false;
  readonly failure = null;

  private readonly db: Database.Database;
  private readonly insertTrade: Database.Statement<unknown[]>;
  private readonly upsertCandle: Database.Statement<unknown[]>;
  private readonly saveSeq: Database.Statement<unknown[]>;
  private readonly selectCandles: Database.Statement<unknown[]>;
  private readonly selectTrades: Database.Statement<unknown[]>;
  private readonly writeBatch: (seq: number) => void;

  /** Opens (creating the file) and applies pending migrations. */
  static async open(file: string, nowMs = Date.now()): Promise<SqliteMarketDataStore> {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const db = new Database(file);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.exec('BEGIN IMMEDIATE');
      try {
        await applyMarketDataMigrations(
          { run: async (sql, params = []) => db.prepare(sql).run(...params), all: async <T>(sql: string, params: readonly (number | string)[] = []) => db.prepare(sql).all(...params) as T[] },
          'sqlite',
          `sqlite:${file}`,
          nowMs,
        );
        db.exec('COMMIT');
      } catch (err) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw err;
      }
      return new SqliteMarketDataStore(file, db);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  private constructor(
    readonly file: string,
    db: Database.Database,
  ) {
    super();
    this.db = db;
    this.description = `sqlite:${file}`;
    this.insertTrade = db.prepare('INSERT OR IGNORE INTO md_trades (exec_id, product_id, price, quantity, taker_side, time_us, journal_seq) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.upsertCandle = db.prepare('INSERT OR REPLACE INTO md_candles (product_id, resolution_s, bucket_start_us, open, high, low, close, volume, trades) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    this.saveSeq = db.prepare("INSERT INTO md_meta (key, value) VALUES ('stored_seq', ?) ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)");
    this.selectCandles = db.prepare(
      'SELECT bucket_start_us AS bucketStartUs, open, high, low, close, volume, trades FROM md_candles WHERE product_id = ? AND resolution_s = ? AND bucket_start_us >= ? AND bucket_start_us < ? ORDER BY bucket_start_us LIMIT ?',
    );
    this.selectTrades = db.prepare('SELECT exec_id AS execId, price, quantity, taker_side AS takerSide, time_us AS timeUs FROM md_trades WHERE product_id = ? AND time_us >= ? AND time_us < ? ORDER BY exec_id LIMIT ?');
    const row = db.prepare("SELECT value FROM md_meta WHERE key = 'stored_seq'").get() as { value: number } | undefined;
    this.storedSeq = row?.value ?? 0;
    this.writeBatch = db.transaction((seq: number) => {
      const trades = this.tradeRows;
      const candles = this.candleRows;
      for (let i = 0; i < trades.length; i += TRADE_FIELDS) this.insertTrade.run(trades[i], trades[i + 1], trades[i + 2], trades[i + 3], trades[i + 4], trades[i + 5], trades[i + 6]);
      for (let i = 0; i < candles.length; i += CANDLE_FIELDS) {
        this.upsertCandle.run(candles[i], candles[i + 1], candles[i + 2], candles[i + 3], candles[i + 4], candles[i + 5], candles[i + 6], candles[i + 7], candles[i + 8]);
      }
      this.saveSeq.run(seq);
    });
  }

  protected canWrite(): boolean {
    return true;
  }

  flush(throughSeq: number): void {
    if (this.pendingRows === 0 && throughSeq <= this.storedSeq) return;
    this.writeBatch(throughSeq);
    this.rowsWritten += this.pendingRows;
    this.flushes++;
    this.tradeRows.length = 0;
    this.candleRows.length = 0;
    this.pendingRows = 0;
    if (throughSeq > this.storedSeq) this.storedSeq = throughSeq;
  }

  candles(productId: number, resolutionS: number, fromUs: number, toUs: number, limit: number): CandleRecord[] {
    return this.selectCandles.all(productId, resolutionS, fromUs, toUs, limit) as CandleRecord[];
  }

  trades(productId: number, fromUs: number, toUs: number, limit: number): StoredTrade[] {
    return this.selectTrades.all(productId, fromUs, toUs, limit) as StoredTrade[];
  }

  async close(throughSeq?: number): Promise<void> {
    if (!this.db.open) return;
    this.flush(throughSeq ?? this.storedSeq);
    this.db.close();
  }
}
