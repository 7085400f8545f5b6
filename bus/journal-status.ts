// The journal status file: a small mmap'd file beside the journal ring (`journal.ring` ->
// `journal.status`) through which the sequencer tells everyone where the journal stands, without
// anyone talking to it. `ims status` reads it; JournalReader reads the visible position from it and
// writes its own progress into a consumer slot, so each consumer's lag in entries is visible.
//
//   0     META (written once at creation; magic last)
//         0 magic u32 "IMJS" | 4 layoutVersion u32 | 8 fileBytes u32 | 12 maxSources u32
//         16 maxConsumers u32 | 20 sourcesOffset u32 | 24 consumersOffset u32
//   64    SEQUENCER (one writer, the sequencer; a seqlock makes every snapshot consistent)
//         64 seqlock u32 (odd while the sequencer writes) | 68 pid i32 | 72 state u32 | 76 durability u32
//         80 headSeq f64        last seq written to the segment files
//         88 durableSeq f64     last seq fdatasync'd
//         96 visibleSeq f64     last seq consumers may act on (set BEFORE the ring publishes it;
//                               in fsync mode never above durableSeq)
//         104 lastTimestampUs f64
//         112 ringBoundaryPos u32   journal ring position just after the record of ringBoundarySeq
//         116 engineEpoch u32
//         120 ringBoundarySeq f64   (set AFTER the ring commit: a known record boundary + its seq)
//         128 lastOutInSeq f64 | 136 lastOutIndex u32 | 140 generation u32 (sequencer starts)
//         144 duplicates f64 | 152 staleEpoch f64 | 160 gapAlarms f64 | 168 invalid f64
//         176 batches f64 | 184 updatedUs f64 | 192 ringCreatedUs f64 | 200 segmentFirstSeq f64
//         208 sourceCount u32 | 212 haltedInputs u32 | 216 asyncFsyncIntervalMs u32 | 220 faultCode u32
//         224 lastBatchEntries u32 | 228 maxBatchEntries u32 | 232 entriesTotal f64 (since start)
//         240 syncs f64 | 248 syncTotalUs f64 | 256 lastSyncUs u32 | 260 maxSyncUs u32  (fdatasync
//         count and time since start: the disk's share of the append latency)
//   512   dataDir   char[256]  (ASCII; readers find the segments here)
//   768   archiveDir char[256]
//   1024  fault     char[256]  (why the sequencer stopped, when state = FAULTED)
//   1280  SOURCES: maxSources x 32 bytes, written by the sequencer under the seqlock
//         0 sourceId+1 u32 (0 = free) | 4 gaps u32 | 8 lastSourceSeq f64 | 16 duplicates f64 | 24 stale f64
//   ...   CONSUMERS: maxConsumers x 64 bytes, each written by its own JournalReader
//         0 state i32 (0 free, 1 used) | 4 pid i32 | 8 lastSeq f64 | 16 updatedUs f64
//         24 mode u32 (1 ring, 2 disk) | 28 catchUps u32 | 32 name char[32]
//
// Seqs are f64 (exact for every safe integer) so reading one never needs BigInt; an aligned 8-byte
// store is one instruction on x86-64, and the seqlock covers multi-field consistency anyway.

import * as fs from 'node:fs';
import { native } from '../native/addon';
import { MAX_SOURCES } from './journal-format';

export const STATUS_MAGIC = 0x534a4d49; // "IMJS"
export const STATUS_LAYOUT_VERSION = 1;
export const STATUS_MAX_CONSUMERS = 32;
export const STATUS_TEXT_BYTES = 256;
export const STATUS_NAME_BYTES = 32;

export const StatusMeta = { MAGIC: 0, LAYOUT_VERSION: 4, FILE_BYTES: 8, MAX_SOURCES: 12, MAX_CONSUMERS: 16, SOURCES_OFFSET: 20, CONSUMERS_OFFSET: 24 } as const;

