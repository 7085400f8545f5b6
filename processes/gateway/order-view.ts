// The orders this gateway has seen execution reports for: where duplicate reports (re-emitted by a
// product manager that restarted and replayed) are dropped, and how PATCH/DELETE learn an order's
// owner, product and state before writing a command (a finished order gets its 409 here, and an
// amend that names one value gets the other filled in).
//
// It is a bounded cache, not the order state: the product manager owns that. An order placed
// through another gateway, or before this gateway restarted, is unknown here until a report for it
// arrives; PATCH/DELETE of it are still forwarded (the product manager checks ownership and fills
// in what the gateway did not know). GET /v1/transact does not read this cache: it asks the product
// manager (order-reads.ts), so it is right after a restart. When MAX_TRACKED_ORDERS is reached, the
// oldest finished orders are forgotten first.

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
    return APPLIED;
  }

  get(orderId: number): TrackedOrder | undefined {
    return this.orders.get(orderId);
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
    this.evictions++;
  }
}
