// What a matching-engine instance counts into its counters file (<runDir>/engine-<x>.counters; the
// names and help texts are in processes/operations/process-counters.ts). Counted from the journal
// entries the instance applies, so hot and warm count the same thing — the journaled history —
// and a count never includes an output a takeover later republished or the sequencer fenced off:
//
//   ims_engine_orders_total{command}   NewOrder / AmendOrder / CancelOrder entries applied
//   ims_engine_fills_total             Fill entries (one per match)
//   ims_engine_rejects_total{reason}   OrderRejected entries, by RejectReason
//   ims_loop_work_seconds              one turn of main.ts's loop that did work
//
// Each count is one store into the mapped file (no allocation, no lookup beyond a typed array).
// A restarted instance starts at zero and counts what it replays after its snapshot again.

import type { CountersWriter, LatencyHistogram } from '../../bus/counters';
import { REJECT_REASON_NAMES } from '../../bus/enums';
import { JOURNAL_HEADER_BYTES, OrderRejected, TypeId } from '../../bus/schema';
import { declareReasonSlots, reasonSlot } from '../operations/process-counters';

/** Type ids below this are looked up in a table; engine commands and outputs are all below it. */
const COUNTED_TYPE_IDS = 256;
const REJECT_REASON_AT = JOURNAL_HEADER_BYTES + OrderRejected.o.reason;

export class EngineCounters {
  readonly loopWork: LatencyHistogram;
  private readonly values: Float64Array;
  /** Slot counting each journal entry type (-1: not counted). */
  private readonly slotOfType = new Int16Array(COUNTED_TYPE_IDS).fill(-1);
  private readonly rejectSlots: Int32Array;

  constructor(readonly writer: CountersWriter) {
    this.values = writer.values;
    this.slotOfType[TypeId.NewOrder] = writer.counter('ims_engine_orders_total', 'command=place');
    this.slotOfType[TypeId.AmendOrder] = writer.counter('ims_engine_orders_total', 'command=update');
    this.slotOfType[TypeId.CancelOrder] = writer.counter('ims_engine_orders_total', 'command=remove');
    this.slotOfType[TypeId.Fill] = writer.counter('ims_engine_fills_total');
    this.rejectSlots = declareReasonSlots(writer, 'ims_engine_rejects_total', REJECT_REASON_NAMES);
    this.loopWork = writer.histogram('ims_loop_work_seconds');
  }

  /** One journal entry applied (`offset` is its journal header in `view`). */
  entry(typeId: number, view: DataView, offset: number): void {
    if (typeId >= COUNTED_TYPE_IDS) return;
    if (typeId === TypeId.OrderRejected) {
      this.values[reasonSlot(this.rejectSlots, view.getUint16(offset + REJECT_REASON_AT, true))]! += 1;
      return;
    }
    const slot = this.slotOfType[typeId]!;
    if (slot >= 0) this.values[slot]! += 1;
  }
}
