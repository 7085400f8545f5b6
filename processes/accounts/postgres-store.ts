// The PostgreSQL implementation of the account store (node-postgres pool). Each store may live in
// its own schema (tests use a fresh one each); every connection sets search_path to it and a
// statement timeout, so a stuck lock fails one request instead of hanging a gateway.
//
// `?` placeholders are rewritten to $1, $2, ... (the module's SQL never contains a literal '?').
// BIGINT columns come back as JS numbers: the module stores only epoch milliseconds and ids, all
// far below 2^53, and the parser refuses anything larger rather than rounding it.

import pg from 'pg';
import { POSTGRES_CONNECT_TIMEOUT_MS, POSTGRES_POOL_SIZE, POSTGRES_STATEMENT_TIMEOUT_MS } from './account-limits';
import type { AccountStore, SqlExecutor, SqlValue } from './sql-store';

const INT8_OID = 20;
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

const int8AsNumber: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === INT8_OID) {
      return (text: string) => {
        const n = Number(text);
        if (!Number.isSafeInteger(n)) throw new RangeError(`BIGINT ${text} is outside the safe-integer range`);
        return n;
      };
    }
    return pg.types.getTypeParser(oid, format as 'text');
  }) as typeof pg.types.getTypeParser,
};

function toNumberedPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

function executorOf(client: pg.Pool | pg.PoolClient): SqlExecutor {
  return {
    all: async <T>(sql: string, params: readonly SqlValue[] = []) => (await client.query(toNumberedPlaceholders(sql), params as SqlValue[])).rows as T[],
    get: async <T>(sql: string, params: readonly SqlValue[] = []) => (await client.query(toNumberedPlaceholders(sql), params as SqlValue[])).rows[0] as T | undefined,
    run: async (sql: string, params: readonly SqlValue[] = []) => (await client.query(toNumberedPlaceholders(sql), params as SqlValue[])).rowCount ?? 0,
  };
}

/** A connection string without its password, for logs. */
export function redactDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable url)';
  }
}

export class PostgresAccountStore implements AccountStore {
  readonly dialect = 'postgres' as const;
  readonly description: string;
  private readonly pool: pg.Pool;
  private readonly direct: SqlExecutor;

  constructor(
    readonly url: string,
    readonly schema: string,
  ) {
    if (!SCHEMA_NAME.test(schema)) throw new TypeError(`PostgreSQL schema name must match ${SCHEMA_NAME}, got '${schema}'`);
    this.pool = new pg.Pool({
      connectionString: url,
      max: POSTGRES_POOL_SIZE,
      connectionTimeoutMillis: POSTGRES_CONNECT_TIMEOUT_MS,
      options: `-c search_path=${schema} -c statement_timeout=${POSTGRES_STATEMENT_TIMEOUT_MS}`,
      types: int8AsNumber,
    });
    // An idle pooled connection that the server drops emits 'error' on the pool; without a handler
    // that would crash the gateway. The next query simply gets a fresh connection.
    this.pool.on('error', () => undefined);
    this.direct = executorOf(this.pool);
    this.description = `${redactDatabaseUrl(url)} schema ${schema}`;
  }

  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.direct.all<T>(sql, params);
  }

  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    return this.direct.get<T>(sql, params);
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.direct.run(sql, params);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(executorOf(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** Creates the store's schema when it does not exist yet. */
  async ensureSchema(): Promise<void> {
    await this.pool.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
  }

  /** Drops the store's schema and everything in it (tests; an operator resetting a demo). */
  async dropSchema(): Promise<void> {
    await this.pool.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/**
 * Whether a PostgreSQL server answers at `url`: undefined when it does, otherwise the reason
 * (for a clear skip or failure message).
 */
export async function probePostgres(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: POSTGRES_CONNECT_TIMEOUT_MS });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (err) {
    return `${redactDatabaseUrl(url)}: ${(err as Error).message}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Drops `schema` and everything in it (tests, and operators removing an instance): a short-lived
 * client, so it works without a store open on that schema.
 */
export async function dropPostgresSchema(url: string, schema: string, connectTimeoutMs = 5_000): Promise<void> {
  if (!SCHEMA_NAME.test(schema)) throw new TypeError(`PostgreSQL schema name must match ${SCHEMA_NAME}, got '${schema}'`);
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end().catch(() => undefined);
  }
}