export const Seq = {
  SEQLOCK: 64,
  PID: 68,
  STATE: 72,
  DURABILITY: 76,
  HEAD_SEQ: 80,
  DURABLE_SEQ: 88,
  VISIBLE_SEQ: 96,
  LAST_TIMESTAMP_US: 104,
  RING_BOUNDARY_POS: 112,
  ENGINE_EPOCH: 116,
  RING_BOUNDARY_SEQ: 120,
  LAST_OUT_IN_SEQ: 128,
  LAST_OUT_INDEX: 136,
  GENERATION: 140,
  DUPLICATES: 144,
  STALE_EPOCH: 152,
  GAP_ALARMS: 160,
  INVALID: 168,
  BATCHES: 176,
  UPDATED_US: 184,
  RING_CREATED_US: 192,
  SEGMENT_FIRST_SEQ: 200,
  SOURCE_COUNT: 208,
  HALTED_INPUTS: 212,
  ASYNC_FSYNC_INTERVAL_MS: 216,
  FAULT_CODE: 220,
  LAST_BATCH_ENTRIES: 224,
  MAX_BATCH_ENTRIES: 228,
  ENTRIES_TOTAL: 232,
  SYNCS: 240,
  SYNC_TOTAL_US: 248,
  LAST_SYNC_US: 256,
  MAX_SYNC_US: 260,
} as const;

export const DATA_DIR_OFFSET = 512;
export const ARCHIVE_DIR_OFFSET = 768;
export const FAULT_TEXT_OFFSET = 1024;
export const SOURCES_OFFSET = 1280;
export const SOURCE_SLOT_BYTES = 32;
export const SourceSlot = { ID_PLUS_ONE: 0, GAPS: 4, LAST_SOURCE_SEQ: 8, DUPLICATES: 16, STALE: 24 } as const;
export const CONSUMERS_OFFSET = SOURCES_OFFSET + MAX_SOURCES * SOURCE_SLOT_BYTES;
export const CONSUMER_SLOT_BYTES = 64;
export const ConsumerSlot = { STATE: 0, PID: 4, LAST_SEQ: 8, UPDATED_US: 16, MODE: 24, CATCH_UPS: 28, NAME: 32 } as const;
export const STATUS_FILE_BYTES = Math.ceil((CONSUMERS_OFFSET + STATUS_MAX_CONSUMERS * CONSUMER_SLOT_BYTES) / 4096) * 4096;

export const SequencerState = { STOPPED: 0, RECOVERING: 1, RUNNING: 2, FAULTED: 3 } as const;
export type SequencerState = (typeof SequencerState)[keyof typeof SequencerState];
export const SEQUENCER_STATE_NAMES = ['stopped', 'recovering', 'running', 'faulted'] as const;
export const Durability = { FSYNC: 1, ASYNC: 2 } as const;
export type Durability = (typeof Durability)[keyof typeof Durability];
export const ReaderMode = { RING: 1, DISK: 2 } as const;

/**
 * Bounded retries of a seqlock read: the writer holds it for well under a microsecond, unless it
 * was killed inside its update, which leaves the lock odd until the next sequencer starts. After
 * these spins a reader checks whether the writer is alive; if not, it takes the values as they are
 * (the writer stores durableSeq before visibleSeq, so a half-made update never shows an entry as
 * visible before it is durable).
 */
const SEQLOCK_SPINS_BEFORE_PID_CHECK = 10_000;
const SEQLOCK_MAX_PID_CHECKS = 1_000;

/** The status path that belongs to a journal ring path. */
export function statusPathForRing(ringPath: string): string {
  return ringPath.endsWith('.ring') ? ringPath.slice(0, -'.ring'.length) + '.status' : ringPath + '.status';
}

export interface SourceStatus {
  sourceId: number;
  lastSourceSeq: number;
  duplicates: number;
  gaps: number;
  stale: number;
}

