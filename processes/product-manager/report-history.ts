// The execution reports a WARM product manager computed from the journal but did not send (the
// leader sends them), remembered in journal order in a bounded ring of pre-allocated rows. When the
// warm takes over it resends every report of an entry after the old leader's reportedSeq (its
// status file): those the old leader computed but may not have published before it died. The
// gateway drops a report it already has (same order, eventSeq not newer), so resending a few too
// many is harmless; resending too few would leave requests unanswered, hence the bound is generous
// and an overflow is reported (oldestSeq).

import { ExecutionReport } from '../../bus/schema';
import { assert } from './assert';

const REPORT_BYTES = ExecutionReport.size;

export class ReportHistory {
  readonly capacity: number;
  private readonly seqs: Float64Array;
  private readonly gatewayIds: Uint16Array;
  private readonly bytes: Uint8Array;
  readonly view: DataView;
  private head = 0;
  size = 0;
  /** The seq of the newest report forgotten to make room (0: none forgotten). */
  forgottenThroughSeq = 0;

  constructor(capacity: number) {
    assert(Number.isInteger(capacity) && capacity >= 1, 'report history capacity must be a positive integer');
    this.capacity = capacity;
    this.seqs = new Float64Array(capacity);
    this.gatewayIds = new Uint16Array(capacity);
    this.bytes = new Uint8Array(capacity * REPORT_BYTES);
    this.view = new DataView(this.bytes.buffer);
  }

  /** Reserves the next row for a report of entry `seq` to `gatewayId`; returns the byte offset to write it at. */
  push(seq: number, gatewayId: number): number {
    if (this.size === this.capacity) {
      this.forgottenThroughSeq = this.seqs[this.head]!;
      this.head = (this.head + 1) % this.capacity;
      this.size--;
    }
    const row = (this.head + this.size) % this.capacity;
    this.seqs[row] = seq;
    this.gatewayIds[row] = gatewayId;
    this.size++;
    return row * REPORT_BYTES;
  }

  /** The i-th oldest row's seq, gateway and byte offset. */
  seqAt(i: number): number {
    return this.seqs[(this.head + i) % this.capacity]!;
  }

  gatewayIdAt(i: number): number {
    return this.gatewayIds[(this.head + i) % this.capacity]!;
  }

  offsetAt(i: number): number {
    return ((this.head + i) % this.capacity) * REPORT_BYTES;
  }

  clear(): void {
    this.head = 0;
    this.size = 0;
    this.forgottenThroughSeq = 0;
  }
}
