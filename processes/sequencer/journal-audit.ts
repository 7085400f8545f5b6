// The determinism audit of `ims journal verify`: replays the journal's engine commands through a
// fresh matching engine and checks that what it emits equals the engine outputs recorded in the
// journal (field by field, for the fields the engine decides), and that its state hash equals
// every recorded EngineCheckpoint.
//
// Fields the engine process fills in from the command rather than deciding (epoch, gatewayId,
// requestId, OrderRejected.commandType) are not compared. Outputs recorded for commands beyond the
// last output in the journal are "pending" (the engine had not published them yet), not missing.

import { Engine } from '../matching-engine/engine';
import type { EngineSink } from '../matching-engine/engine-sink';
import { stateHashHex } from '../matching-engine/state-encoding';
import { applyEngineCommand, isEngineCommand } from '../matching-engine/journal-commands';
import { getI64 } from '../../bus/journal-format';
import { decode } from '../../bus/codec';
import {
  BookLevelChanged,
  EngineCheckpoint,
  Fill,
  JOURNAL_HEADER_BYTES,
  JournalHeader,
  messageByTypeId,
  OrderAccepted,
  OrderAmended,
  OrderCanceled,
  OrderExpired,
  OrderRejected,
} from '../../bus/schema';
import { isEngineOutput } from './exactly-once';

// The journal-entry -> Engine-call mapping lives with the engine process, so the live engine and
// this audit read every command the same way; re-exported for the tools and tests that import it here.
export { applyEngineCommand, isEngineCommand };

/** Most mismatches listed in a report (the count is always exact). */
export const MAX_MISMATCHES_LISTED = 20;

/** Fields of each output message the engine decides (the ones compared). */
const COMPARED_FIELDS: Readonly<Record<number, readonly string[]>> = {
  [OrderAccepted.typeId]: ['orderId', 'accountId', 'productId', 'side', 'price', 'quantity', 'leavesQuantity'],
  [OrderRejected.typeId]: ['orderId', 'accountId', 'productId', 'reason'],
  [Fill.typeId]: ['execId', 'productId', 'price', 'quantity', 'takerSide', 'makerOrderId', 'makerAccountId', 'makerLeaves', 'makerCumQuantity', 'takerOrderId', 'takerAccountId', 'takerLeaves', 'takerCumQuantity'],
  [OrderCanceled.typeId]: ['orderId', 'accountId', 'productId', 'side', 'price', 'canceledQuantity', 'reason'],
  [OrderAmended.typeId]: ['orderId', 'accountId', 'productId', 'side', 'oldPrice', 'newPrice', 'newQuantity', 'leavesQuantity', 'lostPriority'],
  [OrderExpired.typeId]: ['orderId', 'accountId', 'productId', 'side', 'price', 'expiredQuantity'],
  [BookLevelChanged.typeId]: ['productId', 'side', 'price', 'quantity', 'orderCount'],
};

interface ExpectedOutput {
  typeId: number;
  inSeq: number;
  outIndex: number;
  fields: Record<string, number>;
}

/** Records what the engine emits, keyed by (inSeq, outIndex). */
class RecordingSink implements EngineSink {
  readonly pending = new Map<string, ExpectedOutput>();
  emitted = 0;
  private put(typeId: number, inSeq: number, outIndex: number, fields: Record<string, number>): void {
    this.pending.set(`${inSeq}/${outIndex}`, { typeId, inSeq, outIndex, fields });
    this.emitted++;
  }
  onAccepted(inSeq: number, outIndex: number, orderId: number, accountId: number, productId: number, side: number, price: number, quantity: number, leavesQuantity: number): void {
    this.put(OrderAccepted.typeId, inSeq, outIndex, { orderId, accountId, productId, side, price, quantity, leavesQuantity });
  }
  onRejected(inSeq: number, outIndex: number, orderId: number, accountId: number, productId: number, reason: number): void {
    this.put(OrderRejected.typeId, inSeq, outIndex, { orderId, accountId, productId, reason });
  }
  onFill(inSeq: number, outIndex: number, execId: number, productId: number, price: number, quantity: number, takerSide: number, makerOrderId: number, makerAccountId: number, makerLeaves: number, makerCumQuantity: number, takerOrderId: number, takerAccountId: number, takerLeaves: number, takerCumQuantity: number): void {
    this.put(Fill.typeId, inSeq, outIndex, { execId, productId, price, quantity, takerSide, makerOrderId, makerAccountId, makerLeaves, makerCumQuantity, takerOrderId, takerAccountId, takerLeaves, takerCumQuantity });
  }
  onCanceled(inSeq: number, outIndex: number, orderId: number, accountId: number, productId: number, side: number, price: number, canceledQuantity: number, _leavesQuantity: number, reason: number): void {
    this.put(OrderCanceled.typeId, inSeq, outIndex, { orderId, accountId, productId, side, price, canceledQuantity, reason });
  }
  onAmended(inSeq: number, outIndex: number, orderId: number, accountId: number, productId: number, side: number, oldPrice: number, newPrice: number, newQuantity: number, leavesQuantity: number, lostPriority: boolean): void {
    this.put(OrderAmended.typeId, inSeq, outIndex, { orderId, accountId, productId, side, oldPrice, newPrice, newQuantity, leavesQuantity, lostPriority: lostPriority ? 1 : 0 });
  }
  onExpired(inSeq: number, outIndex: number, orderId: number, accountId: number, productId: number, side: number, price: number, expiredQuantity: number): void {
    this.put(OrderExpired.typeId, inSeq, outIndex, { orderId, accountId, productId, side, price, expiredQuantity });
  }
  onBookLevel(inSeq: number, outIndex: number, productId: number, side: number, price: number, quantity: number, orderCount: number): void {
    this.put(BookLevelChanged.typeId, inSeq, outIndex, { productId, side, price, quantity, orderCount });
  }
}

