// Reads the record frames of one segment in order, from a file (read in large chunks into one
// buffer allocated at construction) or from memory (an archived segment, decompressed whole). The
// recovery scan, the disk reader, replay and verify all walk segments through this one cursor, so
// a frame is checked the same way everywhere.
//
// Expected conditions are return codes: FRAME (the fields below describe it), END (no more bytes),
// BAD (`problem` says why; `offset` is where). What a BAD frame means (torn tail or damage) depends
// on where it is, which only the caller knows.

import * as fs from 'node:fs';
import { native } from '../native/addon';
import type { RecordBuffer } from './ring';
import {
  alignFrame,
  decodeSegmentHeader,
  ENTRY_SEQ,
  Frame,
  FRAME_HEADER_BYTES,
  FRAME_ALIGNMENT,
  frameCrc,
  getI64,
  MAX_FRAME_BYTES,
  MAX_FRAME_PAYLOAD_BYTES,
  SEGMENT_HEADER_BYTES,
  type JournalSnapshot,
} from './journal-format';
import { JOURNAL_HEADER_BYTES } from './schema';

export const CURSOR_BAD = -1;
export const CURSOR_END = 0;
export const CURSOR_FRAME = 1;

/** Default read size: large enough that a sequential scan costs one syscall per ~40,000 records. */
export const DEFAULT_CURSOR_CHUNK_BYTES = 4 << 20;

export class SegmentCursor implements RecordBuffer {
  /** The buffer frames are read into (RecordBuffer: handlers read payloads from here). */
  bytes: Uint8Array;
  view: DataView;
  path = '';
  /** Decoded header of the open segment, or the problem with it. */
  header: JournalSnapshot | string = 'no segment open';

  // The frame last returned by next() (valid after CURSOR_FRAME).
  /** File offset of the frame (of the bad bytes, after CURSOR_BAD). */
  offset = 0;
  /** Index in `bytes` where the payload (journal header) starts. */
  payloadOffset = 0;
  length = 0;
  typeId = 0;
  version = 0;
  seq = 0;
  durableLag = 0;
  /** Why the last next() returned CURSOR_BAD. */
  problem = '';

  private readonly chunk: Buffer;
  private fd = -1;
  /** File offset of bytes[0]. */
  private bufferFileOffset = 0;
  /** Index in bytes of the current frame. */
  private start = 0;
  /** Bytes of the current frame (skipped by the next call to next()). */
  private frameLength = 0;
  /** Valid bytes in the buffer. */
  private end = 0;
  private fileBacked = true;

  constructor(chunkBytes = DEFAULT_CURSOR_CHUNK_BYTES) {
    if (!(chunkBytes >= MAX_FRAME_BYTES * 2 && chunkBytes >= SEGMENT_HEADER_BYTES)) {
      throw new RangeError(`cursor chunk of ${chunkBytes} bytes cannot hold two frames of ${MAX_FRAME_BYTES}`);
    }
    // Its own ArrayBuffer (not Node's pool), so byte offsets in `view` are offsets in `bytes`.
    this.chunk = Buffer.allocUnsafeSlow(chunkBytes);
    this.bytes = this.chunk;
    this.view = new DataView(this.chunk.buffer, this.chunk.byteOffset, this.chunk.byteLength);
  }

  /** The read buffer, lent to one-pass checks (nothing of an open segment may be in it). */
  get chunkBuffer(): Buffer {
    return this.chunk;
  }

  /** True while a segment is open. */
  get isOpen(): boolean {
    return this.fd >= 0 || !this.fileBacked;
  }

  /** File offset just past the last frame returned (where the next frame starts). */
  get nextOffset(): number {
    return this.bufferFileOffset + this.start + this.frameLength;
  }

