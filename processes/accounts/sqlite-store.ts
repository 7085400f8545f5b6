// The SQLite implementation of the account store (better-sqlite3). Several gateway processes may
// open the same file: WAL mode lets readers run beside the one writer, every write transaction
// takes the write lock up front (BEGIN IMMEDIATE), and a busy file is waited for up to
// SQLITE_BUSY_TIMEOUT_MS. synchronous=FULL makes every committed approval durable before the
// caller hears of it, so the outbox never loses one.
//
// better-sqlite3 is synchronous, and a transaction spans awaits of the caller's code; so that no
// other request of this process slips a statement into an open transaction, every statement and
// transaction runs one at a time through a FIFO queue. The queue belongs to the file, not to the
// connection: two connections of one process to the same file would otherwise deadlock, one
// holding the write lock across an await while the other blocks the only thread in SQLite's busy
// wait. (Separate processes are separate threads of control, and the busy wait is right for them.)

import * as path from 'node:path';
import Database from 'better-sqlite3';
import { MAX_QUEUED_SQLITE_OPERATIONS, SQLITE_BUSY_TIMEOUT_MS } from './account-limits';
import type { AccountStore, SqlExecutor, SqlValue } from './sql-store';

const MAX_CACHED_STATEMENTS = 256;

export class SqliteStoreBusyError extends Error {
  override readonly name = 'SqliteStoreBusyError';
}

/** One FIFO of work per database file in this process. */
class FileQueue {
  tail: Promise<void> = Promise.resolve();
  queued = 0;
  connections = 0;
}

const QUEUES = new Map<string, FileQueue>();

export class SqliteAccountStore implements AccountStore {
  readonly dialect = 'sqlite' as const;
  readonly description: string;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement<unknown[]>>();
  private readonly queue: FileQueue;
  private readonly queueKey: string;
  private closed = false;
  private readonly direct: SqlExecutor;

  constructor(readonly file: string) {
    this.db = new Database(file, { timeout: SQLITE_BUSY_TIMEOUT_MS });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.description = `sqlite:${file}`;
    this.queueKey = path.resolve(file);
    let queue = QUEUES.get(this.queueKey);
    if (queue === undefined) QUEUES.set(this.queueKey, (queue = new FileQueue()));
    queue.connections++;
    this.queue = queue;
    this.direct = {
      all: async <T>(sql: string, params: readonly SqlValue[] = []) => this.statement(sql).all(...params) as T[],
      get: async <T>(sql: string, params: readonly SqlValue[] = []) => this.statement(sql).get(...params) as T | undefined,
      run: async (sql: string, params: readonly SqlValue[] = []) => this.statement(sql).run(...params).changes,
    };
  }

  all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.serialised(() => this.direct.all<T>(sql, params));
  }

  get<T>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return this.serialised(() => this.direct.get<T>(sql, params));
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return this.serialised(() => this.direct.run(sql, params));
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.serialised(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.direct);
        this.db.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw err;
      }
    });
  }

  /** Runs DDL text with several statements (migrations). */
  execScript(sql: string): void {
    this.db.exec(sql);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.serialised(async () => {
      this.statements.clear();
      this.db.close();
    });
    if (--this.queue.connections === 0) QUEUES.delete(this.queueKey);
  }

  private statement(sql: string): Database.Statement<unknown[]> {
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      // Queries are a fixed set of literals in this module; the bound only guards against a bug
      // that builds SQL text dynamically.
      if (this.statements.size >= MAX_CACHED_STATEMENTS) this.statements.clear();
      this.statements.set(sql, s);
    }
    return s;
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const q = this.queue;
    if (q.queued >= MAX_QUEUED_SQLITE_OPERATIONS) {
      return Promise.reject(new SqliteStoreBusyError(`more than ${MAX_QUEUED_SQLITE_OPERATIONS} account-store operations are waiting`));
    }
    q.queued++;
    const result = q.tail.then(work);
    q.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result.finally(() => {
      q.queued--;
    });
  }
}
