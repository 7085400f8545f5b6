// The sequencer: reads its input rings fairly, gives every accepted input the next global seq and
// a timestamp, appends it to the journal (disk segments + the journal ring on /dev/shm), and
// acknowledges inputs only once they are in the journal per the durability mode.
//
// One unit of work (doWork) is one group commit:
//   1. rounds over the input rings, starting one ring later each round, taking at most
//      perRingBatch records per ring per round, until the batch holds maxBatchEntries or the
//      inputs are empty (no ring can starve another: each gets an equal share of every round);
//   2. each accepted input is framed into the writer's staging buffer (seq, timestamp, the input
//      header and body verbatim, CRC32C) and claimed, unpublished, in the journal ring;
//   3. flush: one pwrite; in fsync mode one fdatasync; then visibleSeq is raised in the status
//      file, the journal ring publishes the whole batch with one store, and the input rings'
//      committed positions move (acknowledgement). In async mode the fdatasync happens at most
//      asyncFsyncIntervalMs later instead.
// So in fsync mode no consumer can see an entry that is not durable, and no producer is told an
// input was taken before it is; a kill -9 anywhere loses nothing acknowledged and the inputs read
// but not acknowledged are read again after the restart, where exactly-once skips what was
// journaled.
//
// Timestamps are realtime µs (ns since the epoch exceeds 2^53), never going backwards: the clock is
// read once per ring read and the stamp is max(realtime, last stamp), the last stamp surviving
// restarts through the journal. A wall clock stepped back therefore holds time still until it
// catches up, instead of making time run backwards in the journal.

import * as path from 'node:path';
import * as fs from 'node:fs';
import { native } from '../../native/addon';
import { BACK_PRESSURED, RingFile, RingProducer, type RecordBuffer } from '../../bus/ring';
import { alignRecord, Meta, RECORD_HEADER_BYTES, TAIL_OFFSET } from '../../bus/ring-layout';
import { MultiRingParker, SleepingParker, type Parker } from '../../bus/idle-strategy';
import {
  INPUT_HEADER_BYTES,
  InputHeader,
  JOURNAL_HEADER_BYTES,
  JournalHeader,
  messageByTypeId,
  TradingDayClose,
  TradingDayOpen,
  TypeId,
} from '../../bus/schema';
import { emptySnapshot, ENTRY_SEQ, getI64, setI64, type JournalSnapshot } from '../../bus/journal-format';
import { assertNoFsyncFailure, listSegments, recoverJournal, type RecoveredJournal } from '../../bus/journal-recovery';
import { JournalWriter, nodeJournalIo, type JournalIo } from '../../bus/journal-writer';
import { JournalDiskReader } from '../../bus/journal-disk-reader';
import {
  ARCHIVE_DIR_OFFSET,
  DATA_DIR_OFFSET,
  Durability,
  FAULT_TEXT_OFFSET,
  JournalStatusFile,
  Seq,
  SequencerState,
  statusPathForRing,
} from '../../bus/journal-status';
import type { SegmentCursor } from '../../bus/journal-segment-cursor';
import { ENGINE_OUT_IN_SEQ_OFFSET, ENGINE_OUT_INDEX_OFFSET, ExactlyOnce, Verdict } from './exactly-once';
import { INPUT_HALT, INPUT_STOP, INPUT_TAKEN, INPUT_TAKEN_END_BATCH, InputCursor } from './input-cursor';
import type { SequencerCounters } from './sequencer-counters';

export type DurabilityMode = 'fsync' | 'async';

export interface SequencerOptions {
  /** Input rings (product manager, engines, admin), read in this order, round-robin. */
  inputs: readonly string[];
  /** The sequencer's consumer slot name in every input ring. */
  consumerName?: string;
  journalRing: string;
  /** Geometry used when the sequencer has to create the journal ring (normally the supervisor does). */
  journalRingBytes?: number;
  journalRingConsumers?: number;
  /** Default: statusPathForRing(journalRing). */
  statusPath?: string;
  dataDir: string;
  archiveDir?: string;
  durability?: DurabilityMode;
  /** async mode: the longest time between a write and its fdatasync. */
  asyncFsyncIntervalMs?: number;
  segmentBytes?: number;
  /** Entries per group commit (bounds the batch and the latency it adds). */
  maxBatchEntries?: number;
  /** Records taken from one ring per round (the fairness quantum). */
  perRingBatch?: number;
  /**
   * What recovery checks at start, besides every segment header: 'full' also every older segment
   * against the size and CRC32C its successor's header recorded (one streaming pass each, ~1 s per
   * 2-3 GB from the page cache); 'tail' only the newest segment (frame by frame in both modes: it
   * is the only one that can have a torn tail). 'auto' (default): full while the live segments are
   * at most AUTO_FULL_SCAN_MAX_BYTES, tail beyond, so a restart stays bounded on a billion-entry day.
   */
  recoveryScan?: 'full' | 'tail' | 'auto';
  io?: JournalIo;
  /** One JSON-able object per notable event (start, alarms, faults). */
  log?: (event: Record<string, unknown>) => void;
  /** The process's counters file (sequencer-counters.ts): batches, commit and fdatasync times. */
  counters?: SequencerCounters;
}

