// A gateway reduced to its rings, for product-manager tests and drills: it writes commands to
// gw<n>-to-pm exactly as processes/gateway/pm-link.ts does (InputHeader sourceId = gateway id,
// epoch = the ring's producer-attach count, sourceSeq 1, 2, 3 … within the epoch; NewOrder with
// orderId 0; a fresh requestId per command), and reads the bare ExecutionReports the product manager
// writes to pm-to-gw<n> (consumer slot `gateway`). It keeps every report, and for each request the
// first report that answered it, so a test can audit what was acknowledged.

import { allocValue, decodeInto, encode } from '../../bus/codec';
import { TimeInForce } from '../../bus/enums';
import { Meta } from '../../bus/ring-layout';
import { BACK_PRESSURED, RingConsumer, RingFile, RingProducer, type RecordBuffer } from '../../bus/ring';
import {
  AmendOrder,
  CancelOrder,
  ExecutionReport,
  INPUT_HEADER_BYTES,
  InputHeader,
  NewOrder,
  OrderStatus,
  type Layout,
  type MessageDescriptor,
  type ValueOf,
} from '../../bus/schema';
import { gatewayToPmRing, pmToGatewayRing, REPLY_RING_GATEWAY_SLOT } from './pm-paths';

export type Report = ValueOf<typeof ExecutionReport>;

export interface OrderRequest {
  readonly accountId: number;
  readonly productId: number;
  readonly side: number;
  readonly price: number;
  readonly quantity: number;
  readonly timeInForce?: number;
  readonly clientOrderId?: string;
}

export interface SentRequest {
  readonly requestId: number;
  readonly kind: 'new' | 'cancel' | 'amend';
  readonly accountId: number;
  readonly clientOrderId: string;
  readonly orderId: number;
  readonly sentAtMs: number;
  /** The first report carrying this requestId that ends the command (see isAnswer). */
  answer: Report | null;
  answeredAtMs: number;
  /** Every report carrying this requestId. */
  readonly reports: Report[];
}

/** Reports kept per client, at most (a drill runs tens of thousands of orders). */
const MAX_REPORTS_KEPT = 1_000_000;
const POLL_BATCH = 256;

const FINAL_STATUS = new Set<number>([OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED, OrderStatus.REPLACED]);

/**
 * Does `r` end its request? The gateway's rule (processes/gateway/report-router.ts): a fill that
 * leaves a new order open is intermediate (the engine reports Accepted or the IOC remainder next);
 * anything else answers.
 */
export function isAnswer(r: Report, previous: Report | undefined): boolean {
  const fillEvent = r.execId !== 0 && r.execId !== (previous?.execId ?? 0) && r.filledQuantity > (previous?.filledQuantity ?? 0);
  return FINAL_STATUS.has(r.status) || !fillEvent;
}

export class DrillGateway {
  readonly gatewayId: number;
  readonly producer: RingProducer;
  readonly consumer: RingConsumer;
  readonly epoch: number;
  readonly reports: Report[] = [];
  readonly requests = new Map<number, SentRequest>();
  backPressured = 0;
  private sourceSeq = 0;
  private nextRequestId: number;
  private readonly header = allocValue(InputHeader);
  private readonly report = allocValue(ExecutionReport);
  private readonly onRecord = (typeId: number, version: number, buf: RecordBuffer, offset: number, length: number): void => {
    if (typeId !== ExecutionReport.typeId || version !== ExecutionReport.version || length < ExecutionReport.size) return;
    const r = { ...decodeInto(ExecutionReport, buf.view, offset, this.report) };
    if (this.reports.length < MAX_REPORTS_KEPT) this.reports.push(r);
    const request = this.requests.get(r.requestId);
    if (request === undefined) return;
    const previous = request.reports.length === 0 ? undefined : request.reports[request.reports.length - 1];
    request.reports.push(r);
    if (request.answer === null && isAnswer(r, previous)) {
      request.answer = r;
      request.answeredAtMs = Date.now();
    }
  };

