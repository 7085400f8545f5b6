// The gateway's two rings to the product manager:
//
//   gateway -> PM   (this process is the one producer)   one record per command:
//     +----------------------+-----------------------------------------------+
//     | InputHeader (16 B)   | body of NewOrder / CancelOrder / AmendOrder,   |
//     | sourceSeq, sourceId= |  or of an admin command (Deposit, Withdraw,    |
//     | gatewayId, flags=0,  |  InventoryReceipt/Dispatch, SetRiskRule,       |
//     | epoch                |  ListProduct, HaltProduct, ResumeProduct)      |
//     +----------------------+-----------------------------------------------+
//     and reads: InputHeader with sourceSeq 0 (a read takes no number from the command sequence;
//     the PM answers it and forwards nothing) + a WalletQuery, OrdersQuery or RiskRulesQuery body.
//   PM -> gateway   (this process is one gating consumer, named `gateway-<id>` by default):
//     bare ExecutionReport bodies (no input header), and the bare answer records of reads
//     (WalletReport, OrderRecord, RiskRuleRecord; several per answer, `more` = 1 on all but the
//     last), see bus/schema.ts.
//
// (epoch, sourceSeq) grows strictly across restarts: the epoch is the ring's producer-attach count
// (bumped by every RingProducer that attaches) and sourceSeq restarts at 1 in each epoch, so the
// product manager can drop a duplicate or spot a gap without this stateless process keeping a file.
//
// Order commands carry orderId 0 in NewOrder (the product manager assigns order ids). AmendOrder
// carries both new values, the unchanged one filled in from this gateway's order view; for an order
// this gateway has not seen, an unchanged value is sent as 0 and CancelOrder/AmendOrder carry
// productId 0 — the product manager, which holds every order, substitutes the current values. Every field is written through bus/codec.ts `encode`,
// which range-checks it: a value that would not fit is a gateway bug and throws.

import { allocValue, decodeInto, encode } from '../../bus/codec';
import { Meta } from '../../bus/ring-layout';
import { BACK_PRESSURED, LAPPED, RingConsumer, RingFile, RingProducer, type RecordBuffer } from '../../bus/ring';
import {
  AmendOrder,
  CancelOrder,
  ExecutionReport,
  INPUT_HEADER_BYTES,
  InputHeader,
  NewOrder,
  OrderRecord,
  OrdersQuery,
  RiskRuleRecord,
  RiskRulesQuery,
  WalletQuery,
  WalletReport,
  type Layout,
  type MessageDescriptor,
  type ValueOf,
} from '../../bus/schema';
import type { AmendCommand, PlaceCommand } from './order-normalization';

export type ExecutionReportValue = ValueOf<typeof ExecutionReport>;
export type ReportHandler = (report: ExecutionReportValue) => void;
export type WalletReportValue = ValueOf<typeof WalletReport>;
export type OrderRecordValue = ValueOf<typeof OrderRecord>;
export type RiskRuleRecordValue = ValueOf<typeof RiskRuleRecord>;
/** One record of a read's answer; `typeId` says which. */
export type AnswerRecordValue = WalletReportValue | OrderRecordValue | RiskRuleRecordValue;
/** Gets each answer record with its type id; the value object is valid only during the call. */
export type AnswerRecordHandler = (typeId: number, record: AnswerRecordValue) => void;
/** The read queries (gateway -> PM) and the answer records (PM -> gateway). */
export type ReadQueryDescriptor = typeof WalletQuery | typeof OrdersQuery | typeof RiskRulesQuery;
const ANSWER_RECORDS: readonly MessageDescriptor[] = [WalletReport, OrderRecord, RiskRuleRecord];
const ANSWER_RECORD_BY_TYPE: readonly (MessageDescriptor | undefined)[] = (() => {
  const table: (MessageDescriptor | undefined)[] = [];
  for (const d of ANSWER_RECORDS) table[d.typeId] = d;
  return table;
})();

/** InputHeader.sourceSeq of a read: not a command, so outside the command numbering. */
export const READ_SOURCE_SEQ = 0;

export interface PmLinkOptions {
  readonly toPmPath: string;
  readonly fromPmPath: string;
  readonly consumerName: string;
  readonly gatewayId: number;
  /**
   * Read the PM->gateway ring without holding the product manager back. Then a gateway that falls
   * more than the ring behind loses reports (counted in stats.lapped; their requests answer 503)
   * instead of stalling the product manager. Default: gating.
   */
  readonly nonGating?: boolean;
}