export const DEFAULTS = {
  consumerName: 'sequencer',
  journalRingBytes: 64 << 20,
  journalRingConsumers: 8,
  durability: 'fsync' as DurabilityMode,
  asyncFsyncIntervalMs: 20,
  maxBatchEntries: 8192,
  perRingBatch: 256,
  recoveryScan: 'auto' as const,
};

/** 'auto' recovery checksums older segments while the live ones are at most this big (~2 s here). */
export const AUTO_FULL_SCAN_MAX_BYTES = 4 * 2 ** 30;

/** Upper bounds on configuration: every queue and batch has a limit. */
export const LIMITS = {
  maxInputs: 32,
  maxBatchEntries: 65_536,
  maxPerRingBatch: 65_536,
  maxAsyncFsyncIntervalMs: 10_000,
  /** Alarm lines logged per source before the log thins out to every 10,000th. */
  loggedAlarmsPerSource: 100,
  refillChunk: 1024,
};

/** A sequencer that cannot go on: names what failed and what to do. The process exits on it. */
export class SequencerFault extends Error {
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
    this.name = 'SequencerFault';
  }
}

/** What recovery found, for logs and tests. */
export interface StartReport {
  headSeq: number;
  segments: number;
  scannedFrames: number;
  torn: RecoveredJournal['torn'];
  removedSegments: string[];
  /** Last seq found on the surviving journal ring (-1 when the ring was new or unplaceable). */
  ringSeq: number;
  /** Entries republished on the ring because they were on disk but not yet published. */
  refill: number;
  recoveryMs: number;
  generation: number;
  /** What recovery CRC-checked: every live segment, or the newest. */
  scan: 'full' | 'tail';
}

const INPUT_SOURCE_SEQ = InputHeader.o.sourceSeq;
const INPUT_SOURCE_ID = InputHeader.o.sourceId;
const INPUT_EPOCH = InputHeader.o.epoch;
const J_TIMESTAMP = JournalHeader.o.timestampUs;
const J_INPUT = JournalHeader.o.sourceSeq;
const J_SOURCE_SEQ = JournalHeader.o.sourceSeq;
const J_SOURCE_ID = JournalHeader.o.sourceId;
const J_EPOCH = JournalHeader.o.epoch;
const TRADING_DAY_OPEN_DAY = TradingDayOpen.o.tradingDay;
const TRADING_DAY_CLOSE_DAY = TradingDayClose.o.tradingDay;

/** Types the sequencer journals: commands, admin/system commands, engine outputs, heartbeats. */
const JOURNALED = new Uint8Array(0x10000);
for (const name of ['NewOrder', 'CancelOrder', 'AmendOrder', 'ListProduct', 'HaltProduct', 'ResumeProduct', 'DelistProduct', 'TradingDayOpen', 'TradingDayClose',
  'AccountOpened', 'AccountSuspended', 'AccountRoleChanged', 'Deposit', 'Withdraw', 'InventoryReceipt', 'InventoryDispatch', 'SetRiskRule', 'SnapshotRequest',
  'OrderAccepted', 'OrderRejected', 'Fill', 'OrderCanceled', 'OrderAmended', 'OrderExpired', 'BookLevelChanged', 'EngineCheckpoint', 'Heartbeat'] as const) {
  JOURNALED[TypeId[name]] = 1;
}

export class Sequencer implements Parker {
  readonly options: Required<Omit<SequencerOptions, 'archiveDir' | 'io' | 'log' | 'statusPath' | 'counters'>> & { archiveDir?: string; statusPath: string };
  readonly inputs: InputCursor[];
  readonly writer: JournalWriter;
  readonly ring: RingFile;
  readonly producer: RingProducer;
  readonly status: JournalStatusFile;
  readonly exactlyOnce: ExactlyOnce;
  readonly startReport: StartReport;
  private readonly log: (event: Record<string, unknown>) => void;
  private readonly counters: SequencerCounters | null;
  private readonly fsyncMode: boolean;
  private readonly inputParker: Parker;
  private readonly clock = new Float64Array(2);
  private readonly stagingI32: Int32Array;
  private readonly ringI32: Int32Array;
  private nowUs = 0;
  private lastTimestampUs = 0;
  private tradingDay = 0;
  private roundRobin = 0;
  private batchEntries = 0;
  private closeDayPending = false;
  private journalFull = false;
  private lastSyncNs = 0;
  private batches = 0;
  private entriesTotal = 0;
  private faultError: SequencerFault | null = null;
  private closed = false;
  private haltedInputs = 0;
  private readonly alarmCounts = new Float64Array(0x10000);
  // Refill of the journal ring after a restart (entries on disk but not yet published).
  private refillReader: JournalDiskReader | null = null;
  private refillTo = 0;
  private refilled = 0;
  private readonly onInputRecord: (input: InputCursor, typeId: number, version: number, payload: number, length: number) => number;
  private readonly onRefillRecord: (typeId: number, version: number, buf: RecordBuffer, offset: number, length: number) => void;

