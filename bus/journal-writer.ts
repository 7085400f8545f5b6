// The journal's only writer (the sequencer owns one). Frames are built in a staging buffer
// allocated at start-up, written to the current segment with one pwrite per batch, and made
// durable with one fdatasync per batch (group commit). Segments roll at a size bound; a roll
// syncs the old segment before the new one exists, which is what lets recovery treat any bad
// frame in a non-newest segment as damage (see journal-recovery.ts).
//
// Failures are never retried silently: every I/O error becomes a JournalIoError naming the file,
// the operation and what to do, and the writer refuses further work. A failed fdatasync also
// leaves a marker file, because on Linux a failed fsync may drop the dirty pages it could not
// write while later reads still return them from the cache (data that looks safe and is not).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { native } from '../native/addon';
import {
  encodeSegmentHeader,
  Frame,
  FRAME_HEADER_BYTES,
  frameBytes,
  frameCrc,
  MAX_DURABLE_LAG,
  MAX_FRAME_BYTES,
  MAX_FRAME_PAYLOAD_BYTES,
  SEGMENT_HEADER_BYTES,
  segmentFileName,
  type JournalSnapshot,
} from './journal-format';
import { FSYNC_FAILED_MARKER, type RecoveredJournal } from './journal-recovery';
import { crcOfFilePrefix } from './journal-segment-cursor';

/** The file operations the writer uses; tests substitute failing ones (a full disk, a bad fsync). */
export interface JournalIo {
  open(file: string, flags: string): number;
  pwrite(fd: number, bytes: Uint8Array, offset: number, length: number, position: number): number;
  fdatasync(fd: number): void;
  ftruncate(fd: number, length: number): void;
  close(fd: number): void;
  /** Makes a directory entry (a created segment) durable. */
  fsyncDirectory(dir: string): void;
}

export const nodeJournalIo: JournalIo = {
  open: (file, flags) => fs.openSync(file, flags),
  pwrite: (fd, bytes, offset, length, position) => fs.writeSync(fd, bytes, offset, length, position),
  fdatasync: (fd) => fs.fdatasyncSync(fd),
  ftruncate: (fd, length) => fs.ftruncateSync(fd, length),
  close: (fd) => fs.closeSync(fd),
  fsyncDirectory: (dir) => {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  },
};

export const DEFAULT_SEGMENT_BYTES = 128 << 20;
export const MIN_SEGMENT_BYTES = SEGMENT_HEADER_BYTES + 16 * MAX_FRAME_BYTES;
export const DEFAULT_STAGING_BYTES = 8 << 20;

/** An I/O failure of the journal: the file, the operation, the errno code, and what to do. */
export class JournalIoError extends Error {
  constructor(
    readonly file: string,
    readonly operation: string,
    readonly code: string,
    detail: string,
  ) {
    super(`journal ${operation} of ${file} failed (${code}): ${detail}`);
    this.name = 'JournalIoError';
  }
}

export interface JournalWriterOptions {
  dataDir: string;
  /** A segment rolls before a frame would take it past this many bytes. */
  segmentBytes?: number;
  /** Staged bytes are written out when this fills (normally once per batch). */
  stagingBytes?: number;
  io?: JournalIo;
  /** The state before the next record: what a new segment's header records. */
  snapshot: () => JournalSnapshot;
}

