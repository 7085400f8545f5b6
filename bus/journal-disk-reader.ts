// Reads journal entries in seq order from the segment files: the live ones in the data directory
// and the archived (gzip) ones. Every frame's CRC is checked. Used by JournalReader to catch up a
// consumer that fell behind the ring, by the sequencer to refill the ring after a restart, and by
// replay and verify.
//
// It never reads past `maxSeq` (the position the sequencer made visible): bytes beyond it may be a
// batch still being written, or a torn tail that a restarted sequencer will truncate.

import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import type { RecordHandler } from './ring';
import { JournalCorruptError } from './journal-format';
import { listSegments, type SegmentFile } from './journal-recovery';
import { CURSOR_BAD, CURSOR_END, CURSOR_FRAME, DEFAULT_CURSOR_CHUNK_BYTES, SegmentCursor } from './journal-segment-cursor';

/** read()'s maxSeq for "whatever is on disk" (tools on a stopped journal): the end is not an error. */
export const TO_DISK_END = Number.POSITIVE_INFINITY;

export interface JournalDiskReaderOptions {
  dataDir: string;
  archiveDir?: string;
  /** The first seq to deliver. */
  fromSeq: number;
  chunkBytes?: number;
}

export class JournalDiskReader {
  readonly dataDir: string;
  readonly archiveDir: string | undefined;
  private readonly cursor: SegmentCursor;
  private segments: SegmentFile[] = [];
  private segmentIndex = -1;
  private next: number;
  private stopRequested = false;

  constructor(options: JournalDiskReaderOptions) {
    if (!(Number.isSafeInteger(options.fromSeq) && options.fromSeq >= 1)) throw new RangeError(`journal reader fromSeq must be a positive integer, got ${options.fromSeq}`);
    this.dataDir = options.dataDir;
    this.archiveDir = options.archiveDir;
    this.next = options.fromSeq;
    this.cursor = new SegmentCursor(options.chunkBytes ?? DEFAULT_CURSOR_CHUNK_BYTES);
  }

  /** The next seq read() delivers. */
  get nextSeq(): number {
    return this.next;
  }

  /** The segment being read and the offset of its next frame (for messages and tools). */
  get where(): string {
    return this.cursor.isOpen ? `${this.cursor.path} at byte ${this.cursor.nextOffset}` : '(no segment open)';
  }

  /**
   * Delivers entries next..min(maxSeq, next+limit-1) to `handler` (payload offset = the journal
   * header; the buffer is only valid during the call). Returns how many were delivered. With
   * maxSeq = TO_DISK_END it stops quietly where the files end.
   */
  read(handler: RecordHandler, limit: number, maxSeq: number): number {
    if (this.next > maxSeq || limit <= 0) return 0;
    if (this.segmentIndex < 0 && !this.locate(maxSeq === TO_DISK_END)) return 0;
    const cursor = this.cursor;
    let count = 0;
    let retried = false;
    while (count < limit && this.next <= maxSeq) {
      const status = cursor.next(true);
      if (status === CURSOR_FRAME) {
        if (cursor.seq !== this.next) {
          throw new JournalCorruptError(cursor.path, cursor.offset, `frame carries seq ${cursor.seq} where seq ${this.next} belongs`);
        }
        handler(cursor.typeId, cursor.version, cursor, cursor.payloadOffset, cursor.length);
        if (this.stopRequested) {
          // The handler could not take this entry: it stays next.
          this.stopRequested = false;
          cursor.unread();
          break;
        }
        this.next++;
        count++;
        retried = false;
        continue;
      }
      if (status === CURSOR_BAD) {
        throw new JournalCorruptError(cursor.path, cursor.offset, `${cursor.problem} while reading seq ${this.next}, which the sequencer reported written`);
      }
      // CURSOR_END: the rest is in the next segment, or (live segment) being written right now.
      if (this.openSegmentStarting(this.next)) continue;
      if (!retried) {
        retried = true;
        continue;
      }
      if (maxSeq === TO_DISK_END) break;
      throw new JournalCorruptError(cursor.path, cursor.offset, `seq ${this.next} was reported written but is neither here nor in a later segment of ${this.dataDir}`);
    }
    return count;
  }

