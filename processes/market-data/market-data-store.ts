// The market-data history: every trade and every closed candle, in SQLite (`<dataDir>/marketdata.sqlite`,
// WAL, better-sqlite3). History is SQLite-only for now: PostgreSQL (IMS_DATABASE_URL) is used by the
// reporter, not by this store.
//
// Writes are batched: rows wait in memory (at most MAX_PENDING_ROWS) and go in one transaction
// when the batch is full or FLUSH_INTERVAL_MS after its first row, together with the journal seq
// they reach (`stored_seq`). The publisher rebuilds its state from the journal at every start and
// stores only what comes after stored_seq, so a crash neither loses a row (the journal has it) nor
// doubles one (and the primary keys would refuse a double anyway).

import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import type { CandleRecord } from './candle-rollup';

/** Rows buffered before a flush is forced. */
export const MAX_PENDING_ROWS = 4_096;
/** The longest a stored row waits in memory. */
export const FLUSH_INTERVAL_MS = 50;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS md_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS md_trades (
  exec_id INTEGER PRIMARY KEY, product_id INTEGER NOT NULL, price INTEGER NOT NULL, quantity INTEGER NOT NULL,
  taker_side INTEGER NOT NULL, time_us INTEGER NOT NULL, journal_seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS md_trades_product_time ON md_trades (product_id, time_us);
CREATE TABLE IF NOT EXISTS md_candles (
  product_id INTEGER NOT NULL, resolution_s INTEGER NOT NULL, bucket_start_us INTEGER NOT NULL,
  open INTEGER NOT NULL, high INTEGER NOT NULL, low INTEGER NOT NULL, close INTEGER NOT NULL,
  volume INTEGER NOT NULL, trades INTEGER NOT NULL,
  PRIMARY KEY (product_id, resolution_s, bucket_start_us)) WITHOUT ROWID;
`;

export interface StoredTrade {
  execId: number;
  price: number;
  quantity: number;
  takerSide: number;
  timeUs: number;
}

export class MarketDataStore {
  /** Journal seq whose effects are all stored (0 = nothing yet). */
  storedSeq: number;
  flushes = 0;
  rowsWritten = 0;

  private readonly db: Database.Database;
  private readonly insertTrade: Database.Statement<unknown[]>;
  private readonly upsertCandle: Database.Statement<unknown[]>;
  private readonly saveSeq: Database.Statement<unknown[]>;
  private readonly selectCandles: Database.Statement<unknown[]>;
  private readonly selectTrades: Database.Statement<unknown[]>;
  private readonly writeBatch: (seq: number) => void;
  // Pending rows as flat number arrays (cleared, not reallocated, after each flush).
  private readonly tradeRows: number[] = [];
  private readonly candleRows: number[] = [];
  private pendingRows = 0;
  private firstPendingMs = 0;

  constructor(readonly file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    this.insertTrade = this.db.prepare('INSERT OR IGNORE INTO md_trades (exec_id, product_id, price, quantity, taker_side, time_us, journal_seq) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.upsertCandle = this.db.prepare('INSERT OR REPLACE INTO md_candles (product_id, resolution_s, bucket_start_us, open, high, low, close, volume, trades) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    this.saveSeq = this.db.prepare("INSERT INTO md_meta (key, value) VALUES ('stored_seq', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    this.selectCandles = this.db.prepare(
      'SELECT bucket_start_us AS bucketStartUs, open, high, low, close, volume, trades FROM md_candles WHERE product_id = ? AND resolution_s = ? AND bucket_start_us >= ? AND bucket_start_us < ? ORDER BY bucket_start_us LIMIT ?',
    );
    this.selectTrades = this.db.prepare('SELECT exec_id AS execId, price, quantity, taker_side AS takerSide, time_us AS timeUs FROM md_trades WHERE product_id = ? AND time_us >= ? AND time_us < ? ORDER BY exec_id LIMIT ?');
    const row = this.db.prepare("SELECT value FROM md_meta WHERE key = 'stored_seq'").get() as { value: number } | undefined;
    this.storedSeq = row?.value ?? 0;
    const trades = this.tradeRows;
    const candles = this.candleRows;
    this.writeBatch = this.db.transaction((seq: number) => {
      for (let i = 0; i < trades.length; i += 7) this.insertTrade.run(trades[i], trades[i + 1], trades[i + 2], trades[i + 3], trades[i + 4], trades[i + 5], trades[i + 6]);
      for (let i = 0; i < candles.length; i += 9) {
        this.upsertCandle.run(candles[i], candles[i + 1], candles[i + 2], candles[i + 3], candles[i + 4], candles[i + 5], candles[i + 6], candles[i + 7], candles[i + 8]);
      }
      this.saveSeq.run(seq);
    });
  }

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

  /** True when the batch is full or its first row has waited FLUSH_INTERVAL_MS. */
  flushDue(nowMs: number): boolean {
    return this.pendingRows >= MAX_PENDING_ROWS || (this.pendingRows > 0 && nowMs - this.firstPendingMs >= FLUSH_INTERVAL_MS);
  }

  /** Writes every pending row and `throughSeq` in one transaction. */
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

  /** Stored closed candles of one product and resolution with bucket start in [fromUs, toUs), ascending. */
  candles(productId: number, resolutionS: number, fromUs: number, toUs: number, limit: number): CandleRecord[] {
    return this.selectCandles.all(productId, resolutionS, fromUs, toUs, limit) as CandleRecord[];
  }

  trades(productId: number, fromUs: number, toUs: number, limit: number): StoredTrade[] {
    return this.selectTrades.all(productId, fromUs, toUs, limit) as StoredTrade[];
  }

  close(): void {
    this.db.close();
  }

  private noteRow(): void {
    if (this.pendingRows === 0) this.firstPendingMs = Date.now();
    this.pendingRows++;
  }
}
