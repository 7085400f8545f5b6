// Versioned schema migrations of the report database, applied in order at start inside one
// transaction and recorded in reporter_schema_migrations (its own table: the report database may
// share a PostgreSQL server or even a schema with the account store, whose history is separate).
// A migration is never edited once released: a change is a new version.
//
// The SQL is shared by SQLite and PostgreSQL (BIGINT, TEXT, INTEGER, composite primary keys).
// Statements are separated by a ';' at the end of a line (the accounts module's splitter).
// `{{int64_key}}` is the 64-bit primary key of the big tables (orders, executions, movements,
// account_cash): INTEGER PRIMARY KEY in SQLite, which makes it the rowid, so the table itself is
// the key's B-tree (a BIGINT key would be a second B-tree beside the rowid one, written on every
// insert); BIGINT PRIMARY KEY in PostgreSQL (whose INTEGER is 32 bits). `{{without_rowid}}` does
// the same for tables with a composite key (SQLite's WITHOUT ROWID; nothing in PostgreSQL).
//
// Which index serves which query:
//   orders_open_by_account_status ordersFor(colleague, status open/new/partially_filled/replaced)
//                                 "orders by account and status", and loading the open orders at
//                                 start. Partial (open orders only): a full (account, status) index
//                                 cost every order an extra random insert plus a move at each status
//                                 change (measured: orders were half the write time); an account's
//                                 finished orders by status are read through the next index, by time.
//   orders_by_account_created     ordersFor(colleague), EOD statements (an account's orders of a day)
//   orders_by_created             ordersFor(all)
//   executions_by_maker_account   executionsFor(colleague) and EOD fills: one of the two account sides
//   executions_by_taker_account   ... the other side (a query is a UNION ALL of both, each in index order)
//   executions_by_maker_order     executionsFor(orderId)        "executions by order id"
//   executions_by_taker_order
//   executions_by_product_time    executionsFor(symbol)         "executions by product and time"
//   executions_by_time            executionsFor(all)
//   *_movements_by_account        EOD statements (an account's cash and inventory movements)
//   accounts_by_outlet            EOD statements (the accounts of an outlet)

import { migrationStatements, type Migration } from '../accounts/migrations';
import type { SqlDialect } from '../accounts/sql-store';

export const MIGRATIONS_TABLE = 'reporter_schema_migrations';

/** A report migration: SQL for both databases, plus statements only PostgreSQL runs (storage tuning). */
export interface ReportMigration extends Migration {
  readonly postgresOnly?: string;
}

