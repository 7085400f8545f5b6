// What the data service asks the report database (the gateway calls these for GET /v1/execution
// and the order history): a caller's executions and orders, filtered, newest data included up to
// the reporter's last batch, in pages.
//
// Authorization is decided HERE, from the viewer, not left to the caller: a colleague sees only
// their own account's executions and orders (asking for another account is `forbidden`; an order
// id of someone else's order simply matches nothing, so existence does not leak); analysts, admins
// and risk admins see every account's, or one account's when they name it; operators see none.
// An execution view never names the counterparty (its order or account): no one reads what is
// not theirs.
//
// Pagination is keyset (seek), never OFFSET: a page costs the same on the millionth page as on
// the first. The cursor is opaque to callers — a versioned, base64url-encoded position (time, id,
// side) of the last row returned — and a page holds at most MAX_PAGE_SIZE rows. Executions come
// oldest first (time, exec id, maker before taker); orders by creation time, then order id.
// Times are journal timestamps in µs since the epoch; startTimeUs is inclusive, endTimeUs
// exclusive.

import type { SqlValue } from '../accounts/sql-store';
import type { RoleName } from '../accounts/roles';
import { ORDER_STATUS_CODES, OPEN_STATUS_NAMES } from './report-codes';
import type { ReportStore } from './report-store';
import { DEFAULT_PAGE_SIZE, MAX_CURSOR_CHARS, MAX_PAGE_SIZE, MAX_PRODUCTS_PER_SYMBOL } from './reporter-limits';

/** Who asks: an authenticated principal's account and role (processes/accounts/principal.ts has both). */
export interface Viewer {
  readonly accountId: number;
  readonly role: RoleName;
}

export type ReportQueryErrorCode = 'forbidden' | 'limit_out_of_range' | 'invalid_cursor' | 'invalid_time_range' | 'invalid_parameter' | 'unknown_symbol';

/** A query the caller got wrong (or may not make): `code` for programs, `detail` says what to do. */
export class ReportQueryError extends Error {
  override readonly name = 'ReportQueryError';
  constructor(
    readonly code: ReportQueryErrorCode,
    readonly detail: string,
  ) {
    super(`${code}: ${detail}`);
  }

  /** The HTTP status the gateway answers with. */
  get httpStatus(): number {
    return this.code === 'forbidden' ? 403 : 400;
  }
}

/** Whose rows a query reads: one account, or every account. */
export type QueryScope = { readonly kind: 'account'; readonly accountId: number } | { readonly kind: 'all' };

const SEES_ALL: ReadonlySet<RoleName> = new Set<RoleName>(['analyst', 'admin', 'risk_admin']);

/**
 * The scope `viewer` may read when asking for `accountId` (undefined: "mine" for a colleague,
 * "everyone's" for staff). Throws ReportQueryError('forbidden') otherwise.
 */
export function scopeFor(viewer: Viewer, accountId?: number): QueryScope {
  if (accountId !== undefined && !(Number.isSafeInteger(accountId) && accountId > 0)) {
    throw new ReportQueryError('invalid_parameter', `accountId must be a positive integer, got ${accountId}`);
  }
  if (viewer.role === 'colleague') {
    if (accountId !== undefined && accountId !== viewer.accountId) {
      throw new ReportQueryError('forbidden', `account ${viewer.accountId} may read only its own executions and orders, not account ${accountId}'s`);
    }
    return { kind: 'account', accountId: viewer.accountId };
  }
  if (SEES_ALL.has(viewer.role)) return accountId === undefined ? { kind: 'all' } : { kind: 'account', accountId };
  throw new ReportQueryError('forbidden', `the ${viewer.role} role does not read trading records; ask an analyst or an admin`);
}

export interface Page<T> {
  readonly items: T[];
  /** Pass back as `cursor` for the next page; null when this page is the last. */
  readonly nextCursor: string | null;
}

interface CommonQuery {
  readonly viewer: Viewer;
  /** Whose records (default: the viewer's own for a colleague, everyone's for staff). */
  readonly accountId?: number;
  readonly symbol?: string;
  readonly orderId?: number;
  /** Inclusive, µs since the epoch (default: the beginning). */
  readonly startTimeUs?: number;
  /** Exclusive, µs since the epoch (default: no end). */
  readonly endTimeUs?: number;
  readonly cursor?: string;
  /** Rows per page, 1..MAX_PAGE_SIZE (default DEFAULT_PAGE_SIZE). */
  readonly limit?: number;
}

export type ExecutionQuery = CommonQuery;

export interface OrderQuery extends CommonQuery {
  /** One status name (new, partially_filled, filled, canceled, replaced, rejected, expired) or 'open'. */
  readonly status?: string;
}

