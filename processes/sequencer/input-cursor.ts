// One input ring of the sequencer, read WITHOUT acknowledging: the read position runs ahead of
// the committed one, and commit() acknowledges (moves the ring slot's committed position) only
// once the entries read are in the journal per the durability mode. A sequencer killed in
// between re-reads them after its restart, and the exactly-once check skips what was journaled.
//
// (RingConsumer.poll commits at the end of every batch, which is right for every other reader and
// wrong here, so this walks the records itself, with the layout from bus/ring-layout.ts.)

import { alignRecord, PADDING_TYPE_ID, RECORD_HEADER_BYTES } from '../../bus/ring-layout';
import { RingConsumer, RingFile } from '../../bus/ring';

/** The visitor consumed the record; go on. */
export const INPUT_TAKEN = 0;
/** The visitor could not take the record now (batch full, journal ring full): it stays unread. */
export const INPUT_STOP = 1;
/** The record cannot be journaled (unknown type or version, wrong size): the ring halts here. */
export const INPUT_HALT = 2;
/** The visitor consumed the record and the batch must end after it (a trading day closed). */
export const INPUT_TAKEN_END_BATCH = 3;

/** `view`/`i32` are the ring's; the input payload starts at `payload` (the input header). */
export type InputVisitor = (input: InputCursor, typeId: number, version: number, payload: number, length: number) => number;

export class InputCursor {
  readonly ring: RingFile;
  readonly consumer: RingConsumer;
  /** Position of the input ring among the sequencer's inputs. */
  readonly index: number;
  /** Why this ring stopped being read (null while it is read). */
  halted: string | null = null;
  private readPos: number;
  private pending = 0;

  constructor(ringPath: string, consumerName: string, index: number) {
    this.ring = RingFile.open(ringPath);
    // Gating: the producer may not overwrite what we read but have not acknowledged yet.
    this.consumer = new RingConsumer(this.ring, consumerName, { gating: true });
    this.index = index;
    this.readPos = this.consumer.position;
  }

  get path(): string {
    return this.ring.path;
  }

  /** Records read since the last commit (acknowledged by the next one). */
  get unacknowledged(): number {
    return this.pending;
  }

  /** Byte position of the next record to read. */
  get position(): number {
    return this.readPos;
  }

  /** Reads up to `limit` records, handing each to `visitor`. Returns how many were taken. */
  read(visitor: InputVisitor, limit: number): number {
    if (this.halted !== null) return 0;
    const ring = this.ring;
    const i32 = ring.i32;
    const view = ring.view;
    const tail = ring.tail();
    let pos = this.readPos;
    let taken = 0;
    while (pos !== tail && taken < limit) {
      const index = pos & ring.mask;
      const base = ring.dataStart + index;
      const length = i32[base >> 2]!;
      const typeId = view.getUint16(base + 4, true);
      if (length < RECORD_HEADER_BYTES || index + length > ring.capacity || (typeId !== PADDING_TYPE_ID && length - RECORD_HEADER_BYTES > ring.maxPayload)) {
        this.halted = `corrupt record at position ${pos} (length ${length}, type ${typeId}); stop the bus and recreate the ring`;
        break;
      }
      if (typeId !== PADDING_TYPE_ID) {
        const verdict = visitor(this, typeId, view.getUint8(base + 6), base + RECORD_HEADER_BYTES, length - RECORD_HEADER_BYTES);
        if (verdict === INPUT_STOP || verdict === INPUT_HALT) break;
        taken++;
        if (verdict === INPUT_TAKEN_END_BATCH) {
          pos = (pos + alignRecord(length)) >>> 0;
          break;
        }
      }
      pos = (pos + alignRecord(length)) >>> 0;
    }
    this.readPos = pos;
    this.pending += taken;
    return taken;
  }

  /** True when the ring has records we have not read. */
  hasUnread(): boolean {
    return this.halted === null && this.ring.tail() !== this.readPos;
  }

  /** Acknowledges everything read so far. */
  commit(): void {
    if (this.readPos === this.consumer.position) return;
    this.consumer.commitPosition(this.readPos, this.pending);
    this.pending = 0;
  }

  /** Forgets what was read since the last commit (it was not persisted). */
  rewind(): void {
    this.readPos = this.consumer.position;
    this.pending = 0;
  }

  close(): void {
    this.consumer.close();
  }
}
