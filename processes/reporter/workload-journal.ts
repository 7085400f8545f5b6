// Moving an in-memory workload journal (JournalBuilder) into the places the reporter reads from,
// for tests, drills and the benchmark:
//
//   writeJournalSegments  — straight to disk segments with the real JournalWriter (the format
//                           JournalDiskReader, reconcile and a catching-up JournalReader read);
//   SequencerInputFeeder  — as inputs into a sequencer input ring, so the REAL sequencer process
//                           journals them (seq, timestamp, disk, journal ring) exactly as in
//                           production. Each source gets its inputs numbered 1, 2, 3 ... (the
//                           builder leaves engine outputs unnumbered); with one input ring and a
//                           fresh journal every entry is accepted in order, so journal seq N is
//                           builder entry N and the engine outputs' inSeq stay right.

import { native } from '../../native/addon';
import { emptySnapshot } from '../../bus/journal-format';
import { recoverJournal } from '../../bus/journal-recovery';
import { JournalWriter } from '../../bus/journal-writer';
import { BACK_PRESSURED, type RingProducer } from '../../bus/ring';
import { INPUT_HEADER_BYTES, InputHeader, JOURNAL_HEADER_BYTES, JournalHeader } from '../../bus/schema';
import type { JournalBuilder } from '../product-manager/journal-builder';

/** Writes entries [0, count) of `journal` as segment files in `dataDir` (which must hold none yet). */
export function writeJournalSegments(journal: JournalBuilder, dataDir: string, options: { count?: number; segmentBytes?: number } = {}): number {
  const recovered = recoverJournal(dataDir, { scan: 'full', repair: true });
  if (recovered.headSeq !== 0) throw new Error(`writeJournalSegments: ${dataDir} already holds a journal (head seq ${recovered.headSeq})`);
  let writer: JournalWriter | null = null;
  writer = JournalWriter.open(recovered, { dataDir, segmentBytes: options.segmentBytes, snapshot: () => emptySnapshot((writer?.headSeq ?? 0) + 1) });
  const count = options.count ?? journal.length;
  const source = new Uint8Array(journal.view.buffer);
  try {
    for (let i = 0; i < count; i++) {
      const e = journal.entries[i]!;
      const bytes = JOURNAL_HEADER_BYTES + e.desc.size;
      const at = writer.claim(e.typeId, e.desc.version, bytes, e.seq);
      writer.staging.set(source.subarray(e.offset, e.offset + bytes), at);
      writer.seal();
      if ((i & 0xfff) === 0xfff) writer.write();
    }
  } finally {
    writer.close();
  }
  return count;
}

/** Feeds builder entries into a sequencer input ring, in order, as their producers would. */
export class SequencerInputFeeder {
  /** Index of the next builder entry to feed. */
  next = 0;
  private readonly sourceSeqs = new Map<number, number>();

  constructor(
    readonly journal: JournalBuilder,
    readonly producer: RingProducer,
  ) {}

  get done(): boolean {
    return this.next >= this.journal.length;
  }

  /** Writes up to `max` more entries; stops early when the ring is full. Returns how many. */
  feed(max: number): number {
    const journal = this.journal;
    const source = journal.view;
    const ring = this.producer.ring;
    let fed = 0;
    while (fed < max && this.next < journal.length) {
      const e = journal.entries[this.next]!;
      const length = INPUT_HEADER_BYTES + e.desc.size;
      let at = this.producer.tryClaim(e.typeId, e.desc.version, length);
      if (at === BACK_PRESSURED) {
        this.producer.commit(); // the batch bound may be what stopped us
        at = this.producer.tryClaim(e.typeId, e.desc.version, length);
        if (at === BACK_PRESSURED) break;
      }
      const sourceId = source.getUint16(e.offset + JournalHeader.o.sourceId, true);
      const sourceSeq = (this.sourceSeqs.get(sourceId) ?? 0) + 1;
      this.sourceSeqs.set(sourceId, sourceSeq);
      const view = ring.view;
      view.setUint32(at + InputHeader.o.sourceSeq, sourceSeq >>> 0, true);
      view.setInt32(at + InputHeader.o.sourceSeq + 4, Math.floor(sourceSeq / 4294967296), true);
      view.setUint16(at + InputHeader.o.sourceId, sourceId, true);
      view.setUint16(at + InputHeader.o.flags, 0, true);
      view.setUint32(at + InputHeader.o.epoch, source.getUint32(e.offset + JournalHeader.o.epoch, true), true);
      ring.bytes.set(new Uint8Array(source.buffer, e.offset + JOURNAL_HEADER_BYTES, e.desc.size), at + INPUT_HEADER_BYTES);
      this.next++;
      fed++;
    }
    this.producer.commit();
    return fed;
  }
}

/** CLOCK_MONOTONIC in ns (benchmarks). */
export function monotonicNs(): number {
  const clock = new Float64Array(2);
  native.clockInto(clock, 0);
  return clock[0]!;
}
