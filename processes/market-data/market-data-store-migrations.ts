// Versioned schema migrations of the market-data history (SQLite and PostgreSQL), applied in order
// when the publisher opens its store, inside one transaction, and recorded in
// md_schema_migrations (its own table: the history may share a PostgreSQL database with the
// account store and the reports, whose histories are separate). A migration is never edited once
// released: a change is a new version.
//
// The SQL is shared: `{{int64_key}}` is INTEGER PRIMARY KEY in SQLite (the rowid: the table is the
// key's B-tree) and BIGINT PRIMARY KEY in PostgreSQL (whose INTEGER is 32 bits); `{{without_rowid}}`
// is SQLite's WITHOUT ROWID for the composite-key table (nothing in PostgreSQL); every other
// integer is BIGINT (µs times and journal seqs pass 2^31). Version 1 keeps CREATE ... IF NOT EXISTS
// so a SQLite file written before migrations were versioned adopts it without change.
//
// Which index serves which query (market-data-store.ts):
//   md_candles primary key (product_id, resolution_s, bucket_start_us)  candles(): one product's
//       candles of one resolution in a bucket range, ascending — the data service's snapshot query
//   md_trades_product_time (product_id, time_us)  trades(): one product's trades in a time range
//   md_trades primary key (exec_id)  idempotent inserts: a replayed trade is ignored

import type { SqlDialect } from '../accounts/sql-store';

export const MIGRATIONS_TABLE = 'md_schema_migrations';

/** The advisory-lock key of PostgreSQL market-data migrations (two publishers starting at once). */
export const POSTGRES_MARKET_DATA_MIGRATION_LOCK_KEY = 0x3d_ca7a;

export interface MarketDataMigration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MARKET_DATA_MIGRATIONS: readonly MarketDataMigration[] = Object.freeze([
  {
    version: 1,
    name: 'trades, candles, stored seq',
    sql: `
CREATE TABLE IF NOT EXISTS md_meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS md_trades (
  exec_id {{int64_key}},
  product_id BIGINT NOT NULL,
  price BIGINT NOT NULL,
  quantity BIGINT NOT NULL,
  taker_side BIGINT NOT NULL,
  time_us BIGINT NOT NULL,
  journal_seq BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS md_trades_product_time ON md_trades (product_id, time_us);
CREATE TABLE IF NOT EXISTS md_candles (
  product_id BIGINT NOT NULL,
  resolution_s BIGINT NOT NULL,
  bucket_start_us BIGINT NOT NULL,
  open BIGINT NOT NULL,
  high BIGINT NOT NULL,
  low BIGINT NOT NULL,
  close BIGINT NOT NULL,
  volume BIGINT NOT NULL,
  trades BIGINT NOT NULL,
  PRIMARY KEY (product_id, resolution_s, bucket_start_us)
) {{without_rowid}};
INSERT INTO md_meta (key, value) VALUES ('stored_seq', 0) ON CONFLICT (key) DO NOTHING;
`,
  },
]);

const INT64_KEY: Readonly<Record<SqlDialect, string>> = { sqlite: 'INTEGER PRIMARY KEY', postgres: 'BIGINT PRIMARY KEY' };
const WITHOUT_ROWID: Readonly<Record<SqlDialect, string>> = { sqlite: 'WITHOUT ROWID', postgres: '' };

/** The statements of a migration for one dialect (separated by a ';' at the end of a line). */
export function marketDataMigrationStatements(m: MarketDataMigration, dialect: SqlDialect): string[] {
  return m.sql
    .replace(/\{\{int64_key\}\}/g, INT64_KEY[dialect])
    .replace(/\{\{without_rowid\}\}/g, WITHOUT_ROWID[dialect])
    .split(/;\s*\n/)
    .map((s) => s.trim().replace(/;$/, ''))
    .filter((s) => s !== '');
}

/** Runs SQL with `?` placeholders inside the caller's transaction. */
export interface MigrationExecutor {
  run(sql: string, params?: readonly (number | string)[]): Promise<unknown>;
  all<T>(sql: string, params?: readonly (number | string)[]): Promise<T[]>;
}

/** Applies every migration the database has not seen, in the caller's transaction; returns the versions applied now. */
export async function applyMarketDataMigrations(tx: MigrationExecutor, dialect: SqlDialect, description: string, nowMs: number): Promise<number[]> {
  await tx.run(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms BIGINT NOT NULL)`);
  const rows = await tx.all<{ version: number; name: string }>(`SELECT version, name FROM ${MIGRATIONS_TABLE} ORDER BY version`);
  const applied = new Map(rows.map((r) => [Number(r.version), r.name]));
  const known = new Map(MARKET_DATA_MIGRATIONS.map((m) => [m.version, m]));
  for (const [version, name] of applied) {
    const m = known.get(version);
    if (m === undefined) throw new Error(`${description} has market-data schema version ${version} ('${name}'), newer than this publisher knows; upgrade IMS before opening it`);
    if (m.name !== name) throw new Error(`${description} recorded market-data migration ${version} as '${name}' but this code calls it '${m.name}'; the migration history was edited`);
  }
  const done: number[] = [];
  for (const m of [...MARKET_DATA_MIGRATIONS].sort((a, b) => a.version - b.version)) {
    if (applied.has(m.version)) continue;
    for (const statement of marketDataMigrationStatements(m, dialect)) await tx.run(statement);
    await tx.run(`INSERT INTO ${MIGRATIONS_TABLE} (version, name, applied_at_ms) VALUES (?, ?, ?)`, [m.version, m.name, nowMs]);
    done.push(m.version);
  }
  return done;
}
