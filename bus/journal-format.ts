// The one description of the journal's on-disk format: segment files, their header, record frames.
// The writer, the recovery scan, the disk reader, archive and `ims journal verify` all derive their
// offsets from here; nothing else hard-codes one.
//
// The journal is a directory of segment files, named after the seq of their first record so that
// a sorted listing is the journal in order: `<dataDir>/00000000000000000001.seg`, ... A segment is
// a header page followed by record frames back to back; it is append-only and closed (never written
// again) once the next segment exists. Closed trading days are moved, gzip-compressed, to
// `<archiveDir>/<yyyymmdd>/<name>.seg.gz`; readers read both places.
//
//   SEGMENT HEADER (SEGMENT_HEADER_BYTES = 4096, one page, so records start page-aligned)
//   +-------------+---------------+---------+-------------+-------------+
//   | 0 magic u32 | 4 version u16 | 6 flags | 8 hdrBytes  | 12 hdrCrc   |  hdrCrc = CRC32C of bytes
//   |  "IMSJ"     |   (=1)        |   u16   |   u32       |    u32      |  [16, 64 + 16*sourceCount)
//   +-------------+---------------+---------+-------------+-------------+
//   | 16 firstSeq i64 | 24 createdUs i64 | 32 lastTimestampUs i64        |  the sequencer's state just
//   | 40 lastOutInSeq i64 | 48 engineEpoch u32 | 52 lastOutIndex u32     |  BEFORE firstSeq: a snapshot,
//   | 56 tradingDay u32 | 60 sourceCount u32                            |  so recovery (and archived
//   +-------------------------------------------------------------------+  days) need no older file
//   | 64 prevSegmentBytes i64 | 72 prevSegmentCrc u32 | 76 reserved u32 |  the previous segment's size
//   +-------------------------------------------------------------------+  and CRC32C of all its bytes
//   | 80 sources[sourceCount], 16 bytes each:                           |  (0, 0 for the first one)
//   |    0 lastSourceSeq i64 | 8 sourceId u16 | 10 reserved u16 | 12 u32 |
//   +-------------------------------------------------------------------+
//   | zero padding up to 4096                                           |
//   +-------------------------------------------------------------------+
//
// Why the previous segment's checksum: a segment is closed (synced, never written again) when the
// next one is created, so the writer can record a CRC32C of every byte of it there. Recovery then
// checks each older segment with one streaming CRC pass (gigabytes per second) instead of one call
// per record, and only the newest segment, the one that can have a torn tail, frame by frame.
//
//   RECORD FRAME (FRAME_HEADER_BYTES = 16, then the payload, padded to 8)
//   +-----------+------------+-------------+------------+-----------+----------------------+
//   | 0 crc u32 | 4 length   | 8 typeId    | 10 version | 11 flags  | 12 durableLag u32    |
//   |  CRC32C   |   u32      |   u16       |    u8      |    u8     |  seq minus the seq   |
//   |  of bytes |  payload   |  (= ring    |  (= ring   |  (0)      |  that was durable    |
//   |  [4, 16+  |  bytes     |   record    |   record   |           |  when this frame was |
//   |  length)  |            |   typeId)   |   version) |           |  written (see below) |
//   +-----------+------------+-------------+------------+-----------+----------------------+
//   | 16 payload: JournalHeader (32 bytes: seq, timestampUs, the input header) + body       |
//   |    -- byte for byte the payload of the journal ring record                            |
//   +---------------------------------------------------------------------------------------+
//
// The CRC covers the length, so a frame whose length word was damaged does not pass. A frame of
// zeros (length 0) is never valid: it is where a file ends or a write never landed.
//
// Why durableLag: after a power loss the last batch may be on disk only in part, and not in order
// (page writeback is unordered), so a bad frame can sit before good ones. Recovery must tell a torn
// tail (never acknowledged: truncate it) from damage to data that was acknowledged (stop loudly).
// Each frame records how far the durable position lagged when it was written; a good frame that
// says "seq S was durable when I was written" proves that any bad frame at or before S is damage,
// not a torn write. With none, the bad frame was never known durable, and truncating it loses
// nothing anyone was told was safe.

import { native } from '../native/addon';
import { readI64, writeI64 } from './codec';
import { JOURNAL_HEADER_BYTES, JournalHeader, MAX_BODY_BYTES } from './schema';

