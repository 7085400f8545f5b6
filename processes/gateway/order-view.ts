// The orders this gateway has seen execution reports for: what GET /v1/transact answers from,
// how PATCH/DELETE learn an order's owner and product before writing a command, and where
// duplicate reports (re-emitted by a product manager that restarted and replayed) are dropped.
//
// It is a bounded cache, not the order state: the product manager owns that. An order placed
// through another gateway, or before this gateway restarted, is unknown here until a report for it
// arrives; GET then answers 404 and PATCH/DELETE are still forwarded (the product manager checks
// ownership). When MAX_TRACKED_ORDERS is reached, the oldest finished orders are forgotten first.

import { OrderStatus } from '../../bus/schema';
import { MAX_TRACKED_ORDERS } from './gateway-limits';
import type { ExecutionReportValue } from './pm-link';

export interface TrackedOrder {
  readonly orderId: number;
  readonly accountId: number;
  productId: number;
  side: number;
  price: number;
  quantity: number;
  filledQuantity: number;
  remainingQuantity: number;
  status: number;
  timeInForce: number;
  /** Known only when the order was placed through this gateway (reports do not carry flags). */
  postOnly: boolean | undefined;
  clientOrderId: string;
  creationTimeUs: number;
  lastPrice: number;
  lastQuantity: number;
  /** execId of the latest fill (0 before the first): tells a fill report from other reports. */
  lastExecId: number;
  reason: number;
  lastEventSeq: number;
}

/** How far `applyReport` scans from the oldest entry for a finished order to evict. */
const EVICTION_SCAN = 64;

export function isOpenStatus(status: number): boolean {
  return status === OrderStatus.NEW || status === OrderStatus.PARTIALLY_FILLED || status === OrderStatus.REPLACED;
}

export const APPLIED = 1;
export const DUPLICATE = 2;
export const NOT_AN_ORDER = 3;

export class OrderView {
  private readonly orders = new Map<number, TrackedOrder>();
  private readonly openByAccount = new Map<number, Set<number>>();
  evictions = 0;
  duplicates = 0;

  constructor(private readonly maxOrders = MAX_TRACKED_ORDERS) {}

  get size(): number {
    return this.orders.size;
  }

  /**
   * Folds a report into the view. Returns DUPLICATE for a report already applied (same order,
   * eventSeq not newer), NOT_AN_ORDER for a rejection that created no order (orderId 0).
   */
  applyReport(r: ExecutionReportValue, postOnly?: boolean): number {
    if (r.orderId <= 0) return NOT_AN_ORDER;
    let o = this.orders.get(r.orderId);
    if (o !== undefined && r.eventSeq !== 0 && r.eventSeq <= o.lastEventSeq) {
      this.duplicates++;
      return DUPLICATE;
    }
    if (o === undefined) {
      if (r.status === OrderStatus.REJECTED) return NOT_AN_ORDER;
      if (this.orders.size >= this.maxOrders) this.evictOne();
      o = {
        orderId: r.orderId,
        accountId: r.accountId,
        productId: r.productId,
        side: r.side,
        price: r.price,
        quantity: r.quantity,
        filledQuantity: r.filledQuantity,
        remainingQuantity: r.remainingQuantity,
        status: r.status,
        timeInForce: r.timeInForce,
        postOnly,
        clientOrderId: r.clientOrderId,
        creationTimeUs: r.creationTimeUs,
        lastPrice: r.lastPrice,
        lastQuantity: r.lastQuantity,
        lastExecId: r.execId,
        reason: r.reason,
        lastEventSeq: r.eventSeq,
      };
      this.orders.set(o.orderId, o);
    } else {
      // A rejected amend or cancel leaves the order as it was; only its latest event moves.
      if (r.status !== OrderStatus.REJECTED) {
        if (r.productId !== 0) o.productId = r.productId;
        o.price = r.price;
        o.quantity = r.quantity;
        o.filledQuantity = r.filledQuantity;
        o.remainingQuantity = r.remainingQuantity;
        o.status = r.status;
        o.reason = r.reason;
        if (r.lastQuantity > 0) {
          o.lastPrice = r.lastPrice;
          o.lastQuantity = r.lastQuantity;
        }
        if (r.execId !== 0) o.lastExecId = r.execId;
      }
      if (r.eventSeq > o.lastEventSeq) o.lastEventSeq = r.eventSeq;
      if (postOnly !== undefined) o.postOnly = postOnly;
    }
    this.indexOpen(o);
    return APPLIED;
  }

  get(orderId: number): TrackedOrder | undefined {
    return this.orders.get(orderId);
  }

  /** The open orders of an account (at most `limit`), oldest first, and whether more exist. */
  openOrders(accountId: number, limit: number): { orders: TrackedOrder[]; truncated: boolean } {
    const ids = this.openByAccount.get(accountId);
    const out: TrackedOrder[] = [];
    if (ids === undefined) return { orders: out, truncated: false };
    for (const id of ids) {
      if (out.length >= limit) return { orders: out, truncated: true };
      out.push(this.orders.get(id)!);
    }
    return { orders: out, truncated: false };
  }

  /** Every remembered order of an account (open and finished), at most `limit`. */
  allOrders(accountId: number, limit: number): { orders: TrackedOrder[]; truncated: boolean } {
    const out: TrackedOrder[] = [];
    for (const o of this.orders.values()) {
      if (o.accountId !== accountId) continue;
      if (out.length >= limit) return { orders: out, truncated: true };
      out.push(o);
    }
    return { orders: out, truncated: false };
  }

  private indexOpen(o: TrackedOrder): void {
    let ids = this.openByAccount.get(o.accountId);
    if (isOpenStatus(o.status) && o.remainingQuantity > 0) {
      if (ids === undefined) {
        ids = new Set();
        this.openByAccount.set(o.accountId, ids);
      }
      ids.add(o.orderId);
    } else if (ids !== undefined) {
      ids.delete(o.orderId);
      if (ids.size === 0) this.openByAccount.delete(o.accountId);
    }
  }

  private evictOne(): void {
    let victim: TrackedOrder | undefined;
    let scanned = 0;
    for (const o of this.orders.values()) {
      if (victim === undefined) victim = o;
      if (!isOpenStatus(o.status) || o.remainingQuantity === 0) {
        victim = o;
        break;
      }
      if (++scanned >= EVICTION_SCAN) break;
    }
    if (victim === undefined) return;
    this.orders.delete(victim.orderId);
    const ids = this.openByAccount.get(victim.accountId);
    if (ids !== undefined) {
      ids.delete(victim.orderId);
      if (ids.size === 0) this.openByAccount.delete(victim.accountId);
    }
    this.evictions++;
  }
}
