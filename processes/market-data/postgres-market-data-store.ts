// The market-data history in PostgreSQL (chosen when IMS_DATABASE_URL is a postgres:// URL; see
// market-data-store.ts for the contract both implementations keep).
//
// One connection, not a pool, and one queue of statements on it (each starts when the previous
// one has answered): batches commit in journal order and a candle read issued after a flush runs
// after that flush's batch committed — the read sees every row flushed before it without waiting
// in the publisher's loop. A batch is ONE statement (data-modifying CTEs: the trades, the candles and
// the stored seq), atomic by itself, one round trip, rows passed as one array parameter per column
// (unnest), so the statement text and plan are the same for every batch. The connection runs with
// synchronous_commit off: a commit lost in a database crash takes its stored_seq with it, and the
// restarted publisher stores those rows again from the journal.
//
// A failed write leaves `failure` set; the publisher dies loudly and replays from stored_seq.

import pg from 'pg';
import { redactDatabaseUrl, SCHEMA_NAME } from '../accounts/postgres-store';
import type { CandleRecord } from './candle-rollup';
import { BatchingStore, CANDLE_FIELDS, MAX_BATCHES_IN_FLIGHT, MAX_PENDING_ROWS, TRADE_FIELDS, type MarketDataStore, type StoredTrade } from './market-data-store';
import { applyMarketDataMigrations, POSTGRES_MARKET_DATA_MIGRATION_LOCK_KEY } from './market-data-store-migrations';

export const POSTGRES_CONNECT_TIMEOUT_MS = 5_000;
/** A batch or a read that runs longer fails (and the publisher restarts) instead of hanging. */
export const POSTGRES_STATEMENT_TIMEOUT_MS = 30_000;
/** Shown in pg_stat_activity, so operators tell the publisher's connection from others. */
export const POSTGRES_APPLICATION = 'ims-market-data';

const INT8_OID = 20;
/** BIGINT columns come back as numbers (every value here is a safe integer: µs, seqs, minor units). */
const int8AsNumber: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) => (oid === INT8_OID ? (text: string) => Number(text) : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser,
};

// $1..$7 the trade columns, $8..$16 the candle columns, $17 the seq.
const WRITE_BATCH_SQL = `
WITH new_trades AS (
  INSERT INTO md_trades (exec_id, product_id, price, quantity, taker_side, time_us, journal_seq)
  SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[])
  ON CONFLICT (exec_id) DO NOTHING
), new_candles AS (
  INSERT INTO md_candles (product_id, resolution_s, bucket_start_us, open, high, low, close, volume, trades)
  SELECT * FROM unnest($8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[], $16::bigint[])
  ON CONFLICT (product_id, resolution_s, bucket_start_us) DO UPDATE SET
    open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close, volume = excluded.volume, trades = excluded.trades
)
INSERT INTO md_meta (key, value) VALUES ('stored_seq', $17) ON CONFLICT (key) DO UPDATE SET value = GREATEST(md_meta.value, excluded.value)`;

const SELECT_CANDLES_SQL =
  'SELECT bucket_start_us AS "bucketStartUs", open, high, low, close, volume, trades FROM md_candles WHERE product_id = $1 AND resolution_s = $2 AND bucket_start_us >= $3 AND bucket_start_us < $4 ORDER BY bucket_start_us LIMIT $5';
const SELECT_TRADES_SQL =
  'SELECT exec_id AS "execId", price, quantity, taker_side AS "takerSide", time_us AS "timeUs" FROM md_trades WHERE product_id = $1 AND time_us >= $2 AND time_us < $3 ORDER BY exec_id LIMIT $4';

/** `rows` (flat, `fields` per row) as one array per column, for unnest. */
function columns(rows: readonly number[], fields: number): number[][] {
  const count = rows.length / fields;
  const out: number[][] = [];
  for (let f = 0; f < fields; f++) {
    const column = new Array<number>(count);
    for (let r = 0; r < count; r++) column[r] = rows[r * fields + f]!;
    out.push(column);
  }
  return out;
}

/**
 * The candle rows with one row per key, the last one winning (as SQLite's INSERT OR REPLACE does
 * row by row): one INSERT ... ON CONFLICT DO UPDATE may not touch a row twice.
 */
function lastCandlePerKey(rows: readonly number[]): number[] {
  const seen = new Set<string>();
  const keep: number[] = [];
  for (let i = rows.length - CANDLE_FIELDS; i >= 0; i -= CANDLE_FIELDS) {
    const key = `${rows[i]}:${rows[i + 1]}:${rows[i + 2]}`;
    if (seen.has(key)) continue;
    seen.add(key);
    keep.push(i);
  }
  if (keep.length * CANDLE_FIELDS === rows.length) return rows as number[];
  const out: number[] = [];
  for (let k = keep.length - 1; k >= 0; k--) for (let f = 0; f < CANDLE_FIELDS; f++) out.push(rows[keep[k]! + f]!);
  return out;
}