  /**
   * Opens a segment file and reads its header; positions the cursor at `fileOffset` (the first
   * frame by default). Returns the header or a string saying what is wrong with it.
   */
  openFile(path: string, fileOffset = SEGMENT_HEADER_BYTES): JournalSnapshot | string {
    this.close();
    this.path = path;
    this.fileBacked = true;
    this.bytes = this.chunk;
    this.view = new DataView(this.chunk.buffer, this.chunk.byteOffset, this.chunk.byteLength);
    this.fd = fs.openSync(path, 'r');
    const got = readFully(this.fd, this.chunk, 0, SEGMENT_HEADER_BYTES, 0);
    this.header = got < SEGMENT_HEADER_BYTES ? `file is ${got} bytes, shorter than the ${SEGMENT_HEADER_BYTES}-byte header` : decodeSegmentHeader(this.chunk);
    this.seekTo(fileOffset);
    return this.header;
  }

  /** Opens a segment held in memory (a decompressed archive); `data` is the whole file. */
  openMemory(path: string, data: Buffer, fileOffset = SEGMENT_HEADER_BYTES): JournalSnapshot | string {
    this.close();
    this.path = path;
    this.fileBacked = false;
    this.bytes = data;
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.header = data.byteLength < SEGMENT_HEADER_BYTES ? `file is ${data.byteLength} bytes, shorter than the ${SEGMENT_HEADER_BYTES}-byte header` : decodeSegmentHeader(data.subarray(0, SEGMENT_HEADER_BYTES));
    this.bufferFileOffset = 0;
    this.start = fileOffset;
    this.frameLength = 0;
    this.end = data.byteLength;
    return this.header;
  }

  /** Repositions at a frame boundary (a file offset from an earlier nextOffset). */
  seekTo(fileOffset: number): void {
    if (!this.fileBacked) {
      this.start = fileOffset;
      this.frameLength = 0;
      return;
    }
    this.bufferFileOffset = fileOffset;
    this.start = 0;
    this.end = 0;
    this.frameLength = 0;
  }

  /**
   * Forgets buffered bytes after the current frame, so the next call re-reads them from the file.
   * A reader that stopped at the durable position calls this: bytes past it may still change
   * (a torn tail that a restarted sequencer truncates and rewrites).
   */
  forgetReadAhead(): void {
    if (!this.fileBacked) return;
    this.end = this.start + this.frameLength;
  }

  /** Makes the next call to next() return the current frame again. */
  unread(): void {
    this.frameLength = 0;
  }

  /** Advances to the next frame. verifyCrc=false only for seeking through already-verified data. */
  next(verifyCrc = true): number {
    this.start += this.frameLength;
    this.frameLength = 0;
    if (this.end - this.start < FRAME_HEADER_BYTES && !this.fill(FRAME_HEADER_BYTES)) {
      this.offset = this.bufferFileOffset + this.start;
      if (this.end === this.start) return CURSOR_END;
      return this.bad(`the file ends ${this.end - this.start} bytes into a frame header`);
    }
    const view = this.view;
    const at = this.start;
    this.offset = this.bufferFileOffset + at;
    const length = view.getUint32(at + Frame.LENGTH, true);
    if (length < JOURNAL_HEADER_BYTES || length > MAX_FRAME_PAYLOAD_BYTES) {
      if (length === 0 && view.getUint32(at + Frame.CRC, true) === 0) return this.bad('zeroed bytes where a frame should start (a write that never landed)');
      return this.bad(`implausible frame length ${length} (a frame carries ${JOURNAL_HEADER_BYTES}..${MAX_FRAME_PAYLOAD_BYTES} payload bytes)`);
    }
    const total = FRAME_HEADER_BYTES + alignFrame(length);
    if (this.end - at < total && !this.fill(total)) {
      return this.bad(`the file ends inside a ${total}-byte frame (${this.end - this.start} bytes present)`);
    }
    // fill() may have moved the frame to the front of the buffer.
    const base = this.start;
    if (verifyCrc) {
      const stored = view.getUint32(base + Frame.CRC, true);
      if (stored !== frameCrc(this.bytes, base, length)) return this.bad(`CRC mismatch (stored 0x${stored.toString(16)})`);
    }
    this.frameLength = total;
    this.length = length;
    this.typeId = view.getUint16(base + Frame.TYPE_ID, true);
    this.version = view.getUint8(base + Frame.VERSION);
    this.durableLag = view.getUint32(base + Frame.DURABLE_LAG, true);
    this.payloadOffset = base + Frame.PAYLOAD;
    this.seq = getI64(view, this.payloadOffset + ENTRY_SEQ);
    return CURSOR_FRAME;
  }

