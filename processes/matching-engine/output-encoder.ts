// The engine sink of the engine process: encodes every engine output as its bus/schema.ts message
// body, straight into the pending-outputs ring (no allocation). It adds what the engine cannot know
// from the command being applied (CommandContext: OrderRejected.commandType, and gatewayId /
// requestId on replies to a request); the epoch stays 0 here and is stamped by the publisher.
//
// Replies echo the request: a reject always; an amend always (only AmendOrder amends); a cancel
// only while a CancelOrder is applied, i.e. a user cancel. Cancels the engine decides on its own
// (IOC remainder, FOK, self-trade, delisting) carry 0, as bus/schema.ts says.

import { clearBytes, writeI64, writeU16, writeU32, writeU8 } from '../../bus/codec';
import { BookLevelChanged, EngineCheckpoint, Fill, OrderAccepted, OrderAmended, OrderCanceled, OrderExpired, OrderRejected, TypeId } from '../../bus/schema';
import { assert } from './assert';
import type { EngineSink } from './engine-sink';
import { OUT_DECIDED_FIELD_OFFSET } from './engine-outputs';
import { CommandContext } from './journal-commands';
import type { PendingOutputs } from './pending-outputs';

/**
 * Called when the pending ring has no room for `bodyBytes`: make room (evict, or publish and wait)
 * and return; the encoder then tries once more and fails loudly if there is still none.
 */
export type MakeRoom = (bodyBytes: number) => void;

export class OutputEncoder implements EngineSink {
  readonly command = new CommandContext();
  /** Outputs emitted for the command being applied (its next free outIndex). */
  commandOutputs = 0;
  /** Outputs encoded since start. */
  encoded = 0;
  /**
   * Test-only (--test-corrupt-at-seq): flips one byte of a decided field of the first output at
   * an inSeq >= this (of corruptTypeId when not 0), so a divergence can be provoked in a real
   * process and the real detection code has to find it. 0 = off.
   */
  corruptAtInSeq = 0;
  corruptTypeId = 0;
  private readonly view: DataView;

  constructor(
    private readonly pending: PendingOutputs,
    private readonly makeRoom: MakeRoom,
  ) {
    this.view = pending.view;
  }

  /** Starts a command: its outputs count from outIndex 0. */
  beginCommand(): void {
    this.commandOutputs = 0;
  }

  onAccepted(inSeq: number, outIndex: number, orderId: number, accountId: number, productId: number, side: number, price: number, quantity: number, leavesQuantity: number): void {
    const v = this.view;
    const b = this.begin(OrderAccepted.typeId, OrderAccepted.size, outIndex);
    const o = OrderAccepted.o;
    writeI64(v, b + o.orderId, orderId);
    writeI64(v, b + o.price, price);
    writeI64(v, b + o.quantity, quantity);
    writeI64(v, b + o.leavesQuantity, leavesQuantity);
    writeI64(v, b + o.inSeq, inSeq);
    writeU32(v, b + o.accountId, accountId);
    writeU32(v, b + o.productId, productId);
    writeU32(v, b + o.outIndex, outIndex);
    writeU8(v, b + o.side, side);
    this.end(OrderAccepted.typeId, b, inSeq);
  }

  onRejected(inSeq: number, outIndex: number, orderId: number, accountId: number, productId: number, reason: number): void {
    const v = this.view;
    const b = this.begin(OrderRejected.typeId, OrderRejected.size, outIndex);
    const o = OrderRejected.o;
    // An invalid command may carry ids outside the wire ranges; the reject echoes them clamped to
    // what the message can carry (the requester is identified by gatewayId/requestId anyway).
    writeI64(v, b + o.orderId, Number.isSafeInteger(orderId) ? orderId : 0);
    writeI64(v, b + o.inSeq, inSeq);
    writeU32(v, b + o.accountId, accountId >>> 0 === accountId ? accountId : 0);
    writeU32(v, b + o.productId, productId >>> 0 === productId ? productId : 0);
    writeU32(v, b + o.outIndex, outIndex);
    writeU32(v, b + o.requestId, this.command.requestId);
    writeU16(v, b + o.reason, reason);
    writeU16(v, b + o.commandType, this.command.commandType);
    writeU16(v, b + o.gatewayId, this.command.gatewayId);
    this.end(OrderRejected.typeId, b, inSeq);
  }

