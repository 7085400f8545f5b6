// Trading history from the report database (the seed's API table, row 4, and the order history),
// on the trading listener only, for authenticated accounts:
//
//   GET /v1/execution?symbol=S&orderId=…&startTime=ms&endTime=ms&accountId=…&cursor=…&limit=N
//       -> {"executions":[{"id","orderId","accountId","productId","symbol","side","liquidity",
//           "quantity","price","time"}],"nextCursor":…}
//   GET /v1/orders?… (the same filters, plus status) -> {"orders":[…order JSON…],"nextCursor":…}
//
// The reporter (processes/reporter) writes the database from the journal in batches (at most
// BATCH_MAX_MS behind it); this module only reads it, through the reporter's own query functions,
// which decide authorization (a colleague sees only their own rows; analysts, admins and risk
// admins everyone's, or one account's with accountId) and paginate by keyset cursor. The gateway
// converts units at the edge: times are epoch ms in the API and µs in the database; prices are
// decimal strings formatted with the catalog's decimals, as in the order JSON.
//
// The database is opened read-only when the gateway starts. It may not exist yet (a fresh data
// directory: the reporter creates it moments later, or PostgreSQL is still coming up): then these
// routes answer 503 history_unavailable with a retry hint, and the next request after
// OPEN_RETRY_MS tries to open it again. Queries are awaited; the exchange registered uWS onAborted
// when the request arrived (http-exchange.ts), so an answer to a client that went away is dropped.

import { Type } from '@sinclair/typebox';
import { OrderStatus } from '../../bus/schema';
// The reporter's modules one by one, not its index: the gateway needs neither reconciliation nor
// the end-of-day reports (and what they load).
import { executionsFor, ordersFor, ReportQueryError, type ExecutionView, type OrderView, type Viewer } from '../reporter/report-queries';
import { openReportStore, type ReportStore, type ReportStoreOptions } from '../reporter/report-store';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../reporter/reporter-limits';
import { failure, type ApiFailure, type FailureStatus } from './api-failure';
import { OrderIdText, OrderStatusText, SymbolText, TimeInForceText } from './api-schemas';
import { formatDecimalPrice } from './decimal-price';
import type { GatewayServices } from './gateway-services';
import type { HttpExchange } from './http-exchange';
import { STATUS_TEXT } from './order-json';
import { declare, type RouteDeclaration } from './route-spec';

/** A failed open is retried by the first request at least this long after it. */
export const OPEN_RETRY_MS = 1_000;
/** Seconds a client is told to wait when the history is unavailable. */
export const RETRY_AFTER_S = 2;
/** History queries awaiting the database at once; beyond it 503 overloaded (each holds a connection or the SQLite thread). */
export const MAX_QUERIES_IN_FLIGHT = 64;
/** Epoch ms accepted in startTime/endTime: µs = ms × 1000 must stay a safe integer. */
export const MAX_TIME_MS = Math.floor(Number.MAX_SAFE_INTEGER / 1000);

const strict = { additionalProperties: false } as const;
const Digits = (max: number, description: string) => Type.String({ pattern: `^[0-9]{1,${max}}$`, description });
const common = {
  symbol: Type.Optional(SymbolText),
  orderId: Type.Optional(OrderIdText),
  startTime: Type.Optional(Digits(16, 'epoch ms, inclusive (default: the beginning)')),
  endTime: Type.Optional(Digits(16, 'epoch ms, exclusive (default: no end)')),
  accountId: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,9}$', maxLength: 10, description: "analysts, admins and risk admins: one account's rows (a colleague may name only their own)" })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9._-]+$', description: 'nextCursor of the previous page' })),
  limit: Type.Optional(Digits(16, `rows per page, 1..${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE})`)),
};
export const ExecutionHistoryQuery = Type.Object(common, { ...strict, title: 'ExecutionHistoryQuery' });
export const OrderHistoryQuery = Type.Object(
  { ...common, status: Type.Optional(Type.Union([Type.Literal('open'), ...['added', 'partially_filled', 'filled', 'updated', 'removed', 'rejected', 'expired'].map((st) => Type.Literal(st))], { description: 'open = added, partially_filled or updated' })) },
  { ...strict, title: 'OrderHistoryQuery' },
);