export class PostgresMarketDataStore extends BatchingStore implements MarketDataStore {
  readonly description: string;
  storedSeq: number;
  failure: Error | null = null;
  /** Batches issued and not yet committed. */
  batchesInFlight = 0;
  /** The seq of the last batch handed over (storedSeq once it commits). */
  private handedSeq: number;
  /** Settles when every batch issued so far has committed (or failed). */
  private lastWrite: Promise<unknown> = Promise.resolve();
  /** The last statement queued on the connection (settled: never rejects). */
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly client: pg.Client,
    readonly url: string,
    readonly schema: string,
    storedSeq: number,
  ) {
    super();
    this.description = `${redactDatabaseUrl(url)} schema ${schema}`;
    this.storedSeq = storedSeq;
    this.handedSeq = storedSeq;
  }

  /** Connects, creates the schema and applies pending migrations. */
  static async open(url: string, schema: string, nowMs = Date.now()): Promise<PostgresMarketDataStore> {
    if (!SCHEMA_NAME.test(schema)) throw new TypeError(`PostgreSQL schema name must match ${SCHEMA_NAME}, got '${schema}'`);
    const client = new pg.Client({
      connectionString: url,
      connectionTimeoutMillis: POSTGRES_CONNECT_TIMEOUT_MS,
      options: `-c search_path=${schema} -c statement_timeout=${POSTGRES_STATEMENT_TIMEOUT_MS} -c synchronous_commit=off`,
      types: int8AsNumber,
      application_name: `${POSTGRES_APPLICATION}:${schema}`.slice(0, 63),
    });
    const description = `${redactDatabaseUrl(url)} schema ${schema}`;
    let connectionError: Error | null = null;
    client.on('error', (err) => {
      connectionError = err;
    });
    try {
      await client.connect();
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await client.query('BEGIN');
      try {
        await client.query('SELECT pg_advisory_xact_lock($1)', [POSTGRES_MARKET_DATA_MIGRATION_LOCK_KEY]);
        await applyMarketDataMigrations(
          {
            run: (sql, params = []) => client.query(numbered(sql), params as (number | string)[]),
            all: async <T>(sql: string, params: readonly (number | string)[] = []) => (await client.query(numbered(sql), params as (number | string)[])).rows as T[],
          },
          'postgres',
          description,
          nowMs,
        );
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
      const row = (await client.query<{ value: number }>("SELECT value FROM md_meta WHERE key = 'stored_seq'")).rows[0];
      const store = new PostgresMarketDataStore(client, url, schema, row?.value ?? 0);
      client.removeAllListeners('error');
      // A dropped connection fails the queries in flight (and so the store), and every later one.
      client.on('error', (err) => store.fail(err));
      if (connectionError !== null) store.fail(connectionError);
      return store;
    } catch (err) {
      await client.end().catch(() => undefined);
      throw new Error(`market-data history ${description}: ${(err as Error).message}`);
    }
  }

  /** True while MAX_BATCHES_IN_FLIGHT batches are being written and a full batch waits. */
  get backPressured(): boolean {
    return this.batchesInFlight >= MAX_BATCHES_IN_FLIGHT && this.pendingRows >= MAX_PENDING_ROWS;
  }

  protected canWrite(): boolean {
    return this.batchesInFlight < MAX_BATCHES_IN_FLIGHT;
  }

  /**
   * Hands the pending rows and `throughSeq` to the connection and returns at once. Called
   * whatever the number in flight (a candle read must follow its flush), so the bound on batches
   * in flight is kept by flushDue and backPressured, which is where the loop decides.
   */
  flush(throughSeq: number): void {
    if (this.closed && this.pendingRows > 0) throw new Error(`${this.description}: flush after close`);
    if (this.failure !== null) return;
    if (this.pendingRows === 0 && throughSeq <= this.handedSeq) return;
    const seq = Math.max(throughSeq, this.handedSeq);
    const params = [...columns(this.tradeRows, TRADE_FIELDS), ...columns(lastCandlePerKey(this.candleRows), CANDLE_FIELDS), seq];
    const rows = this.pendingRows;
    this.tradeRows.length = 0;
    this.candleRows.length = 0;
    this.pendingRows = 0;
    this.handedSeq = seq;
    this.batchesInFlight++;
    this.flushes++;
    this.lastWrite = this.enqueue(() => this.client.query(WRITE_BATCH_SQL, params)).then(
      () => {
        this.batchesInFlight--;
        this.rowsWritten += rows;
        if (seq > this.storedSeq) this.storedSeq = seq;
      },
      (err: Error) => {
        this.batchesInFlight--;
        this.fail(err);
      },
    );
  }

  async candles(productId: number, resolutionS: number, fromUs: number, toUs: number, limit: number): Promise<CandleRecord[]> {
    return (await this.read<CandleRecord>(SELECT_CANDLES_SQL, [productId, resolutionS, fromUs, toUs, Math.min(limit, Number.MAX_SAFE_INTEGER)])).rows;
  }

  async trades(productId: number, fromUs: number, toUs: number, limit: number): Promise<StoredTrade[]> {
    return (await this.read<StoredTrade>(SELECT_TRADES_SQL, [productId, fromUs, toUs, limit])).rows;
  }

  /** Waits until every batch handed over so far has committed; rejects with the write failure. */
  async drained(): Promise<void> {
    await this.lastWrite;
    if (this.failure !== null) throw this.failure;
  }

  async close(throughSeq?: number): Promise<void> {
    if (this.closed) return;
    if (this.failure === null) this.flush(throughSeq ?? this.handedSeq);
    this.closed = true;
    try {
      await this.lastWrite;
    } finally {
      await this.client.end().catch(() => undefined);
    }
    if (this.failure !== null) throw this.failure;
  }

  private read<T extends object>(sql: string, params: number[]): Promise<pg.QueryResult<T>> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return this.enqueue(() => this.client.query<T>(sql, params));
  }

  /** Runs `statement` once every statement queued before it has answered. */
  private enqueue<T>(statement: () => Promise<T>): Promise<T> {
    const result = this.tail.then(statement);
    this.tail = result.catch(() => undefined);
    return result;
  }

  private fail(err: Error): void {
    if (this.failure === null) this.failure = new Error(`market-data history ${this.description}: a write failed: ${err.message}`);
  }
}

function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