  private constructor(options: SequencerOptions, parts: { writer: JournalWriter; exactlyOnce: ExactlyOnce; status: JournalStatusFile; ring: RingFile; producer: RingProducer; inputs: InputCursor[]; lastTimestampUs: number; tradingDay: number; startReport: StartReport }) {
    this.options = resolveOptions(options);
    this.log = options.log ?? ((event) => process.stdout.write(JSON.stringify(event) + '\n'));
    this.counters = options.counters ?? null;
    this.fsyncMode = this.options.durability === 'fsync';
    this.writer = parts.writer;
    this.exactlyOnce = parts.exactlyOnce;
    this.status = parts.status;
    this.ring = parts.ring;
    this.producer = parts.producer;
    this.inputs = parts.inputs;
    this.lastTimestampUs = parts.lastTimestampUs;
    this.tradingDay = parts.tradingDay;
    this.startReport = parts.startReport;
    this.stagingI32 = new Int32Array(this.writer.staging.buffer, this.writer.staging.byteOffset, this.writer.staging.byteLength >> 2);
    this.ringI32 = this.ring.i32;
    this.inputParker = this.inputs.length >= 1 && this.inputs.length <= 8 ? new MultiRingParker(this.inputs.map((i) => i.consumer), TAIL_OFFSET) : new SleepingParker();
    this.onInputRecord = (input, typeId, version, payload, length) => this.takeInput(input, typeId, version, payload, length);
    this.onRefillRecord = (typeId, version, buf, offset, length) => this.refillRecord(typeId, version, buf, offset, length);
    native.clockInto(this.clock, 0);
    this.lastSyncNs = this.clock[0]!;
  }

  /**
   * Recovers the journal from disk, attaches the journal ring and the inputs, and returns a
   * sequencer ready to work. Throws (naming the file and what to do) when it must not start.
   */
  static open(options: SequencerOptions): Sequencer {
    const resolved = resolveOptions(options);
    const log = options.log ?? ((event: Record<string, unknown>) => process.stdout.write(JSON.stringify(event) + '\n'));
    const startedMs = performance.now();
    const status = JournalStatusFile.create(resolved.statusPath);
    const pid = status.view.getInt32(Seq.PID, true);
    if (pid !== 0 && pid !== process.pid && processAlive(pid) && status.view.getUint32(Seq.STATE, true) === SequencerState.RUNNING) {
      throw new SequencerFault(`sequencer: pid ${pid} is running on ${resolved.statusPath}; one sequencer per journal (stop it first)`);
    }
    status.repairLock();
    writeState(status, SequencerState.RECOVERING, '');
    status.beginWrite();
    status.view.setInt32(Seq.PID, process.pid, true);
    status.endWrite();
    try {
      return Sequencer.recoverAndStart(options, resolved, status, log, startedMs);
    } catch (e) {
      writeState(status, SequencerState.FAULTED, `sequencer could not start: ${(e as Error).message}`);
      releaseDataDirLock(resolved.dataDir);
      throw e;
    }
  }

