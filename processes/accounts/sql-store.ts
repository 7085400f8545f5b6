// The small store interface the accounts module runs on: parameterised SQL with `?` placeholders,
// transactions, and close. Two implementations: SQLite (the default, one file shared by several
// gateway processes in WAL mode) and PostgreSQL. The account logic is written once against this
// interface, in the SQL both databases understand (RETURNING, ON CONFLICT, partial indexes).

export type SqlDialect = 'sqlite' | 'postgres';
export type SqlValue = string | number | null;

export interface SqlExecutor {
  /** Every row of a query. */
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** The first row of a query, or undefined. */
  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** Runs a statement; resolves to the number of rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

export interface AccountStore extends SqlExecutor {
  readonly dialect: SqlDialect;
  /** Where the data lives (file path or database and schema), for logs; never a password. */
  readonly description: string;
  /**
   * Runs `fn` in one transaction that takes the write lock up front (SQLite BEGIN IMMEDIATE), so
   * two processes never deadlock upgrading read locks. `fn` must only run statements: awaiting
   * anything slow inside (a password hash, the network) would hold the lock for every process.
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** True when `err` is a unique-constraint violation in either database. */
export function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}
