// The PostgreSQL report store (node-postgres pool), in its own schema (ims_reports by default; tests
// use a fresh one each). A batch is one transaction sent as one query (see writeBatch) of one
// INSERT per table, each `INSERT ... SELECT * FROM unnest('{...}'::bigint[], '{...}'::text[], ...)
// ON CONFLICT ...`: the rows travel as one array per column, so a table costs one statement
// whatever the row count, and the batch one round trip.
//
// The writer's session runs with synchronous_commit = off: a server crash may lose the last
// commits, and with them the progress they recorded, so the reporter applies those journal
// entries again — the same argument as SQLite's synchronous=NORMAL. Every connection sets
// search_path to the store's schema and a statement timeout, so a stuck lock fails a batch (the
// process exits and is restarted) instead of hanging.
//
// BIGINT (and NUMERIC, what SUM(bigint) returns) come back as JS numbers; the parser refuses a
// value outside the safe-integer range rather than rounding it.

import pg from 'pg';
import type { SqlValue } from '../accounts/sql-store';
import { redactDatabaseUrl, SCHEMA_NAME } from '../accounts/postgres-store';
import { applyReportMigrations, POSTGRES_REPORT_MIGRATION_LOCK_KEY } from './report-migrations';
import type { ReportBatch } from './report-model';
import { loadReporterState, progressMismatch, progressOf, PROGRESS_SQL, WriteResult, type ReporterProgress, type ReportReader, type ReportStore } from './report-store';
import type { ReporterState } from './report-records';
import { conflictClause, type PgColumnType, type TableSpec } from './report-tables';
import { POSTGRES_CONNECT_TIMEOUT_MS, POSTGRES_POOL_SIZE, POSTGRES_ROWS_PER_STATEMENT, POSTGRES_STATEMENT_TIMEOUT_MS } from './reporter-limits';

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/** application_name prefixes (then ':' and the schema) of the writer's and readers' connections. */
export const POSTGRES_WRITER_APPLICATION = 'ims-reporter';
export const POSTGRES_READER_APPLICATION = 'ims-reports-reader';

function safeNumber(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`report database value ${text} is outside the safe-integer range`);
  return n;
}

const numbersAsNumbers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === INT8_OID || oid === NUMERIC_OID) return safeNumber;
    return pg.types.getTypeParser(oid, format as 'text');
  }) as typeof pg.types.getTypeParser,
};

function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

function safeIntegerText(value: number): string {
  if (!Number.isSafeInteger(value)) throw new RangeError(`report batch value ${value} is not a safe integer`);
  return String(value);
}

/** `'{1,2,NULL}'::bigint[]` or `'{"a","b\\"c",NULL}'::text[]`: a PostgreSQL array literal, escaped. */
function arrayLiteral(rows: readonly SqlValue[][], column: number, from: number, to: number, type: PgColumnType): string {
  const parts = new Array<string>(to - from);
  if (type === 'text') {
    for (let r = from; r < to; r++) {
      const v = rows[r]![column];
      parts[r - from] = v === null || v === undefined ? 'NULL' : `"${String(v).replace(/[\\"]/g, '\\$&')}"`;
    }
    // standard_conforming_strings is on (set per connection): only quotes need doubling.
    return `'{${parts.join(',').replace(/'/g, "''")}}'::text[]`;
  }
  for (let r = from; r < to; r++) {
    const v = rows[r]![column];
    parts[r - from] = v === null || v === undefined ? 'NULL' : safeIntegerText(v as number);
  }
  return `'{${parts.join(',')}}'::${type}[]`;
}

/** The INSERT of rows [from, to) of a batch table, gated (see writeBatch). */
function insertStatement(spec: TableSpec, rows: readonly SqlValue[][], from: number, to: number, gate: string): string {
  const columns = spec.columns.map((c) => c.name).join(', ');
  const arrays = spec.columns.map((c, i) => arrayLiteral(rows, i, from, to, c.pgType)).join(', ');
  return `INSERT INTO ${spec.name} (${columns}) SELECT * FROM unnest(${arrays}) AS batch_rows WHERE ${gate} ${conflictClause(spec)}`;
}