export class JournalWriter {
  readonly dataDir: string;
  readonly segmentBytes: number;
  /** Frames of the current batch; payloads are written here in place (see claim). */
  readonly staging: Buffer;
  readonly stagingView: DataView;
  private readonly io: JournalIo;
  private readonly snapshot: () => JournalSnapshot;
  private fd = -1;
  private segmentPath = '';
  private segmentFirst = 0;
  /** Bytes of the current segment already written (the next pwrite goes here). */
  private segmentEnd = 0;
  /** CRC32C of the current segment's bytes [0, segmentEnd): recorded in the next segment's header. */
  private segmentCrc = 0;
  private staged = 0;
  /** The open claim: where its frame starts in staging, and its payload length. */
  private claimAt = -1;
  private claimLength = 0;
  private claimSeq = 0;
  /** Last seq staged, last seq written (pwrite returned), last seq durable (fdatasync returned). */
  private staged_seq = 0;
  private written_seq = 0;
  private durable_seq = 0;
  private failure: JournalIoError | null = null;
  /** fdatasync calls and their duration (µs) since open: the disk's share of the latency. */
  syncs = 0;
  syncTotalUs = 0;
  lastSyncUs = 0;
  maxSyncUs = 0;
  private readonly clock = new Float64Array(2);
  private readonly headerScratch = Buffer.alloc(SEGMENT_HEADER_BYTES);

  private constructor(options: JournalWriterOptions) {
    this.dataDir = options.dataDir;
    this.segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    const stagingBytes = options.stagingBytes ?? DEFAULT_STAGING_BYTES;
    if (!(Number.isSafeInteger(this.segmentBytes) && this.segmentBytes >= MIN_SEGMENT_BYTES)) {
      throw new RangeError(`journal segmentBytes must be an integer >= ${MIN_SEGMENT_BYTES}, got ${this.segmentBytes}`);
    }
    if (!(Number.isSafeInteger(stagingBytes) && stagingBytes >= 2 * MAX_FRAME_BYTES)) {
      throw new RangeError(`journal stagingBytes must be an integer >= ${2 * MAX_FRAME_BYTES}, got ${stagingBytes}`);
    }
    this.staging = Buffer.allocUnsafeSlow(stagingBytes);
    this.stagingView = new DataView(this.staging.buffer, this.staging.byteOffset, this.staging.byteLength);
    this.io = options.io ?? nodeJournalIo;
    this.snapshot = options.snapshot;
  }

  /**
   * Continues the journal that recovery found (appending to its newest segment), or starts the
   * first segment. The newest segment is synced first: what recovery read back may have been in
   * the page cache only, and nothing is published before it is durable.
   */
  static open(recovered: RecoveredJournal, options: JournalWriterOptions): JournalWriter {
    const writer = new JournalWriter(options);
    fs.mkdirSync(writer.dataDir, { recursive: true });
    if (recovered.tail === null) {
      writer.createSegment(options.snapshot());
    } else {
      writer.segmentPath = recovered.tail.path;
      writer.segmentFirst = recovered.tail.firstSeq;
      writer.segmentEnd = recovered.tail.endOffset;
      writer.fd = writer.guard('open', recovered.tail.path, () => writer.io.open(recovered.tail!.path, 'r+'));
      writer.guard('fdatasync', writer.segmentPath, () => writer.io.fdatasync(writer.fd));
      writer.segmentCrc = crcOfFilePrefix(recovered.tail.path, recovered.tail.endOffset);
    }
    writer.staged_seq = writer.written_seq = writer.durable_seq = recovered.headSeq;
    return writer;
  }

  /** Last seq staged in this batch (the journal head as the sequencer sees it). */
  get headSeq(): number {
    return this.staged_seq;
  }

  /** Last seq handed to the kernel (survives a crash of this process, not of the machine). */
  get writtenSeq(): number {
    return this.written_seq;
  }

  /** Last seq fdatasync'd (survives a power loss). */
  get durableSeq(): number {
    return this.durable_seq;
  }

  get currentSegment(): string {
    return this.segmentPath;
  }

  get currentSegmentFirstSeq(): number {
    return this.segmentFirst;
  }

  get failed(): JournalIoError | null {
    return this.failure;
  }