export interface PmLinkStats {
  commandsWritten: number;
  backPressured: number;
  reportsRead: number;
  /** Records on the PM->gateway ring that are neither ExecutionReports nor answer records of the expected version. */
  foreignRecords: number;
  readsWritten: number;
  answerRecordsRead: number;
  /** ExecutionReports addressed to another gateway id (a PM routing bug): dropped. */
  misrouted: number;
  /** Times a non-gating reader was lapped and skipped ahead. */
  lapped: number;
}

export class PmLink {
  readonly gatewayId: number;
  readonly epoch: number;
  readonly producer: RingProducer;
  readonly consumer: RingConsumer;
  private sourceSeq = 0;
  private readonly header = allocValue(InputHeader);
  private readonly newOrder = allocValue(NewOrder);
  private readonly cancelOrder = allocValue(CancelOrder);
  private readonly amendOrder = allocValue(AmendOrder);
  private readonly report = allocValue(ExecutionReport);
  private handler: ReportHandler | null = null;
  readonly stats: PmLinkStats = { commandsWritten: 0, backPressured: 0, reportsRead: 0, foreignRecords: 0, readsWritten: 0, answerRecordsRead: 0, misrouted: 0, lapped: 0 };
  private readonly walletQuery = allocValue(WalletQuery);
  private readonly ordersQuery = allocValue(OrdersQuery);
  private readonly riskRulesQuery = allocValue(RiskRulesQuery);
  /** One decoded value per answer record type, indexed by type id (reused for every record). */
  private readonly answerValues: (AnswerRecordValue | undefined)[] = [];
  private answerHandler: AnswerRecordHandler | null = null;
  /** Made once: the ring calls it per record, so no closure is created per poll. */
  private readonly onRecord = (typeId: number, version: number, buf: RecordBuffer, offset: number, length: number): void => {
    if (typeId !== ExecutionReport.typeId) {
      this.answerRecordRead(typeId, version, buf, offset, length);
      return;
    }
    if (typeId !== ExecutionReport.typeId || version !== ExecutionReport.version || length < ExecutionReport.size) {
      this.stats.foreignRecords++;
      return;
    }
    const r = decodeInto(ExecutionReport, buf.view, offset, this.report);
    if (r.gatewayId !== this.gatewayId && r.gatewayId !== 0) {
      this.stats.misrouted++;
      return;
    }
    this.stats.reportsRead++;
    this.handler!(r);
  };

  constructor(options: PmLinkOptions) {
    if (!(Number.isInteger(options.gatewayId) && options.gatewayId >= 1 && options.gatewayId <= 0xffff)) {
      throw new RangeError(`gateway id must be an integer in [1, 65535], got ${options.gatewayId}`);
    }
    this.gatewayId = options.gatewayId;
    this.producer = new RingProducer(RingFile.open(options.toPmPath));
    this.epoch = Atomics.load(this.producer.ring.i32, Meta.PRODUCER_ATTACHES >> 2) >>> 0;
    this.consumer = new RingConsumer(RingFile.open(options.fromPmPath), options.consumerName, { gating: options.nonGating !== true });
    for (const d of ANSWER_RECORDS) this.answerValues[d.typeId] = allocValue(d) as AnswerRecordValue;
  }

  /** The sourceSeq of the last command written in this epoch. */
  get lastSourceSeq(): number {
    return this.sourceSeq;
  }

  sendNewOrder(requestId: number, accountId: number, c: PlaceCommand): boolean {
    const v = this.newOrder;
    v.orderId = 0;
    v.price = c.price;
    v.quantity = c.quantity;
    v.accountId = accountId;
    v.productId = c.productId;
    v.requestId = requestId;
    v.gatewayId = this.gatewayId;
    v.side = c.side;
    v.timeInForce = c.timeInForce;
    v.flags = c.flags;
    v.clientOrderId = c.clientOrderId;
    return this.write(NewOrder, v) !== 0;
  }

  sendCancel(requestId: number, accountId: number, orderId: number, productId: number): boolean {
    const v = this.cancelOrder;
    v.orderId = orderId;
    v.accountId = accountId;
    v.productId = productId;
    v.requestId = requestId;
    v.gatewayId = this.gatewayId;
    return this.write(CancelOrder, v) !== 0;
  }

  sendAmend(requestId: number, accountId: number, orderId: number, productId: number, a: AmendCommand): boolean {
    const v = this.amendOrder;
    v.orderId = orderId;
    v.newPrice = a.newPrice;
    v.newQuantity = a.newQuantity;
    v.accountId = accountId;
    v.productId = productId;
    v.requestId = requestId;
    v.gatewayId = this.gatewayId;
    return this.write(AmendOrder, v) !== 0;
  }

  /** Where the answer records of reads go (records arriving before this is set are counted as misrouted). */
  onAnswerRecord(handler: AnswerRecordHandler): void {
    this.answerHandler = handler;
  }

