// A stand-in for the matching-engine PROCESS, for product-manager tests and drills that want an
// engine polled in-process: the real matching Engine library (processes/matching-engine/engine.ts) follows
// the journal with a JournalReader and writes its outputs to a sequencer input ring with sourceId
// ENGINE_A and epoch 1, stamped as the engine wrapper stamps them (inSeq, outIndex, the command's
// gatewayId/requestId echoed, OrderRejected.commandType). It is polled from its caller's loop
// (no thread of its own) and has no standby: it is test equipment, not the engine.

import { clearBytes, writeI64, writeU16, writeU32, writeU8 } from '../../bus/codec';
import { JournalReader } from '../../bus/journal-reader';
import { BACK_PRESSURED, RingFile, RingProducer, type RecordBuffer } from '../../bus/ring';
import {
  BookLevelChanged,
  Fill,
  INPUT_HEADER_BYTES,
  InputHeader,
  OrderAccepted,
  OrderAmended,
  OrderCanceled,
  OrderExpired,
  OrderRejected,
  TypeId,
  type AnyMessage,
} from '../../bus/schema';
import { SourceId } from '../../bus/source-ids';
import { Engine } from '../matching-engine/engine';
import type { EngineSink } from '../matching-engine/engine-sink';
import { applyEngineCommand, CommandContext } from '../matching-engine/journal-commands';

/** Journal entries applied per poll. */
const ENGINE_POLL_BATCH = 256;
/** Poll only while the output ring has this much room: one command's outputs must always fit. */
const OUTPUT_HEADROOM_FRACTION = 0.5;

export class EngineStandIn {
  readonly reader: JournalReader;
  readonly producer: RingProducer;
  readonly engine: Engine;
  readonly epoch: number;
  outputs = 0;
  commands = 0;
  private sourceSeq = 0;
  /** The command being applied: its type and the gatewayId/requestId replies echo. */
  private readonly command = new CommandContext();
  private readonly onEntry: (typeId: number, version: number, buf: RecordBuffer, offset: number, length: number) => void;

  constructor(journalRing: string, outputRing: string, options: { name?: string; epoch?: number } = {}) {
    this.epoch = options.epoch ?? 1;
    this.reader = new JournalReader({ ringPath: journalRing, name: options.name ?? 'engine', fromSeq: 1, gating: false });
    this.producer = new RingProducer(RingFile.open(outputRing));
    this.engine = new Engine(this.sink());
    this.onEntry = (typeId, _version, buf, offset) => this.apply(buf.view, offset, typeId);
  }

  /** Applies up to a batch of journal entries; returns how many. */
  poll(): number {
    const ring = this.producer.ring;
    let minPosition = ring.tail();
    for (const c of ring.consumers()) if (c.state === 1 && ((ring.tail() - c.position) >>> 0) > ((ring.tail() - minPosition) >>> 0)) minPosition = c.position;
    if (((ring.tail() - minPosition) >>> 0) > ring.capacity * OUTPUT_HEADROOM_FRACTION) return 0;
    const n = this.reader.poll(this.onEntry, ENGINE_POLL_BATCH);
    this.producer.commit();
    return n;
  }

  close(): void {
    this.producer.close();
    this.reader.close();
  }

  private apply(view: DataView, offset: number, typeId: number): void {
    // The one mapping from journal entries to engine calls, shared with the engine process.
    if (applyEngineCommand(this.engine, typeId, view, offset, this.command) && (typeId === TypeId.NewOrder || typeId === TypeId.CancelOrder || typeId === TypeId.AmendOrder)) {
      this.commands++;
    }
  }

  /** Claims an output record and writes its input header; returns the body offset in the ring view. */
  private begin(desc: AnyMessage): number {
    const producer = this.producer;
    let at = producer.tryClaim(desc.typeId, desc.version, INPUT_HEADER_BYTES + desc.size);
    if (at === BACK_PRESSURED) {
      producer.commit();
      at = producer.tryClaim(desc.typeId, desc.version, INPUT_HEADER_BYTES + desc.size);
      // poll() keeps half the ring free before every batch, so this is a stand-in bug, not a condition.
      if (at === BACK_PRESSURED) throw new Error(`engine stand-in: output ring ${producer.ring.path} is full`);
    }
    const view = producer.ring.view;
    clearBytes(view, at, INPUT_HEADER_BYTES + desc.size);
    writeI64(view, at + InputHeader.o.sourceSeq, ++this.sourceSeq);
    writeU16(view, at + InputHeader.o.sourceId, SourceId.ENGINE_A);
    writeU32(view, at + InputHeader.o.epoch, this.epoch);
    this.outputs++;
    return at + INPUT_HEADER_BYTES;
  }