  private static recoverAndStart(
    options: SequencerOptions,
    resolved: Sequencer['options'],
    status: JournalStatusFile,
    log: (event: Record<string, unknown>) => void,
    startedMs: number,
  ): Sequencer {

    assertNoFsyncFailure(resolved.dataDir);
    fs.mkdirSync(resolved.dataDir, { recursive: true });
    takeDataDirLock(resolved.dataDir);
    const exactlyOnce = new ExactlyOnce();
    let lastTimestampUs = 0;
    let tradingDay = 0;
    const scan = resolved.recoveryScan !== 'auto' ? resolved.recoveryScan : liveBytes(resolved.dataDir) <= AUTO_FULL_SCAN_MAX_BYTES ? 'full' : 'tail';
    const recovered = recoverJournal(resolved.dataDir, {
      scan,
      repair: true,
      onStart: (snapshot) => {
        exactlyOnce.restore(snapshot);
        lastTimestampUs = snapshot.lastTimestampUs;
        tradingDay = snapshot.tradingDay;
      },
      visit: (cursor: SegmentCursor) => {
        const view = cursor.view;
        const p = cursor.payloadOffset;
        const typeId = cursor.typeId;
        const ts = getI64(view, p + J_TIMESTAMP);
        if (ts > lastTimestampUs) lastTimestampUs = ts;
        const body = p + JOURNAL_HEADER_BYTES;
        const inSeqAt = ENGINE_OUT_IN_SEQ_OFFSET[typeId]!;
        exactlyOnce.replay(
          typeId,
          view.getUint16(p + J_SOURCE_ID, true),
          getI64(view, p + J_SOURCE_SEQ),
          view.getUint32(p + J_EPOCH, true),
          inSeqAt >= 0 ? getI64(view, body + inSeqAt) : 0,
          inSeqAt >= 0 ? view.getUint32(body + ENGINE_OUT_INDEX_OFFSET[typeId]!, true) : 0,
        );
        if (typeId === TypeId.TradingDayOpen) tradingDay = view.getUint32(body + TRADING_DAY_OPEN_DAY, true);
        else if (typeId === TypeId.TradingDayClose) tradingDay = 0;
      },
    });
    if (recovered.torn !== null) {
      log({ event: 'journal-torn-tail-truncated', file: recovered.torn.file, offset: recovered.torn.offset, droppedBytes: recovered.torn.droppedBytes, problem: recovered.torn.problem });
    }
    for (const file of recovered.removed) log({ event: 'journal-half-created-segment-removed', file });

    // The writer's snapshot callback needs the sequencer, which needs the writer: bind late.
    let self: Sequencer | null = null;
    const initial: JournalSnapshot = emptySnapshot(recovered.headSeq + 1);
    const writer = JournalWriter.open(recovered, {
      dataDir: resolved.dataDir,
      segmentBytes: resolved.segmentBytes,
      stagingBytes: Math.max(8 << 20, resolved.maxBatchEntries * 512),
      io: options.io ?? nodeJournalIo,
      snapshot: () => (self === null ? { ...initial, createdUs: nowUs() } : self.snapshot()),
    });

    let ring: RingFile;
    try {
      ring = fs.existsSync(resolved.journalRing)
        ? RingFile.open(resolved.journalRing)
        : RingFile.create(resolved.journalRing, { capacityBytes: resolved.journalRingBytes, maxConsumers: resolved.journalRingConsumers });
    } catch (e) {
      writer.close();
      throw new SequencerFault(`sequencer: cannot use the journal ring: ${(e as Error).message}`, e);
    }
    const producer = new RingProducer(ring);
    const ringCreatedUs = ring.view.getUint32(Meta.CREATED_US_LO, true) + ring.view.getUint32(Meta.CREATED_US_HI, true) * 2 ** 32;
    const ringSeq = lastSeqOnRing(ring, status, ringCreatedUs);
    const headSeq = recovered.headSeq;
    if (ringSeq > headSeq) {
      writer.close();
      producer.close();
      throw new SequencerFault(
        `sequencer: the journal ring ${resolved.journalRing} has published up to seq ${ringSeq}, but the disk journal in ${resolved.dataDir} ends at seq ${headSeq}` +
          (recovered.torn === null ? '' : ` after truncating a bad tail in ${recovered.torn.file} at offset ${recovered.torn.offset}`) +
          `: entries consumers may have acted on are missing from disk. Do not start over it: restore the segment from a replica or backup; only if the loss is accepted, remove the ring and status files (ims stop --clean) and start again`,
      );
    }

    const inputs: InputCursor[] = [];
    try {
      resolved.inputs.forEach((file, i) => inputs.push(new InputCursor(file, resolved.consumerName, i)));
    } catch (e) {
      for (const input of inputs) input.close();
      writer.close();
      producer.close();
      throw new SequencerFault(`sequencer: cannot attach input ring: ${(e as Error).message}`, e);
    }

    const generation = status.view.getUint32(Seq.GENERATION, true) + 1;
    const startReport: StartReport = {
      headSeq,
      segments: recovered.segments.length,
      scannedFrames: recovered.scannedFrames,
      torn: recovered.torn,
      removedSegments: recovered.removed,
      ringSeq,
      refill: ringSeq >= 0 ? headSeq - ringSeq : 0,
      recoveryMs: 0,
      generation,
      scan,
    };
    const sequencer = new Sequencer(options, { writer, exactlyOnce, status, ring, producer, inputs, lastTimestampUs, tradingDay, startReport });
    self = sequencer;
    if (ringSeq >= 0 && ringSeq < headSeq) {
      sequencer.refillReader = new JournalDiskReader({ dataDir: resolved.dataDir, fromSeq: ringSeq + 1 });
      sequencer.refillTo = headSeq;
    }

    // Everything up to headSeq is durable now (the writer synced the newest segment on open), so
    // consumers may read it, from disk or, once refilled, from the ring.
    status.beginWrite();
    status.setText(DATA_DIR_OFFSET, path.resolve(resolved.dataDir));
    status.setText(ARCHIVE_DIR_OFFSET, resolved.archiveDir === undefined ? '' : path.resolve(resolved.archiveDir));
    status.setU32(Seq.GENERATION, generation);
    status.setU32(Seq.DURABILITY, sequencer.fsyncMode ? Durability.FSYNC : Durability.ASYNC);
    status.setU32(Seq.ASYNC_FSYNC_INTERVAL_MS, sequencer.fsyncMode ? 0 : resolved.asyncFsyncIntervalMs);
    status.setU32(Seq.MAX_BATCH_ENTRIES, resolved.maxBatchEntries);
    status.setF64(Seq.RING_CREATED_US, ringCreatedUs);
    status.setF64(Seq.DURABLE_SEQ, headSeq);
    status.setF64(Seq.HEAD_SEQ, headSeq);
    status.setF64(Seq.VISIBLE_SEQ, headSeq);
    status.setU32(Seq.HALTED_INPUTS, 0);
    status.setU32(Seq.FAULT_CODE, 0);
    status.setText(FAULT_TEXT_OFFSET, '');
    if (ringSeq < 0) {
      status.setU32(Seq.RING_BOUNDARY_POS, producer.position);
      status.setF64(Seq.RING_BOUNDARY_SEQ, headSeq);
    }
    status.clearSources();
    status.endWrite();
    exactlyOnce.markAllDirty();
    sequencer.publishStatus();
    startReport.recoveryMs = performance.now() - startedMs;
    writeState(status, SequencerState.RUNNING, '');
    log({ event: 'sequencer-start', pid: process.pid, durability: resolved.durability, ...startReport, torn: recovered.torn, inputs: resolved.inputs, journalRing: resolved.journalRing, dataDir: resolved.dataDir });
    return sequencer;
  }

  get headSeq(): number {
    return this.writer.headSeq;
  }

  get durableSeq(): number {
    return this.writer.durableSeq;
  }

  get fault(): SequencerFault | null {
    return this.faultError;
  }

