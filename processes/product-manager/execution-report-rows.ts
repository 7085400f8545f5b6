// Execution reports as the product manager produces them: a few preallocated rows, each filled
// with an order's fields at the moment of the event (so an order forgotten by the same journal
// entry still reports correctly), then written as an ExecutionReport body (bus/schema.ts) for the
// gateway that owns the session. No allocation.

import { clearBytes, writeI64, writeU16, writeU32, writeU8 } from '../../bus/codec';
import { ExecutionReport } from '../../bus/schema';
import { CLIENT_ORDER_ID_BYTES, type OrderTable } from './order-table';

export class ExecutionReportRows {
  readonly orderId: Float64Array;
  readonly accountId: Float64Array;
  readonly productId: Float64Array;
  readonly price: Float64Array;
  readonly quantity: Float64Array;
  readonly filled: Float64Array;
  readonly remaining: Float64Array;
  readonly lastPrice: Float64Array;
  readonly lastQuantity: Float64Array;
  readonly execId: Float64Array;
  readonly creationTimeUs: Float64Array;
  readonly eventTimeUs: Float64Array;
  readonly eventSeq: Float64Array;
  readonly requestId: Float64Array;
  readonly gatewayId: Uint16Array;
  readonly reason: Uint16Array;
  readonly side: Uint8Array;
  readonly status: Uint8Array;
  readonly timeInForce: Uint8Array;
  readonly coid: Uint8Array;

  constructor(rows: number) {
    this.orderId = new Float64Array(rows);
    this.accountId = new Float64Array(rows);
    this.productId = new Float64Array(rows);
    this.price = new Float64Array(rows);
    this.quantity = new Float64Array(rows);
    this.filled = new Float64Array(rows);
    this.remaining = new Float64Array(rows);
    this.lastPrice = new Float64Array(rows);
    this.lastQuantity = new Float64Array(rows);
    this.execId = new Float64Array(rows);
    this.creationTimeUs = new Float64Array(rows);
    this.eventTimeUs = new Float64Array(rows);
    this.eventSeq = new Float64Array(rows);
    this.requestId = new Float64Array(rows);
    this.gatewayId = new Uint16Array(rows);
    this.reason = new Uint16Array(rows);
    this.side = new Uint8Array(rows);
    this.status = new Uint8Array(rows);
    this.timeInForce = new Uint8Array(rows);
    this.coid = new Uint8Array(rows * CLIENT_ORDER_ID_BYTES);
  }

  /** Row `row` ← the order in `slot` as it stands, routed to gatewayId / requestId. */
  fillFromOrder(row: number, orders: OrderTable, slot: number, accountId: number, productId: number, gatewayId: number, requestId: number): void {
    this.orderId[row] = orders.orderId[slot];
    this.accountId[row] = accountId;
    this.productId[row] = productId;
    this.price[row] = orders.price[slot];
    this.quantity[row] = orders.quantity[slot];
    this.filled[row] = orders.cum[slot];
    this.remaining[row] = orders.leaves[slot];
    this.lastPrice[row] = orders.lastPrice[slot];
    this.lastQuantity[row] = orders.lastQuantity[slot];
    this.execId[row] = orders.lastExecId[slot];
    this.creationTimeUs[row] = orders.creationTimeUs[slot];
    this.eventTimeUs[row] = orders.lastEventTimeUs[slot];
    this.eventSeq[row] = orders.lastEventSeq[slot];
    this.requestId[row] = requestId;
    this.gatewayId[row] = gatewayId;
    this.reason[row] = orders.lastReason[slot];
    this.side[row] = orders.side[slot];
    this.status[row] = orders.status[slot];
    this.timeInForce[row] = orders.timeInForce[slot];
    const from = slot * CLIENT_ORDER_ID_BYTES;
    const to = row * CLIENT_ORDER_ID_BYTES;
    for (let i = 0; i < CLIENT_ORDER_ID_BYTES; i++) this.coid[to + i] = orders.coid[from + i];
  }

  /** Row `row` ← only what the requester sent and why it failed: nothing of an order that is not theirs. */
  fillBare(
    row: number,
    orderId: number,
    accountId: number,
    productId: number,
    status: number,
    reason: number,
    gatewayId: number,
    requestId: number,
    eventSeq: number,
    eventTimeUs: number,
  ): void {
    this.orderId[row] = orderId;
    this.accountId[row] = accountId;
    this.productId[row] = productId;
    this.price[row] = 0;
    this.quantity[row] = 0;
    this.filled[row] = 0;
    this.remaining[row] = 0;
    this.lastPrice[row] = 0;
    this.lastQuantity[row] = 0;
    this.execId[row] = 0;
    this.creationTimeUs[row] = 0;
    this.eventTimeUs[row] = eventTimeUs;
    this.eventSeq[row] = eventSeq;
    this.requestId[row] = requestId;
    this.gatewayId[row] = gatewayId;
    this.reason[row] = reason;
    this.side[row] = 0;
    this.status[row] = status;
    this.timeInForce[row] = 0;
    this.coid.fill(0, row * CLIENT_ORDER_ID_BYTES, (row + 1) * CLIENT_ORDER_ID_BYTES);
  }

  /** Overrides the event of a row (a rejected cancel or amend: the order as it stands, this reason, now). */
  setEvent(row: number, reason: number, eventSeq: number, eventTimeUs: number): void {
    this.reason[row] = reason;
    this.eventSeq[row] = eventSeq;
    this.eventTimeUs[row] = eventTimeUs;
  }

  /** Writes row `row` as an ExecutionReport body at `offset` (padding zeroed). */
  write(row: number, view: DataView, offset: number): void {
    const o = ExecutionReport.o;
    clearBytes(view, offset, ExecutionReport.size);
    writeI64(view, offset + o.orderId, this.orderId[row]);
    writeI64(view, offset + o.price, this.price[row]);
    writeI64(view, offset + o.quantity, this.quantity[row]);
    writeI64(view, offset + o.filledQuantity, this.filled[row]);
    writeI64(view, offset + o.remainingQuantity, this.remaining[row]);
    writeI64(view, offset + o.lastPrice, this.lastPrice[row]);
    writeI64(view, offset + o.lastQuantity, this.lastQuantity[row]);
    writeI64(view, offset + o.execId, this.execId[row]);
    writeI64(view, offset + o.creationTimeUs, this.creationTimeUs[row]);
    writeI64(view, offset + o.eventTimeUs, this.eventTimeUs[row]);
    writeI64(view, offset + o.eventSeq, this.eventSeq[row]);
    writeU32(view, offset + o.requestId, this.requestId[row]);
    writeU32(view, offset + o.accountId, this.accountId[row]);
    writeU32(view, offset + o.productId, this.productId[row]);
    writeU16(view, offset + o.gatewayId, this.gatewayId[row]);
    writeU16(view, offset + o.reason, this.reason[row]);
    writeU8(view, offset + o.side, this.side[row]);
    writeU8(view, offset + o.status, this.status[row]);
    writeU8(view, offset + o.timeInForce, this.timeInForce[row]);
    const base = row * CLIENT_ORDER_ID_BYTES;
    for (let i = 0; i < CLIENT_ORDER_ID_BYTES; i++) view.setUint8(offset + o.clientOrderId + i, this.coid[base + i]);
  }
}