export const SEGMENT_MAGIC = 0x4a534d49; // "IMSJ" little-endian
export const SEGMENT_FORMAT_VERSION = 1;
export const SEGMENT_HEADER_BYTES = 4096;
export const SEGMENT_FILE_SUFFIX = '.seg';
export const ARCHIVED_SEGMENT_SUFFIX = '.seg.gz';
/** Digits in a segment name: every safe integer fits, and names sort as numbers. */
export const SEGMENT_NAME_DIGITS = 20;

/** Byte offsets inside the segment header. */
export const SegmentHeader = {
  MAGIC: 0,
  FORMAT_VERSION: 4,
  FLAGS: 6,
  HEADER_BYTES: 8,
  HEADER_CRC: 12,
  FIRST_SEQ: 16,
  CREATED_US: 24,
  LAST_TIMESTAMP_US: 32,
  LAST_OUT_IN_SEQ: 40,
  ENGINE_EPOCH: 48,
  LAST_OUT_INDEX: 52,
  TRADING_DAY: 56,
  SOURCE_COUNT: 60,
  PREV_SEGMENT_BYTES: 64,
  PREV_SEGMENT_CRC: 72,
  SOURCES: 80,
} as const;

/** Offsets inside one source entry of the segment header. */
export const SourceEntry = { LAST_SOURCE_SEQ: 0, SOURCE_ID: 8 } as const;
export const SOURCE_ENTRY_BYTES = 16;
/** How many producers (source ids) one journal tracks: what fits the header page. */
export const MAX_SOURCES = (SEGMENT_HEADER_BYTES - SegmentHeader.SOURCES) / SOURCE_ENTRY_BYTES;

/** Byte offsets inside a record frame. */
export const Frame = {
  CRC: 0,
  LENGTH: 4,
  TYPE_ID: 8,
  VERSION: 10,
  FLAGS: 11,
  DURABLE_LAG: 12,
  PAYLOAD: 16,
} as const;
export const FRAME_HEADER_BYTES = 16;
export const FRAME_ALIGNMENT = 8;
/** Where the CRC starts: it covers the length word and everything after it. */
export const FRAME_CRC_FROM = Frame.LENGTH;
/** The largest payload a frame may carry: a journal header and the largest body, with room to grow. */
export const MAX_FRAME_PAYLOAD_BYTES = 4096;
export const MAX_FRAME_BYTES = FRAME_HEADER_BYTES + MAX_FRAME_PAYLOAD_BYTES;
export const MAX_DURABLE_LAG = 0xffffffff;

/** Offsets of the journal header fields inside a frame's payload (from bus/schema.ts). */
export const ENTRY_SEQ = JournalHeader.o.seq;
export const ENTRY_TIMESTAMP_US = JournalHeader.o.timestampUs;
export const ENTRY_SOURCE_SEQ = JournalHeader.o.sourceSeq;
export const ENTRY_SOURCE_ID = JournalHeader.o.sourceId;
export const ENTRY_EPOCH = JournalHeader.o.epoch;

if (JOURNAL_HEADER_BYTES + MAX_BODY_BYTES > MAX_FRAME_PAYLOAD_BYTES) {
  throw new Error(`journal-format: the largest message (${JOURNAL_HEADER_BYTES + MAX_BODY_BYTES} bytes) exceeds MAX_FRAME_PAYLOAD_BYTES ${MAX_FRAME_PAYLOAD_BYTES}`);
}

export function alignFrame(n: number): number {
  return (n + (FRAME_ALIGNMENT - 1)) & ~(FRAME_ALIGNMENT - 1);
}

/** Bytes a frame of `payloadBytes` occupies in a segment. */
export function frameBytes(payloadBytes: number): number {
  return FRAME_HEADER_BYTES + alignFrame(payloadBytes);
}

/** CRC32C of a frame whose first byte is at `frameOffset` of `bytes`. */
export function frameCrc(bytes: ArrayBufferView, frameOffset: number, payloadBytes: number): number {
  return native.crc32c(bytes, frameOffset + FRAME_CRC_FROM, FRAME_HEADER_BYTES - FRAME_CRC_FROM + payloadBytes);
}

/**
 * The codec's i64 primitives (lo u32 + hi i32, no BigInt), under the names the journal code uses.
 * Plain constants, not `export { } from` (which compiles to a getter called on every use).
 */
export const getI64: typeof readI64 = readI64;
export const setI64: typeof writeI64 = writeI64;

// ---------------------------------------------------------------------------------------------
// Segment names.

export function segmentFileName(firstSeq: number): string {
  return String(firstSeq).padStart(SEGMENT_NAME_DIGITS, '0') + SEGMENT_FILE_SUFFIX;
}