  /**
   * Opens a frame for record `seq` with `payloadBytes` of payload and returns the payload's
   * offset in `staging`: the caller writes the payload there, then calls seal(). Rolls to a new
   * segment first when this frame would not fit the current one.
   */
  claim(typeId: number, version: number, payloadBytes: number, seq: number): number {
    if (this.failure !== null) throw this.failure;
    if (this.claimAt >= 0) throw new Error(`journal: claim of seq ${seq} while seq ${this.claimSeq} is not sealed`);
    if (seq !== this.staged_seq + 1) throw new Error(`journal: claim of seq ${seq} after seq ${this.staged_seq}; the journal is gap-free`);
    if (!(payloadBytes > 0 && payloadBytes <= MAX_FRAME_PAYLOAD_BYTES)) throw new RangeError(`journal: payload of ${payloadBytes} bytes; frames carry 1..${MAX_FRAME_PAYLOAD_BYTES}`);
    const bytes = frameBytes(payloadBytes);
    if (this.segmentEnd + this.staged + bytes > this.segmentBytes && this.segmentEnd + this.staged > SEGMENT_HEADER_BYTES) {
      this.roll();
    } else if (this.staged + bytes > this.staging.byteLength) {
      this.write();
    }
    const at = this.staged;
    const view = this.stagingView;
    view.setUint32(at + Frame.LENGTH, payloadBytes, true);
    view.setUint16(at + Frame.TYPE_ID, typeId, true);
    view.setUint8(at + Frame.VERSION, version);
    view.setUint8(at + Frame.FLAGS, 0);
    view.setUint32(at + Frame.DURABLE_LAG, Math.min(seq - this.durable_seq, MAX_DURABLE_LAG), true);
    // Padding is zeroed so identical entries give identical bytes (and CRCs).
    for (let p = at + FRAME_HEADER_BYTES + payloadBytes; p < at + bytes; p++) this.staging[p] = 0;
    this.claimAt = at;
    this.claimLength = payloadBytes;
    this.claimSeq = seq;
    return at + Frame.PAYLOAD;
  }

  /** Closes the open frame: computes its CRC and counts it as staged. */
  seal(): void {
    const at = this.claimAt;
    if (at < 0) throw new Error('journal: seal without a claim');
    this.stagingView.setUint32(at + Frame.CRC, frameCrc(this.staging, at, this.claimLength), true);
    this.staged = at + frameBytes(this.claimLength);
    this.staged_seq = this.claimSeq;
    this.claimAt = -1;
  }

  /** Drops the open claim (the caller could not complete the entry). */
  cancelClaim(): void {
    this.claimAt = -1;
  }

  /** Hands the staged frames to the kernel (one pwrite). After it, a crash of this process loses nothing. */
  write(): void {
    if (this.failure !== null) throw this.failure;
    if (this.staged === 0) return;
    let done = 0;
    while (done < this.staged) {
      let n: number;
      try {
        n = this.io.pwrite(this.fd, this.staging, done, this.staged - done, this.segmentEnd + done);
        this.segmentCrc = native.crc32c(this.staging, done, n, this.segmentCrc);
      } catch (e) {
        // Take the partial write back so no half frame lingers after the file (best effort: a
        // torn tail is also handled by recovery).
        try {
          this.io.ftruncate(this.fd, this.segmentEnd);
        } catch {
          /* recovery truncates it */
        }
        throw this.fail('write', this.segmentPath, e);
      }
      done += n;
    }
    this.segmentEnd += this.staged;
    this.staged = 0;
    this.written_seq = this.staged_seq;
  }

  /** Makes everything written durable (one fdatasync): the group commit. */
  sync(): void {
    this.write();
    if (this.durable_seq === this.written_seq) return;
    native.clockInto(this.clock, 0);
    const startNs = this.clock[0]!;
    try {
      this.io.fdatasync(this.fd);
    } catch (e) {
      const error = this.fail('fdatasync', this.segmentPath, e);
      this.leaveFsyncMarker(error);
      throw error;
    }
    this.durable_seq = this.written_seq;
    native.clockInto(this.clock, 0);
    const us = Math.round((this.clock[0]! - startNs) / 1000);
    this.syncs++;
    this.syncTotalUs += us;
    this.lastSyncUs = us;
    if (us > this.maxSyncUs) this.maxSyncUs = us;
  }