  onFill(
    inSeq: number,
    outIndex: number,
    execId: number,
    productId: number,
    price: number,
    quantity: number,
    takerSide: number,
    makerOrderId: number,
    makerAccountId: number,
    makerLeaves: number,
    makerCumQuantity: number,
    takerOrderId: number,
    takerAccountId: number,
    takerLeaves: number,
    takerCumQuantity: number,
  ): void {
    const v = this.view;
    const b = this.begin(Fill.typeId, Fill.size, outIndex);
    const o = Fill.o;
    writeI64(v, b + o.execId, execId);
    writeI64(v, b + o.price, price);
    writeI64(v, b + o.quantity, quantity);
    writeI64(v, b + o.makerOrderId, makerOrderId);
    writeI64(v, b + o.makerLeaves, makerLeaves);
    writeI64(v, b + o.makerCumQuantity, makerCumQuantity);
    writeI64(v, b + o.takerOrderId, takerOrderId);
    writeI64(v, b + o.takerLeaves, takerLeaves);
    writeI64(v, b + o.takerCumQuantity, takerCumQuantity);
    writeI64(v, b + o.inSeq, inSeq);
    writeU32(v, b + o.productId, productId);
    writeU32(v, b + o.makerAccountId, makerAccountId);
    writeU32(v, b + o.takerAccountId, takerAccountId);
    writeU32(v, b + o.outIndex, outIndex);
    writeU8(v, b + o.takerSide, takerSide);
    this.end(Fill.typeId, b, inSeq);
  }

  onCanceled(
    inSeq: number,
    outIndex: number,
    orderId: number,
    accountId: number,
    productId: number,
    side: number,
    price: number,
    canceledQuantity: number,
    leavesQuantity: number,
    reason: number,
  ): void {
    const v = this.view;
    const b = this.begin(OrderCanceled.typeId, OrderCanceled.size, outIndex);
    const o = OrderCanceled.o;
    const isReply = this.command.commandType === TypeId.CancelOrder;
    writeI64(v, b + o.orderId, orderId);
    writeI64(v, b + o.price, price);
    writeI64(v, b + o.canceledQuantity, canceledQuantity);
    writeI64(v, b + o.leavesQuantity, leavesQuantity);
    writeI64(v, b + o.inSeq, inSeq);
    writeU32(v, b + o.accountId, accountId);
    writeU32(v, b + o.productId, productId);
    writeU32(v, b + o.outIndex, outIndex);
    writeU32(v, b + o.requestId, isReply ? this.command.requestId : 0);
    writeU16(v, b + o.gatewayId, isReply ? this.command.gatewayId : 0);
    writeU8(v, b + o.side, side);
    writeU8(v, b + o.reason, reason);
    this.end(OrderCanceled.typeId, b, inSeq);
  }

  onAmended(
    inSeq: number,
    outIndex: number,
    orderId: number,
    accountId: number,
    productId: number,
    side: number,
    oldPrice: number,
    newPrice: number,
    newQuantity: number,
    leavesQuantity: number,
    lostPriority: boolean,
  ): void {
    const v = this.view;
    const b = this.begin(OrderAmended.typeId, OrderAmended.size, outIndex);
    const o = OrderAmended.o;
    writeI64(v, b + o.orderId, orderId);
    writeI64(v, b + o.oldPrice, oldPrice);
    writeI64(v, b + o.newPrice, newPrice);
    writeI64(v, b + o.newQuantity, newQuantity);
    writeI64(v, b + o.leavesQuantity, leavesQuantity);
    writeI64(v, b + o.inSeq, inSeq);
    writeU32(v, b + o.accountId, accountId);
    writeU32(v, b + o.productId, productId);
    writeU32(v, b + o.outIndex, outIndex);
    writeU32(v, b + o.requestId, this.command.requestId);
    writeU16(v, b + o.gatewayId, this.command.gatewayId);
    writeU8(v, b + o.side, side);
    writeU8(v, b + o.lostPriority, lostPriority ? 1 : 0);
    this.end(OrderAmended.typeId, b, inSeq);
  }