  /**
   * One group commit (or one refill step after a restart). Returns the input records handled
   * (journaled or skipped), 0 when there was nothing to do. Throws a SequencerFault when the
   * journal cannot be written: nothing of the failed batch was acknowledged or published.
   */
  doWork(): number {
    if (this.faultError !== null) throw this.faultError;
    if (this.closed) return 0;
    if (this.refillReader !== null) return this.refillStep();
    this.batchEntries = 0;
    this.journalFull = false;
    let taken = 0;
    const inputs = this.inputs;
    const n = inputs.length;
    const perRing = this.options.perRingBatch;
    const maxRounds = Math.ceil(this.options.maxBatchEntries / perRing) * 2 + 1;
    try {
      for (let round = 0; round < maxRounds; round++) {
        let roundTaken = 0;
        for (let k = 0; k < n; k++) {
          const input = inputs[(this.roundRobin + k) % n]!;
          if (!input.hasUnread()) continue;
          this.stampClock();
          roundTaken += input.read(this.onInputRecord, perRing);
          if (this.journalFull || this.closeDayPending || this.batchEntries >= this.options.maxBatchEntries) break;
        }
        this.roundRobin = (this.roundRobin + 1) % n;
        taken += roundTaken;
        if (roundTaken === 0 || this.journalFull || this.closeDayPending || this.batchEntries >= this.options.maxBatchEntries) break;
      }
      if (taken > 0) this.flush();
      if (!this.fsyncMode) this.maybeSyncAsync();
    } catch (e) {
      throw this.toFault(e);
    }
    return taken;
  }

  /** Parker for the idle strategy: sleeps on the inputs (or on the journal ring when it is full). */
  park(timeoutNs: number): void {
    if (this.journalFull || this.refillReader !== null) {
      this.producer.parkUntilProgress(timeoutNs);
      return;
    }
    if (!this.fsyncMode && this.writer.durableSeq !== this.writer.writtenSeq) {
      timeoutNs = Math.min(timeoutNs, this.options.asyncFsyncIntervalMs * 1e6);
    }
    this.inputParker.park(timeoutNs);
  }