export class PostgresReportStore implements ReportStore {
  readonly dialect = 'postgres' as const;
  readonly description: string;
  private readonly pool: pg.Pool;
  /** The last batch handed over (see writeBatch). */
  private writeTail: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly url: string,
    readonly schema: string,
    readonly readOnly: boolean,
  ) {
    if (!SCHEMA_NAME.test(schema)) throw new TypeError(`PostgreSQL schema name must match ${SCHEMA_NAME}, got '${schema}'`);
    this.pool = new pg.Pool({
      connectionString: url,
      max: POSTGRES_POOL_SIZE,
      connectionTimeoutMillis: POSTGRES_CONNECT_TIMEOUT_MS,
      options: `-c search_path=${schema} -c statement_timeout=${POSTGRES_STATEMENT_TIMEOUT_MS} -c synchronous_commit=off -c standard_conforming_strings=on`,
      types: numbersAsNumbers,
      // Operators (and the crash test) tell the reporter's connections from readers' in pg_stat_activity.
      application_name: `${readOnly ? POSTGRES_READER_APPLICATION : POSTGRES_WRITER_APPLICATION}:${schema}`.slice(0, 63),
    });
    // A pooled connection the server drops emits 'error' on the pool; the next query reconnects.
    this.pool.on('error', () => undefined);
    this.description = `${redactDatabaseUrl(url)} schema ${schema}`;
  }

  /** Opens the store; unless read-only, creates its schema and applies pending migrations. */
  static async open(url: string, schema: string, options: { readOnly?: boolean; nowMs?: number } = {}): Promise<PostgresReportStore> {
    const store = new PostgresReportStore(url, schema, options.readOnly ?? false);
    if (store.readOnly) return store;
    try {
      await store.pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await store.inTransaction(async (client) => {
        await client.query('SELECT pg_advisory_xact_lock($1)', [POSTGRES_REPORT_MIGRATION_LOCK_KEY]);
        await applyReportMigrations(
          {
            run: (sql, params = []) => client.query(numbered(sql), params as SqlValue[]),
            all: async <T>(sql: string, params: readonly SqlValue[] = []) => (await client.query(numbered(sql), params as SqlValue[])).rows as T[],
          },
          'postgres',
          store.description,
          options.nowMs ?? Date.now(),
        );
      });
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  async loadState(): Promise<ReporterState> {
    return loadReporterState((sql, params) => this.all(sql, params), this.description);
  }

  async progress(): Promise<ReporterProgress> {
    return progressOf((await this.all<Parameters<typeof progressOf>[0] & object>(PROGRESS_SQL))[0], this.description);
  }

  writeBatch(batch: ReportBatch): Promise<WriteResult> {
    if (this.readOnly) return Promise.reject(new Error(`${this.description} was opened read-only`));
    // The whole transaction is ONE simple query (several statements, values inlined as escaped
    // array literals): one round trip, so the database works through the batch on its own core
    // while this process builds the next one, without waiting for the event loop between
    // statements. The progress row is locked first; every INSERT and the progress UPDATE are gated
    // on the stored seq being exactly batch.afterSeq (stable while the lock is held). Whether the
    // gate held is read from the results: a replayed batch wrote nothing; one that does not
    // continue the stored seq wrote nothing and is refused.
    const after = safeIntegerText(batch.afterSeq);
    const gate = `EXISTS (SELECT 1 FROM reporter_progress WHERE id = 1 AND last_seq = ${after})`;
    const statements = ['BEGIN', 'SELECT last_seq FROM reporter_progress WHERE id = 1 FOR UPDATE'];
    for (const t of batch.tables) {
      for (let i = 0; i < t.rows.length; i += POSTGRES_ROWS_PER_STATEMENT) {
        statements.push(insertStatement(t.spec, t.rows, i, Math.min(t.rows.length, i + POSTGRES_ROWS_PER_STATEMENT), gate));
      }
    }
    statements.push(
      `UPDATE reporter_progress SET last_seq = ${safeIntegerText(batch.lastSeq)}, last_time_us = ${safeIntegerText(batch.lastTimeUs)}, ` +
        `trading_day = ${safeIntegerText(batch.tradingDay)}, updated_at_ms = ${safeIntegerText(Date.now())} WHERE id = 1 AND last_seq = ${after}`,
      'COMMIT',
    );
    // Batches commit in the order they were handed over: this one goes out when the previous one
    // is done (its SQL above was built meanwhile). If that one failed, this one is still sent and
    // its gate refuses it (it does not continue the stored seq), so nothing is ever skipped over.
    const mine = this.writeTail.then(() => this.send(statements.join(';\n'), batch));
    this.writeTail = mine.catch(() => undefined);
    return mine;
  }

  private async send(text: string, batch: ReportBatch): Promise<WriteResult> {
    const client = await this.pool.connect();
    try {
      let results: pg.QueryResult[];
      try {
        results = (await client.query(text)) as unknown as pg.QueryResult[];
      } catch (err) {
        // The statements after the failing one were not run; the transaction is aborted.
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
      if (results[results.length - 2]!.rowCount === 1) return WriteResult.WRITTEN;
      const stored = Number(results[1]!.rows[0].last_seq);
      if (stored >= batch.lastSeq) return WriteResult.ALREADY_WRITTEN;
      throw progressMismatch(this.description, stored, batch);
    } finally {
      client.release();
    }
  }

  async all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return (await this.pool.query(numbered(sql), params as SqlValue[])).rows as T[];
  }

  async readSnapshot<T>(fn: (reader: ReportReader) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const all = async <R>(sql: string, params: readonly SqlValue[] = []): Promise<R[]> => (await client.query(numbered(sql), params as SqlValue[])).rows as R[];
      const result = await fn({ all, progress: async () => progressOf((await all<Parameters<typeof progressOf>[0] & object>(PROGRESS_SQL))[0], this.description) });
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return (await this.pool.query(numbered(sql), params as SqlValue[])).rowCount ?? 0;
  }

  /** Drops the store's schema and everything in it (tests; resetting a demo). */
  async dropSchema(): Promise<void> {
    await this.pool.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async inTransaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}
