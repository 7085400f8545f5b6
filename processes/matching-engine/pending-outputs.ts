// The outputs an engine instance has computed but not yet seen in the journal, in key order.
//
// Hot and warm both keep it: every computed output is appended here; when the journal brings an
// engine output back, the head is compared with it and dropped. So at any moment this holds exactly
// what a warm would have to publish if it took over now (no gap: everything not yet journaled; no
// duplicate: nothing the journal already has), and the hot publishes from it (a cursor marks how
// far it has published; the records before the cursor are in its output ring or the sequencer).
//
// A byte ring allocated once (capacityBytes, a multiple of 8). Records never wrap: one that does
// not fit before the end leaves a padding record and starts at 0.
//
//   record: | typeId u16 | bodyBytes u16 | reserved u32 | body (bodyBytes, a multiple of 8) |
//   padding: typeId 0, bodyBytes = the rest of the ring minus the 8-byte header
//
// Bodies are stored with epoch 0: the publisher stamps the epoch in its output ring.

import { compareKeys, outputIndex, outputInSeq } from './engine-outputs';

export const PENDING_RECORD_HEADER_BYTES = 8;
const PADDING_TYPE_ID = 0;
/** The smallest ring that holds the largest output with room to spare. */
export const MIN_PENDING_BYTES = 64 * 1024;

export class PendingOutputs {
  readonly capacityBytes: number;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  private headIndex = 0;
  private tailIndex = 0;
  /** Bytes in use, padding included. */
  private usedBytes = 0;
  private recordCount = 0;
  /** Records in [head, cursor): published by this instance (hot), not yet seen journaled. */
  private publishedCount = 0;
  private cursorIndex = 0;

  constructor(capacityBytes: number) {
    if (!(Number.isSafeInteger(capacityBytes) && capacityBytes >= MIN_PENDING_BYTES && capacityBytes % 8 === 0 && capacityBytes <= 2 ** 31)) {
      throw new RangeError(`pending outputs: capacity ${capacityBytes} must be a multiple of 8 in [${MIN_PENDING_BYTES}, 2^31]`);
    }
    this.capacityBytes = capacityBytes;
    this.bytes = new Uint8Array(capacityBytes);
    this.view = new DataView(this.bytes.buffer);
  }

  get records(): number {
    return this.recordCount;
  }

  get bytesUsed(): number {
    return this.usedBytes;
  }

  /** Records not yet published by this instance (all of them on a warm). */
  get unpublished(): number {
    return this.recordCount - this.publishedCount;
  }

  get published(): number {
    return this.publishedCount;
  }

  /**
   * Appends a record of `typeId` with `bodyBytes` and returns the body offset in `view` (the caller
   * writes the body at once), or -1 when there is no room.
   */
  reserve(typeId: number, bodyBytes: number): number {
    const need = PENDING_RECORD_HEADER_BYTES + bodyBytes;
    const cap = this.capacityBytes;
    let at = this.tailIndex;
    let pad = 0;
    if (at + need > cap) pad = cap - at;
    if (this.usedBytes + pad + need > cap) return -1;
    if (pad > 0) {
      // pad >= 8: every record and the capacity are multiples of 8.
      this.view.setUint16(at, PADDING_TYPE_ID, true);
      this.view.setUint16(at + 2, pad - PENDING_RECORD_HEADER_BYTES, true);
      this.usedBytes += pad;
      at = 0;
    }
    this.view.setUint16(at, typeId, true);
    this.view.setUint16(at + 2, bodyBytes, true);
    this.view.setUint32(at + 4, 0, true);
    this.tailIndex = at + need === cap ? 0 : at + need;
    this.usedBytes += need;
    if (this.recordCount === this.publishedCount) this.cursorIndex = at;
    if (this.recordCount === 0) this.headIndex = at;
    this.recordCount++;
    return at + PENDING_RECORD_HEADER_BYTES;
  }

  /** Index of the oldest record, or -1 when empty. */
  head(): number {
    return this.recordCount === 0 ? -1 : this.headIndex;
  }

  /** Index of the oldest record this instance has not published, or -1. */
  cursor(): number {
    return this.recordCount === this.publishedCount ? -1 : this.cursorIndex;
  }

  typeIdAt(index: number): number {
    return this.view.getUint16(index, true);
  }

  bodyBytesAt(index: number): number {
    return this.view.getUint16(index + 2, true);
  }

  bodyAt(index: number): number {
    return index + PENDING_RECORD_HEADER_BYTES;
  }

  inSeqAt(index: number): number {
    return outputInSeq(this.typeIdAt(index), this.view, index + PENDING_RECORD_HEADER_BYTES);
  }

  outIndexAt(index: number): number {
    return outputIndex(this.typeIdAt(index), this.view, index + PENDING_RECORD_HEADER_BYTES);
  }