  /** Flushes and syncs what is pending, detaches from every ring; state STOPPED. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.faultError === null) {
      try {
        this.writer.sync();
        this.publishStatus();
      } catch (e) {
        this.toFault(e);
      }
    }
    try {
      this.writer.close();
    } catch {
      /* reported as a fault already */
    }
    this.producer.close();
    for (const input of this.inputs) input.close();
    this.refillReader?.close();
    releaseDataDirLock(this.options.dataDir);
    if (this.faultError === null) writeState(this.status, SequencerState.STOPPED, '');
  }

  // -----------------------------------------------------------------------------------------------

  private stampClock(): void {
    native.clockInto(this.clock, 0);
    const realtimeUs = Math.floor(this.clock[1]!);
    this.nowUs = realtimeUs > this.lastTimestampUs ? realtimeUs : this.lastTimestampUs;
  }

  /** The per-record visitor of the input rings (see InputCursor). */
  private takeInput(input: InputCursor, typeId: number, version: number, payload: number, length: number): number {
    if (this.batchEntries >= this.options.maxBatchEntries) return INPUT_STOP;
    const desc = messageByTypeId(typeId);
    if (desc === undefined || JOURNALED[typeId] === 0 || desc.version !== version || length !== INPUT_HEADER_BYTES + desc.size) {
      return this.haltInput(input, typeId, version, length);
    }
    const view = input.ring.view;
    const sourceSeq = getI64(view, payload + INPUT_SOURCE_SEQ);
    const sourceId = view.getUint16(payload + INPUT_SOURCE_ID, true);
    const epoch = view.getUint32(payload + INPUT_EPOCH, true);
    const body = payload + INPUT_HEADER_BYTES;
    const inSeqAt = ENGINE_OUT_IN_SEQ_OFFSET[typeId]!;
    const inSeq = inSeqAt >= 0 ? getI64(view, body + inSeqAt) : 0;
    const outIndex = inSeqAt >= 0 ? view.getUint32(body + ENGINE_OUT_INDEX_OFFSET[typeId]!, true) : 0;
    const exactlyOnce = this.exactlyOnce;
    const verdict = exactlyOnce.check(typeId, sourceId, sourceSeq, epoch, inSeq, outIndex, this.writer.headSeq);
    if (verdict !== Verdict.ACCEPT) {
      if (verdict !== Verdict.DUPLICATE) this.alarm(verdict === Verdict.STALE_EPOCH ? 'stale-epoch-rejected' : 'invalid-input-rejected', input, sourceId, sourceSeq, epoch, inSeq, outIndex);
      return INPUT_TAKEN;
    }

    const payloadBytes = JOURNAL_HEADER_BYTES + desc.size;
    const at = this.producer.tryClaim(typeId, version, payloadBytes);
    if (at === BACK_PRESSURED) {
      this.journalFull = true;
      return INPUT_STOP;
    }
    const seq = this.writer.headSeq + 1;
    const sp = this.writer.claim(typeId, version, payloadBytes, seq);
    const staging = this.writer.stagingView;
    setI64(staging, sp + ENTRY_SEQ, seq);
    setI64(staging, sp + J_TIMESTAMP, this.nowUs);
    // The input header and body, verbatim: 4-byte words (every offset and size is 8-aligned).
    const src = input.ring.i32;
    const dst = this.stagingI32;
    const words = (INPUT_HEADER_BYTES + desc.size) >> 2;
    const from = payload >> 2;
    const to = (sp + J_INPUT) >> 2;
    for (let w = 0; w < words; w++) dst[to + w] = src[from + w]!;
    this.writer.seal();
    // The same payload into the journal ring, unpublished until flush().
    const ringDst = this.ringI32;
    const ringTo = at >> 2;
    const stagingFrom = sp >> 2;
    const payloadWords = payloadBytes >> 2;
    for (let w = 0; w < payloadWords; w++) ringDst[ringTo + w] = dst[stagingFrom + w]!;

    if (exactlyOnce.lastCheckWasGap) this.alarm('source-gap-accepted', input, sourceId, sourceSeq, epoch, inSeq, outIndex);
    exactlyOnce.commit(typeId, sourceId, sourceSeq, epoch, inSeq, outIndex);
    this.lastTimestampUs = this.nowUs;
    this.batchEntries++;
    if (typeId === TypeId.TradingDayOpen) {
      this.tradingDay = view.getUint32(body + TRADING_DAY_OPEN_DAY, true);
    } else if (typeId === TypeId.TradingDayClose) {
      // The day ends with this entry: the batch ends here and the next entry starts a new segment,
      // so a segment never mixes two days and archive can move whole segments.
      this.tradingDay = 0;
      this.closeDayPending = true;
      this.log({ event: 'trading-day-closed', seq, tradingDay: view.getUint32(body + TRADING_DAY_CLOSE_DAY, true) });
      return INPUT_TAKEN_END_BATCH;
    }
    return INPUT_TAKEN;
  }

  /** Makes the batch durable (per mode), publishes it, acknowledges the inputs. */
  private flush(): void {
    const writer = this.writer;
    const counters = this.counters;
    const startMs = counters === null ? 0 : performance.now();
    const syncsBefore = writer.syncs;
    writer.write();
    if (this.fsyncMode) {
      writer.sync();
      native.clockInto(this.clock, 0);
      this.lastSyncNs = this.clock[0]!;
    }
    const head = writer.headSeq;
    // visibleSeq first, then the ring: see bus/journal-reader.ts for why the order matters.
    const status = this.status;
    status.beginWrite();
    // Durable before visible: a reader that finds this update half-made (we were killed inside
    // it) must never see an entry visible that is not durable.
    status.setF64(Seq.DURABLE_SEQ, writer.durableSeq);
    status.setF64(Seq.HEAD_SEQ, head);
    status.setF64(Seq.VISIBLE_SEQ, head);
    status.endWrite();
    this.producer.commit();
    for (let i = 0; i < this.inputs.length; i++) this.inputs[i]!.commit();
    this.batches++;
    this.entriesTotal += this.batchEntries;
    if (counters !== null) {
      if (writer.syncs !== syncsBefore) counters.synced(writer.lastSyncUs);
      counters.committed(this.batchEntries, head, (performance.now() - startMs) * 1e6);
    }
    if (this.closeDayPending) {
      this.closeDayPending = false;
      writer.roll();
    }
    this.publishStatus();
  }

  private maybeSyncAsync(): void {
    const writer = this.writer;
    if (writer.durableSeq === writer.writtenSeq) return;
    native.clockInto(this.clock, 0);
    if (this.clock[0]! - this.lastSyncNs < this.options.asyncFsyncIntervalMs * 1e6) return;
    const syncsBefore = writer.syncs;
    writer.sync();
    if (this.counters !== null && writer.syncs !== syncsBefore) this.counters.synced(writer.lastSyncUs);
    this.lastSyncNs = this.clock[0]!;
    this.status.beginWrite();
    this.status.setF64(Seq.DURABLE_SEQ, writer.durableSeq);
    this.status.endWrite();
  }

  /** Republishes entries that were on disk but not on the surviving ring when we started. */
  private refillStep(): number {
    const reader = this.refillReader!;
    const n = reader.read(this.onRefillRecord, LIMITS.refillChunk, this.refillTo);
    if (n > 0) {
      this.producer.commit();
      this.refilled += n;
      this.publishStatus();
    }
    if (reader.nextSeq > this.refillTo) {
      reader.close();
      this.refillReader = null;
      this.log({ event: 'journal-ring-refilled', entries: this.refilled, throughSeq: this.refillTo });
    }
    return n;
  }

  private refillRecord(typeId: number, version: number, buf: RecordBuffer, offset: number, length: number): void {
    const at = this.producer.tryClaim(typeId, version, length);
    if (at === BACK_PRESSURED) {
      this.journalFull = true;
      this.refillReader!.stop();
      return;
    }
    this.ring.bytes.set(buf.bytes.subarray(offset, offset + length), at);
  }

  /** Writes positions and counters to the status file (once per batch). */
  private publishStatus(): void {
    const s = this.status;
    const w = this.writer;
    const e = this.exactlyOnce;
    s.beginWrite();
    s.setF64(Seq.HEAD_SEQ, w.headSeq);
    s.setF64(Seq.DURABLE_SEQ, w.durableSeq);
    s.setU32(Seq.RING_BOUNDARY_POS, this.producer.position);
    s.setF64(Seq.RING_BOUNDARY_SEQ, this.refillReader === null ? w.headSeq : this.refillReader.nextSeq - 1);
    s.setF64(Seq.LAST_TIMESTAMP_US, this.lastTimestampUs);
    s.setU32(Seq.ENGINE_EPOCH, e.engineEpoch);
    s.setF64(Seq.LAST_OUT_IN_SEQ, e.lastOutInSeq);
    s.setU32(Seq.LAST_OUT_INDEX, e.lastOutIndex);
    s.setF64(Seq.DUPLICATES, e.duplicates);
    s.setF64(Seq.STALE_EPOCH, e.staleEpoch);
    s.setF64(Seq.GAP_ALARMS, e.gapAlarms);
    s.setF64(Seq.INVALID, e.invalid);
    s.setF64(Seq.BATCHES, this.batches);
    s.setF64(Seq.ENTRIES_TOTAL, this.entriesTotal);
    s.setU32(Seq.LAST_BATCH_ENTRIES, this.batchEntries);
    s.setF64(Seq.SEGMENT_FIRST_SEQ, w.currentSegmentFirstSeq);
    s.setU32(Seq.SOURCE_COUNT, e.ids.length);
    s.setU32(Seq.HALTED_INPUTS, this.haltedInputs);
    s.setF64(Seq.SYNCS, w.syncs);
    s.setF64(Seq.SYNC_TOTAL_US, w.syncTotalUs);
    s.setU32(Seq.LAST_SYNC_US, w.lastSyncUs);
    s.setU32(Seq.MAX_SYNC_US, Math.min(w.maxSyncUs, 0xffffffff));
    native.clockInto(this.clock, 0);
    s.setF64(Seq.UPDATED_US, this.clock[1]!);
    e.takeDirty((slot, sourceId, lastSourceSeq) => s.setSource(slot, sourceId, lastSourceSeq, e.duplicatesBySlot[slot]!, e.gapsBySlot[slot]!, e.staleBySlot[slot]!));
    s.endWrite();
  }

  /** The state before the next entry: what a new segment's header records. */
  private snapshot(): JournalSnapshot {
    const e = this.exactlyOnce;
    return {
      firstSeq: this.writer.headSeq + 1,
      createdUs: nowUs(),
      lastTimestampUs: this.lastTimestampUs,
      engineEpoch: e.engineEpoch,
      lastOutInSeq: e.lastOutInSeq,
      lastOutIndex: e.lastOutIndex,
      tradingDay: this.tradingDay,
      sources: e.sources(),
      // The writer fills these in (it knows the segment it closes).
      prevSegmentBytes: 0,
      prevSegmentCrc: 0,
    };
  }

  private haltInput(input: InputCursor, typeId: number, version: number, length: number): number {
    const desc = messageByTypeId(typeId);
    const why =
      desc === undefined
        ? `type ${typeId} is unknown to this build`
        : JOURNALED[typeId] === 0
          ? `${desc.name} (type ${typeId}) is not an input the sequencer journals`
          : desc.version !== version
            ? `${desc.name} version ${version} is unknown (this build reads version ${desc.version})`
            : `${desc.name} of ${length} bytes, expected ${INPUT_HEADER_BYTES + desc.size}`;
    input.halted = `input ring ${input.path} at position ${input.position}: ${why}. The sequencer stopped reading this ring (nothing after this record is acknowledged); deploy matching releases of its producer and the sequencer, then restart both`;
    this.haltedInputs++;
    this.log({ event: 'input-halted', ring: input.path, position: input.position, typeId, version, length, error: input.halted });
    this.status.beginWrite();
    this.status.setText(FAULT_TEXT_OFFSET, input.halted);
    this.status.setU32(Seq.HALTED_INPUTS, this.haltedInputs);
    this.status.endWrite();
    return INPUT_HALT;
  }

  private alarm(kind: string, input: InputCursor, sourceId: number, sourceSeq: number, epoch: number, inSeq: number, outIndex: number): void {
    const count = ++this.alarmCounts[sourceId]!;
    if (count > LIMITS.loggedAlarmsPerSource && count % 10_000 !== 0) return;
    this.log({
      event: 'alarm',
      kind,
      ring: input.path,
      sourceId,
      sourceSeq,
      expected: kind === 'source-gap-accepted' ? this.exactlyOnce.gapExpected : undefined,
      epoch,
      engineEpoch: this.exactlyOnce.engineEpoch,
      inSeq: inSeq || undefined,
      outIndex: inSeq ? outIndex : undefined,
      alarmsFromSource: count,
    });
  }

  /** Stops everything after a journal failure: nothing of this batch is published or acknowledged. */
  private toFault(e: unknown): SequencerFault {
    if (this.faultError !== null) return this.faultError;
    this.producer.abort();
    for (const input of this.inputs) input.rewind();
    this.writer.cancelClaim();
    const message = e instanceof Error ? e.message : String(e);
    this.faultError = new SequencerFault(`sequencer stopped accepting: ${message}`, e);
    this.log({ event: 'fault', error: this.faultError.message, headSeqAcknowledged: this.status.f64[Seq.VISIBLE_SEQ >> 3] });
    writeState(this.status, SequencerState.FAULTED, this.faultError.message);
    return this.faultError;
  }
}