const NextCursor = Type.Union([Type.String(), Type.Null()], { description: 'pass as cursor for the next page; null on the last page' });
export const ExecutionRecord = Type.Object(
  {
    id: Type.String({ description: 'execution (match) id; both sides of a match share it' }),
    orderId: Type.String(),
    accountId: Type.Integer(),
    productId: Type.Integer(),
    symbol: Type.String(),
    side: Type.Union([Type.Literal('inflow'), Type.Literal('outflow')]),
    liquidity: Type.Union([Type.Literal('maker'), Type.Literal('taker')], { description: 'maker: the resting order, whose price the match took' }),
    quantity: Type.Integer(),
    price: Type.String({ description: 'decimal string' }),
    time: Type.Integer({ description: 'epoch ms' }),
  },
  { ...strict, title: 'ExecutionRecord' },
);
export const ExecutionPage = Type.Object({ executions: Type.Array(ExecutionRecord), nextCursor: NextCursor }, { ...strict, title: 'ExecutionPage' });
export const OrderRecord = Type.Object(
  {
    id: OrderIdText,
    clientOrderId: Type.Optional(Type.String()),
    accountId: Type.Integer(),
    productId: Type.Integer(),
    symbol: Type.String(),
    brand: Type.String(),
    side: Type.Union([Type.Literal('inflow'), Type.Literal('outflow')]),
    price: Type.String({ description: 'limit price, decimal string' }),
    quantity: Type.Integer({ description: 'total quantity (filled included)' }),
    timeInForce: TimeInForceText,
    creationTime: Type.Integer({ description: 'epoch ms' }),
    updateTime: Type.Integer({ description: 'epoch ms of the latest change' }),
    filledQuantity: Type.Integer(),
    remainingQuantity: Type.Integer(),
    averageFillPrice: Type.Optional(Type.String({ description: 'decimal string, rounded down to the price decimals; absent before the first fill' })),
    status: OrderStatusText,
    reason: Type.Optional(Type.String({ description: 'why the order was removed, expired or rejected' })),
  },
  { ...strict, title: 'OrderRecord' },
);
export const OrderPage = Type.Object({ orders: Type.Array(OrderRecord), nextCursor: NextCursor }, { ...strict, title: 'OrderPage' });
const NoParams = Type.Object({}, strict);

/** The report database's status words → the API's (order-json.ts), and back for the filter. */
const REPORT_STATUS_CODE: Readonly<Record<string, number>> = {
  new: OrderStatus.NEW,
  partially_filled: OrderStatus.PARTIALLY_FILLED,
  filled: OrderStatus.FILLED,
  canceled: OrderStatus.CANCELED,
  replaced: OrderStatus.REPLACED,
  rejected: OrderStatus.REJECTED,
  expired: OrderStatus.EXPIRED,
};
const API_STATUS_TO_REPORT: ReadonlyMap<string, string> = new Map([
  ['open', 'open'],
  ...Object.entries(REPORT_STATUS_CODE).map(([report, code]) => [STATUS_TEXT[code]!, report] as [string, string]),
]);

interface HistoryQueryText {
  symbol?: string;
  orderId?: string;
  startTime?: string;
  endTime?: string;
  accountId?: string;
  cursor?: string;
  limit?: string;
}

/** What the reporter's query functions take, converted from the API's text. */
interface ConvertedQuery {
  viewer: Viewer;
  accountId?: number;
  symbol?: string;
  orderId?: number;
  startTimeUs?: number;
  endTimeUs?: number;
  cursor?: string;
  limit?: number;
}

function unavailable(why: string): ApiFailure {
  return failure(503, 'history_unavailable', `the trading history database is not available yet (${why}); retry in ${RETRY_AFTER_S} s`, RETRY_AFTER_S);
}
const OVERLOADED = failure(503, 'overloaded', 'too many history queries are waiting for the database; retry shortly', 1);

export class TradingHistory {
  private store: ReportStore | null = null;
  private opening: Promise<ReportStore | null> | null = null;
  private lastOpenAttemptMs = Number.NEGATIVE_INFINITY;
  private lastOpenProblem = 'not opened yet';
  private closed = false;
  private inFlight = 0;
  queries = 0;
  failures = 0;

  constructor(
    private readonly s: GatewayServices,
    private readonly options: ReportStoreOptions,
  ) {}

