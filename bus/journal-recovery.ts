// Finding the journal's segments and recovering its valid end after a crash.
//
// Recovery rules (the sequencer runs this before it accepts anything; `verify` runs it read-only):
//  - Every segment header is checked (magic, version, CRC, the first seq its name promises).
//  - A segment that is not the newest was fsync'd before the next one was created (the writer
//    syncs before it rolls), so it must match, byte for byte, the size and CRC32C its successor's
//    header recorded; any difference is damage: its frames are walked to name the bad one, and the
//    start stops with file and offset.
//  - In the newest segment, a bad frame (short, zeroed, CRC mismatch, wrong seq) is a torn tail
//    unless a later valid frame proves it was durable (see durableLag in journal-format.ts): torn
//    tails are truncated, proven-durable damage stops the start.
//  - A newest segment whose header is incomplete and that holds nothing else is a segment whose
//    creation was cut short: it is removed.
//  - A record whose type or version this build does not know stops the start: it was written by
//    another release, and guessing its layout would corrupt every reader.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { MESSAGES, messageByTypeId } from './schema';
import {
  ARCHIVED_SEGMENT_SUFFIX,
  JournalCorruptError,
  parseSegmentFileName,
  SEGMENT_FILE_SUFFIX,
  SEGMENT_HEADER_BYTES,
  type JournalSnapshot,
} from './journal-format';
import { crcOfFilePrefix, CURSOR_BAD, CURSOR_END, SegmentCursor } from './journal-segment-cursor';

/** The layout version this build reads per type id (0: unknown type): one lookup per frame. */
const KNOWN_VERSION = new Uint8Array(0x10000);
for (const m of MESSAGES) KNOWN_VERSION[m.typeId] = m.version;

/** Written beside the segments when an fdatasync failed; the sequencer refuses to start while it exists. */
export const FSYNC_FAILED_MARKER = 'FSYNC-FAILED';

export interface SegmentFile {
  firstSeq: number;
  path: string;
  /** In the archive directory, gzip-compressed. */
  archived: boolean;
}

/**
 * Every segment of the journal, in seq order: `dataDir/*.seg`, then `archiveDir/<day>/*.seg.gz`.
 * A segment present in both (archive in progress) is taken from the data directory.
 */
export function listSegments(dataDir: string, archiveDir?: string): SegmentFile[] {
  const bySeq = new Map<number, SegmentFile>();
  if (archiveDir !== undefined && fs.existsSync(archiveDir)) {
    for (const day of fs.readdirSync(archiveDir)) {
      const dayDir = path.join(archiveDir, day);
      if (!/^[0-9]{8}$/.test(day) || !fs.statSync(dayDir).isDirectory()) continue;
      for (const name of fs.readdirSync(dayDir)) {
        if (!name.endsWith(ARCHIVED_SEGMENT_SUFFIX)) continue;
        const seq = parseSegmentFileName(name);
        if (seq > 0) bySeq.set(seq, { firstSeq: seq, path: path.join(dayDir, name), archived: true });
      }
    }
  }
  if (fs.existsSync(dataDir)) {
    for (const name of fs.readdirSync(dataDir)) {
      if (!name.endsWith(SEGMENT_FILE_SUFFIX)) continue;
      const seq = parseSegmentFileName(name);
      if (seq > 0) bySeq.set(seq, { firstSeq: seq, path: path.join(dataDir, name), archived: false });
    }
  }
  return [...bySeq.values()].sort((a, b) => a.firstSeq - b.firstSeq);
}

/** Called for every valid frame recovery scans; the cursor's fields describe the frame. */
export type FrameVisitor = (cursor: SegmentCursor) => void;

export interface RecoverOptions {
  /**
   * 'full': every older segment against the size and CRC32C its successor's header recorded (one
   * streaming pass each), and the newest frame by frame. 'tail': only the newest segment's frames
   * (every header is checked either way).
   */
  scan: 'full' | 'tail';
  /** Truncate a torn tail and remove a half-created segment (the sequencer); false for verify. */
  repair: boolean;
  /** Called with the first scanned segment's header (the state before its first frame), before any visit. */
  onStart?: (snapshot: JournalSnapshot) => void;
  visit?: FrameVisitor;
  cursor?: SegmentCursor;
}