export interface DeterminismReport {
  ran: boolean;
  commandsApplied: number;
  outputsEmitted: number;
  outputsCompared: number;
  checkpointsCompared: number;
  /** Emitted outputs of commands after the last recorded output (not yet published by the engine). */
  pendingOutputs: number;
  mismatchCount: number;
  mismatches: string[];
}

/**
 * Feed every journal entry (in seq order) to `entry`, then call `finish`. The checkpoint inSeqs
 * must be known up front (a first pass collects them) so the hash is taken right after that command.
 */
export class DeterminismAudit {
  private readonly sink = new RecordingSink();
  private readonly engine = new Engine(this.sink);
  private readonly hashes = new Map<number, string>();
  readonly report: DeterminismReport = { ran: true, commandsApplied: 0, outputsEmitted: 0, outputsCompared: 0, checkpointsCompared: 0, pendingOutputs: 0, mismatchCount: 0, mismatches: [] };
  private lastRecordedInSeq = 0;

  constructor(private readonly checkpointInSeqs: ReadonlySet<number>) {}

  entry(typeId: number, view: DataView, offset: number): void {
    const seq = getI64(view, offset + JournalHeader.o.seq);
    const body = offset + JOURNAL_HEADER_BYTES;
    const u32 = (o: number): number => view.getUint32(body + o, true);
    const i64 = (o: number): number => getI64(view, body + o);
    const applied = applyEngineCommand(this.engine, typeId, view, offset);
    if (applied) {
      this.report.commandsApplied++;
      if (this.checkpointInSeqs.has(seq)) this.hashes.set(seq, stateHashHex(this.engine.stateHash()));
      return;
    }
    if (typeId === EngineCheckpoint.typeId) {
      const inSeq = i64(EngineCheckpoint.o.inSeq);
      const recorded = stateHashHex({ hi: u32(EngineCheckpoint.o.stateHashHi), lo: u32(EngineCheckpoint.o.stateHashLo) });
      const replayed = this.hashes.get(inSeq);
      this.report.checkpointsCompared++;
      if (replayed !== recorded) this.mismatch(`seq ${seq}: EngineCheckpoint at inSeq ${inSeq} records state hash ${recorded}, the replay has ${replayed ?? '(no command at that inSeq)'}`);
      this.hashes.delete(inSeq);
      return;
    }
    if (!isEngineOutput(typeId)) return;
    const desc = messageByTypeId(typeId)!;
    const recorded = decode(desc, view, body) as Record<string, number>;
    const key = `${recorded['inSeq']}/${recorded['outIndex']}`;
    const expected = this.sink.pending.get(key);
    this.lastRecordedInSeq = Math.max(this.lastRecordedInSeq, recorded['inSeq']!);
    this.report.outputsCompared++;
    if (expected === undefined) {
      this.mismatch(`seq ${seq}: ${desc.name} (inSeq ${key.replace('/', ', outIndex ')}) is recorded, the replay emitted nothing there`);
      return;
    }
    this.sink.pending.delete(key);
    if (expected.typeId !== typeId) {
      this.mismatch(`seq ${seq}: at (inSeq ${expected.inSeq}, outIndex ${expected.outIndex}) the journal records ${desc.name}, the replay emitted ${messageByTypeId(expected.typeId)!.name}`);
      return;
    }
    for (const field of COMPARED_FIELDS[typeId] ?? []) {
      if (recorded[field] !== expected.fields[field]) {
        this.mismatch(`seq ${seq}: ${desc.name} (inSeq ${expected.inSeq}, outIndex ${expected.outIndex}) ${field} is ${recorded[field]} in the journal, ${expected.fields[field]} in the replay`);
        return;
      }
    }
  }

  finish(): DeterminismReport {
    this.report.outputsEmitted = this.sink.emitted;
    for (const out of this.sink.pending.values()) {
      if (out.inSeq > this.lastRecordedInSeq) {
        this.report.pendingOutputs++;
        continue;
      }
      this.mismatch(`(inSeq ${out.inSeq}, outIndex ${out.outIndex}): the replay emitted ${messageByTypeId(out.typeId)!.name}, the journal has no such output`);
    }
    return this.report;
  }

  private mismatch(text: string): void {
    this.report.mismatchCount++;
    if (this.report.mismatches.length < MAX_MISMATCHES_LISTED) this.report.mismatches.push(text);
  }
}