  /** Opens the database now if it is there; a missing one is only logged (requests retry). */
  async start(): Promise<void> {
    await this.ensureOpen(Date.now());
  }

  /** For /health. */
  status(): Record<string, unknown> {
    return { status: this.store === null ? 'unavailable' : 'served', store: this.store?.description ?? null, problem: this.store === null ? this.lastOpenProblem : undefined, queries: this.queries, failures: this.failures, inFlight: this.inFlight };
  }

  async close(): Promise<void> {
    this.closed = true;
    const store = this.store ?? (await this.opening?.catch(() => null)) ?? null;
    this.store = null;
    if (store !== null) await store.close().catch(() => undefined);
  }

  routes(): RouteDeclaration[] {
    return [
      declare({
        method: 'get',
        path: '/v1/execution',
        summary: "Executions (fills): a colleague's own; analysts, admins and risk admins everyone's or one account's (accountId). Oldest first, paginated",
        tag: 'history',
        access: 'authenticated',
        params: NoParams,
        query: ExecutionHistoryQuery,
        body: undefined,
        success: { status: 200, schema: ExecutionPage, description: `one row per side of a match (time, then id, maker first); at most ${MAX_PAGE_SIZE} per page; follow nextCursor` },
        errors: [400, 401, 403, 429, 503],
        handle: (ex, { principal, query }) => this.answer(ex, { accountId: principal!.accountId, role: principal!.role }, query, 'executions', undefined),
      }),
      declare({
        method: 'get',
        path: '/v1/orders',
        summary: "Order history with each order's latest state: a colleague's own; staff everyone's or one account's (accountId). By creation time, paginated",
        tag: 'history',
        access: 'authenticated',
        params: NoParams,
        query: OrderHistoryQuery,
        body: undefined,
        success: { status: 200, schema: OrderPage, description: `at most ${MAX_PAGE_SIZE} per page; follow nextCursor` },
        errors: [400, 401, 403, 429, 503],
        handle: (ex, { principal, query }) => this.answer(ex, { accountId: principal!.accountId, role: principal!.role }, query, 'orders', query.status),
      }),
    ];
  }

  private async answer(ex: HttpExchange, viewer: Viewer, text: HistoryQueryText, what: 'executions' | 'orders', orderStatus: string | undefined): Promise<void> {
    const q = this.convert(viewer, text);
    if (!('viewer' in q)) return ex.fail(q);
    if (this.inFlight >= MAX_QUERIES_IN_FLIGHT) return ex.fail(OVERLOADED);
    this.inFlight++;
    try {
      const store = await this.ensureOpen(Date.now());
      if (store === null) return ex.fail(unavailable(this.lastOpenProblem));
      if (!ex.open) return;
      this.queries++;
      let json: string;
      try {
        if (what === 'executions') {
          const page = await executionsFor(store, q);
          json = JSON.stringify({ executions: page.items.map((e) => this.executionJson(e)), nextCursor: page.nextCursor });
        } else {
          const page = await ordersFor(store, orderStatus === undefined ? q : { ...q, status: API_STATUS_TO_REPORT.get(orderStatus) ?? orderStatus });
          json = JSON.stringify({ orders: page.items.map((o) => this.orderJson(o)), nextCursor: page.nextCursor });
        }
      } catch (err) {
        if (err instanceof ReportQueryError) return ex.fail(failure(err.httpStatus as FailureStatus, err.code, err.detail));
        // The database failed (PostgreSQL restarting, SQLite busy beyond its timeout): not the
        // caller's fault and not a gateway bug; the pool reconnects, so a retry can succeed.
        this.failures++;
        this.s.log.warn({ event: 'history-query-failed', err: (err as Error).message }, 'a trading history query failed');
        return ex.fail(unavailable(`the query failed: ${(err as Error).message.slice(0, 120)}`));
      }
      ex.reply(200, json);
    } finally {
      this.inFlight--;
    }
  }