export interface TornTail {
  file: string;
  offset: number;
  droppedBytes: number;
  problem: string;
}

export interface RecoveredJournal {
  /** Live segments (data directory), oldest first, after any repair. */
  segments: SegmentFile[];
  /** Where rebuilding state starts: the header of the first scanned segment (null: no segments). */
  startSnapshot: JournalSnapshot | null;
  /** Header of the newest segment (null: no segments). */
  tailSnapshot: JournalSnapshot | null;
  /** The last seq on disk (0 when the journal is empty). */
  headSeq: number;
  /** The newest segment and the offset where the next frame goes (null: no segments). */
  tail: { path: string; firstSeq: number; endOffset: number } | null;
  /** A torn tail found (and truncated when repair was asked). */
  torn: TornTail | null;
  /** Half-created segments found (and removed when repair was asked). */
  removed: string[];
  scannedFrames: number;
  scannedBytes: number;
}

export function assertNoFsyncFailure(dataDir: string): void {
  const marker = path.join(dataDir, FSYNC_FAILED_MARKER);
  if (!fs.existsSync(marker)) return;
  let detail = '';
  try {
    detail = fs.readFileSync(marker, 'utf8').trim();
  } catch {
    detail = '(marker unreadable)';
  }
  throw new Error(
    `journal ${dataDir}: an earlier fdatasync failed (${detail}). Data written after the last good sync may read back from the page cache yet not be on disk. ` +
      `Check the disk (dmesg), copy the data directory aside, run 'ims journal verify', then remove ${marker} to start the sequencer`,
  );
}

/** Scans the journal in `dataDir` and finds its valid end; see the rules at the top of the file. */
export function recoverJournal(dataDir: string, options: RecoverOptions): RecoveredJournal {
  const cursor = options.cursor ?? new SegmentCursor();
  const result: RecoveredJournal = {
    segments: listSegments(dataDir),
    startSnapshot: null,
    tailSnapshot: null,
    headSeq: 0,
    tail: null,
    torn: null,
    removed: [],
    scannedFrames: 0,
    scannedBytes: 0,
  };
  const segments = result.segments;
  try {
    // A newest segment whose creation was cut short (header incomplete, nothing after it).
    while (segments.length > 0) {
      const newest = segments[segments.length - 1]!;
      const header = cursor.openFile(newest.path);
      cursor.close();
      if (typeof header !== 'string') break;
      const size = fs.statSync(newest.path).size;
      if (size > SEGMENT_HEADER_BYTES) {
        throw new JournalCorruptError(newest.path, 0, `bad segment header: ${header}`);
      }
      result.removed.push(newest.path);
      if (!options.repair) break;
      fs.unlinkSync(newest.path);
      segments.pop();
    }
    const live = options.repair ? segments : segments.slice(0, segments.length - result.removed.length);
    if (live.length === 0) return result;

    // Every header: valid, and describing the file it is in.
    const headers: JournalSnapshot[] = [];
    for (const segment of live) {
      const header = cursor.openFile(segment.path);
      cursor.close();
      if (typeof header === 'string') throw new JournalCorruptError(segment.path, 0, `bad segment header: ${header}`);
      if (header.firstSeq !== segment.firstSeq) {
        throw new JournalCorruptError(segment.path, 0, `header says the first seq is ${header.firstSeq} but the file is named for ${segment.firstSeq}`);
      }
      headers.push(header);
    }
    // Older segments: one streaming checksum each against what their successor's header recorded.
    if (options.scan === 'full') {
      for (let i = 0; i < live.length - 1; i++) {
        result.scannedBytes += verifyClosedSegment(live[i]!, headers[i]!, headers[i + 1]!, cursor);
      }
    }
    // The newest segment: frame by frame (the only one that can have a torn tail).
    const newest = live[live.length - 1]!;
    const header = headers[headers.length - 1]!;
    result.startSnapshot = header;
    result.tailSnapshot = header;
    options.onStart?.(header);
    cursor.openFile(newest.path);
    const scan = scanFrames(cursor, newest, header.firstSeq, options.visit);
    result.scannedFrames += scan.frames;
    result.scannedBytes += cursor.nextOffset;
    if (scan.bad !== null) {
      const claim = cursor.highestDurableClaimAfterBad();
      if (claim >= scan.nextSeq) {
        throw new JournalCorruptError(newest.path, scan.bad.offset, `${scan.bad.problem} at seq ${scan.nextSeq}; a later record proves seq ${claim} was durable when it was written, so this is damage, not a torn write`);
      }
      const size = fs.statSync(newest.path).size;
      result.torn = { file: newest.path, offset: scan.bad.offset, droppedBytes: size - scan.bad.offset, problem: scan.bad.problem };
      if (options.repair) truncateDurably(newest.path, scan.bad.offset);
    }
    result.headSeq = scan.nextSeq - 1;
    result.tail = { path: newest.path, firstSeq: newest.firstSeq, endOffset: scan.bad === null ? cursor.nextOffset : scan.bad.offset };
    cursor.close();
    return result;
  } finally {
    cursor.close();
  }
}

