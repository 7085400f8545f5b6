// What the sequencer counts into its counters file (<runDir>/sequencer.counters; the names and help
// texts are in processes/operations/process-counters.ts). The journal status file already carries
// totals and the last/max fdatasync time; the counters file adds the distributions:
//
//   ims_sequencer_entries_total, ims_sequencer_batches_total   per group commit
//   ims_sequencer_commit_seconds     one group commit: write, fdatasync (fsync mode), publish
//   ims_sequencer_fsync_seconds      every fdatasync (in async mode too)
//   ims_last_seq                     the journal head after each commit
//   ims_loop_work_seconds            one turn of main.ts's loop that did work
//
// Called once per batch or per sync, never per entry; each call is a few stores.

import type { CountersWriter, LatencyHistogram } from '../../bus/counters';

export class SequencerCounters {
  readonly commit: LatencyHistogram;
  readonly fsync: LatencyHistogram;
  readonly loopWork: LatencyHistogram;
  private readonly values: Float64Array;
  private readonly entries: number;
  private readonly batches: number;
  private readonly headSeq: number;

  constructor(readonly writer: CountersWriter) {
    this.values = writer.values;
    this.entries = writer.counter('ims_sequencer_entries_total');
    this.batches = writer.counter('ims_sequencer_batches_total');
    this.headSeq = writer.gauge('ims_last_seq');
    this.commit = writer.histogram('ims_sequencer_commit_seconds');
    this.fsync = writer.histogram('ims_sequencer_fsync_seconds');
    this.loopWork = writer.histogram('ims_loop_work_seconds');
  }

  /** A group commit of `entries` entries, published up to `headSeq`, took `ns`. */
  committed(entries: number, headSeq: number, ns: number): void {
    const v = this.values;
    v[this.entries]! += entries;
    v[this.batches]! += 1;
    v[this.headSeq] = headSeq;
    this.commit.record(ns);
  }

  /** One fdatasync of `us` microseconds (the journal writer's own measure). */
  synced(us: number): void {
    this.fsync.record(us * 1000);
  }
}
