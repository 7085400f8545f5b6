// What the reporter counts into its counters file (<runDir>/reporter.counters; the names and help
// texts are in processes/operations/process-counters.ts), once per committed batch:
//
//   ims_reporter_rows_total{table}         rows written, per report table (orders, executions, …)
//                                          (a replayed batch writes none)
//   ims_reporter_batches_total             transactions committed
//   ims_reporter_entries_total             journal entries those transactions cover
//   ims_reporter_replayed_batches_total    batches the database already held (after a crash)
//   ims_reporter_batch_write_seconds       hand-over to the store → commit
//   ims_last_seq                           the last seq the database holds
//
// Per batch, not per entry: a batch is thousands of entries, so these few stores cost nothing.

import type { CountersWriter, LatencyHistogram } from '../../bus/counters';
import type { ReportBatch } from './report-model';
import { WriteResult } from './report-store';
import { BATCH_TABLES } from './report-tables';

export class ReporterCounters {
  readonly batchWrite: LatencyHistogram;
  private readonly values: Float64Array;
  /** Row counter slot of BATCH_TABLES[i], in the order a batch lists its tables. */
  private readonly rowSlots: Int32Array;
  private readonly rowSlotByTable = new Map<string, number>();
  private readonly batches: number;
  private readonly entries: number;
  private readonly replayed: number;
  private readonly lastSeq: number;

  constructor(readonly writer: CountersWriter) {
    this.values = writer.values;
    this.rowSlots = new Int32Array(BATCH_TABLES.length);
    BATCH_TABLES.forEach((spec, i) => {
      this.rowSlots[i] = writer.counter('ims_reporter_rows_total', `table=${spec.name}`);
      this.rowSlotByTable.set(spec.name, this.rowSlots[i]!);
    });
    this.batches = writer.counter('ims_reporter_batches_total');
    this.entries = writer.counter('ims_reporter_entries_total');
    this.replayed = writer.counter('ims_reporter_replayed_batches_total');
    this.lastSeq = writer.gauge('ims_last_seq');
    this.batchWrite = writer.histogram('ims_reporter_batch_write_seconds');
  }

  /** The loop's onCommitted: `batch` is in the database (`result`), `writeMs` after it was handed over. */
  committed(batch: ReportBatch, result: WriteResult, writeMs: number): void {
    const v = this.values;
    v[this.batches]! += 1;
    v[this.entries]! += batch.entries;
    if (result === WriteResult.ALREADY_WRITTEN) {
      v[this.replayed]! += 1; // the database held it: no row was written
    } else {
      for (let i = 0; i < batch.tables.length; i++) {
        const t = batch.tables[i]!;
        // Tables come in BATCH_TABLES order; a table this build does not know is not counted.
        const slot = BATCH_TABLES[i] === t.spec ? this.rowSlots[i]! : (this.rowSlotByTable.get(t.spec.name) ?? -1);
        if (slot >= 0) v[slot]! += t.rows.length;
      }
    }
    v[this.lastSeq] = batch.lastSeq;
    this.batchWrite.record(writeMs * 1e6);
  }
}