/** The first seq a segment file name stands for, or -1 when the name is not a segment's. */
export function parseSegmentFileName(name: string): number {
  let stem: string;
  if (name.endsWith(ARCHIVED_SEGMENT_SUFFIX)) stem = name.slice(0, -ARCHIVED_SEGMENT_SUFFIX.length);
  else if (name.endsWith(SEGMENT_FILE_SUFFIX)) stem = name.slice(0, -SEGMENT_FILE_SUFFIX.length);
  else return -1;
  if (stem.length !== SEGMENT_NAME_DIGITS || !/^[0-9]+$/.test(stem)) return -1;
  const seq = Number(stem);
  return Number.isSafeInteger(seq) && seq >= 1 ? seq : -1;
}

// ---------------------------------------------------------------------------------------------
// The state snapshot a segment header carries.

/** What the sequencer knew just before a segment's first record. */
export interface JournalSnapshot {
  /** The seq of the segment's first record (= last seq before it + 1). */
  firstSeq: number;
  createdUs: number;
  /** Timestamp of the entry before firstSeq: the floor of the monotonic clock after a restart. */
  lastTimestampUs: number;
  /** Highest engine epoch journaled so far (0 = none). */
  engineEpoch: number;
  /** (inSeq, outIndex) of the last journaled engine output; inSeq 0 = none yet. */
  lastOutInSeq: number;
  lastOutIndex: number;
  /** The trading day open at that point (yyyymmdd), 0 when none is open. */
  tradingDay: number;
  /** Last sourceSeq taken from each producer. */
  sources: Array<{ sourceId: number; lastSourceSeq: number }>;
  /** Size and CRC32C of the whole previous segment file (0 and 0 when there is none); set by the writer. */
  prevSegmentBytes: number;
  prevSegmentCrc: number;
}

export function emptySnapshot(firstSeq = 1): JournalSnapshot {
  return { firstSeq, createdUs: 0, lastTimestampUs: 0, engineEpoch: 0, lastOutInSeq: 0, lastOutIndex: 0, tradingDay: 0, sources: [], prevSegmentBytes: 0, prevSegmentCrc: 0 };
}

/** Writes a segment header into `bytes` (SEGMENT_HEADER_BYTES long, zeroed here). */
export function encodeSegmentHeader(snapshot: JournalSnapshot, bytes: Uint8Array): void {
  if (bytes.byteLength < SEGMENT_HEADER_BYTES) throw new RangeError(`segment header needs ${SEGMENT_HEADER_BYTES} bytes`);
  if (snapshot.sources.length > MAX_SOURCES) {
    throw new RangeError(`journal tracks at most ${MAX_SOURCES} sources, got ${snapshot.sources.length}`);
  }
  bytes.fill(0, 0, SEGMENT_HEADER_BYTES);
  const view = new DataView(bytes.buffer, bytes.byteOffset, SEGMENT_HEADER_BYTES);
  view.setUint32(SegmentHeader.MAGIC, SEGMENT_MAGIC, true);
  view.setUint16(SegmentHeader.FORMAT_VERSION, SEGMENT_FORMAT_VERSION, true);
  view.setUint32(SegmentHeader.HEADER_BYTES, SEGMENT_HEADER_BYTES, true);
  setI64(view, SegmentHeader.FIRST_SEQ, snapshot.firstSeq);
  setI64(view, SegmentHeader.CREATED_US, snapshot.createdUs);
  setI64(view, SegmentHeader.LAST_TIMESTAMP_US, snapshot.lastTimestampUs);
  setI64(view, SegmentHeader.LAST_OUT_IN_SEQ, snapshot.lastOutInSeq);
  view.setUint32(SegmentHeader.ENGINE_EPOCH, snapshot.engineEpoch, true);
  view.setUint32(SegmentHeader.LAST_OUT_INDEX, snapshot.lastOutIndex, true);
  view.setUint32(SegmentHeader.TRADING_DAY, snapshot.tradingDay, true);
  view.setUint32(SegmentHeader.SOURCE_COUNT, snapshot.sources.length, true);
  setI64(view, SegmentHeader.PREV_SEGMENT_BYTES, snapshot.prevSegmentBytes);
  view.setUint32(SegmentHeader.PREV_SEGMENT_CRC, snapshot.prevSegmentCrc >>> 0, true);
  // Sorted by source id so the same state always gives the same bytes.
  const sources = [...snapshot.sources].sort((a, b) => a.sourceId - b.sourceId);
  for (let i = 0; i < sources.length; i++) {
    const at = SegmentHeader.SOURCES + i * SOURCE_ENTRY_BYTES;
    setI64(view, at + SourceEntry.LAST_SOURCE_SEQ, sources[i]!.lastSourceSeq);
    view.setUint16(at + SourceEntry.SOURCE_ID, sources[i]!.sourceId, true);
  }
  view.setUint32(SegmentHeader.HEADER_CRC, headerCrc(bytes, sources.length), true);
}