  /** Called from inside a handler: the current entry is not taken, and read() returns. */
  stop(): void {
    this.stopRequested = true;
  }

  /** Drops read-ahead past the current position (call when the sequencer restarted). */
  forgetReadAhead(): void {
    this.cursor.forgetReadAhead();
  }

  /** Repositions at `seq` (the next read() delivers it). */
  seek(seq: number): void {
    this.next = seq;
    this.segmentIndex = -1;
    this.cursor.close();
  }

  close(): void {
    this.cursor.close();
    this.segmentIndex = -1;
  }

  /** Opens the segment holding `next` and skips to it; false (toEnd only) when next is past the end. */
  private locate(toEnd: boolean): boolean {
    this.segments = listSegments(this.dataDir, this.archiveDir);
    let index = -1;
    for (let i = 0; i < this.segments.length; i++) if (this.segments[i]!.firstSeq <= this.next) index = i;
    if (index < 0 && toEnd && this.segments.length === 0) return false;
    if (index < 0) {
      const earliest = this.segments.length === 0 ? 'there are no segments' : `the earliest segment starts at seq ${this.segments[0]!.firstSeq}`;
      throw new Error(`journal ${this.dataDir}${this.archiveDir === undefined ? '' : ` (archive ${this.archiveDir})`}: seq ${this.next} is not on disk: ${earliest}. If older days were archived, give the archive directory`);
    }
    this.open(index);
    const cursor = this.cursor;
    const header = cursor.header;
    if (typeof header === 'string') throw new JournalCorruptError(cursor.path, 0, `bad segment header: ${header}`);
    // Skip to next: frames before it are not handed out, so their CRC need not be checked here.
    let expected = header.firstSeq;
    while (expected < this.next) {
      const status = cursor.next(false);
      if (status !== CURSOR_FRAME || cursor.seq !== expected) {
        if (status === CURSOR_END && this.openSegmentStarting(expected)) continue;
        if (status === CURSOR_END && toEnd) {
          this.cursor.close();
          this.segmentIndex = -1;
          return false;
        }
        throw new JournalCorruptError(cursor.path, cursor.offset, status === CURSOR_FRAME ? `frame carries seq ${cursor.seq} where seq ${expected} belongs` : `cannot reach seq ${this.next}: ${status === CURSOR_END ? 'the segment ends' : cursor.problem} at seq ${expected}`);
      }
      expected++;
    }
    return true;
  }

  private open(index: number): void {
    const segment = this.segments[index]!;
    this.segmentIndex = index;
    if (segment.archived) this.cursor.openMemory(segment.path, zlib.gunzipSync(fs.readFileSync(segment.path)));
    else {
      try {
        this.cursor.openFile(segment.path);
      } catch (e) {
        // Archived (moved) between the listing and the open: list again and take the archive copy.
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        this.segments = listSegments(this.dataDir, this.archiveDir);
        const again = this.segments.findIndex((s) => s.firstSeq === segment.firstSeq);
        if (again < 0 || !this.segments[again]!.archived) throw e;
        this.open(again);
        return;
      }
    }
    const header = this.cursor.header;
    if (typeof header === 'string') throw new JournalCorruptError(segment.path, 0, `bad segment header: ${header}`);
    if (header.firstSeq !== segment.firstSeq) throw new JournalCorruptError(segment.path, 0, `header says first seq ${header.firstSeq}, the name says ${segment.firstSeq}`);
  }

  /** Switches to the segment whose first seq is `seq`, when it exists. */
  private openSegmentStarting(seq: number): boolean {
    const current = this.segmentIndex >= 0 ? this.segments[this.segmentIndex]!.firstSeq : -1;
    // The segment we are in may itself start at `seq` (it is empty so far): that is not a next one.
    const find = (): number => this.segments.findIndex((s) => s.firstSeq === seq && s.firstSeq !== current);
    let index = find();
    if (index < 0) {
      this.segments = listSegments(this.dataDir, this.archiveDir);
      index = find();
    }
    if (index < 0) return false;
    this.open(index);
    return true;
  }
}
