// What a product-manager instance counts into its counters file (<runDir>/pm-<x>.counters; the
// names and help texts are in processes/operations/process-counters.ts). Only the hot serves the
// gateways, so a warm's command and report counts stay at 0 until it takes over.
//
//   ims_pm_commands_total{command}         commands taken from the gateway rings and decided
//   ims_pm_command_rejects_total{reason}   order commands refused before sequencing, by RejectReason
//   ims_pm_duplicates_answered_total       a resubmitted client order id, answered with its report
//   ims_pm_reports_sent_total              execution reports written to the gateways' rings
//   ims_loop_work_seconds                  one turn of main.ts's loop that did work
//
// A command is counted where its fate is decided, never where it is merely read: a command left on
// its ring by back-pressure is read again next turn and must not count twice.

import { CountersWriter, type LatencyHistogram } from '../../bus/counters';
import { REJECT_REASON_NAMES } from '../../bus/enums';
import { TypeId } from '../../bus/schema';
import { declareReasonSlots, reasonSlot } from '../operations/process-counters';

export class PmCountersFile {
  readonly loopWork: LatencyHistogram;
  private readonly values: Float64Array;
  private readonly placed: number;
  private readonly updated: number;
  private readonly removed: number;
  private readonly admin: number;
  private readonly duplicates: number;
  private readonly reports: number;
  private readonly rejectSlots: Int32Array;

  constructor(readonly writer: CountersWriter) {
    this.values = writer.values;
    this.placed = writer.counter('ims_pm_commands_total', 'command=place');
    this.updated = writer.counter('ims_pm_commands_total', 'command=update');
    this.removed = writer.counter('ims_pm_commands_total', 'command=remove');
    this.admin = writer.counter('ims_pm_commands_total', 'command=admin');
    this.rejectSlots = declareReasonSlots(writer, 'ims_pm_command_rejects_total', REJECT_REASON_NAMES);
    this.duplicates = writer.counter('ims_pm_duplicates_answered_total');
    this.reports = writer.counter('ims_pm_reports_sent_total');
    this.loopWork = writer.histogram('ims_loop_work_seconds');
  }

  /** Counts kept in memory only: a product manager a test builds in-process. */
  static detached(name: string): PmCountersFile {
    return new PmCountersFile(CountersWriter.detached(name));
  }

  /** A command from a gateway was decided (forwarded, rejected or answered as a duplicate). */
  command(typeId: number): void {
    const slot = typeId === TypeId.NewOrder ? this.placed : typeId === TypeId.AmendOrder ? this.updated : typeId === TypeId.CancelOrder ? this.removed : this.admin;
    this.values[slot]! += 1;
  }

  /** An order command refused with RejectReason `reason`. */
  rejected(reason: number): void {
    this.values[reasonSlot(this.rejectSlots, reason)]! += 1;
  }

  duplicateAnswered(): void {
    this.values[this.duplicates]! += 1;
  }

  reportSent(): void {
    this.values[this.reports]! += 1;
  }
}