function headerCrc(bytes: Uint8Array, sourceCount: number): number {
  const from = SegmentHeader.FIRST_SEQ;
  return native.crc32c(bytes, from, SegmentHeader.SOURCES + sourceCount * SOURCE_ENTRY_BYTES - from);
}

/**
 * Reads and checks a segment header. Returns the snapshot, or a string saying what is wrong (the
 * caller decides whether that is a torn creation or damage, and names the file).
 */
export function decodeSegmentHeader(bytes: Uint8Array): JournalSnapshot | string {
  if (bytes.byteLength < SEGMENT_HEADER_BYTES) return `header is ${bytes.byteLength} bytes, expected ${SEGMENT_HEADER_BYTES}`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, SEGMENT_HEADER_BYTES);
  const magic = view.getUint32(SegmentHeader.MAGIC, true);
  if (magic !== SEGMENT_MAGIC) return `bad magic 0x${magic.toString(16)} (expected 0x${SEGMENT_MAGIC.toString(16)}): not an IMS journal segment`;
  const version = view.getUint16(SegmentHeader.FORMAT_VERSION, true);
  if (version !== SEGMENT_FORMAT_VERSION) {
    return `segment format version ${version}, this build reads version ${SEGMENT_FORMAT_VERSION}: it was written by another IMS release; run that release (or convert the journal) instead`;
  }
  const headerBytes = view.getUint32(SegmentHeader.HEADER_BYTES, true);
  if (headerBytes !== SEGMENT_HEADER_BYTES) return `header says it is ${headerBytes} bytes, expected ${SEGMENT_HEADER_BYTES}`;
  const sourceCount = view.getUint32(SegmentHeader.SOURCE_COUNT, true);
  if (sourceCount > MAX_SOURCES) return `header lists ${sourceCount} sources, at most ${MAX_SOURCES} fit`;
  const crc = view.getUint32(SegmentHeader.HEADER_CRC, true);
  if (crc !== headerCrc(bytes, sourceCount)) return `header CRC mismatch (stored 0x${crc.toString(16)})`;
  const sources: JournalSnapshot['sources'] = [];
  for (let i = 0; i < sourceCount; i++) {
    const at = SegmentHeader.SOURCES + i * SOURCE_ENTRY_BYTES;
    sources.push({ sourceId: view.getUint16(at + SourceEntry.SOURCE_ID, true), lastSourceSeq: getI64(view, at + SourceEntry.LAST_SOURCE_SEQ) });
  }
  const firstSeq = getI64(view, SegmentHeader.FIRST_SEQ);
  if (!Number.isSafeInteger(firstSeq) || firstSeq < 1) return `header firstSeq ${firstSeq} is not a positive safe integer`;
  return {
    firstSeq,
    createdUs: getI64(view, SegmentHeader.CREATED_US),
    lastTimestampUs: getI64(view, SegmentHeader.LAST_TIMESTAMP_US),
    engineEpoch: view.getUint32(SegmentHeader.ENGINE_EPOCH, true),
    lastOutInSeq: getI64(view, SegmentHeader.LAST_OUT_IN_SEQ),
    lastOutIndex: view.getUint32(SegmentHeader.LAST_OUT_INDEX, true),
    tradingDay: view.getUint32(SegmentHeader.TRADING_DAY, true),
    sources,
    prevSegmentBytes: getI64(view, SegmentHeader.PREV_SEGMENT_BYTES),
    prevSegmentCrc: view.getUint32(SegmentHeader.PREV_SEGMENT_CRC, true),
  };
}

/** A corrupt journal: names the file and the byte offset, and says what to do. */
export class JournalCorruptError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly problem: string,
    advice = "the journal is damaged where it was known durable; do not delete anything: copy the data directory aside, run 'ims journal verify', and restore this segment from a replica or backup",
  ) {
    super(`journal segment ${file} at byte offset ${offset}: ${problem}; ${advice}`);
    this.name = 'JournalCorruptError';
  }
}