  /** The API's text fields as the reporter's units (ms → µs), or a 400. */
  private convert(viewer: Viewer, text: HistoryQueryText): ConvertedQuery | ApiFailure {
    const q: ConvertedQuery = { viewer };
    if (text.accountId !== undefined) q.accountId = Number(text.accountId);
    if (text.orderId !== undefined) q.orderId = Number(text.orderId);
    if (text.cursor !== undefined) q.cursor = text.cursor;
    // Out-of-range limits are the reporter's to refuse (limit_out_of_range names the bound);
    // a number past 2^53 would lose digits, so it becomes one that is surely out of range.
    if (text.limit !== undefined) q.limit = Math.min(Number(text.limit), Number.MAX_SAFE_INTEGER);
    if (text.symbol !== undefined) q.symbol = this.s.catalog.bySymbolAnyCase(text.symbol)?.symbol ?? text.symbol;
    for (const [field, value] of [['startTime', text.startTime], ['endTime', text.endTime]] as const) {
      if (value === undefined) continue;
      const ms = Number(value);
      if (ms > MAX_TIME_MS) return failure(400, 'invalid_time_range', `${field} must be at most ${MAX_TIME_MS} (epoch ms), got ${value}`);
      if (field === 'startTime') q.startTimeUs = ms * 1000;
      else q.endTimeUs = ms * 1000;
    }
    if (q.startTimeUs !== undefined && q.endTimeUs !== undefined && q.startTimeUs > q.endTimeUs) {
      return failure(400, 'invalid_time_range', `startTime ${text.startTime} is after endTime ${text.endTime}; startTime is inclusive, endTime exclusive (epoch ms)`);
    }
    return q;
  }

  /** The store, opening it when it is not open and the last attempt is old enough; null when it cannot be. */
  private ensureOpen(nowMs: number): Promise<ReportStore | null> {
    if (this.store !== null) return Promise.resolve(this.store);
    if (this.opening !== null) return this.opening;
    if (this.closed || nowMs - this.lastOpenAttemptMs < OPEN_RETRY_MS) return Promise.resolve(null);
    this.lastOpenAttemptMs = nowMs;
    this.opening = (async () => {
      let store: ReportStore | null = null;
      try {
        store = await openReportStore(this.options);
        // A read-only open does not migrate: the reporter may not have created the tables yet.
        await store.progress();
      } catch (err) {
        if (store !== null) await store.close().catch(() => undefined);
        this.lastOpenProblem = (err as Error).message.slice(0, 200);
        this.s.log.info({ event: 'history-unavailable', problem: this.lastOpenProblem }, 'trading history database not available yet; retrying on the next request');
        return null;
      }
      if (this.closed) {
        await store.close().catch(() => undefined);
        return null;
      }
      this.store = store;
      this.s.log.info({ event: 'history-open', store: store.description }, 'trading history database open (read-only)');
      return store;
    })().finally(() => {
      this.opening = null;
    });
    return this.opening;
  }

  private price(minorUnits: number): string {
    return formatDecimalPrice(minorUnits, this.s.catalog.priceDecimals);
  }

  private executionJson(e: ExecutionView): Record<string, unknown> {
    return {
      id: String(e.execId),
      orderId: String(e.orderId),
      accountId: e.accountId,
      productId: e.productId,
      symbol: e.symbol,
      side: e.side,
      liquidity: e.liquidity,
      quantity: e.quantity,
      price: this.price(e.price),
      time: Math.floor(e.timeUs / 1000),
    };
  }

  private orderJson(o: OrderView): Record<string, unknown> {
    const code = REPORT_STATUS_CODE[o.status];
    const out: Record<string, unknown> = {
      id: String(o.orderId),
      accountId: o.accountId,
      productId: o.productId,
      symbol: o.symbol,
      brand: o.brand,
      side: o.side,
      price: this.price(o.price),
      quantity: o.quantity,
      timeInForce: o.timeInForce,
      creationTime: Math.floor(o.createdTimeUs / 1000),
      updateTime: Math.floor(o.updatedTimeUs / 1000),
      filledQuantity: o.filledQuantity,
      remainingQuantity: o.remainingQuantity,
      status: code === undefined ? o.status : STATUS_TEXT[code],
    };
    if (o.clientOrderId !== '') out['clientOrderId'] = o.clientOrderId;
    if (o.filledQuantity > 0) out['averageFillPrice'] = this.price(Math.floor(o.filledNotional / o.filledQuantity));
    if (o.reason !== null && o.reason !== '') out['reason'] = o.reason;
    return out;
  }
}