function resolveOptions(options: SequencerOptions): Sequencer['options'] {
  const o = {
    inputs: options.inputs,
    consumerName: options.consumerName ?? DEFAULTS.consumerName,
    journalRing: options.journalRing,
    journalRingBytes: options.journalRingBytes ?? DEFAULTS.journalRingBytes,
    journalRingConsumers: options.journalRingConsumers ?? DEFAULTS.journalRingConsumers,
    statusPath: options.statusPath ?? statusPathForRing(options.journalRing),
    dataDir: options.dataDir,
    archiveDir: options.archiveDir,
    durability: options.durability ?? DEFAULTS.durability,
    asyncFsyncIntervalMs: options.asyncFsyncIntervalMs ?? DEFAULTS.asyncFsyncIntervalMs,
    segmentBytes: options.segmentBytes ?? 128 << 20,
    maxBatchEntries: options.maxBatchEntries ?? DEFAULTS.maxBatchEntries,
    perRingBatch: options.perRingBatch ?? DEFAULTS.perRingBatch,
    recoveryScan: options.recoveryScan ?? DEFAULTS.recoveryScan,
  };
  if (o.inputs.length < 1 || o.inputs.length > LIMITS.maxInputs) throw new RangeError(`sequencer: 1..${LIMITS.maxInputs} input rings, got ${o.inputs.length}`);
  if (o.durability !== 'fsync' && o.durability !== 'async') throw new RangeError(`sequencer: durability must be 'fsync' or 'async', got '${String(o.durability)}'`);
  if (!(Number.isInteger(o.maxBatchEntries) && o.maxBatchEntries >= 1 && o.maxBatchEntries <= LIMITS.maxBatchEntries)) throw new RangeError(`sequencer: maxBatchEntries must be 1..${LIMITS.maxBatchEntries}, got ${o.maxBatchEntries}`);
  if (!(Number.isInteger(o.perRingBatch) && o.perRingBatch >= 1 && o.perRingBatch <= LIMITS.maxPerRingBatch)) throw new RangeError(`sequencer: perRingBatch must be 1..${LIMITS.maxPerRingBatch}, got ${o.perRingBatch}`);
  if (!(o.asyncFsyncIntervalMs >= 1 && o.asyncFsyncIntervalMs <= LIMITS.maxAsyncFsyncIntervalMs)) throw new RangeError(`sequencer: asyncFsyncIntervalMs must be 1..${LIMITS.maxAsyncFsyncIntervalMs}, got ${o.asyncFsyncIntervalMs}`);
  if (o.recoveryScan !== 'full' && o.recoveryScan !== 'tail' && o.recoveryScan !== 'auto') throw new RangeError(`sequencer: recoveryScan must be 'full', 'tail' or 'auto'`);
  return o;
}