export const REPORT_MIGRATIONS: readonly ReportMigration[] = Object.freeze([
  {
    version: 1,
    name: 'orders, executions, movements, balances, products, accounts, trading days, product day stats, progress',
    sql: `
CREATE TABLE reporter_progress (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  last_seq BIGINT NOT NULL,
  last_time_us BIGINT NOT NULL,
  trading_day INTEGER NOT NULL,
  updated_at_ms BIGINT NOT NULL
);
INSERT INTO reporter_progress (id, last_seq, last_time_us, trading_day, updated_at_ms) VALUES (1, 0, 0, 0, 0);

CREATE TABLE orders (
  order_id {{int64_key}},
  account_id BIGINT NOT NULL,
  product_id BIGINT NOT NULL,
  symbol TEXT NOT NULL,
  brand TEXT NOT NULL,
  product_type TEXT NOT NULL,
  side TEXT NOT NULL,
  time_in_force TEXT NOT NULL,
  price BIGINT NOT NULL,
  quantity BIGINT NOT NULL,
  filled_quantity BIGINT NOT NULL,
  filled_notional BIGINT NOT NULL,
  remaining_quantity BIGINT NOT NULL,
  status TEXT NOT NULL,
  reason TEXT,
  client_order_id TEXT NOT NULL,
  created_seq BIGINT NOT NULL,
  created_time_us BIGINT NOT NULL,
  updated_seq BIGINT NOT NULL,
  updated_time_us BIGINT NOT NULL
);
CREATE INDEX orders_by_account_created ON orders (account_id, created_time_us, order_id);
CREATE INDEX orders_by_created ON orders (created_time_us, order_id);
-- Open orders by account and status. Partial: an order enters it when it starts resting and leaves
-- when it finishes, and an order that finishes within one batch (IOC, filled at once, rejected)
-- never touches it. A restarted reporter loads the open orders through it too.
CREATE INDEX orders_open_by_account_status ON orders (account_id, status, created_time_us, order_id) WHERE status IN ('new', 'partially_filled', 'replaced');

CREATE TABLE executions (
  exec_id {{int64_key}},
  seq BIGINT NOT NULL,
  time_us BIGINT NOT NULL,
  product_id BIGINT NOT NULL,
  price BIGINT NOT NULL,
  quantity BIGINT NOT NULL,
  taker_side TEXT NOT NULL,
  maker_order_id BIGINT NOT NULL,
  maker_account_id BIGINT NOT NULL,
  taker_order_id BIGINT NOT NULL,
  taker_account_id BIGINT NOT NULL
);
CREATE INDEX executions_by_maker_account ON executions (maker_account_id, time_us, exec_id);
CREATE INDEX executions_by_taker_account ON executions (taker_account_id, time_us, exec_id);
CREATE INDEX executions_by_maker_order ON executions (maker_order_id);
CREATE INDEX executions_by_taker_order ON executions (taker_order_id);
CREATE INDEX executions_by_product_time ON executions (product_id, time_us, exec_id);
CREATE INDEX executions_by_time ON executions (time_us, exec_id);

CREATE TABLE cash_movements (
  seq {{int64_key}},
  time_us BIGINT NOT NULL,
  account_id BIGINT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('deposit', 'withdrawal')),
  amount BIGINT NOT NULL,
  reference BIGINT NOT NULL,
  applied INTEGER NOT NULL CHECK (applied IN (0, 1)),
  reason TEXT
);
CREATE INDEX cash_movements_by_account ON cash_movements (account_id, time_us, seq);

CREATE TABLE inventory_movements (
  seq {{int64_key}},
  time_us BIGINT NOT NULL,
  account_id BIGINT NOT NULL,
  product_id BIGINT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('receipt', 'dispatch')),
  quantity BIGINT NOT NULL,
  reference BIGINT NOT NULL,
  applied INTEGER NOT NULL CHECK (applied IN (0, 1)),
  reason TEXT
);
CREATE INDEX inventory_movements_by_account ON inventory_movements (account_id, time_us, seq);

CREATE TABLE products (
  product_id BIGINT PRIMARY KEY,
  symbol TEXT NOT NULL,
  brand TEXT NOT NULL,
  brand_id BIGINT NOT NULL,
  tick_size BIGINT NOT NULL,
  lot_size BIGINT NOT NULL,
  reference_price BIGINT NOT NULL,
  state TEXT NOT NULL,
  listed_seq BIGINT NOT NULL,
  updated_seq BIGINT NOT NULL
);
CREATE INDEX products_by_symbol ON products (symbol);

CREATE TABLE accounts (
  account_id BIGINT PRIMARY KEY,
  outlet_id BIGINT NOT NULL,
  role TEXT NOT NULL,
  state TEXT NOT NULL,
  opened_seq BIGINT NOT NULL,
  updated_seq BIGINT NOT NULL
);
CREATE INDEX accounts_by_outlet ON accounts (outlet_id, account_id);

CREATE TABLE account_cash (
  account_id {{int64_key}},
  cash BIGINT NOT NULL,
  updated_seq BIGINT NOT NULL
);

CREATE TABLE account_inventory (
  account_id BIGINT NOT NULL,
  product_id BIGINT NOT NULL,
  units BIGINT NOT NULL,
  updated_seq BIGINT NOT NULL,
  PRIMARY KEY (account_id, product_id)
){{without_rowid}};

CREATE TABLE trading_days (
  trading_day INTEGER PRIMARY KEY,
  first_seq BIGINT NOT NULL,
  first_time_us BIGINT NOT NULL,
  last_seq BIGINT NOT NULL,
  last_time_us BIGINT NOT NULL,
  opened_seq BIGINT,
  closed_seq BIGINT
);

CREATE TABLE product_day_stats (
  trading_day INTEGER NOT NULL,
  product_id BIGINT NOT NULL,
  trades BIGINT NOT NULL,
  volume BIGINT NOT NULL,
  notional BIGINT NOT NULL,
  open_price BIGINT NOT NULL,
  high_price BIGINT NOT NULL,
  low_price BIGINT NOT NULL,
  close_price BIGINT NOT NULL,
  first_exec_id BIGINT NOT NULL,
  last_exec_id BIGINT NOT NULL,
  PRIMARY KEY (trading_day, product_id)
){{without_rowid}};
`,
    // Every batch rewrites the balances it touched. Free space in each page lets PostgreSQL update
    // a balance in place (a HOT update: no new index entry, since no indexed column changes);
    // measured: half the time of an upsert into full pages.
    postgresOnly: `
ALTER TABLE account_cash SET (fillfactor = 50);
ALTER TABLE account_inventory SET (fillfactor = 50);
ALTER TABLE product_day_stats SET (fillfactor = 50);
`,
  },
]);

