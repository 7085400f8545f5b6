// The row layout of every table the reporter writes, declared once: the model builds rows as
// arrays in exactly this column order, and both stores generate their INSERT statements from
// these specs (SQLite multi-row VALUES, PostgreSQL INSERT ... SELECT FROM unnest). The DDL in
// report-migrations.ts creates the same columns; a test holds the two together.
//
// How a conflict (a row that exists) is resolved decides idempotency:
//   'ignore'  — append-only facts keyed by their journal identity (an execution by exec id, a
//               movement by seq): a second write of the same fact changes nothing;
//   'replace' — state rows (an order's latest state, a wallet balance, a day's statistics): the
//               batch carries absolute values, never deltas, so writing one twice is harmless;
//   'replace-same-order' — orders: replaced only when the stored row was created by the same
//               journal entry (created_seq), so a NewOrder that reuses an old order id (which the
//               engine rejects) can never overwrite the original order's record.

export type PgColumnType = 'bigint' | 'integer' | 'text';

export interface ColumnSpec {
  readonly name: string;
  readonly pgType: PgColumnType;
}

export type ConflictRule = 'ignore' | 'replace' | 'replace-same-order';

export interface TableSpec {
  readonly name: string;
  readonly columns: readonly ColumnSpec[];
  /** The primary key columns (the ON CONFLICT target). */
  readonly key: readonly string[];
  readonly conflict: ConflictRule;
  /**
   * The columns a replace writes. Only these: the databases rewrite the index entries of every
   * column an UPDATE sets, changed or not, so an order's update leaves the indexes on its
   * account, product and creation time alone.
   */
  readonly mutable: readonly string[];
}

function table(
  name: string,
  key: readonly string[],
  conflict: ConflictRule,
  columns: ReadonlyArray<readonly [string, PgColumnType]>,
  mutable?: readonly string[],
): TableSpec {
  const specs = columns.map(([n, pgType]) => Object.freeze({ name: n, pgType }));
  for (const k of [...key, ...(mutable ?? [])]) if (!specs.some((c) => c.name === k)) throw new Error(`report table ${name}: column ${k} is not a column`);
  const changing = mutable ?? specs.map((c) => c.name).filter((c) => !key.includes(c));
  return Object.freeze({ name, columns: Object.freeze(specs), key: Object.freeze([...key]), conflict, mutable: Object.freeze([...changing]) });
}

/** One row per order: its latest state (what an engine output can change is `mutable`). */
export const ORDERS = table(
  'orders',
  ['order_id'],
  'replace-same-order',
  [
    ['order_id', 'bigint'],
    ['account_id', 'bigint'],
    ['product_id', 'bigint'],
    ['symbol', 'text'],
    ['brand', 'text'],
    ['product_type', 'text'],
    ['side', 'text'],
    ['time_in_force', 'text'],
    ['price', 'bigint'],
    ['quantity', 'bigint'],
    ['filled_quantity', 'bigint'],
    ['filled_notional', 'bigint'],
    ['remaining_quantity', 'bigint'],
    ['status', 'text'],
    ['reason', 'text'],
    ['client_order_id', 'text'],
    ['created_seq', 'bigint'],
    ['created_time_us', 'bigint'],
    ['updated_seq', 'bigint'],
    ['updated_time_us', 'bigint'],
  ],
  ['price', 'quantity', 'filled_quantity', 'filled_notional', 'remaining_quantity', 'status', 'reason', 'updated_seq', 'updated_time_us'],
);

/** One row per match (both executions of it: the maker's and the taker's). */
export const EXECUTIONS = table('executions', ['exec_id'], 'ignore', [
  ['exec_id', 'bigint'],
  ['seq', 'bigint'],
  ['time_us', 'bigint'],
  ['product_id', 'bigint'],
  ['price', 'bigint'],
  ['quantity', 'bigint'],
  ['taker_side', 'text'],
  ['maker_order_id', 'bigint'],
  ['maker_account_id', 'bigint'],
  ['taker_order_id', 'bigint'],
  ['taker_account_id', 'bigint'],
]);

/** Deposits and withdrawals as journaled; applied = 0 when the wallet refused it (reason says why). */
export const CASH_MOVEMENTS = table('cash_movements', ['seq'], 'ignore', [
  ['seq', 'bigint'],
  ['time_us', 'bigint'],
  ['account_id', 'bigint'],
  ['kind', 'text'],
  ['amount', 'bigint'],
  ['reference', 'bigint'],
  ['applied', 'integer'],
  ['reason', 'text'],
]);