  /**
   * Looks for a valid frame (CRC good) at any 8-byte boundary after the current bad one, up to
   * the end of the file: the evidence recovery needs to tell a torn tail from damage. Returns
   * the highest "durable when written" seq such frames claim (seq - durableLag), or 0 for none.
   */
  highestDurableClaimAfterBad(): number {
    const from = this.offset + FRAME_ALIGNMENT;
    if (!this.fileBacked) return claimsIn(this.bytes, from, this.bytes.byteLength);
    const size = fs.fstatSync(this.fd).size;
    if (size <= from) return 0;
    // A rare path (recovery found a bad frame): read the rest of the segment at once; it is
    // bounded by the segment size.
    const rest = Buffer.allocUnsafeSlow(size - from);
    readFully(this.fd, rest, 0, rest.byteLength, from);
    return claimsIn(rest, 0, rest.byteLength);
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
    this.fileBacked = true;
    this.bytes = this.chunk;
    this.view = new DataView(this.chunk.buffer, this.chunk.byteOffset, this.chunk.byteLength);
    this.start = this.end = this.frameLength = this.bufferFileOffset = 0;
  }

  private bad(problem: string): number {
    this.problem = problem;
    this.offset = this.bufferFileOffset + this.start;
    return CURSOR_BAD;
  }

  /** Makes at least `need` bytes available from `start`; false at the end of the file. */
  private fill(need: number): boolean {
    if (!this.fileBacked || this.fd < 0) return this.end - this.start >= need;
    const buf = this.chunk;
    if (this.start > 0) {
      buf.copyWithin(0, this.start, this.end);
      this.bufferFileOffset += this.start;
      this.end -= this.start;
      this.start = 0;
    }
    while (this.end < need) {
      const n = fs.readSync(this.fd, buf, this.end, buf.byteLength - this.end, this.bufferFileOffset + this.end);
      if (n === 0) return false;
      this.end += n;
    }
    return true;
  }
}

/** The highest (seq - durableLag) of the valid frames at 8-byte boundaries of bytes[from, end). */
function claimsIn(bytes: Uint8Array, from: number, end: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let best = 0;
  for (let at = from; at + FRAME_HEADER_BYTES + JOURNAL_HEADER_BYTES <= end; at += FRAME_ALIGNMENT) {
    const length = view.getUint32(at + Frame.LENGTH, true);
    if (length < JOURNAL_HEADER_BYTES || length > MAX_FRAME_PAYLOAD_BYTES || at + FRAME_HEADER_BYTES + length > end) continue;
    if (view.getUint32(at + Frame.CRC, true) !== frameCrc(bytes, at, length)) continue;
    const claim = getI64(view, at + Frame.PAYLOAD + ENTRY_SEQ) - view.getUint32(at + Frame.DURABLE_LAG, true);
    if (claim > best) best = claim;
  }
  return best;
}

/** Reads until `length` bytes arrived or the file ended; returns the bytes read. */
export function readFully(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buf, offset + done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** CRC32C of the first `length` bytes of a file, read in large chunks (one streaming pass). */
export function crcOfFilePrefix(file: string, length: number, chunk?: Buffer): number {
  const buf = chunk ?? Buffer.allocUnsafeSlow(DEFAULT_CURSOR_CHUNK_BYTES);
  const fd = fs.openSync(file, 'r');
  try {
    let crc = 0;
    let at = 0;
    while (at < length) {
      const n = fs.readSync(fd, buf, 0, Math.min(buf.byteLength, length - at), at);
      if (n === 0) throw new Error(`journal: ${file} ends at byte ${at}, expected ${length}`);
      crc = native.crc32c(buf, 0, n, crc);
      at += n;
    }
    return crc;
  } finally {
    fs.closeSync(fd);
  }
}
