// The one mapping from journal entries to Engine calls. The engine process applies the journal
// with it, and `ims journal verify` (processes/sequencer/journal-audit.ts) replays with it, so the
// live engine and every audit of it can never read a command differently.
//
// Hot path: no closures, no allocation; offsets come from bus/schema.ts. `offset` is where the
// journal entry's payload starts (the JournalHeader: seq at +0, timestampUs at +8), the body
// follows at +JOURNAL_HEADER_BYTES.

import { readI64, readU16, readU32, readU8 } from '../../bus/codec';
import {
  AmendOrder,
  CancelOrder,
  DelistProduct,
  HaltProduct,
  JOURNAL_HEADER_BYTES,
  JournalHeader,
  ListProduct,
  NewOrder,
  ResumeProduct,
  TradingDayClose,
  TypeId,
} from '../../bus/schema';
import type { Engine } from './engine';

const ENGINE_COMMAND = new Uint8Array(0x10000);
for (const typeId of [
  TypeId.NewOrder,
  TypeId.CancelOrder,
  TypeId.AmendOrder,
  TypeId.ListProduct,
  TypeId.HaltProduct,
  TypeId.ResumeProduct,
  TypeId.DelistProduct,
  TypeId.TradingDayClose,
]) {
  ENGINE_COMMAND[typeId] = 1;
}

/** Journal entries the matching engine applies (its state is a function of these alone). */
export function isEngineCommand(typeId: number): boolean {
  return ENGINE_COMMAND[typeId] === 1;
}

/**
 * The fields of the command being applied that the engine wrapper copies into the outputs: the
 * engine itself never sees them (bus/schema.ts: replies echo gatewayId/requestId, OrderRejected
 * carries the command's type id). Filled in by applyEngineCommand before the engine runs.
 */
export class CommandContext {
  commandType = 0;
  gatewayId = 0;
  requestId = 0;
}

const SEQ = JournalHeader.o.seq;
const TIMESTAMP_US = JournalHeader.o.timestampUs;

/**
 * Applies one journal entry to `engine` when it is an engine command and returns true; returns
 * false (and changes nothing) for every other entry. `context`, when given, receives the reply
 * fields of the command before the engine emits anything.
 */
export function applyEngineCommand(engine: Engine, typeId: number, view: DataView, offset: number, context?: CommandContext): boolean {
  if (ENGINE_COMMAND[typeId] !== 1) return false;
  const seq = readI64(view, offset + SEQ);
  const ts = readI64(view, offset + TIMESTAMP_US);
  const b = offset + JOURNAL_HEADER_BYTES;
  if (context !== undefined) {
    context.commandType = typeId;
    context.gatewayId = 0;
    context.requestId = 0;
  }
  switch (typeId) {
    case TypeId.NewOrder:
      if (context !== undefined) {
        context.gatewayId = readU16(view, b + NewOrder.o.gatewayId);
        context.requestId = readU32(view, b + NewOrder.o.requestId);
      }
      engine.newOrder(
        seq,
        ts,
        readI64(view, b + NewOrder.o.orderId),
        readU32(view, b + NewOrder.o.accountId),
        readU32(view, b + NewOrder.o.productId),
        readU8(view, b + NewOrder.o.side),
        readI64(view, b + NewOrder.o.price),
        readI64(view, b + NewOrder.o.quantity),
        readU8(view, b + NewOrder.o.timeInForce),
        readU8(view, b + NewOrder.o.flags),
      );
      return true;
    case TypeId.CancelOrder:
      if (context !== undefined) {
        context.gatewayId = readU16(view, b + CancelOrder.o.gatewayId);
        context.requestId = readU32(view, b + CancelOrder.o.requestId);
      }
      engine.cancel(seq, ts, readI64(view, b + CancelOrder.o.orderId), readU32(view, b + CancelOrder.o.accountId));
      return true;
    case TypeId.AmendOrder:
      if (context !== undefined) {
        context.gatewayId = readU16(view, b + AmendOrder.o.gatewayId);
        context.requestId = readU32(view, b + AmendOrder.o.requestId);
      }
      engine.amend(seq, ts, readI64(view, b + AmendOrder.o.orderId), readU32(view, b + AmendOrder.o.accountId), readI64(view, b + AmendOrder.o.newPrice), readI64(view, b + AmendOrder.o.newQuantity));
      return true;
    case TypeId.ListProduct:
      engine.listProduct(seq, ts, readU32(view, b + ListProduct.o.productId), readI64(view, b + ListProduct.o.tickSize), readI64(view, b + ListProduct.o.lotSize), readU8(view, b + ListProduct.o.selfTradePolicy));
      return true;
    case TypeId.HaltProduct:
      engine.haltProduct(seq, ts, readU32(view, b + HaltProduct.o.productId));
      return true;
    case TypeId.ResumeProduct:
      engine.resumeProduct(seq, ts, readU32(view, b + ResumeProduct.o.productId));
      return true;
    case TypeId.DelistProduct:
      engine.delistProduct(seq, ts, readU32(view, b + DelistProduct.o.productId));
      return true;
    case TypeId.TradingDayClose:
      engine.closeTradingDay(seq, ts, readU32(view, b + TradingDayClose.o.tradingDay));
      return true;
    default:
      return false;
  }
}