  /**
   * Starts a new segment after the current one (used after a trading day closes, so every
   * segment belongs to one day). The old segment is made durable first.
   */
  roll(): void {
    this.sync();
    const old = this.fd;
    this.fd = -1;
    this.guard('close', this.segmentPath, () => this.io.close(old));
    this.createSegment({ ...this.snapshot(), prevSegmentBytes: this.segmentEnd, prevSegmentCrc: this.segmentCrc });
  }

  close(): void {
    if (this.fd < 0) return;
    if (this.failure === null) this.sync();
    const fd = this.fd;
    this.fd = -1;
    this.io.close(fd);
  }

  private createSegment(snapshot: JournalSnapshot): void {
    if (snapshot.firstSeq !== this.staged_seq + 1 && !(this.staged_seq === 0 && this.segmentPath === '')) {
      throw new Error(`journal: new segment would start at seq ${snapshot.firstSeq}, the head is ${this.staged_seq}`);
    }
    const file = path.join(this.dataDir, segmentFileName(snapshot.firstSeq));
    encodeSegmentHeader(snapshot, this.headerScratch);
    const fd = this.guard('create', file, () => this.io.open(file, 'wx'));
    this.fd = fd;
    this.segmentPath = file;
    this.segmentFirst = snapshot.firstSeq;
    this.segmentEnd = 0;
    this.guard('write', file, () => {
      let done = 0;
      while (done < SEGMENT_HEADER_BYTES) done += this.io.pwrite(fd, this.headerScratch, done, SEGMENT_HEADER_BYTES - done, done);
    });
    this.segmentCrc = native.crc32c(this.headerScratch, 0, SEGMENT_HEADER_BYTES);
    this.guard('fdatasync', file, () => this.io.fdatasync(fd));
    this.guard('fsync of the directory', this.dataDir, () => this.io.fsyncDirectory(this.dataDir));
    this.segmentEnd = SEGMENT_HEADER_BYTES;
  }

  private guard<T>(operation: string, file: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      const error = this.fail(operation, file, e);
      if (operation === 'fdatasync') this.leaveFsyncMarker(error);
      throw error;
    }
  }

  private fail(operation: string, file: string, cause: unknown): JournalIoError {
    const code = (cause as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
    const unsafeFrom = this.durable_seq + 1;
    let advice: string;
    switch (code) {
      case 'ENOSPC':
      case 'EDQUOT':
        advice = `the file system holding ${this.dataDir} is full. Nothing from seq ${unsafeFrom} on was acknowledged. Free space (archive closed days with 'ims journal archive', move old archives away), then restart the sequencer`;
        break;
      case 'EIO':
        advice = `the disk reported an I/O error. Nothing from seq ${unsafeFrom} on was acknowledged. Check the disk (dmesg), copy ${this.dataDir} aside, run 'ims journal verify'`;
        break;
      case 'EROFS':
      case 'EACCES':
      case 'EPERM':
        advice = `the journal directory ${this.dataDir} is not writable by this process; fix its mount or permissions, then restart the sequencer`;
        break;
      case 'EEXIST':
        advice = `a segment file already exists where a new one belongs; another sequencer may be writing this journal. Stop it; do not delete segments by hand`;
        break;
      default:
        advice = `nothing from seq ${unsafeFrom} on was acknowledged; fix the cause (${(cause as Error).message ?? cause}), then restart the sequencer`;
    }
    this.failure = new JournalIoError(file, operation, code, advice);
    return this.failure;
  }

  private leaveFsyncMarker(error: JournalIoError): void {
    try {
      fs.writeFileSync(path.join(this.dataDir, FSYNC_FAILED_MARKER), `${new Date().toISOString()} ${error.message}\n`);
    } catch {
      /* the disk may be gone; the error itself is reported by the caller */
    }
  }
}