  /** Orders the record at `index` against a key (see compareKeys). */
  compareAt(index: number, inSeq: number, outIndex: number): number {
    return compareKeys(this.inSeqAt(index), this.outIndexAt(index), inSeq, outIndex);
  }

  /** Drops the oldest record (it was journaled, or is evicted). */
  dropHead(): void {
    if (this.recordCount === 0) throw new Error('pending outputs: dropHead on an empty ring');
    const index = this.headIndex;
    const size = PENDING_RECORD_HEADER_BYTES + this.bodyBytesAt(index);
    this.usedBytes -= size;
    this.recordCount--;
    if (this.recordCount === 0) {
      this.reset();
      return;
    }
    let next = index + size;
    if (next === this.capacityBytes) {
      next = 0;
    } else if (this.typeIdAt(next) === PADDING_TYPE_ID) {
      // The padding before the wrap is freed with the last record in front of it.
      this.usedBytes -= PENDING_RECORD_HEADER_BYTES + this.bodyBytesAt(next);
      next = 0;
    }
    this.headIndex = next;
    if (this.publishedCount > 0) {
      this.publishedCount--;
    } else {
      // Journaled before we published it (another instance's output, or any output on a warm):
      // the cursor moves with the head.
      this.cursorIndex = next;
    }
  }

  /** Marks the record at the cursor published; returns the next cursor index (or -1). */
  advanceCursor(): number {
    if (this.recordCount === this.publishedCount) throw new Error('pending outputs: advanceCursor with nothing unpublished');
    this.publishedCount++;
    this.cursorIndex = this.nextIndex(this.cursorIndex);
    return this.cursor();
  }

  /** Forgets what was published: everything here is to be published again (a demoted or new hot). */
  unpublishAll(): void {
    this.publishedCount = 0;
    this.cursorIndex = this.headIndex;
  }

  /** Index of the record after `index` (skipping padding), or where the next record will go. */
  nextIndex(index: number): number {
    const next = index + PENDING_RECORD_HEADER_BYTES + this.bodyBytesAt(index);
    if (next === this.capacityBytes) return 0;
    // At the tail there is no record yet (the bytes there are stale), so no padding either.
    if (next !== this.tailIndex && this.typeIdAt(next) === PADDING_TYPE_ID) return 0;
    return next;
  }

  /**
   * Copies every record, oldest first, without padding into `out` at `offset` (for a snapshot);
   * returns the bytes written. `out` must hold `compactBytes()`.
   */
  copyCompact(out: Uint8Array, offset: number): number {
    let written = 0;
    let index = this.head();
    for (let i = 0; i < this.recordCount; i++) {
      const size = PENDING_RECORD_HEADER_BYTES + this.bodyBytesAt(index);
      out.set(this.bytes.subarray(index, index + size), offset + written);
      written += size;
      if (i + 1 < this.recordCount) index = this.nextIndex(index);
    }
    return written;
  }

  /** Bytes copyCompact writes. */
  compactBytes(): number {
    let total = 0;
    let index = this.head();
    for (let i = 0; i < this.recordCount; i++) {
      total += PENDING_RECORD_HEADER_BYTES + this.bodyBytesAt(index);
      if (i + 1 < this.recordCount) index = this.nextIndex(index);
    }
    return total;
  }

  /** Appends records laid out as copyCompact wrote them (restoring a snapshot into an empty ring). */
  appendCompact(src: Uint8Array, offset: number, length: number): number {
    if (this.recordCount !== 0) throw new Error('pending outputs: appendCompact needs an empty ring');
    const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
    let at = offset;
    let n = 0;
    while (at < offset + length) {
      const typeId = view.getUint16(at, true);
      const bodyBytes = view.getUint16(at + 2, true);
      if (typeId === PADDING_TYPE_ID || at + PENDING_RECORD_HEADER_BYTES + bodyBytes > offset + length) {
        throw new Error(`pending outputs: a damaged record at byte ${at - offset} of ${length} (type ${typeId}, ${bodyBytes} body bytes)`);
      }
      const body = this.reserve(typeId, bodyBytes);
      if (body < 0) throw new Error(`pending outputs: ${length} bytes of records do not fit a ${this.capacityBytes}-byte ring; raise --max-pending-bytes`);
      this.bytes.set(src.subarray(at + PENDING_RECORD_HEADER_BYTES, at + PENDING_RECORD_HEADER_BYTES + bodyBytes), body);
      at += PENDING_RECORD_HEADER_BYTES + bodyBytes;
      n++;
    }
    return n;
  }

  private reset(): void {
    this.headIndex = 0;
    this.tailIndex = 0;
    this.cursorIndex = 0;
    this.usedBytes = 0;
    this.publishedCount = 0;
  }
}