  constructor(runDir: string, gatewayId: number, options: { firstRequestId?: number } = {}) {
    this.gatewayId = gatewayId;
    this.producer = new RingProducer(RingFile.open(gatewayToPmRing(runDir, gatewayId)));
    this.epoch = Atomics.load(this.producer.ring.i32, Meta.PRODUCER_ATTACHES >> 2) >>> 0;
    this.consumer = new RingConsumer(RingFile.open(pmToGatewayRing(runDir, gatewayId)), REPLY_RING_GATEWAY_SLOT);
    this.nextRequestId = options.firstRequestId ?? 1;
  }

  /** Writes a NewOrder; returns its request (null when the ring is back-pressured). */
  placeOrder(o: OrderRequest): SentRequest | null {
    const requestId = this.takeRequestId();
    const value: ValueOf<typeof NewOrder> = {
      orderId: 0,
      price: o.price,
      quantity: o.quantity,
      accountId: o.accountId,
      productId: o.productId,
      requestId,
      gatewayId: this.gatewayId,
      side: o.side,
      timeInForce: o.timeInForce ?? TimeInForce.GTC,
      flags: 0,
      clientOrderId: o.clientOrderId ?? '',
    };
    if (this.write(NewOrder, value) === 0) return null;
    return this.track(requestId, 'new', o.accountId, o.clientOrderId ?? '', 0);
  }

  cancel(accountId: number, orderId: number, productId = 0): SentRequest | null {
    const requestId = this.takeRequestId();
    if (this.write(CancelOrder, { orderId, accountId, productId, requestId, gatewayId: this.gatewayId }) === 0) return null;
    return this.track(requestId, 'cancel', accountId, '', orderId);
  }

  amend(accountId: number, orderId: number, newPrice: number, newQuantity: number, productId = 0): SentRequest | null {
    const requestId = this.takeRequestId();
    if (this.write(AmendOrder, { orderId, newPrice, newQuantity, accountId, productId, requestId, gatewayId: this.gatewayId }) === 0) return null;
    return this.track(requestId, 'amend', accountId, '', orderId);
  }

  /** Writes an admin command (no request id); returns its sourceSeq, 0 when back-pressured. */
  sendAdmin<D extends MessageDescriptor>(desc: D, value: ValueOf<D>): number {
    return this.write(desc, value);
  }

  /** Reads the reports waiting on the reply ring; returns how many. */
  poll(): number {
    let total = 0;
    for (;;) {
      const n = this.consumer.poll(this.onRecord, POLL_BATCH);
      total += n;
      if (n < POLL_BATCH) return total;
    }
  }

  /** Requests sent and not answered. */
  unanswered(): SentRequest[] {
    return [...this.requests.values()].filter((r) => r.answer === null);
  }

  close(): void {
    this.producer.close();
    this.consumer.close();
  }

  private takeRequestId(): number {
    const id = this.nextRequestId;
    this.nextRequestId = id === 0xffffffff ? 1 : id + 1;
    return id;
  }

  private track(requestId: number, kind: SentRequest['kind'], accountId: number, clientOrderId: string, orderId: number): SentRequest {
    const r: SentRequest = { requestId, kind, accountId, clientOrderId, orderId, sentAtMs: Date.now(), answer: null, answeredAtMs: 0, reports: [] };
    this.requests.set(requestId, r);
    return r;
  }

  private write<L extends Layout>(desc: L & { typeId: number; version: number }, value: ValueOf<L>): number {
    let at = this.producer.tryClaim(desc.typeId, desc.version, INPUT_HEADER_BYTES + desc.size);
    if (at === BACK_PRESSURED) {
      this.producer.commit();
      at = this.producer.tryClaim(desc.typeId, desc.version, INPUT_HEADER_BYTES + desc.size);
      if (at === BACK_PRESSURED) {
        this.backPressured++;
        return 0;
      }
    }
    const view = this.producer.ring.view;
    const seq = this.sourceSeq + 1;
    const h = this.header;
    h.sourceSeq = seq;
    h.sourceId = this.gatewayId;
    h.flags = 0;
    h.epoch = this.epoch;
    encode(InputHeader, h, view, at);
    encode(desc, value, view, at + INPUT_HEADER_BYTES);
    this.producer.commit();
    this.sourceSeq = seq;
    return seq;
  }
}