export interface ConsumerStatus {
  name: string;
  pid: number;
  lastSeq: number;
  updatedUs: number;
  mode: 'ring' | 'disk';
  catchUps: number;
  /** visibleSeq - lastSeq: entries this consumer has yet to handle. */
  lagEntries: number;
}

export interface JournalStatusSnapshot {
  pid: number;
  state: (typeof SEQUENCER_STATE_NAMES)[number];
  durability: 'fsync' | 'async';
  asyncFsyncIntervalMs: number;
  headSeq: number;
  durableSeq: number;
  visibleSeq: number;
  lastTimestampUs: number;
  ringBoundaryPos: number;
  ringBoundarySeq: number;
  ringCreatedUs: number;
  engineEpoch: number;
  lastOutInSeq: number;
  lastOutIndex: number;
  generation: number;
  duplicates: number;
  staleEpoch: number;
  gapAlarms: number;
  invalid: number;
  batches: number;
  entriesTotal: number;
  lastBatchEntries: number;
  maxBatchEntries: number;
  syncs: number;
  syncAvgUs: number;
  lastSyncUs: number;
  maxSyncUs: number;
  haltedInputs: number;
  segmentFirstSeq: number;
  updatedUs: number;
  dataDir: string;
  archiveDir: string;
  fault: string;
  sources: SourceStatus[];
  consumers: ConsumerStatus[];
}

export class JournalStatusFile {
  readonly path: string;
  readonly buffer: ArrayBuffer;
  readonly view: DataView;
  readonly bytes: Uint8Array;
  readonly i32: Int32Array;
  readonly f64: Float64Array;

  private constructor(file: string, buffer: ArrayBuffer) {
    this.path = file;
    this.buffer = buffer;
    this.view = new DataView(buffer);
    this.bytes = new Uint8Array(buffer);
    this.i32 = new Int32Array(buffer);
    this.f64 = new Float64Array(buffer, 0, buffer.byteLength >> 3);
    const magic = this.view.getUint32(StatusMeta.MAGIC, true);
    const version = this.view.getUint32(StatusMeta.LAYOUT_VERSION, true);
    if (magic !== STATUS_MAGIC) throw new Error(`journal status ${file}: bad magic 0x${magic.toString(16)}; it is not an IMS journal status file — remove it and restart the sequencer`);
    if (version !== STATUS_LAYOUT_VERSION) {
      throw new Error(`journal status ${file}: layout version ${version}, this build reads ${STATUS_LAYOUT_VERSION}; stop the bus and remove the file (the sequencer recreates it)`);
    }
    if (buffer.byteLength !== STATUS_FILE_BYTES || this.view.getUint32(StatusMeta.FILE_BYTES, true) !== STATUS_FILE_BYTES) {
      throw new Error(`journal status ${file}: ${buffer.byteLength} bytes, expected ${STATUS_FILE_BYTES}; remove it and restart the sequencer`);
    }
  }

  /** Creates (or opens and validates) the status file. */
  static create(file: string): JournalStatusFile {
    const buffer = native.mapFile(file, STATUS_FILE_BYTES, true);
    if (buffer.byteLength !== STATUS_FILE_BYTES) {
      throw new Error(`journal status ${file}: an existing file of ${buffer.byteLength} bytes is in the way (expected ${STATUS_FILE_BYTES}); remove it`);
    }
    const view = new DataView(buffer);
    if (view.getUint32(StatusMeta.MAGIC, true) === 0) {
      view.setUint32(StatusMeta.LAYOUT_VERSION, STATUS_LAYOUT_VERSION, true);
      view.setUint32(StatusMeta.FILE_BYTES, STATUS_FILE_BYTES, true);
      view.setUint32(StatusMeta.MAX_SOURCES, MAX_SOURCES, true);
      view.setUint32(StatusMeta.MAX_CONSUMERS, STATUS_MAX_CONSUMERS, true);
      view.setUint32(StatusMeta.SOURCES_OFFSET, SOURCES_OFFSET, true);
      view.setUint32(StatusMeta.CONSUMERS_OFFSET, CONSUMERS_OFFSET, true);
      Atomics.store(new Int32Array(buffer), StatusMeta.MAGIC >> 2, STATUS_MAGIC | 0);
    }
    return new JournalStatusFile(file, buffer);
  }