/** One execution as one side of it sees it (the API's shape: id, orderId, productId, side, quantity, price, time). */
export interface ExecutionView {
  readonly execId: number;
  readonly orderId: number;
  readonly accountId: number;
  readonly productId: number;
  readonly symbol: string;
  readonly side: 'inflow' | 'outflow';
  /** maker: the resting order (the price is always its own); taker: the incoming one. */
  readonly liquidity: 'maker' | 'taker';
  readonly price: number;
  readonly quantity: number;
  readonly timeUs: number;
  readonly seq: number;
}

export interface OrderView {
  readonly orderId: number;
  readonly clientOrderId: string;
  readonly accountId: number;
  readonly productId: number;
  readonly symbol: string;
  readonly brand: string;
  readonly productType: string;
  readonly side: string;
  readonly timeInForce: string;
  readonly price: number;
  readonly quantity: number;
  readonly filledQuantity: number;
  readonly remainingQuantity: number;
  /** Σ price × quantity of the fills (average fill price = filledNotional / filledQuantity). */
  readonly filledNotional: number;
  readonly status: string;
  readonly reason: string | null;
  readonly createdTimeUs: number;
  readonly updatedTimeUs: number;
}

// ---------------------------------------------------------------------------------------------
// Validation and cursors.

const MAX_TIME_US = Number.MAX_SAFE_INTEGER;
const EXECUTION_CURSOR_PREFIX = 'x1.';
const ORDER_CURSOR_PREFIX = 'o1.';

function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new ReportQueryError('limit_out_of_range', `limit ${limit} is outside 1..${MAX_PAGE_SIZE} (the maximum page size); follow nextCursor for more rows`);
  }
  return limit;
}

function timeRange(q: CommonQuery): { start: number; end: number } {
  const start = q.startTimeUs ?? 0;
  const end = q.endTimeUs ?? MAX_TIME_US;
  for (const [name, v] of [['startTimeUs', start], ['endTimeUs', end]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new ReportQueryError('invalid_time_range', `${name} must be a non-negative integer of µs since the epoch, got ${v}`);
  }
  if (start > end) throw new ReportQueryError('invalid_time_range', `startTimeUs ${start} is after endTimeUs ${end}`);
  return { start, end };
}

function encodeCursor(prefix: string, position: readonly number[]): string {
  return prefix + Buffer.from(JSON.stringify(position)).toString('base64url');
}

function decodeCursor(prefix: string, cursor: string, length: number): number[] {
  const bad = (): ReportQueryError => new ReportQueryError('invalid_cursor', 'the cursor was not returned by this query (or is damaged); start again without a cursor');
  if (cursor.length > MAX_CURSOR_CHARS || !cursor.startsWith(prefix)) throw bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor.slice(prefix.length), 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!Array.isArray(parsed) || parsed.length !== length || !parsed.every((v) => Number.isSafeInteger(v) && v >= -1)) throw bad();
  return parsed as number[];
}

function optionalId(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) throw new ReportQueryError('invalid_parameter', `${name} must be a positive integer, got ${value}`);
}

/** The product ids a symbol names (several when a symbol was delisted and listed again). */
async function productIdsOf(store: ReportStore, symbol: string): Promise<number[]> {
  if (symbol.length === 0 || symbol.length > 16) throw new ReportQueryError('invalid_parameter', `symbol must be 1..16 characters, got '${symbol}'`);
  const rows = await store.all<{ product_id: number }>('SELECT product_id FROM products WHERE symbol = ? ORDER BY product_id LIMIT ?', [symbol, MAX_PRODUCTS_PER_SYMBOL]);
  if (rows.length === 0) throw new ReportQueryError('unknown_symbol', `no product was ever listed as '${symbol}'`);
  return rows.map((r) => r.product_id);
}

function inList(ids: readonly number[]): string {
  return `(${ids.map(() => '?').join(', ')})`;
}

async function symbolsOf(store: ReportStore, productIds: Iterable<number>): Promise<Map<number, string>> {
  const ids = [...new Set(productIds)];
  if (ids.length === 0) return new Map();
  const rows = await store.all<{ product_id: number; symbol: string }>(`SELECT product_id, symbol FROM products WHERE product_id IN ${inList(ids)}`, ids);
  return new Map(rows.map((r) => [r.product_id, r.symbol]));
}

// ---------------------------------------------------------------------------------------------
// Executions.

interface ExecutionRow {
  exec_id: number;
  seq: number;
  time_us: number;
  product_id: number;
  price: number;
  quantity: number;
  taker_side: string;
  maker_order_id: number;
  maker_account_id: number;
  taker_order_id: number;
  taker_account_id: number;
}

