// The SQLite report store (better-sqlite3): a file in the data directory, WAL mode, one writer (the
// reporter process) and any number of readers (gateways answering queries, `ims reconcile`,
// `ims report eod`) beside it.
//
// Writes are synchronous and batched: one BEGIN IMMEDIATE ... COMMIT per batch, multi-row INSERTs
// of SQLITE_ROWS_PER_STATEMENT rows from statements prepared once. synchronous=NORMAL: in WAL mode
// a kill -9 of the reporter never loses a committed transaction; a power loss may lose the last
// few, together with the progress they recorded, and the restarted reporter simply applies those
// journal entries again. The journal, not this file, is the record of what happened.

import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import type { SqlValue } from '../accounts/sql-store';
import { applyReportMigrations } from './report-migrations';
import type { ReportBatch } from './report-model';
import { loadReporterState, progressMismatch, progressOf, PROGRESS_SQL, WriteResult, type ReporterProgress, type ReportReader, type ReportStore } from './report-store';
import type { ReporterState } from './report-records';
import { conflictClause, type TableSpec } from './report-tables';
import { SQLITE_BUSY_TIMEOUT_MS, SQLITE_CACHE_KIB, SQLITE_ROWS_PER_STATEMENT, SQLITE_WAL_AUTOCHECKPOINT_PAGES } from './reporter-limits';

/** Read statements cached per store; queries are a fixed set of texts, the bound only guards a bug. */
const MAX_CACHED_STATEMENTS = 256;

interface InsertStatements {
  readonly columns: number;
  readonly many: Database.Statement<unknown[]>;
  readonly one: Database.Statement<unknown[]>;
  /** Parameters of one multi-row statement, allocated once. */
  readonly params: SqlValue[];
}

function insertSql(spec: TableSpec, rows: number): string {
  const tuple = `(${spec.columns.map(() => '?').join(', ')})`;
  const values = new Array<string>(rows).fill(tuple).join(', ');
  return `INSERT INTO ${spec.name} (${spec.columns.map((c) => c.name).join(', ')}) VALUES ${values} ${conflictClause(spec)}`;
}

export class SqliteReportStore implements ReportStore {
  readonly dialect = 'sqlite' as const;
  readonly description: string;
  private readonly db: Database.Database;
  private readonly inserts = new Map<TableSpec, InsertStatements>();
  private readonly statements = new Map<string, Database.Statement<unknown[]>>();
  private closed = false;

  private constructor(
    readonly file: string,
    readonly readOnly: boolean,
  ) {
    if (readOnly && !fs.existsSync(file)) {
      throw new Error(`report database ${file} does not exist yet: start the reporter (it creates it), or point IMS_DATA_DIR at the right data directory`);
    }
    this.db = new Database(file, { timeout: SQLITE_BUSY_TIMEOUT_MS, readonly: readOnly, fileMustExist: readOnly });
    if (!readOnly) {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma(`cache_size = -${SQLITE_CACHE_KIB}`);
      this.db.pragma('temp_store = MEMORY');
      this.db.pragma(`wal_autocheckpoint = ${SQLITE_WAL_AUTOCHECKPOINT_PAGES}`);
    }
    this.description = `sqlite:${file}`;
  }

  /** Opens (creating the file and applying migrations unless read-only). */
  static async open(file: string, options: { readOnly?: boolean; nowMs?: number } = {}): Promise<SqliteReportStore> {
    const readOnly = options.readOnly ?? false;
    if (!readOnly) fs.mkdirSync(path.dirname(file), { recursive: true });
    const store = new SqliteReportStore(file, readOnly);
    if (readOnly) return store;
    try {
      await store.migrate(options.nowMs ?? Date.now());
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  private async migrate(nowMs: number): Promise<number[]> {
    const db = this.db;
    db.exec('BEGIN IMMEDIATE');
    try {
      const done = await applyReportMigrations(
        {
          run: async (sql, params = []) => db.prepare(sql).run(...params),
          all: async <T>(sql: string, params: readonly SqlValue[] = []) => db.prepare(sql).all(...params) as T[],
        },
        'sqlite',
        this.description,
        nowMs,
      );
      db.exec('COMMIT');
      return done;
    } catch (err) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw err;
    }
  }

  async loadState(): Promise<ReporterState> {
    return loadReporterState((sql, params) => this.all(sql, params), this.description);
  }

  async progress(): Promise<ReporterProgress> {
    return progressOf(this.statement(PROGRESS_SQL).get() as Parameters<typeof progressOf>[0], this.description);
  }

  async writeBatch(batch: ReportBatch): Promise<WriteResult> {
    if (this.readOnly) throw new Error(`${this.description} was opened read-only`);
    const db = this.db;
    db.exec('BEGIN IMMEDIATE');
    try {
      const stored = (this.statement('SELECT last_seq FROM reporter_progress WHERE id = 1').get() as { last_seq: number }).last_seq;
      if (stored >= batch.lastSeq) {
        db.exec('ROLLBACK');
        return WriteResult.ALREADY_WRITTEN;
      }
      if (stored !== batch.afterSeq) throw progressMismatch(this.description, stored, batch);
      for (const t of batch.tables) if (t.rows.length > 0) this.insertRows(t.spec, t.rows);
      this.statement('UPDATE reporter_progress SET last_seq = ?, last_time_us = ?, trading_day = ?, updated_at_ms = ? WHERE id = 1').run(
        batch.lastSeq,
        batch.lastTimeUs,
        batch.tradingDay,
        Date.now(),
      );
      db.exec('COMMIT');
      return WriteResult.WRITTEN;
    } catch (err) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw err;
    }
  }

  private insertRows(spec: TableSpec, rows: readonly SqlValue[][]): void {
    let s = this.inserts.get(spec);
    if (s === undefined) {
      s = {
        columns: spec.columns.length,
        many: this.db.prepare(insertSql(spec, SQLITE_ROWS_PER_STATEMENT)),
        one: this.db.prepare(insertSql(spec, 1)),
        params: new Array<SqlValue>(SQLITE_ROWS_PER_STATEMENT * spec.columns.length),
      };
      this.inserts.set(spec, s);
    }
    const columns = s.columns;
    const params = s.params;
    let i = 0;
    for (; i + SQLITE_ROWS_PER_STATEMENT <= rows.length; i += SQLITE_ROWS_PER_STATEMENT) {
      let p = 0;
      for (let r = i; r < i + SQLITE_ROWS_PER_STATEMENT; r++) {
        const row = rows[r]!;
        for (let c = 0; c < columns; c++) params[p++] = row[c]!;
      }
      s.many.run(params);
    }
    for (; i < rows.length; i++) s.one.run(rows[i]!);
  }

  async all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.statement(sql).all(...params) as T[];
  }

  async readSnapshot<T>(fn: (reader: ReportReader) => Promise<T>): Promise<T> {
    if (this.db.inTransaction) throw new Error(`${this.description}: a snapshot was asked for inside another transaction`);
    // In WAL mode a read transaction sees the database as of its first read, until it ends.
    this.db.exec('BEGIN');
    try {
      return await fn({ all: (sql, params) => this.all(sql, params), progress: () => this.progress() });
    } finally {
      if (this.db.inTransaction) this.db.exec('COMMIT');
    }
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return this.statement(sql).run(...params).changes;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.inserts.clear();
    this.statements.clear();
    this.db.close();
  }

  private statement(sql: string): Database.Statement<unknown[]> {
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      if (this.statements.size >= MAX_CACHED_STATEMENTS) this.statements.clear();
      this.statements.set(sql, s);
    }
    return s;
  }
}