/** One sequencer per journal directory: a pid file, taken over when its process is gone. */
export const DATA_DIR_LOCK = 'sequencer.pid';

function takeDataDirLock(dataDir: string): void {
  const file = path.join(dataDir, DATA_DIR_LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = Number(fs.readFileSync(file, 'utf8').trim());
    if (owner === process.pid) return;
    if (Number.isSafeInteger(owner) && owner > 0 && processAlive(owner)) {
      throw new SequencerFault(`sequencer: pid ${owner} holds ${file}; one sequencer per journal directory (stop it first)`);
    }
    fs.rmSync(file, { force: true }); // left by a sequencer that died: take over
  }
  throw new SequencerFault(`sequencer: could not take ${file}; another sequencer is starting on the same journal directory`);
}

function releaseDataDirLock(dataDir: string): void {
  const file = path.join(dataDir, DATA_DIR_LOCK);
  try {
    if (Number(fs.readFileSync(file, 'utf8').trim()) === process.pid) fs.rmSync(file, { force: true });
  } catch {
    /* already gone */
  }
}

function liveBytes(dataDir: string): number {
  let total = 0;
  for (const segment of listSegments(dataDir)) total += fs.statSync(segment.path).size;
  return total;
}

function writeState(status: JournalStatusFile, state: SequencerState, fault: string): void {
  status.beginWrite();
  status.setU32(Seq.STATE, state);
  if (state === SequencerState.FAULTED) {
    status.setU32(Seq.FAULT_CODE, 1);
    status.setText(FAULT_TEXT_OFFSET, fault);
  }
  status.endWrite();
}

function nowUs(): number {
  const clock = new Float64Array(2);
  native.clockInto(clock, 0);
  return Math.floor(clock[1]!);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The seq of the last record published on a surviving journal ring, found by walking from the
 * last known (position, seq) boundary the status file recorded up to the tail. -1 when the ring is
 * new (nothing published) or cannot be placed (status from another ring): then publication starts
 * after the disk head, and consumers catch up by seq from disk (JournalReader).
 */
function lastSeqOnRing(ring: RingFile, status: JournalStatusFile, ringCreatedUs: number): number {
  const tail = ring.tail();
  if (tail === 0 && ring.publishedRecords() === 0) return -1;
  if (status.f64[Seq.RING_CREATED_US >> 3] !== ringCreatedUs) return -1;
  let pos = status.view.getUint32(Seq.RING_BOUNDARY_POS, true);
  let seq = status.f64[Seq.RING_BOUNDARY_SEQ >> 3]!;
  if (((tail - pos) >>> 0) > ring.capacity) return -1;
  let steps = 0;
  while (pos !== tail) {
    const base = ring.dataStart + (pos & ring.mask);
    const length = ring.view.getInt32(base, true);
    const typeId = ring.view.getUint16(base + 4, true);
    if (length < RECORD_HEADER_BYTES || ++steps > ring.capacity / RECORD_HEADER_BYTES) return -1;
    if (typeId !== 0) seq = getI64(ring.view, base + RECORD_HEADER_BYTES + ENTRY_SEQ);
    pos = (pos + alignRecord(length)) >>> 0;
  }
  return seq;
}
