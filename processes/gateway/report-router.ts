// Where each ExecutionReport from the product manager goes.
//
// A report that names a live pending request (requestId, account and order agree) is that
// request's reply — unless it is an intermediate report of the command: a fill of a new order that
// leaves it open (the engine reports fills first, then exactly one of: Accepted (rests), a cancel
// of the IOC/FOK remainder or for self-trade, or nothing more when filled), or a self-trade
// decrement that leaves it open. Intermediate reports are pushed to the account's streams and the
// request keeps waiting for the report that ends the command, so a REST answer carries the
// immediate fills. Should the ending report not come within SETTLE_MS (a report that looked like a
// fill but was not, e.g. the original order's state sent back for a repeated clientOrderId), the
// request is answered with the latest state instead of waiting for the full timeout.
//
// Everything else (fills of resting orders, expiries, a reply whose request timed out or whose
// client went away) goes to every stream of the order's account, unless it is a duplicate
// re-emitted by a product manager that restarted and replayed.

import { CancelReason } from '../../bus/enums';
import { OrderStatus } from '../../bus/schema';
import type { GatewayServices } from './gateway-services';
import { executionEventJson } from './order-json';
import { DUPLICATE } from './order-view';
import { NOT_A_REPLY, type PendingWaiter } from './pending-requests';
import type { ExecutionReportValue } from './pm-link';

/** How long a request whose last report was intermediate waits for the ending report. */
export const SETTLE_MS = 20;

function isFinalStatus(status: number): boolean {
  return status === OrderStatus.FILLED || status === OrderStatus.CANCELED || status === OrderStatus.EXPIRED || status === OrderStatus.REJECTED || status === OrderStatus.REPLACED;
}

export class ReportRouter {
  replies = 0;
  intermediate = 0;
  unsolicited = 0;
  duplicates = 0;
  /** The latest intermediate report of each request still waiting for its ending report. */
  private readonly partial = new Map<number, ExecutionReportValue>();

  constructor(private readonly s: GatewayServices) {}

  readonly handle = (r: ExecutionReportValue): void => {
    const s = this.s;
    const slot = r.requestId !== 0 ? s.pending.slotOf(r) : NOT_A_REPLY;
    const before = s.orders.get(r.orderId);
    const prevExecId = before === undefined ? 0 : before.lastExecId;
    const prevFilled = before === undefined ? 0 : before.filledQuantity;
    const waiter = slot === NOT_A_REPLY ? null : s.pending.waiterAt(slot);
    const applied = s.orders.applyReport(r, waiter?.postOnly);
    if (waiter !== null) {
      const fillEvent = r.execId !== 0 && r.execId !== prevExecId && r.filledQuantity > prevFilled;
      const selfTradeDecrement = r.reason === CancelReason.SELF_TRADE && r.remainingQuantity > 0;
      if (!isFinalStatus(r.status) && (fillEvent || selfTradeDecrement)) {
        this.intermediate++;
        this.partial.set(r.requestId, { ...r });
        s.pending.shortenDeadline(slot, Date.now() + SETTLE_MS);
        s.streams.push(r.accountId, executionEventJson(r, s.catalog, waiter.postOnly));
        return;
      }
      this.replies++;
      this.partial.delete(r.requestId);
      s.pending.complete(slot);
      // A client that went away (aborted HTTP request, closed stream) learns the outcome on its
      // account's other streams, like any other report.
      if (!waiter.gone) {
        waiter.onReply(r);
        return;
      }
    } else if (applied === DUPLICATE) {
      this.duplicates++;
      return;
    }
    this.unsolicited++;
    s.streams.push(r.accountId, executionEventJson(r, s.catalog, s.orders.get(r.orderId)?.postOnly));
  };

  /** A request passed its deadline: answer with its latest intermediate state, or 503. */
  readonly expired = (requestId: number, waiter: PendingWaiter): void => {
    const latest = this.partial.get(requestId);
    if (latest !== undefined) {
      this.partial.delete(requestId);
      waiter.onReply(latest);
      return;
    }
    this.s.pending.noteTimeout(Date.now());
    waiter.onTimeout();
  };
}
