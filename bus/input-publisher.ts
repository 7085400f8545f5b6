// Writes sequencer inputs: InputHeader (sourceSeq, sourceId, flags, epoch) + a schema body, into a
// ring the sequencer reads. The producer numbers its inputs 1, 2, 3, ... per source; a restarted
// producer continues from the last sourceSeq the journal took from it (the sequencer skips what
// it already has, which makes a retransmission after a crash safe).

import { BACK_PRESSURED, RingProducer, type RingFile } from './ring';
import { InputHeader, INPUT_HEADER_BYTES, type AnyMessage } from './schema';

export class InputPublisher {
  readonly producer: RingProducer;
  readonly sourceId: number;
  epoch: number;
  private nextSourceSeq: number;

  constructor(ring: RingFile, sourceId: number, lastJournaledSourceSeq: number, epoch = 0) {
    if (!Number.isSafeInteger(lastJournaledSourceSeq) || lastJournaledSourceSeq < 0) throw new RangeError(`lastJournaledSourceSeq must be >= 0, got ${lastJournaledSourceSeq}`);
    this.producer = new RingProducer(ring);
    this.sourceId = sourceId;
    this.epoch = epoch;
    this.nextSourceSeq = lastJournaledSourceSeq + 1;
  }

  /** The sourceSeq the next claim will carry. */
  get sourceSeq(): number {
    return this.nextSourceSeq;
  }

  /** Starts numbering at `next` (a producer that replays a deterministic plan sets its own seqs). */
  setNextSourceSeq(next: number): void {
    this.nextSourceSeq = next;
  }

  /**
   * Claims one input of type `desc` and writes its header. Returns the BODY's byte offset in
   * `producer.ring.view`, or BACK_PRESSURED. The body is zeroed only as far as the caller writes
   * it: write every field (codec `encode` does).
   */
  claim(desc: AnyMessage, flags = 0): number {
    const at = this.producer.tryClaim(desc.typeId, desc.version, INPUT_HEADER_BYTES + desc.size);
    if (at === BACK_PRESSURED) return BACK_PRESSURED;
    const view = this.producer.ring.view;
    const seq = this.nextSourceSeq++;
    view.setUint32(at + InputHeader.o.sourceSeq, seq % 0x100000000, true);
    view.setInt32(at + InputHeader.o.sourceSeq + 4, Math.floor(seq / 0x100000000), true);
    view.setUint16(at + InputHeader.o.sourceId, this.sourceId, true);
    view.setUint16(at + InputHeader.o.flags, flags, true);
    view.setUint32(at + InputHeader.o.epoch, this.epoch, true);
    return at + INPUT_HEADER_BYTES;
  }

  commit(): void {
    this.producer.commit();
  }

  close(): void {
    this.producer.close();
  }
}