  onExpired(inSeq: number, outIndex: number, orderId: number, accountId: number, productId: number, side: number, price: number, expiredQuantity: number): void {
    const v = this.view;
    const b = this.begin(OrderExpired.typeId, OrderExpired.size, outIndex);
    const o = OrderExpired.o;
    writeI64(v, b + o.orderId, orderId);
    writeI64(v, b + o.price, price);
    writeI64(v, b + o.expiredQuantity, expiredQuantity);
    writeI64(v, b + o.inSeq, inSeq);
    writeU32(v, b + o.accountId, accountId);
    writeU32(v, b + o.productId, productId);
    writeU32(v, b + o.outIndex, outIndex);
    writeU8(v, b + o.side, side);
    this.end(OrderExpired.typeId, b, inSeq);
  }

  onBookLevel(inSeq: number, outIndex: number, productId: number, side: number, price: number, quantity: number, orderCount: number): void {
    const v = this.view;
    const b = this.begin(BookLevelChanged.typeId, BookLevelChanged.size, outIndex);
    const o = BookLevelChanged.o;
    writeI64(v, b + o.price, price);
    writeI64(v, b + o.quantity, quantity);
    writeI64(v, b + o.inSeq, inSeq);
    writeU32(v, b + o.productId, productId);
    writeU32(v, b + o.orderCount, orderCount);
    writeU32(v, b + o.outIndex, outIndex);
    writeU8(v, b + o.side, side);
    this.end(BookLevelChanged.typeId, b, inSeq);
  }

  /** An EngineCheckpoint: the state hash right after command inSeq, as that command's last output. */
  appendCheckpoint(inSeq: number, outIndex: number, hashHi: number, hashLo: number, ordersResting: number): void {
    const v = this.view;
    const b = this.begin(EngineCheckpoint.typeId, EngineCheckpoint.size, outIndex);
    const o = EngineCheckpoint.o;
    writeI64(v, b + o.inSeq, inSeq);
    writeU32(v, b + o.stateHashHi, hashHi);
    writeU32(v, b + o.stateHashLo, hashLo);
    writeU32(v, b + o.ordersResting, ordersResting);
    writeU32(v, b + o.outIndex, outIndex);
    this.end(EngineCheckpoint.typeId, b, inSeq);
  }

  private begin(typeId: number, bodyBytes: number, outIndex: number): number {
    assert(outIndex === this.commandOutputs, 'engine outputs of one command must be numbered 0, 1, 2, ... in emission order');
    let body = this.pending.reserve(typeId, bodyBytes);
    if (body < 0) {
      this.makeRoom(bodyBytes);
      body = this.pending.reserve(typeId, bodyBytes);
      assert(body >= 0, 'the pending-outputs ring must have room after makeRoom');
    }
    clearBytes(this.view, body, bodyBytes);
    return body;
  }

  private end(typeId: number, body: number, inSeq: number): void {
    this.commandOutputs++;
    this.encoded++;
    if (this.corruptAtInSeq !== 0 && inSeq >= this.corruptAtInSeq && (this.corruptTypeId === 0 || this.corruptTypeId === typeId)) {
      const at = body + OUT_DECIDED_FIELD_OFFSET[typeId]!;
      this.view.setUint8(at, this.view.getUint8(at) ^ 0x01);
      this.corruptAtInSeq = 0;
    }
  }
}