/** Inventory receipts and dispatches as journaled. */
export const INVENTORY_MOVEMENTS = table('inventory_movements', ['seq'], 'ignore', [
  ['seq', 'bigint'],
  ['time_us', 'bigint'],
  ['account_id', 'bigint'],
  ['product_id', 'bigint'],
  ['kind', 'text'],
  ['quantity', 'bigint'],
  ['reference', 'bigint'],
  ['applied', 'integer'],
  ['reason', 'text'],
]);

export const PRODUCTS = table('products', ['product_id'], 'replace', [
  ['product_id', 'bigint'],
  ['symbol', 'text'],
  ['brand', 'text'],
  ['brand_id', 'bigint'],
  ['tick_size', 'bigint'],
  ['lot_size', 'bigint'],
  ['reference_price', 'bigint'],
  ['state', 'text'],
  ['listed_seq', 'bigint'],
  ['updated_seq', 'bigint'],
]);

export const ACCOUNTS = table('accounts', ['account_id'], 'replace', [
  ['account_id', 'bigint'],
  ['outlet_id', 'bigint'],
  ['role', 'text'],
  ['state', 'text'],
  ['opened_seq', 'bigint'],
  ['updated_seq', 'bigint'],
]);

/** Each account's cash balance after every journal entry applied so far. */
export const ACCOUNT_CASH = table('account_cash', ['account_id'], 'replace', [
  ['account_id', 'bigint'],
  ['cash', 'bigint'],
  ['updated_seq', 'bigint'],
]);

/** Each account's units of each product. */
export const ACCOUNT_INVENTORY = table('account_inventory', ['account_id', 'product_id'], 'replace', [
  ['account_id', 'bigint'],
  ['product_id', 'bigint'],
  ['units', 'bigint'],
  ['updated_seq', 'bigint'],
]);

/** The journal range of each trading day: what an end-of-day report covers. */
export const TRADING_DAYS = table('trading_days', ['trading_day'], 'replace', [
  ['trading_day', 'integer'],
  ['first_seq', 'bigint'],
  ['first_time_us', 'bigint'],
  ['last_seq', 'bigint'],
  ['last_time_us', 'bigint'],
  ['opened_seq', 'bigint'],
  ['closed_seq', 'bigint'],
]);

/** Per product and trading day: trades, volume, notional (for VWAP), open/high/low/close. */
export const PRODUCT_DAY_STATS = table('product_day_stats', ['trading_day', 'product_id'], 'replace', [
  ['trading_day', 'integer'],
  ['product_id', 'bigint'],
  ['trades', 'bigint'],
  ['volume', 'bigint'],
  ['notional', 'bigint'],
  ['open_price', 'bigint'],
  ['high_price', 'bigint'],
  ['low_price', 'bigint'],
  ['close_price', 'bigint'],
  ['first_exec_id', 'bigint'],
  ['last_exec_id', 'bigint'],
]);

/** Every table a batch writes, in the order a batch writes them. */
export const BATCH_TABLES: readonly TableSpec[] = Object.freeze([
  PRODUCTS,
  ACCOUNTS,
  ORDERS,
  EXECUTIONS,
  CASH_MOVEMENTS,
  INVENTORY_MOVEMENTS,
  ACCOUNT_CASH,
  ACCOUNT_INVENTORY,
  TRADING_DAYS,
  PRODUCT_DAY_STATS,
]);

/** The column index of `name` in `spec` (for code that reads a row array). */
export function columnIndex(spec: TableSpec, name: string): number {
  const i = spec.columns.findIndex((c) => c.name === name);
  if (i < 0) throw new Error(`report table ${spec.name} has no column ${name}`);
  return i;
}

/** The ON CONFLICT clause of an upsert into `spec` (the same text in SQLite and PostgreSQL). */
export function conflictClause(spec: TableSpec): string {
  const target = `ON CONFLICT (${spec.key.join(', ')})`;
  if (spec.conflict === 'ignore') return `${target} DO NOTHING`;
  const set = spec.mutable.map((c) => `${c} = excluded.${c}`).join(', ');
  if (spec.conflict === 'replace') return `${target} DO UPDATE SET ${set}`;
  return `${target} DO UPDATE SET ${set} WHERE ${spec.name}.created_seq = excluded.created_seq`;
}