  /** Writes a wallet read for `accountId`; false when the ring is back-pressured. */
  sendWalletQuery(requestId: number, accountId: number): boolean {
    const v = this.walletQuery;
    v.accountId = accountId;
    v.requestId = requestId;
    v.gatewayId = this.gatewayId;
    return this.writeRead(WalletQuery, v);
  }

  /** Writes an order read (OrdersScope; orderId for ONE, else 0); false when the ring is back-pressured. */
  sendOrdersQuery(requestId: number, accountId: number, scope: number, orderId: number, maxOrders: number): boolean {
    const v = this.ordersQuery;
    v.orderId = orderId;
    v.accountId = accountId;
    v.requestId = requestId;
    v.maxOrders = maxOrders;
    v.gatewayId = this.gatewayId;
    v.scope = scope;
    return this.writeRead(OrdersQuery, v);
  }

  /** Writes a risk-rules read (forAccountId 0: every rule); false when the ring is back-pressured. */
  sendRiskRulesQuery(requestId: number, accountId: number, forAccountId: number): boolean {
    const v = this.riskRulesQuery;
    v.accountId = accountId;
    v.requestId = requestId;
    v.forAccountId = forAccountId;
    v.gatewayId = this.gatewayId;
    return this.writeRead(RiskRulesQuery, v);
  }

  /** Writes a read: InputHeader with sourceSeq 0 (outside the command numbering) + the query body. */
  private writeRead<D extends ReadQueryDescriptor>(desc: D, value: ValueOf<D>): boolean {
    const at = this.producer.tryClaim(desc.typeId, desc.version, INPUT_HEADER_BYTES + desc.size);
    if (at === BACK_PRESSURED) {
      this.stats.backPressured++;
      return false;
    }
    const view = this.producer.ring.view;
    const h = this.header;
    h.sourceSeq = READ_SOURCE_SEQ;
    h.sourceId = this.gatewayId;
    h.flags = 0;
    h.epoch = this.epoch;
    try {
      encode(InputHeader, h, view, at);
      encode(desc as Layout, value as ValueOf<Layout>, view, at + INPUT_HEADER_BYTES);
    } catch (e) {
      this.producer.abort();
      throw e;
    }
    this.producer.commit();
    this.stats.readsWritten++;
    return true;
  }

  /** Writes an admin command; returns its sourceSeq, or 0 when the ring is back-pressured. */
  sendAdmin<D extends MessageDescriptor>(desc: D, value: ValueOf<D>): number {
    return this.write(desc, value);
  }

  /** Hands up to `limit` execution reports to `handler`; returns the records consumed. */
  poll(handler: ReportHandler, limit: number): number {
    this.handler = handler;
    const n = this.consumer.poll(this.onRecord, limit);
    if (n !== LAPPED) return n;
    this.stats.lapped++;
    return 0;
  }

  private answerRecordRead(typeId: number, version: number, buf: RecordBuffer, offset: number, length: number): void {
    const target = typeId < this.answerValues.length ? this.answerValues[typeId] : undefined;
    const desc = target === undefined ? undefined : ANSWER_RECORD_BY_TYPE[typeId];
    if (desc === undefined || version !== desc.version || length < desc.size) {
      this.stats.foreignRecords++;
      return;
    }
    const r = decodeInto(desc as Layout, buf.view, offset, target as ValueOf<Layout>) as unknown as AnswerRecordValue;
    if (r.gatewayId !== this.gatewayId || this.answerHandler === null) {
      this.stats.misrouted++;
      return;
    }
    this.stats.answerRecordsRead++;
    this.answerHandler(typeId, r);
  }

  close(): void {
    this.producer.close();
    this.consumer.close();
  }

  private write<L extends Layout>(desc: L & { typeId: number; version: number }, value: ValueOf<L>): number {
    const at = this.producer.tryClaim(desc.typeId, desc.version, INPUT_HEADER_BYTES + desc.size);
    if (at === BACK_PRESSURED) {
      this.stats.backPressured++;
      return 0;
    }
    const view = this.producer.ring.view;
    const seq = this.sourceSeq + 1;
    const h = this.header;
    h.sourceSeq = seq;
    h.sourceId = this.gatewayId;
    h.flags = 0;
    h.epoch = this.epoch;
    try {
      encode(InputHeader, h, view, at);
      encode(desc, value, view, at + INPUT_HEADER_BYTES);
    } catch (e) {
      // Normalization guarantees every field fits; reaching here is a gateway bug. Nothing half
      // written is published.
      this.producer.abort();
      throw e;
    }
    this.producer.commit();
    this.sourceSeq = seq;
    this.stats.commandsWritten++;
    return seq;
  }
}