/**
 * Walks the frames of a segment from its first seq, checking CRC, seq order and known layout
 * versions, calling `visit` for each good frame. Stops at the end or at the first bad frame
 * (returned; the caller decides torn tail or damage). Unknown layout versions always throw.
 */
function scanFrames(cursor: SegmentCursor, segment: SegmentFile, firstSeq: number, visit?: FrameVisitor): { frames: number; nextSeq: number; bad: { offset: number; problem: string } | null } {
  let expected = firstSeq;
  let frames = 0;
  for (;;) {
    let status = cursor.next(true);
    if (status > 0 && cursor.seq !== expected) {
      status = CURSOR_BAD;
      cursor.problem = `frame carries seq ${cursor.seq} where seq ${expected} belongs`;
    }
    if (status === CURSOR_END) return { frames, nextSeq: expected, bad: null };
    if (status === CURSOR_BAD) return { frames, nextSeq: expected, bad: { offset: cursor.offset, problem: cursor.problem } };
    const known = KNOWN_VERSION[cursor.typeId]!;
    if (known === 0 || known !== cursor.version) {
      const desc = messageByTypeId(cursor.typeId);
      throw new JournalCorruptError(
        segment.path,
        cursor.offset,
        `record seq ${cursor.seq} has type ${cursor.typeId} version ${cursor.version}, which this build does not know` +
          (desc === undefined ? '' : ` (it reads ${desc.name} version ${desc.version})`),
        'the journal was written by another IMS release: run that release, or upgrade this one; do not edit the segment',
      );
    }
    visit?.(cursor);
    frames++;
    expected++;
  }
}

/**
 * Checks a closed (non-newest) segment against the size and CRC32C its successor's header
 * recorded. On a mismatch, walks its frames to name the damaged one. Returns the bytes checked.
 */
function verifyClosedSegment(segment: SegmentFile, header: JournalSnapshot, successor: JournalSnapshot, cursor: SegmentCursor): number {
  const size = fs.statSync(segment.path).size;
  if (successor.prevSegmentBytes !== 0) {
    if (size === successor.prevSegmentBytes && crcOfFilePrefix(segment.path, size, cursor.chunkBuffer) === successor.prevSegmentCrc) return size;
  }
  // No checksum recorded, or it does not match: find the damage frame by frame.
  cursor.openFile(segment.path);
  const scan = scanFrames(cursor, segment, header.firstSeq);
  const end = cursor.nextOffset;
  cursor.close();
  if (scan.bad !== null) {
    throw new JournalCorruptError(segment.path, scan.bad.offset, `${scan.bad.problem}; a newer segment exists, so this record was durable (segments are synced before the next one is created)`);
  }
  if (scan.nextSeq !== successor.firstSeq) {
    throw new JournalCorruptError(segment.path, end, `ends at seq ${scan.nextSeq - 1} but the next segment starts at seq ${successor.firstSeq} (a segment is missing or overlaps)`);
  }
  if (successor.prevSegmentBytes !== 0 && size !== successor.prevSegmentBytes) {
    throw new JournalCorruptError(segment.path, Math.min(size, successor.prevSegmentBytes), `is ${size} bytes but the next segment's header records ${successor.prevSegmentBytes}`);
  }
  if (successor.prevSegmentBytes !== 0) {
    throw new JournalCorruptError(segment.path, 0, `its checksum does not match the one the next segment's header records, yet every record is valid: the header or padding was damaged`);
  }
  return size;
}

function truncateDurably(file: string, length: number): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.ftruncateSync(fd, length);
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