/** The statements of a report migration for one dialect. */
export function reportMigrationStatements(m: ReportMigration, dialect: SqlDialect): string[] {
  const key = dialect === 'sqlite' ? 'INTEGER PRIMARY KEY' : 'BIGINT PRIMARY KEY';
  const sql = m.sql.replace(/\{\{int64_key\}\}/g, key).replace(/\{\{without_rowid\}\}/g, dialect === 'sqlite' ? ' WITHOUT ROWID' : '') + (dialect === 'postgres' ? (m.postgresOnly ?? '') : '');
  return migrationStatements({ ...m, sql }, dialect);
}

/** The advisory-lock key a PostgreSQL report store takes while migrating (distinct from the account store's). */
export const POSTGRES_REPORT_MIGRATION_LOCK_KEY = 0x1a5_4e90;

/** The statements one transaction needs to run (either database). */
export interface MigrationExecutor {
  run(sql: string, params?: readonly (string | number | null)[]): Promise<unknown>;
  all<T>(sql: string, params?: readonly (string | number | null)[]): Promise<T[]>;
}

/**
 * Applies every report migration the database has not seen, inside the caller's transaction;
 * returns the versions applied now. Refuses a database migrated by a newer release, or whose
 * recorded history differs from this code's (a migration edited after release).
 */
export async function applyReportMigrations(tx: MigrationExecutor, dialect: SqlDialect, description: string, nowMs: number): Promise<number[]> {
  await tx.run(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms BIGINT NOT NULL)`);
  const rows = await tx.all<{ version: number; name: string }>(`SELECT version, name FROM ${MIGRATIONS_TABLE} ORDER BY version`);
  const applied = new Map(rows.map((r) => [Number(r.version), r.name]));
  const known = new Map(REPORT_MIGRATIONS.map((m) => [m.version, m]));
  for (const [version, name] of applied) {
    const m = known.get(version);
    if (m === undefined) throw new Error(`${description} has report schema version ${version} ('${name}'), newer than this reporter knows; upgrade IMS before opening it`);
    if (m.name !== name) throw new Error(`${description} recorded report migration ${version} as '${name}' but this code calls it '${m.name}'; the migration history was edited`);
  }
  const done: number[] = [];
  for (const m of [...REPORT_MIGRATIONS].sort((a, b) => a.version - b.version)) {
    if (applied.has(m.version)) continue;
    for (const statement of reportMigrationStatements(m, dialect)) await tx.run(statement);
    await tx.run(`INSERT INTO ${MIGRATIONS_TABLE} (version, name, applied_at_ms) VALUES (?, ?, ?)`, [m.version, m.name, nowMs]);
    done.push(m.version);
  }
  return done;
}
