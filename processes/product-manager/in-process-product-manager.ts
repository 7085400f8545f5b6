// A live product manager without rings, for tests and tools: it checks commands, appends the
// accepted ones to an in-memory journal under its own sourceId and epoch (as the sequencer would
// journal them), and follows that journal behind them, so between submit and poll its commands
// are in flight exactly as they are between the real product manager and the sequencer. The
// process wiring does the same over the rings.

import { decode } from '../../bus/codec';
import { TimeInForce } from '../../bus/enums';
import { AmendOrder, CancelOrder, ExecutionReport, InventoryDispatch, NewOrder, Withdraw, type ValueOf } from '../../bus/schema';
import { clientOrderIdField, type EntryHeader, type JournalApplier, type JournalBuilder } from './journal-builder';
import { ProductManagerState, type ProductManagerOptions } from './product-manager-state';

/** Reads a journal behind its writers: applies the entries it has not applied yet, up to a limit. */
export class JournalFollower {
  /** Index of the next entry to apply. */
  cursor = 0;
  reports = 0;

  constructor(
    readonly target: JournalApplier,
    readonly journal: JournalBuilder,
  ) {}

  get behind(): number {
    return this.journal.length - this.cursor;
  }

  poll(max = Number.POSITIVE_INFINITY): number {
    const to = Math.min(this.journal.length, this.cursor + max);
    const done = to - this.cursor;
    this.reports += this.journal.replayInto(this.target, this.cursor, to);
    this.cursor = to;
    return done;
  }
}

export interface OrderOptions {
  readonly timeInForce?: number;
  readonly flags?: number;
  readonly clientOrderId?: string;
  readonly gatewayId?: number;
  readonly requestId?: number;
}

export class InProcessProductManager {
  readonly state: ProductManagerState;
  readonly follower: JournalFollower;
  private sourceSeq = 0;
  private readonly reportBuffer = new DataView(new ArrayBuffer(ExecutionReport.size));

  constructor(
    readonly journal: JournalBuilder,
    options: ProductManagerOptions = {},
  ) {
    this.state = new ProductManagerState({ sourceId: 1, epoch: 1, ...options });
    this.follower = new JournalFollower(this.state, journal);
  }

  private header(): EntryHeader {
    return { sourceId: this.state.sourceId, epoch: this.state.epoch, sourceSeq: ++this.sourceSeq };
  }

  /** 0 and the order journaled (state.lastOrderId), or the check's result. */
  submitNewOrder(accountId: number, productId: number, side: number, price: number, quantity: number, options: OrderOptions = {}): number {
    const timeInForce = options.timeInForce ?? TimeInForce.GTC;
    const flags = options.flags ?? 0;
    const clientOrderId = options.clientOrderId ?? '';
    const gatewayId = options.gatewayId ?? 1;
    const requestId = options.requestId ?? 0;
    const result = this.state.checkNewOrder(accountId, productId, side, price, quantity, timeInForce, flags, gatewayId, requestId, clientOrderIdField(clientOrderId), 0);
    if (result !== 0) return result;
    this.journal.append(
      NewOrder,
      { orderId: this.state.lastOrderId, price, quantity, accountId, productId, requestId, gatewayId, side, timeInForce, flags, clientOrderId },
      this.header(),
    );
    return 0;
  }

  submitCancel(accountId: number, orderId: number, gatewayId = 1, requestId = 0): number {
    const result = this.state.checkCancel(accountId, orderId, gatewayId, requestId);
    if (result !== 0) return result;
    this.journal.append(CancelOrder, { orderId, accountId, productId: this.state.lastProductId, requestId, gatewayId }, this.header());
    return 0;
  }

  submitAmend(accountId: number, orderId: number, newPrice: number, newQuantity: number, gatewayId = 1, requestId = 0): number {
    const result = this.state.checkAmend(accountId, orderId, newPrice, newQuantity, gatewayId, requestId);
    if (result !== 0) return result;
    const { lastAmendPrice, lastAmendQuantity, lastProductId } = this.state;
    this.journal.append(AmendOrder, { orderId, newPrice: lastAmendPrice, newQuantity: lastAmendQuantity, accountId, productId: lastProductId, requestId, gatewayId }, this.header());
    return 0;
  }

  submitWithdraw(accountId: number, amount: number, reference: number): number {
    const result = this.state.checkWithdraw(accountId, amount, reference);
    if (result !== 0) return result;
    this.journal.append(Withdraw, { amount, reference, accountId }, this.header());
    return 0;
  }

  submitDispatch(accountId: number, productId: number, quantity: number, reference: number): number {
    const result = this.state.checkDispatch(accountId, productId, quantity, reference);
    if (result !== 0) return result;
    this.journal.append(InventoryDispatch, { quantity, reference, accountId, productId }, this.header());
    return 0;
  }

  /** Applies journal entries not applied yet. */
  poll(max = Number.POSITIVE_INFINITY): number {
    return this.follower.poll(max);
  }

  /** Applies every entry not applied yet and returns the execution reports they produced, decoded. */
  pollReports(): ValueOf<typeof ExecutionReport>[] {
    const out: ValueOf<typeof ExecutionReport>[] = [];
    const journal = this.journal;
    while (this.follower.cursor < journal.length) {
      const e = journal.entries[this.follower.cursor++];
      const n = this.state.applyJournalEntry(journal.view, e.offset, e.typeId);
      for (let i = 0; i < n; i++) {
        this.state.writeExecutionReport(i, this.reportBuffer, 0);
        out.push(decode(ExecutionReport, this.reportBuffer, 0));
      }
    }
    return out;
  }

}