  private sink(): EngineSink {
    const v = (): DataView => this.producer.ring.view;
    return {
      onAccepted: (inSeq, outIndex, orderId, accountId, productId, side, price, quantity, leavesQuantity) => {
        const b = this.begin(OrderAccepted);
        const o = OrderAccepted.o;
        writeI64(v(), b + o.orderId, orderId);
        writeI64(v(), b + o.price, price);
        writeI64(v(), b + o.quantity, quantity);
        writeI64(v(), b + o.leavesQuantity, leavesQuantity);
        writeI64(v(), b + o.inSeq, inSeq);
        writeU32(v(), b + o.accountId, accountId);
        writeU32(v(), b + o.productId, productId);
        writeU32(v(), b + o.epoch, this.epoch);
        writeU32(v(), b + o.outIndex, outIndex);
        writeU8(v(), b + o.side, side);
      },
      onRejected: (inSeq, outIndex, orderId, accountId, productId, reason) => {
        const b = this.begin(OrderRejected);
        const o = OrderRejected.o;
        writeI64(v(), b + o.orderId, orderId);
        writeI64(v(), b + o.inSeq, inSeq);
        writeU32(v(), b + o.accountId, accountId);
        writeU32(v(), b + o.productId, productId);
        writeU32(v(), b + o.epoch, this.epoch);
        writeU32(v(), b + o.outIndex, outIndex);
        writeU32(v(), b + o.requestId, this.command.requestId);
        writeU16(v(), b + o.reason, reason);
        writeU16(v(), b + o.commandType, this.command.commandType);
        writeU16(v(), b + o.gatewayId, this.command.gatewayId);
      },
      onFill: (inSeq, outIndex, execId, productId, price, quantity, takerSide, makerOrderId, makerAccountId, makerLeaves, makerCumQuantity, takerOrderId, takerAccountId, takerLeaves, takerCumQuantity) => {
        const b = this.begin(Fill);
        const o = Fill.o;
        writeI64(v(), b + o.execId, execId);
        writeI64(v(), b + o.price, price);
        writeI64(v(), b + o.quantity, quantity);
        writeI64(v(), b + o.makerOrderId, makerOrderId);
        writeI64(v(), b + o.makerLeaves, makerLeaves);
        writeI64(v(), b + o.makerCumQuantity, makerCumQuantity);
        writeI64(v(), b + o.takerOrderId, takerOrderId);
        writeI64(v(), b + o.takerLeaves, takerLeaves);
        writeI64(v(), b + o.takerCumQuantity, takerCumQuantity);
        writeI64(v(), b + o.inSeq, inSeq);
        writeU32(v(), b + o.productId, productId);
        writeU32(v(), b + o.makerAccountId, makerAccountId);
        writeU32(v(), b + o.takerAccountId, takerAccountId);
        writeU32(v(), b + o.epoch, this.epoch);
        writeU32(v(), b + o.outIndex, outIndex);
        writeU8(v(), b + o.takerSide, takerSide);
      },
      onCanceled: (inSeq, outIndex, orderId, accountId, productId, side, price, canceledQuantity, leavesQuantity, reason) => {
        // A user cancel answers its requester; a cancel the engine decided on its own carries no request.
        const isReply = this.command.commandType === TypeId.CancelOrder;
        const b = this.begin(OrderCanceled);
        const o = OrderCanceled.o;
        writeI64(v(), b + o.orderId, orderId);
        writeI64(v(), b + o.price, price);
        writeI64(v(), b + o.canceledQuantity, canceledQuantity);
        writeI64(v(), b + o.leavesQuantity, leavesQuantity);
        writeI64(v(), b + o.inSeq, inSeq);
        writeU32(v(), b + o.accountId, accountId);
        writeU32(v(), b + o.productId, productId);
        writeU32(v(), b + o.epoch, this.epoch);
        writeU32(v(), b + o.outIndex, outIndex);
        writeU32(v(), b + o.requestId, isReply ? this.command.requestId : 0);
        writeU16(v(), b + o.gatewayId, isReply ? this.command.gatewayId : 0);
        writeU8(v(), b + o.side, side);
        writeU8(v(), b + o.reason, reason);
      },
      onAmended: (inSeq, outIndex, orderId, accountId, productId, side, oldPrice, newPrice, newQuantity, leavesQuantity, lostPriority) => {
        const b = this.begin(OrderAmended);
        const o = OrderAmended.o;
        writeI64(v(), b + o.orderId, orderId);
        writeI64(v(), b + o.oldPrice, oldPrice);
        writeI64(v(), b + o.newPrice, newPrice);
        writeI64(v(), b + o.newQuantity, newQuantity);
        writeI64(v(), b + o.leavesQuantity, leavesQuantity);
        writeI64(v(), b + o.inSeq, inSeq);
        writeU32(v(), b + o.accountId, accountId);
        writeU32(v(), b + o.productId, productId);
        writeU32(v(), b + o.epoch, this.epoch);
        writeU32(v(), b + o.outIndex, outIndex);
        writeU32(v(), b + o.requestId, this.command.requestId);
        writeU16(v(), b + o.gatewayId, this.command.gatewayId);
        writeU8(v(), b + o.side, side);
        writeU8(v(), b + o.lostPriority, lostPriority ? 1 : 0);
      },
      onExpired: (inSeq, outIndex, orderId, accountId, productId, side, price, expiredQuantity) => {
        const b = this.begin(OrderExpired);
        const o = OrderExpired.o;
        writeI64(v(), b + o.orderId, orderId);
        writeI64(v(), b + o.price, price);
        writeI64(v(), b + o.expiredQuantity, expiredQuantity);
        writeI64(v(), b + o.inSeq, inSeq);
        writeU32(v(), b + o.accountId, accountId);
        writeU32(v(), b + o.productId, productId);
        writeU32(v(), b + o.epoch, this.epoch);
        writeU32(v(), b + o.outIndex, outIndex);
        writeU8(v(), b + o.side, side);
      },
      onBookLevel: (inSeq, outIndex, productId, side, price, quantity, orderCount) => {
        // Published although the product manager ignores it: outIndex counts it, and a skipped
        // index would look like a lost output to the sequencer.
        const b = this.begin(BookLevelChanged);
        const o = BookLevelChanged.o;
        writeI64(v(), b + o.price, price);
        writeI64(v(), b + o.quantity, quantity);
        writeI64(v(), b + o.inSeq, inSeq);
        writeU32(v(), b + o.productId, productId);
        writeU32(v(), b + o.orderCount, orderCount);
        writeU32(v(), b + o.epoch, this.epoch);
        writeU32(v(), b + o.outIndex, outIndex);
        writeU8(v(), b + o.side, side);
      },
    };
  }
}