interface SideRow {
  exec_id: number;
  seq: number;
  time_us: number;
  product_id: number;
  price: number;
  quantity: number;
  taker_side: string;
  order_id: number;
  account_id: number;
  is_taker: number;
}

const OPPOSITE_SIDE: Readonly<Record<string, 'inflow' | 'outflow'>> = { inflow: 'outflow', outflow: 'inflow' };

function sideView(r: SideRow, symbols: ReadonlyMap<number, string>): ExecutionView {
  const taker = Number(r.is_taker) === 1;
  return {
    execId: r.exec_id,
    orderId: r.order_id,
    accountId: r.account_id,
    productId: r.product_id,
    symbol: symbols.get(r.product_id) ?? '',
    side: taker ? (r.taker_side as 'inflow' | 'outflow') : OPPOSITE_SIDE[r.taker_side]!,
    liquidity: taker ? 'taker' : 'maker',
    price: r.price,
    quantity: r.quantity,
    timeUs: r.time_us,
    seq: r.seq,
  };
}

/** A page of executions the viewer may see (one entry per side: a self-match shows both). */
export async function executionsFor(store: ReportStore, q: ExecutionQuery): Promise<Page<ExecutionView>> {
  const scope = scopeFor(q.viewer, q.accountId);
  const limit = pageLimit(q.limit);
  const { start, end } = timeRange(q);
  optionalId('orderId', q.orderId);
  // Position after which this page starts: (time, exec id, 0 maker / 1 taker).
  const [afterTime, afterExec, afterRole] = q.cursor === undefined ? [start, -1, 1] : decodeCursor(EXECUTION_CURSOR_PREFIX, q.cursor, 3);
  const fromTime = Math.max(start, afterTime!);
  const products = q.symbol === undefined ? null : await productIdsOf(store, q.symbol);
  let sides: SideRow[];
  if (scope.kind === 'account' || q.orderId !== undefined) {
    // Each side from its own index, in index order, then merged: maker rows of the cursor's match
    // are done; its taker row is still to come when the cursor stopped at the maker row.
    const parts: string[] = [];
    const params: SqlValue[] = [];
    for (const role of ['maker', 'taker'] as const) {
      const conditions = [`time_us >= ?`, `time_us < ?`, `(time_us > ? OR exec_id > ?)`];
      params.push(fromTime, end, afterTime!, role === 'taker' && afterRole === 0 ? afterExec! - 1 : afterExec!);
      if (scope.kind === 'account') {
        conditions.push(`${role}_account_id = ?`);
        params.push(scope.accountId);
      }
      if (q.orderId !== undefined) {
        conditions.push(`${role}_order_id = ?`);
        params.push(q.orderId);
      }
      if (products !== null) {
        conditions.push(`product_id IN ${inList(products)}`);
        params.push(...products);
      }
      parts.push(
        `SELECT * FROM (SELECT exec_id, seq, time_us, product_id, price, quantity, taker_side, ${role}_order_id AS order_id, ${role}_account_id AS account_id, ` +
          `${role === 'taker' ? 1 : 0} AS is_taker FROM executions WHERE ${conditions.join(' AND ')} ORDER BY time_us, exec_id LIMIT ?) AS ${role}_side`,
      );
      params.push(limit + 1);
    }
    sides = await store.all<SideRow>(`${parts.join(' UNION ALL ')} ORDER BY time_us, exec_id, is_taker LIMIT ?`, [...params, limit + 1]);
  } else {
    // Every account: each match once from the time (or product, time) index, then both its sides.
    const conditions = [`time_us >= ?`, `time_us < ?`, `(time_us > ? OR exec_id >= ?)`];
    const params: SqlValue[] = [fromTime, end, afterTime!, afterExec!];
    if (products !== null) {
      conditions.push(`product_id IN ${inList(products)}`);
      params.push(...products);
    }
    const matches = await store.all<ExecutionRow>(
      `SELECT exec_id, seq, time_us, product_id, price, quantity, taker_side, maker_order_id, maker_account_id, taker_order_id, taker_account_id
         FROM executions WHERE ${conditions.join(' AND ')} ORDER BY time_us, exec_id LIMIT ?`,
      [...params, limit + 2],
    );
    sides = [];
    for (const m of matches) {
      for (const isTaker of [0, 1]) {
        const beforeCursor = m.time_us < afterTime! || (m.time_us === afterTime! && (m.exec_id < afterExec! || (m.exec_id === afterExec! && isTaker <= afterRole!)));
        if (beforeCursor) continue;
        sides.push({
          exec_id: m.exec_id,
          seq: m.seq,
          time_us: m.time_us,
          product_id: m.product_id,
          price: m.price,
          quantity: m.quantity,
          taker_side: m.taker_side,
          order_id: isTaker === 1 ? m.taker_order_id : m.maker_order_id,
          account_id: isTaker === 1 ? m.taker_account_id : m.maker_account_id,
          is_taker: isTaker,
        });
      }
    }
  }
  const page = sides.slice(0, limit);
  const symbols = await symbolsOf(store, page.map((r) => r.product_id));
  const last = page[page.length - 1];
  return {
    items: page.map((r) => sideView(r, symbols)),
    nextCursor: sides.length > limit && last !== undefined ? encodeCursor(EXECUTION_CURSOR_PREFIX, [last.time_us, last.exec_id, Number(last.is_taker)]) : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Orders.

interface OrderRow {
  order_id: number;
  client_order_id: string;
  account_id: number;
  product_id: number;
  symbol: string;
  brand: string;
  product_type: string;
  side: string;
  time_in_force: string;
  price: number;
  quantity: number;
  filled_quantity: number;
  remaining_quantity: number;
  filled_notional: number;
  status: string;
  reason: string | null;
  created_time_us: number;
  updated_time_us: number;
}

/** The WHERE term of the partial index orders_open_by_account_status, verbatim. */
const OPEN_STATUSES_SQL = `status IN (${OPEN_STATUS_NAMES.map((st) => `'${st}'`).join(', ')})`;

const ORDER_COLUMNS =
  'order_id, client_order_id, account_id, product_id, symbol, brand, product_type, side, time_in_force, price, quantity, filled_quantity, remaining_quantity, filled_notional, status, reason, created_time_us, updated_time_us';

function orderView(r: OrderRow): OrderView {
  return {
    orderId: r.order_id,
    clientOrderId: r.client_order_id,
    accountId: r.account_id,
    productId: r.product_id,
    symbol: r.symbol,
    brand: r.brand,
    productType: r.product_type,
    side: r.side,
    timeInForce: r.time_in_force,
    price: r.price,
    quantity: r.quantity,
    filledQuantity: r.filled_quantity,
    remainingQuantity: r.remaining_quantity,
    filledNotional: r.filled_notional,
    status: r.status,
    reason: r.reason,
    createdTimeUs: r.created_time_us,
    updatedTimeUs: r.updated_time_us,
  };
}

/** A page of orders the viewer may see, by creation time (then order id). */
export async function ordersFor(store: ReportStore, q: OrderQuery): Promise<Page<OrderView>> {
  const scope = scopeFor(q.viewer, q.accountId);
  const limit = pageLimit(q.limit);
  const { start, end } = timeRange(q);
  optionalId('orderId', q.orderId);
  let statuses: readonly string[] | null = null;
  if (q.status !== undefined) {
    if (q.status === 'open') statuses = OPEN_STATUS_NAMES;
    else if (ORDER_STATUS_CODES.has(q.status)) statuses = [q.status];
    else throw new ReportQueryError('invalid_parameter', `status must be 'open' or one of ${[...ORDER_STATUS_CODES.keys()].join(', ')}, got '${q.status}'`);
  }
  const [afterTime, afterOrder] = q.cursor === undefined ? [start, -1] : decodeCursor(ORDER_CURSOR_PREFIX, q.cursor, 2);
  const conditions = [`created_time_us >= ?`, `created_time_us < ?`, `(created_time_us > ? OR order_id > ?)`];
  const params: SqlValue[] = [Math.max(start, afterTime!), end, afterTime!, afterOrder!];
  if (scope.kind === 'account') {
    conditions.push('account_id = ?');
    params.push(scope.accountId);
  }
  if (statuses !== null) {
    // Literal text, not parameters: the status names come from the fixed list checked above, and
    // only a literal `status IN ('new', 'partially_filled', 'replaced')` lets the databases prove
    // that the partial index of open orders applies.
    if (statuses.every((st) => OPEN_STATUS_NAMES.includes(st))) conditions.push(OPEN_STATUSES_SQL);
    if (statuses.length === 1) conditions.push(`status = '${statuses[0]}'`);
  }
  if (q.orderId !== undefined) {
    conditions.push('order_id = ?');
    params.push(q.orderId);
  }
  if (q.symbol !== undefined) {
    const products = await productIdsOf(store, q.symbol);
    conditions.push(`product_id IN ${inList(products)}`);
    params.push(...products);
  }
  const rows = await store.all<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM orders WHERE ${conditions.join(' AND ')} ORDER BY created_time_us, order_id LIMIT ?`, [...params, limit + 1]);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map(orderView),
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(ORDER_CURSOR_PREFIX, [last.created_time_us, last.order_id]) : null,
  };
}