  /** Opens an existing status file, or returns null when there is none yet. */
  static openIfExists(file: string): JournalStatusFile | null {
    if (!fs.existsSync(file)) return null;
    return new JournalStatusFile(file, native.mapFile(file, 0, false));
  }

  // --- writer side (the sequencer) -------------------------------------------------------------

  beginWrite(): void {
    Atomics.add(this.i32, Seq.SEQLOCK >> 2, 1);
  }

  /** A new writer takes over from one that may have died inside an update (lock left odd). */
  repairLock(): void {
    if ((Atomics.load(this.i32, Seq.SEQLOCK >> 2) & 1) !== 0) Atomics.add(this.i32, Seq.SEQLOCK >> 2, 1);
  }

  endWrite(): void {
    Atomics.add(this.i32, Seq.SEQLOCK >> 2, 1);
  }

  setF64(offset: number, value: number): void {
    this.f64[offset >> 3] = value;
  }

  setU32(offset: number, value: number): void {
    this.view.setUint32(offset, value, true);
  }

  setText(offset: number, text: string): void {
    const bytes = this.bytes;
    bytes.fill(0, offset, offset + STATUS_TEXT_BYTES);
    const n = Math.min(text.length, STATUS_TEXT_BYTES - 1);
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      bytes[offset + i] = c > 0 && c < 0x80 ? c : 0x3f;
    }
  }

  /** Writes one source row (call between beginWrite and endWrite). */
  setSource(slot: number, sourceId: number, lastSourceSeq: number, duplicates: number, gaps: number, stale: number): void {
    const base = SOURCES_OFFSET + slot * SOURCE_SLOT_BYTES;
    this.view.setUint32(base + SourceSlot.ID_PLUS_ONE, sourceId + 1, true);
    this.view.setUint32(base + SourceSlot.GAPS, gaps >>> 0, true);
    this.f64[(base + SourceSlot.LAST_SOURCE_SEQ) >> 3] = lastSourceSeq;
    this.f64[(base + SourceSlot.DUPLICATES) >> 3] = duplicates;
    this.f64[(base + SourceSlot.STALE) >> 3] = stale;
  }

  clearSources(): void {
    this.bytes.fill(0, SOURCES_OFFSET, CONSUMERS_OFFSET);
  }

  // --- reader side -------------------------------------------------------------------------------

  /**
   * out[0] = visibleSeq, out[1] = generation, out[2] = durableSeq, as one consistent snapshot;
   * allocation-free.
   */
  readVisible(out: Float64Array): void {
    const i32 = this.i32;
    const f64 = this.f64;
    for (let check = 0; check < SEQLOCK_MAX_PID_CHECKS; check++) {
      for (let spin = 0; spin < SEQLOCK_SPINS_BEFORE_PID_CHECK; spin++) {
        const before = Atomics.load(i32, Seq.SEQLOCK >> 2);
        if ((before & 1) !== 0) continue;
        out[0] = f64[Seq.VISIBLE_SEQ >> 3]!;
        out[1] = this.view.getUint32(Seq.GENERATION, true);
        out[2] = f64[Seq.DURABLE_SEQ >> 3]!;
        if (Atomics.load(i32, Seq.SEQLOCK >> 2) === before) return;
      }
      if (!this.writerAlive()) {
        out[2] = f64[Seq.DURABLE_SEQ >> 3]!;
        out[0] = Math.min(f64[Seq.VISIBLE_SEQ >> 3]!, out[2]!, f64[Seq.HEAD_SEQ >> 3]!);
        out[1] = this.view.getUint32(Seq.GENERATION, true);
        return;
      }
    }
    throw new Error(`journal status ${this.path}: the seqlock stayed busy while its writer (pid ${this.view.getInt32(Seq.PID, true)}) is alive; the sequencer is stuck — restart it`);
  }

  private writerAlive(): boolean {
    const pid = this.view.getInt32(Seq.PID, true);
    if (pid <= 0) return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM';
    }
  }

  text(offset: number): string {
    let end = offset;
    while (end < offset + STATUS_TEXT_BYTES && this.bytes[end] !== 0) end++;
    return Buffer.from(this.buffer, offset, end - offset).toString('latin1');
  }

  /** A consistent snapshot of everything, for `ims status` and tests (allocates; not for hot paths). */
  snapshot(): JournalStatusSnapshot {
    for (let spin = 0; spin < SEQLOCK_SPINS_BEFORE_PID_CHECK * 10; spin++) {
      const before = Atomics.load(this.i32, Seq.SEQLOCK >> 2);
      if ((before & 1) !== 0) continue;
      const s = this.readAll();
      if (Atomics.load(this.i32, Seq.SEQLOCK >> 2) === before) return s;
    }
    // A sequencer killed mid-write leaves the lock odd; its last values are still the best we have.
    return this.readAll();
  }

  private readAll(): JournalStatusSnapshot {
    const v = this.view;
    const f = (o: number): number => this.f64[o >> 3]!;
    const u = (o: number): number => v.getUint32(o, true);
    const sources: SourceStatus[] = [];
    for (let s = 0; s < MAX_SOURCES; s++) {
      const base = SOURCES_OFFSET + s * SOURCE_SLOT_BYTES;
      const id = u(base + SourceSlot.ID_PLUS_ONE);
      if (id === 0) continue;
      sources.push({ sourceId: id - 1, lastSourceSeq: f(base + SourceSlot.LAST_SOURCE_SEQ), duplicates: f(base + SourceSlot.DUPLICATES), gaps: u(base + SourceSlot.GAPS), stale: f(base + SourceSlot.STALE) });
    }
    const visibleSeq = f(Seq.VISIBLE_SEQ);
    const consumers: ConsumerStatus[] = [];
    for (let c = 0; c < STATUS_MAX_CONSUMERS; c++) {
      const base = CONSUMERS_OFFSET + c * CONSUMER_SLOT_BYTES;
      if (Atomics.load(this.i32, (base + ConsumerSlot.STATE) >> 2) === 0) continue;
      const lastSeq = f(base + ConsumerSlot.LAST_SEQ);
      consumers.push({
        name: readName(this.bytes, base + ConsumerSlot.NAME),
        pid: v.getInt32(base + ConsumerSlot.PID, true),
        lastSeq,
        updatedUs: f(base + ConsumerSlot.UPDATED_US),
        mode: u(base + ConsumerSlot.MODE) === ReaderMode.DISK ? 'disk' : 'ring',
        catchUps: u(base + ConsumerSlot.CATCH_UPS),
        lagEntries: Math.max(0, visibleSeq - lastSeq),
      });
    }
    const durability = u(Seq.DURABILITY);
    return {
      pid: v.getInt32(Seq.PID, true),
      state: SEQUENCER_STATE_NAMES[u(Seq.STATE)] ?? 'stopped',
      durability: durability === Durability.ASYNC ? 'async' : 'fsync',
      asyncFsyncIntervalMs: u(Seq.ASYNC_FSYNC_INTERVAL_MS),
      headSeq: f(Seq.HEAD_SEQ),
      durableSeq: f(Seq.DURABLE_SEQ),
      visibleSeq,
      lastTimestampUs: f(Seq.LAST_TIMESTAMP_US),
      ringBoundaryPos: u(Seq.RING_BOUNDARY_POS),
      ringBoundarySeq: f(Seq.RING_BOUNDARY_SEQ),
      ringCreatedUs: f(Seq.RING_CREATED_US),
      engineEpoch: u(Seq.ENGINE_EPOCH),
      lastOutInSeq: f(Seq.LAST_OUT_IN_SEQ),
      lastOutIndex: u(Seq.LAST_OUT_INDEX),
      generation: u(Seq.GENERATION),
      duplicates: f(Seq.DUPLICATES),
      staleEpoch: f(Seq.STALE_EPOCH),
      gapAlarms: f(Seq.GAP_ALARMS),
      invalid: f(Seq.INVALID),
      batches: f(Seq.BATCHES),
      entriesTotal: f(Seq.ENTRIES_TOTAL),
      lastBatchEntries: u(Seq.LAST_BATCH_ENTRIES),
      maxBatchEntries: u(Seq.MAX_BATCH_ENTRIES),
      syncs: f(Seq.SYNCS),
      syncAvgUs: f(Seq.SYNCS) === 0 ? 0 : f(Seq.SYNC_TOTAL_US) / f(Seq.SYNCS),
      lastSyncUs: u(Seq.LAST_SYNC_US),
      maxSyncUs: u(Seq.MAX_SYNC_US),
      haltedInputs: u(Seq.HALTED_INPUTS),
      segmentFirstSeq: f(Seq.SEGMENT_FIRST_SEQ),
      updatedUs: f(Seq.UPDATED_US),
      dataDir: this.text(DATA_DIR_OFFSET),
      archiveDir: this.text(ARCHIVE_DIR_OFFSET),
      fault: this.text(FAULT_TEXT_OFFSET),
      sources,
      consumers,
    };
  }

  // --- consumer slots (each JournalReader owns one) -------------------------------------------

  /** Finds or takes the slot named `name`; returns its base offset. */
  joinConsumer(name: string): number {
    if (name.length === 0 || name.length >= STATUS_NAME_BYTES) throw new TypeError(`journal consumer name must be 1..${STATUS_NAME_BYTES - 1} characters, got '${name}'`);
    for (let c = 0; c < STATUS_MAX_CONSUMERS; c++) {
      const base = CONSUMERS_OFFSET + c * CONSUMER_SLOT_BYTES;
      if (Atomics.load(this.i32, (base + ConsumerSlot.STATE) >> 2) === 1 && readName(this.bytes, base + ConsumerSlot.NAME) === name) {
        this.view.setInt32(base + ConsumerSlot.PID, process.pid, true);
        return base;
      }
    }
    for (let c = 0; c < STATUS_MAX_CONSUMERS; c++) {
      const base = CONSUMERS_OFFSET + c * CONSUMER_SLOT_BYTES;
      if (Atomics.compareExchange(this.i32, (base + ConsumerSlot.STATE) >> 2, 0, 2) !== 0) continue;
      this.bytes.fill(0, base + 4, base + CONSUMER_SLOT_BYTES);
      for (let i = 0; i < name.length; i++) this.bytes[base + ConsumerSlot.NAME + i] = name.charCodeAt(i) & 0x7f;
      this.view.setInt32(base + ConsumerSlot.PID, process.pid, true);
      Atomics.store(this.i32, (base + ConsumerSlot.STATE) >> 2, 1);
      return base;
    }
    throw new Error(`journal status ${this.path}: all ${STATUS_MAX_CONSUMERS} consumer slots are taken`);
  }

  updateConsumer(base: number, lastSeq: number, nowUs: number, mode: number, catchUps: number): void {
    this.f64[(base + ConsumerSlot.LAST_SEQ) >> 3] = lastSeq;
    this.f64[(base + ConsumerSlot.UPDATED_US) >> 3] = nowUs;
    this.view.setUint32(base + ConsumerSlot.MODE, mode, true);
    this.view.setUint32(base + ConsumerSlot.CATCH_UPS, catchUps, true);
  }
}

function readName(bytes: Uint8Array, offset: number): string {
  let end = offset;
  while (end < offset + STATUS_NAME_BYTES && bytes[end] !== 0) end++;
  return Buffer.from(bytes.buffer, bytes.byteOffset + offset, end - offset).toString('latin1');
}
