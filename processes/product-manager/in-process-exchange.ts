// The sequencer and the matching engine of a test or a replay tool, in one process and without
// rings: commands are appended to an in-memory journal (JournalBuilder); the real matching Engine
// consumes the journal's commands in order when told to (runEngine), and its outputs are appended
// to the journal later (flushOutputs), stamped as the engine wrapper stamps them (epoch, the
// command's gatewayId/requestId echoed, OrderRejected.commandType). Keeping the three steps apart
// lets a test interleave them as the real processes would: commands journaled before the outputs
// of earlier commands, a product manager reading the journal behind both.

import { Engine, type EngineOptions } from '../matching-engine/engine';
import type { EngineSink } from '../matching-engine/engine-sink';
import { applyEngineCommand, CommandContext } from '../matching-engine/journal-commands';
import {
  Fill,
  OrderAccepted,
  OrderAmended,
  OrderCanceled,
  OrderExpired,
  OrderRejected,
  TypeId,
  type AnyMessage,
  type ValueOf,
} from '../../bus/schema';
import { JournalBuilder, type EntryHeader, type JournalEntryRef } from './journal-builder';

/** InputHeader.sourceId the in-process engine's outputs carry. */
export const IN_PROCESS_ENGINE_SOURCE_ID = 900;

interface PendingOutput {
  readonly desc: AnyMessage;
  readonly value: Record<string, number | string>;
}

export class InProcessExchange {
  readonly journal: JournalBuilder;
  readonly engine: Engine;
  engineEpoch = 1;
  /** Index of the next journal entry the engine has not looked at. */
  private engineCursor = 0;
  private readonly outputs: PendingOutput[] = [];
  private outputsHead = 0;
  // The command being applied, for the fields the engine wrapper adds to its outputs.
  /** The command being applied: its type and the gatewayId/requestId replies echo. */
  private readonly command = new CommandContext();

  constructor(options: EngineOptions = {}, journal = new JournalBuilder()) {
    this.journal = journal;
    this.engine = new Engine(this.makeSink(), options);
  }

  /** Appends a command (or any entry) to the journal. */
  append<M extends AnyMessage>(desc: M, value: ValueOf<M>, header: EntryHeader = {}): JournalEntryRef {
    return this.journal.append(desc, value, header);
  }

  /** Engine outputs computed but not yet journaled. */
  get pendingOutputs(): number {
    return this.outputs.length - this.outputsHead;
  }

  /** Journal entries the engine has not consumed yet. */
  get pendingCommands(): number {
    return this.journal.length - this.engineCursor;
  }

  /** Lets the engine consume up to `maxEntries` journal entries (commands; its own outputs are skipped). */
  runEngine(maxEntries = Number.POSITIVE_INFINITY): number {
    let done = 0;
    const journal = this.journal;
    while (done < maxEntries && this.engineCursor < journal.length) {
      const e = journal.entries[this.engineCursor++];
      this.applyToEngine(journal.view, e.offset, e.typeId);
      done++;
    }
    return done;
  }

  /** Appends up to `max` pending engine outputs to the journal, in order. */
  flushOutputs(max = Number.POSITIVE_INFINITY): number {
    let done = 0;
    while (done < max && this.outputsHead < this.outputs.length) {
      const out = this.outputs[this.outputsHead++];
      this.journal.append(out.desc, out.value as ValueOf<AnyMessage>, { sourceId: IN_PROCESS_ENGINE_SOURCE_ID, epoch: this.engineEpoch });
      done++;
    }
    if (this.outputsHead === this.outputs.length) {
      this.outputs.length = 0;
      this.outputsHead = 0;
    }
    return done;
  }

  /** Runs the engine over everything and journals every output, until nothing is left. */
  settle(): void {
    while (this.pendingCommands > 0 || this.pendingOutputs > 0) {
      this.runEngine();
      this.flushOutputs();
    }
  }

  private applyToEngine(view: DataView, offset: number, typeId: number): void {
    // The one mapping from journal entries to engine calls, shared with the engine process.
    applyEngineCommand(this.engine, typeId, view, offset, this.command);
  }

  private push(desc: AnyMessage, value: Record<string, number | string>): void {
    this.outputs.push({ desc, value });
  }

  private makeSink(): EngineSink {
    const epoch = (): number => this.engineEpoch;
    return {
      onAccepted: (inSeq, outIndex, orderId, accountId, productId, side, price, quantity, leavesQuantity) =>
        this.push(OrderAccepted, { orderId, price, quantity, leavesQuantity, inSeq, accountId, productId, epoch: epoch(), outIndex, side }),
      onRejected: (inSeq, outIndex, orderId, accountId, productId, reason) =>
        this.push(OrderRejected, {
          orderId,
          inSeq,
          accountId,
          productId,
          epoch: epoch(),
          requestId: this.command.requestId,
          reason,
          commandType: this.command.commandType,
          outIndex,
          gatewayId: this.command.gatewayId,
        }),
      onFill: (inSeq, outIndex, execId, productId, price, quantity, takerSide, makerOrderId, makerAccountId, makerLeaves, makerCumQuantity, takerOrderId, takerAccountId, takerLeaves, takerCumQuantity) =>
        this.push(Fill, {
          execId,
          price,
          quantity,
          makerOrderId,
          makerLeaves,
          makerCumQuantity,
          takerOrderId,
          takerLeaves,
          takerCumQuantity,
          inSeq,
          productId,
          makerAccountId,
          takerAccountId,
          epoch: epoch(),
          outIndex,
          takerSide,
        }),
      onCanceled: (inSeq, outIndex, orderId, accountId, productId, side, price, canceledQuantity, leavesQuantity, reason) => {
        // A user cancel answers the cancel's requester; a cancel the engine decided on its own
        // (IOC remainder, self-trade, delisting) carries no request.
        const isReply = this.command.commandType === TypeId.CancelOrder;
        this.push(OrderCanceled, {
          orderId,
          price,
          canceledQuantity,
          leavesQuantity,
          inSeq,
          accountId,
          productId,
          epoch: epoch(),
          requestId: isReply ? this.command.requestId : 0,
          outIndex,
          gatewayId: isReply ? this.command.gatewayId : 0,
          side,
          reason,
        });
      },
      onAmended: (inSeq, outIndex, orderId, accountId, productId, side, oldPrice, newPrice, newQuantity, leavesQuantity, lostPriority) =>
        this.push(OrderAmended, {
          orderId,
          oldPrice,
          newPrice,
          newQuantity,
          leavesQuantity,
          inSeq,
          accountId,
          productId,
          epoch: epoch(),
          requestId: this.command.requestId,
          outIndex,
          gatewayId: this.command.gatewayId,
          side,
          lostPriority: lostPriority ? 1 : 0,
        }),
      onExpired: (inSeq, outIndex, orderId, accountId, productId, side, price, expiredQuantity) =>
        this.push(OrderExpired, { orderId, price, expiredQuantity, inSeq, accountId, productId, epoch: epoch(), outIndex, side }),
      onBookLevel: () => {
        // Market data; the product manager does not read it.
      },
    };
  }
}

