// One engine instance of the hot-warm pair: an EngineReplica fed by its own JournalReader, plus the
// role it plays. main.ts wraps it in a process (arguments, the loop, signals).
//
// Roles (engine-status.ts EngineRole):
//   WARM      applies the journal, keeps what it computed but has not seen journaled (pending),
//             compares every journaled engine output and checkpoint with its own, publishes nothing,
//             and watches the lease: when the leader's heartbeat is older than leaseTimeoutMs (or
//             its pid is gone) it takes over.
//   CLAIMING  took over: SIGKILLed the old leader if it still lived (one machine: a paused process
//             can then never publish again; the epoch in every output is the second fence, at the
//             sequencer), claimed the next epoch (CAS in the lease), and reads the journal up to
//             what was visible at the claim, so it knows what the journal already has. Heartbeats.
//   HOT       publishes every pending output from the oldest not seen journaled (no gap: the
//             journal has everything before it; no duplicate: the sequencer takes an output only
//             after the last one journaled), then each new output as it is computed. Heartbeats
//             every heartbeatIntervalMs from the loop; the loop never sleeps longer than that.
//             Still compares its own outputs as they come back through the journal.
// A hot whose heartbeat is refused (the epoch moved: it was presumed dead) stops publishing at
// once and becomes WARM in the same process: its pending ring is exactly what a warm has, so it
// can take over again later. (Exiting for a supervisor restart would also be correct, but costs a
// snapshot load and a replay for nothing.)
//
// At start an instance loads the newest valid snapshot, replays the journal after it, and is WARM;
// if the lease shows no live leader its first look at the lease takes over (the CLAIMING step then
// covers the catch-up). Snapshots: every snapshotEvery commands (at the same commands on both
// instances, so the files are identical) and at a SnapshotRequest, written by the warm; a hot
// writes them only when no live warm does, because a snapshot's encoding runs on the loop.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { native } from '../../native/addon';
import { DEFAULT_LEASE_TIMEOUT_MS, emptyLeaseSnapshot, LeaderLease, PID_CHECK_GRACE_MS } from '../../bus/leader-lease';
import { JournalReader } from '../../bus/journal-reader';
import { JournalStatusFile, Seq, statusPathForRing } from '../../bus/journal-status';
import { BACK_PRESSURED, registerConsumer, RingFile, RingProducer, type RecordBuffer } from '../../bus/ring';
import { INPUT_HEADER_BYTES, InputHeader, MESSAGES } from '../../bus/schema';
import { SourceId } from '../../bus/source-ids';
import { writeI64 } from '../../bus/codec';
import type { EngineOptions } from './engine';
import { OUT_EPOCH_OFFSET } from './engine-outputs';
import { DEFAULT_CHECKPOINT_EVERY, DEFAULT_PENDING_BYTES, EngineReplica } from './engine-replica';
import { DEFAULT_SNAPSHOTS_KEPT, encodeSnapshot, loadNewestSnapshot, pruneSnapshots, writeSnapshotAsync } from './engine-snapshot-file';
import { EngineRole, EngineStatusFile, engineLeasePath, engineStatusPath, readEngineInstanceStatus } from './engine-status';
import type { EngineCounters } from './engine-counters';

export type EngineInstanceName = 'a' | 'b';

export interface EngineInstanceOptions {
  instance: EngineInstanceName;
  /** The journal ring (<runDir>/journal.ring); its status file sits beside it. */
  journalRing: string;
  /** This instance's output ring (<runDir>/engine-<x>-out.ring), consumed by the sequencer. */
  outRing: string;
  /** Created when missing, with a gating consumer named sequencerConsumer registered first. */
  outRingBytes?: number;
  sequencerConsumer?: string;
  lease: string;
  status: string;
  snapshotDir: string;
  /** The other instance's status file (to know whether a live warm writes the snapshots). */
  peerStatus?: string;
  leaseTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  checkpointEvery?: number;
  /** Commands between scheduled snapshots. */
  snapshotEvery?: number;
  snapshotsKept?: number;
  maxPendingBytes?: number;
  /** Journal entries handled per poll. */
  pollLimit?: number;
  /** Outputs published per ring commit. */
  publishBatch?: number;
  /** Hold the sequencer back instead of being lapped (then read from disk). Default false. */
  journalGating?: boolean;
  engine?: EngineOptions;
  /** Test-only: corrupt the first computed output at inSeq >= this (see OutputEncoder). */
  testCorruptAtSeq?: number;
  testCorruptTypeId?: number;
  log?: (event: Record<string, unknown>) => void;
  /** The process's counters file (engine-counters.ts): every journal entry applied is counted there. */
  counters?: EngineCounters;
}

export const ENGINE_DEFAULTS = {
  outRingBytes: 16 << 20,
  sequencerConsumer: 'sequencer',
  leaseTimeoutMs: DEFAULT_LEASE_TIMEOUT_MS,
  heartbeatIntervalMs: 2,
  checkpointEvery: DEFAULT_CHECKPOINT_EVERY,
  snapshotEvery: 500_000,
  snapshotsKept: DEFAULT_SNAPSHOTS_KEPT,
  maxPendingBytes: DEFAULT_PENDING_BYTES,
  pollLimit: 1024,
  publishBatch: 512,
};

/** Bounds of the loop. */
export const ENGINE_LIMITS = {
  /** Journal entries handled between two looks at the lease inside one poll (a power of two). */
  entriesPerLeaseTick: 32,
  /** How often a warm looks at the lease. */
  leaseCheckIntervalNs: 1_000_000,
  /** A hot stops reading commands while this many computed outputs wait to be published. */
  unpublishedHighWater: 65_536,
  /** The longest a loop sleeps: well under the heartbeat interval, and the warm's detection step. */
  maxParkNs: 1_000_000,
  /** How long SIGTERM waits for the output ring to take what a hot still has to publish. */
  shutdownFlushMs: 2_000,
  /** How long start waits for the journal ring to appear (the supervisor creates it). */
  journalRingWaitMs: 30_000,
};

const VERSION_OF = new Uint8Array(0x10000);
for (const m of MESSAGES) VERSION_OF[m.typeId] = m.version;

function monotonicNs(clock: Float64Array): number {
  native.clockInto(clock, 0);
  return clock[0]!;
}

function pidAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when `pid` is a zombie: dead, waiting for its parent to reap it (never runs again). */
function isZombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    // "pid (comm) S ...": the state follows the last ')' (comm may itself contain parentheses).
    return stat.charCodeAt(stat.lastIndexOf(')') + 2) === 0x5a; // 'Z'
  } catch {
    return true; // gone meanwhile
  }
}

/** True when `pid` runs an engine process (never SIGKILL a stranger who inherited a recycled pid). */
function isEngineProcess(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('matching-engine');
  } catch {
    return false;
  }
}

export class EngineInstance {
  readonly options: Required<Omit<EngineInstanceOptions, 'engine' | 'testCorruptAtSeq' | 'testCorruptTypeId' | 'log' | 'peerStatus' | 'counters'>> & { peerStatus: string | null };
  readonly replica: EngineReplica;
  readonly reader: JournalReader;
  readonly producer: RingProducer;
  readonly lease: LeaderLease;
  /** The lease as the last deadness check read it: what a takeover claims. */
  private readonly leaseSeen = emptyLeaseSnapshot();
  readonly status: EngineStatusFile;
  readonly sourceId: number;
  role: EngineRole = EngineRole.WARM;
  epoch = 0;
  takeovers = 0;
  published = 0;
  backPressureParks = 0;
  /** Outputs a hot dropped from a full pending ring after publishing them. */
  evictedPublished = 0;
  private readonly journalStatus: JournalStatusFile;
  private readonly log: (event: Record<string, unknown>) => void;
  private readonly clock = new Float64Array(2);
  private readonly visible = new Float64Array(3);
  private readonly onRecord: (typeId: number, version: number, buf: RecordBuffer, offset: number, length: number) => void;
  private readonly ringI32: Int32Array;
  private readonly pendingI32: Int32Array;
  private nextSourceSeq = 1;
  private lastHeartbeatNs = 0;
  private lastLeaseCheckNs = 0;
  private lastStatusNs = 0;
  private claimTargetSeq = 0;
  private detectedAtNs = 0;
  private claimedAtNs = 0;
  private backPressured = false;
  private snapshotBoundary = 0;
  private snapshotInFlight = false;
  private snapshotDue: 'schedule' | 'request' | null = null;
  private closed = false;
  private entriesSinceLeaseTick = 0;
  private lateHeartbeats = 0;
  private lastLateLogNs = 0;
  /** The longest time between two heartbeats while hot (how close a false takeover came). */
  maxHeartbeatGapNs = 0;

  private constructor(options: EngineInstanceOptions, parts: { replica: EngineReplica; restoredFrom: string | null }) {
    this.options = {
      instance: options.instance,
      journalRing: options.journalRing,
      outRing: options.outRing,
      outRingBytes: options.outRingBytes ?? ENGINE_DEFAULTS.outRingBytes,
      sequencerConsumer: options.sequencerConsumer ?? ENGINE_DEFAULTS.sequencerConsumer,
      lease: options.lease,
      status: options.status,
      snapshotDir: options.snapshotDir,
      peerStatus: options.peerStatus ?? null,
      leaseTimeoutMs: options.leaseTimeoutMs ?? ENGINE_DEFAULTS.leaseTimeoutMs,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? ENGINE_DEFAULTS.heartbeatIntervalMs,
      checkpointEvery: options.checkpointEvery ?? ENGINE_DEFAULTS.checkpointEvery,
      snapshotEvery: options.snapshotEvery ?? ENGINE_DEFAULTS.snapshotEvery,
      snapshotsKept: options.snapshotsKept ?? ENGINE_DEFAULTS.snapshotsKept,
      maxPendingBytes: options.maxPendingBytes ?? ENGINE_DEFAULTS.maxPendingBytes,
      pollLimit: options.pollLimit ?? ENGINE_DEFAULTS.pollLimit,
      publishBatch: options.publishBatch ?? ENGINE_DEFAULTS.publishBatch,
      journalGating: options.journalGating ?? false,
    };
    this.log = options.log ?? ((event) => process.stdout.write(JSON.stringify(event) + '\n'));
    this.replica = parts.replica;
    this.sourceId = options.instance === 'a' ? SourceId.ENGINE_A : SourceId.ENGINE_B;
    const o = this.options;

    const outRing = openOutRing(o.outRing, o.outRingBytes, o.sequencerConsumer);
    this.producer = new RingProducer(outRing);
    this.ringI32 = outRing.i32;
    this.pendingI32 = new Int32Array(this.replica.pending.bytes.buffer);
    this.lease = LeaderLease.open(o.lease);
    this.status = EngineStatusFile.create(o.status, o.instance);
    this.reader = new JournalReader({ ringPath: o.journalRing, name: `engine-${o.instance}`, fromSeq: this.replica.nextSeq, gating: o.journalGating });
    this.journalStatus = JournalStatusFile.create(statusPathForRing(o.journalRing));
    const counters = options.counters ?? null;
    this.onRecord = (typeId, version, buf, offset) => {
      this.replica.onEntry(typeId, version, buf.view, offset);
      if (counters !== null) counters.entry(typeId, buf.view, offset);
      // A batch of cold (not yet optimised) code can take tens of milliseconds: look at the lease
      // inside it too, so neither a hot's heartbeat nor a warm's watch waits for the batch's end.
      if ((++this.entriesSinceLeaseTick & (ENGINE_LIMITS.entriesPerLeaseTick - 1)) === 0) this.leaseTick(monotonicNs(this.clock));
    };
    this.snapshotBoundary = Math.floor(this.replica.meta.commandsApplied / o.snapshotEvery);

    const now = monotonicNs(this.clock);
    this.status.begin();
    this.status.setRole(EngineRole.WARM, 0);
    this.status.setTime('started', now);
    this.status.setRestoredFromSeq(parts.restoredFrom === null ? 0 : this.replica.meta.journalSeq);
    this.status.setSnapshotSeq(parts.restoredFrom === null ? 0 : this.replica.meta.journalSeq);
    this.status.end();
    this.publishStatus(now);
  }

  /** Loads the newest valid snapshot (or starts empty), opens the journal, the ring, the lease. */
  static open(options: EngineInstanceOptions): EngineInstance {
    const log = options.log ?? ((event: Record<string, unknown>) => process.stdout.write(JSON.stringify(event) + '\n'));
    const startedMs = performance.now();
    let instance: EngineInstance | null = null;
    const replica = new EngineReplica({
      engine: options.engine,
      checkpointEvery: options.checkpointEvery ?? ENGINE_DEFAULTS.checkpointEvery,
      pendingBytes: options.maxPendingBytes ?? ENGINE_DEFAULTS.maxPendingBytes,
      log,
      labels: { instance: options.instance },
      makeRoom: (bytes) => instance!.makeRoom(bytes),
      onCheckpoint: (inSeq, hi, lo) => instance?.noteCheckpoint(inSeq, hi, lo),
    });
    if (options.testCorruptAtSeq !== undefined && options.testCorruptAtSeq > 0) {
      replica.encoder.corruptAtInSeq = options.testCorruptAtSeq;
      replica.encoder.corruptTypeId = options.testCorruptTypeId ?? 0;
      log({ event: 'engine-test-corruption-armed', instance: options.instance, atInSeq: options.testCorruptAtSeq, typeId: options.testCorruptTypeId ?? 0 });
    }
    pruneSnapshots(options.snapshotDir, options.snapshotsKept ?? ENGINE_DEFAULTS.snapshotsKept);
    const loaded = loadNewestSnapshot(options.snapshotDir, (event) => {
      log({ ...event, instance: options.instance });
      process.stderr.write(`matching-engine ${options.instance}: skipping snapshot ${String(event['file'])}: ${String(event['error'])}\n`);
    });
    if (loaded !== null) replica.restore(loaded.snapshot.meta, loaded.snapshot.pending, loaded.snapshot.engine);
    waitForFile(options.journalRing, ENGINE_LIMITS.journalRingWaitMs);
    instance = new EngineInstance(options, { replica, restoredFrom: loaded?.file ?? null });
    log({
      event: 'engine-start',
      instance: options.instance,
      pid: process.pid,
      sourceId: instance.sourceId,
      snapshot: loaded?.file ?? null,
      fromSeq: replica.nextSeq,
      pendingOutputs: replica.pending.records,
      restoreMs: Math.round(performance.now() - startedMs),
      leaseEpoch: instance.lease.epoch,
      leaseTimeoutMs: instance.options.leaseTimeoutMs,
    });
    return instance;
  }

  /**
   * One turn of the loop: the lease (heartbeat, or watching the leader), up to pollLimit journal
   * entries, publishing, snapshots, the status file. Returns the work done (0 = idle).
   */
  doWork(): number {
    if (this.closed) return 0;
    const now = monotonicNs(this.clock);
    this.leaseTick(now);
    let work = 0;
    if (!(this.role === EngineRole.HOT && this.replica.pending.unpublished > ENGINE_LIMITS.unpublishedHighWater)) {
      work += this.reader.poll(this.onRecord, this.options.pollLimit);
    }
    if (this.role === EngineRole.CLAIMING && this.reader.nextSeq > this.claimTargetSeq) this.becomeHot();
    if (this.role === EngineRole.HOT) work += this.publish();
    this.maybeSnapshot();
    if (work > 0 || now - this.lastStatusNs > 10_000_000) this.publishStatus(now);
    return work;
  }

  /** Parker of the idle strategy: on the output ring when it is full, else on the journal. */
  park(timeoutNs: number): void {
    const ns = Math.min(timeoutNs, ENGINE_LIMITS.maxParkNs);
    if (this.backPressured && this.role === EngineRole.HOT) {
      this.backPressureParks++;
      this.producer.parkUntilProgress(ns);
      return;
    }
    this.reader.park(ns);
  }

  /** SIGTERM: publish what a hot still has (bounded wait), write a snapshot, detach. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    const deadline = Date.now() + ENGINE_LIMITS.shutdownFlushMs;
    // Keep the lease alive while stopping: a warm must not presume us dead and SIGKILL us mid-write.
    const beat = setInterval(() => this.heartbeatIfHot(monotonicNs(this.clock)), this.options.heartbeatIntervalMs);
    try {
      while (this.role === EngineRole.HOT && this.replica.pending.unpublished > 0 && Date.now() < deadline) {
        this.heartbeatIfHot(monotonicNs(this.clock));
        if (this.publish() === 0) this.producer.parkUntilProgress(1_000_000);
      }
      const bytes = encodeSnapshot(this.replica);
      const file = await writeSnapshotAsync(this.options.snapshotDir, this.replica.meta.journalSeq, bytes);
      pruneSnapshots(this.options.snapshotDir, this.options.snapshotsKept);
      this.log({ event: 'engine-snapshot-written', instance: this.options.instance, file, seq: this.replica.meta.journalSeq, bytes: bytes.length, reason: 'shutdown' });
    } finally {
      clearInterval(beat);
      this.close();
    }
  }

  /** Detaches from the rings (the journal slot and the output ring stay for a successor). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.publishStatus(monotonicNs(this.clock));
    this.status.begin();
    this.status.setRole(EngineRole.STOPPED, this.epoch);
    this.status.end();
    this.producer.close();
    this.reader.close();
    const m = this.replica.meta;
    this.log({
      event: 'engine-stopped',
      instance: this.options.instance,
      role: this.role === EngineRole.HOT ? 'hot' : 'warm',
      epoch: this.epoch,
      lastAppliedSeq: m.journalSeq,
      commandsApplied: m.commandsApplied,
      stateHash: stateHashHexOf(this.replica),
      divergences: this.replica.divergences,
      outputsCompared: this.replica.matched,
      checkpointsCompared: this.replica.checkpointsCompared,
      uncompared: this.replica.uncompared,
      published: this.published,
      pendingOutputs: this.replica.pending.records,
      maxHeartbeatGapMs: Math.round(this.maxHeartbeatGapNs / 1e5) / 10,
      lateHeartbeats: this.lateHeartbeats,
    });
  }

  // --- the lease ---------------------------------------------------------------------------------

  private leaseTick(now: number): void {
    if (this.role === EngineRole.HOT || this.role === EngineRole.CLAIMING) {
      this.heartbeatIfHot(now);
      return;
    }
    if (now - this.lastLeaseCheckNs < ENGINE_LIMITS.leaseCheckIntervalNs) return;
    this.lastLeaseCheckNs = now;
    const reason = this.leaderDeadReason();
    if (reason !== null) this.takeOver(now, reason);
  }

  /**
   * Why the leader is presumed dead, or null while it looks alive. Besides the lease's own test
   * (no leader, heartbeat older than the timeout, pid gone), a leader that is merely late is looked
   * up in /proc: a process killed but not yet reaped by its parent (a zombie) still answers
   * kill(pid, 0), and would otherwise cost the whole timeout.
   */
  private leaderDeadReason(): string | null {
    // One consistent reading, judged and then claimed as read (takeOver passes it to tryAcquire),
    // so a claim made by someone else after this reading makes ours fail instead of racing it.
    const seen = this.lease.snapshot(this.leaseSeen);
    const pid = seen.leaderPid;
    if (seen.epoch === 0 || pid === 0) return 'no-leader';
    const age = seen.ageMs;
    if (age > this.options.leaseTimeoutMs) return 'heartbeat-timeout';
    // A fresh heartbeat beside a vanished pid is a claim in progress (the pid is written last).
    if (age <= PID_CHECK_GRACE_MS) return null;
    if (!pidAlive(pid)) return 'leader-exited';
    if (age > this.options.heartbeatIntervalMs && isZombie(pid)) return 'leader-killed';
    return null;
  }

  private heartbeatIfHot(now: number): void {
    if (this.role !== EngineRole.HOT && this.role !== EngineRole.CLAIMING) return;
    const gap = now - this.lastHeartbeatNs;
    if (gap < this.options.heartbeatIntervalMs * 1e6) return;
    if (gap > this.maxHeartbeatGapNs) this.maxHeartbeatGapNs = gap;
    if (gap > this.options.leaseTimeoutMs * 5e5) {
      // Half the timeout without a heartbeat: a warm may soon presume us dead. At most one line a
      // second (the rest are counted), so a starved machine does not also flood the log.
      this.lateHeartbeats++;
      if (now - this.lastLateLogNs > 1e9) {
        this.lastLateLogNs = now;
        this.log({ event: 'engine-heartbeat-late', instance: this.options.instance, gapMs: Math.round(gap / 1e5) / 10, leaseTimeoutMs: this.options.leaseTimeoutMs, atSeq: this.replica.meta.journalSeq, lateSoFar: this.lateHeartbeats });
      }
    }
    this.lastHeartbeatNs = now;
    if (!this.lease.heartbeat(this.epoch)) this.fenced(now);
  }

  private takeOver(now: number, reason: string): void {
    const seen = this.leaseSeen;
    const seenEpoch = seen.epoch;
    const oldPid = seen.leaderPid;
    const heartbeatAgeMs = seen.ageMs;
    this.detectedAtNs = now;
    let killed = false;
    if (oldPid > 0 && oldPid !== process.pid && pidAlive(oldPid) && isEngineProcess(oldPid)) {
      // Fencing on one machine: the old leader can never run again, even if it was only paused.
      try {
        process.kill(oldPid, 'SIGKILL');
        killed = true;
      } catch {
        /* it died meanwhile */
      }
    }
    let epoch = this.lease.tryAcquire(seen);
    if (epoch < 0) {
      this.log({ event: 'engine-claim-lost', instance: this.options.instance, seenEpoch, leaseEpoch: this.lease.epoch });
      return;
    }
    // The journal may carry a higher epoch than the lease (a lease file recreated after a reboot):
    // an epoch the sequencer has superseded would have every output rejected as stale.
    const floor = Math.max(this.replica.meta.maxEpochSeen, this.journalStatus.view.getUint32(Seq.ENGINE_EPOCH, true));
    const claimed = epoch;
    epoch = this.lease.raiseEpoch(epoch, floor);
    if (epoch < 0) {
      this.log({ event: 'engine-claim-lost', instance: this.options.instance, seenEpoch: claimed, leaseEpoch: this.lease.epoch });
      return;
    }
    this.epoch = epoch;
    this.role = EngineRole.CLAIMING;
    this.claimedAtNs = monotonicNs(this.clock);
    this.lastHeartbeatNs = this.claimedAtNs;
    this.journalStatus.readVisible(this.visible);
    this.claimTargetSeq = this.visible[0]!;
    this.status.begin();
    this.status.setRole(EngineRole.CLAIMING, epoch);
    this.status.setTime('detected', now);
    this.status.setTime('claimed', this.claimedAtNs);
    this.status.end();
    this.log({
      event: 'engine-claimed',
      instance: this.options.instance,
      epoch,
      previousEpoch: seenEpoch,
      previousLeaderPid: oldPid,
      reason,
      heartbeatAgeMs,
      killedPreviousLeader: killed,
      catchUpToSeq: this.claimTargetSeq,
      atSeq: this.replica.meta.journalSeq,
    });
  }

  private becomeHot(): void {
    const replica = this.replica;
    replica.pending.unpublishAll();
    const m = replica.meta;
    const ownLast = this.sourceId === SourceId.ENGINE_A ? m.lastSourceSeqA : m.lastSourceSeqB;
    if (ownLast + 1 > this.nextSourceSeq) this.nextSourceSeq = ownLast + 1;
    if (!replica.holdsEverythingUnjournaled()) {
      this.log({
        event: 'engine-takeover-gap',
        instance: this.options.instance,
        lastJournaled: { inSeq: m.lastJournaledInSeq, outIndex: m.lastJournaledOutIndex },
        evictedThrough: { inSeq: m.evictedInSeq, outIndex: m.evictedOutIndex },
        detail: 'outputs after the last journaled one were evicted from the pending ring; the journal will have a gap there',
      });
      process.stderr.write(`matching-engine ${this.options.instance}: TAKEOVER GAP — evicted outputs up to inSeq ${m.evictedInSeq} were never journaled\n`);
    }
    this.role = EngineRole.HOT;
    this.takeovers++;
    const hotAt = monotonicNs(this.clock);
    this.status.begin();
    this.status.setRole(EngineRole.HOT, this.epoch);
    this.status.setTime('hot', hotAt);
    this.status.end();
    this.log({
      event: 'engine-hot',
      instance: this.options.instance,
      epoch: this.epoch,
      atSeq: m.journalSeq,
      republishing: replica.pending.records,
      from: replica.pending.records > 0 ? { inSeq: replica.pending.inSeqAt(replica.pending.head()), outIndex: replica.pending.outIndexAt(replica.pending.head()) } : null,
      lastJournaled: { inSeq: m.lastJournaledInSeq, outIndex: m.lastJournaledOutIndex },
      sourceSeqFrom: this.nextSourceSeq,
      detectToHotMs: this.detectedAtNs > 0 ? (hotAt - this.detectedAtNs) / 1e6 : null,
      claimToHotMs: (hotAt - this.claimedAtNs) / 1e6,
    });
  }

  private fenced(now: number): void {
    const was = this.epoch;
    this.role = EngineRole.WARM;
    this.replica.pending.unpublishAll();
    this.backPressured = false;
    this.status.begin();
    this.status.setRole(EngineRole.WARM, 0);
    this.status.setTime('fenced', now);
    this.status.end();
    this.log({ event: 'engine-fenced', instance: this.options.instance, epoch: was, leaseEpoch: this.lease.epoch, leaderPid: this.lease.leaderPid, detail: 'another instance claimed a newer epoch; publishing stopped, continuing as warm' });
  }

  // --- publishing --------------------------------------------------------------------------------

  /** Publishes up to publishBatch pending outputs from the cursor, one ring commit. */
  private publish(): number {
    const pending = this.replica.pending;
    let index = pending.cursor();
    if (index < 0) {
      this.backPressured = false;
      return 0;
    }
    const producer = this.producer;
    const view = producer.ring.view;
    const ringI32 = this.ringI32;
    const pendingI32 = this.pendingI32;
    const limit = this.options.publishBatch;
    let n = 0;
    this.backPressured = false;
    while (index >= 0 && n < limit) {
      const typeId = pending.typeIdAt(index);
      const bodyBytes = pending.bodyBytesAt(index);
      const at = producer.tryClaim(typeId, VERSION_OF[typeId]!, INPUT_HEADER_BYTES + bodyBytes);
      if (at === BACK_PRESSURED) {
        this.backPressured = true;
        break;
      }
      writeI64(view, at + InputHeader.o.sourceSeq, this.nextSourceSeq++);
      view.setUint16(at + InputHeader.o.sourceId, this.sourceId, true);
      view.setUint16(at + InputHeader.o.flags, 0, true);
      view.setUint32(at + InputHeader.o.epoch, this.epoch, true);
      const dst = (at + INPUT_HEADER_BYTES) >> 2;
      const src = pending.bodyAt(index) >> 2;
      const words = bodyBytes >> 2;
      for (let w = 0; w < words; w++) ringI32[dst + w] = pendingI32[src + w]!;
      view.setUint32(at + INPUT_HEADER_BYTES + OUT_EPOCH_OFFSET[typeId]!, this.epoch, true);
      index = pending.advanceCursor();
      n++;
    }
    if (n > 0) {
      producer.commit();
      this.published += n;
    }
    return n;
  }

  /**
   * The pending ring is full. A hot first drops what it already published (it is in its output
   * ring or the journal); if that is not enough it publishes and waits for the sequencer, never
   * dropping an output it has not published, heartbeating meanwhile. A warm (or a claiming
   * instance, which publishes nothing yet) evicts the oldest, which is an alarm (see EngineReplica).
   */
  private makeRoom(bodyBytes: number): void {
    const pending = this.replica.pending;
    const target = bodyBytes + pending.capacityBytes / 8;
    const room = (): boolean => pending.capacityBytes - pending.bytesUsed >= target;
    while (this.role === EngineRole.HOT) {
      while (pending.published > 0 && !room()) this.evictPublishedHead();
      if (room()) return;
      if (this.publish() === 0) {
        this.backPressureParks++;
        this.producer.parkUntilProgress(ENGINE_LIMITS.maxParkNs);
      }
      this.heartbeatIfHot(monotonicNs(this.clock));
    }
    this.replica.evictFor(bodyBytes);
  }

  private evictPublishedHead(): void {
    const pending = this.replica.pending;
    const head = pending.head();
    this.replica.meta.evictedInSeq = pending.inSeqAt(head);
    this.replica.meta.evictedOutIndex = pending.outIndexAt(head);
    pending.dropHead();
    this.evictedPublished++;
  }

  // --- snapshots ---------------------------------------------------------------------------------

  private maybeSnapshot(): void {
    const replica = this.replica;
    const boundary = Math.floor(replica.meta.commandsApplied / this.options.snapshotEvery);
    if (boundary > this.snapshotBoundary) {
      this.snapshotBoundary = boundary;
      this.snapshotDue = 'schedule';
    }
    if (replica.snapshotRequested) {
      replica.snapshotRequested = false;
      this.snapshotDue = 'request';
    }
    // One write at a time: a snapshot due meanwhile is taken when the previous one is on disk
    // (at a later seq, which is as good).
    if (this.snapshotDue === null || this.snapshotInFlight) return;
    const reason = this.snapshotDue;
    this.snapshotDue = null;
    if (this.role !== EngineRole.WARM && this.peerIsLiveWarm()) return;
    const seq = replica.meta.journalSeq;
    const startedMs = performance.now();
    const bytes = encodeSnapshot(replica);
    const encodeMs = performance.now() - startedMs;
    this.snapshotInFlight = true;
    writeSnapshotAsync(this.options.snapshotDir, seq, bytes).then(
      (file) => {
        this.snapshotInFlight = false;
        pruneSnapshots(this.options.snapshotDir, this.options.snapshotsKept);
        this.status.begin();
        this.status.setSnapshotSeq(seq);
        this.status.end();
        this.log({ event: 'engine-snapshot-written', instance: this.options.instance, file, seq, bytes: bytes.length, reason, encodeMs: Math.round(encodeMs * 10) / 10, totalMs: Math.round(performance.now() - startedMs) });
      },
      (e: Error) => {
        this.snapshotInFlight = false;
        this.log({ event: 'engine-snapshot-failed', instance: this.options.instance, seq, error: e.message });
        process.stderr.write(`matching-engine ${this.options.instance}: snapshot at seq ${seq} failed: ${e.message}\n`);
      },
    );
  }

  private peerIsLiveWarm(): boolean {
    if (this.options.peerStatus === null) return false;
    const peer = readEngineInstanceStatus(this.options.peerStatus);
    return peer !== null && peer.alive && peer.role === 'warm';
  }

  // --- status ------------------------------------------------------------------------------------

  private noteCheckpoint(inSeq: number, hi: number, lo: number): void {
    this.status.begin();
    this.status.addCheckpoint(inSeq, hi, lo);
    this.status.end();
  }

  private publishStatus(now: number): void {
    this.lastStatusNs = now;
    const r = this.replica;
    const m = r.meta;
    this.status.begin();
    this.status.setRole(this.role, this.role === EngineRole.WARM ? 0 : this.epoch);
    this.status.setProgress({
      lastAppliedSeq: m.journalSeq,
      divergences: r.divergences,
      pending: r.pending.records,
      published: this.published,
      matched: r.matched,
      lastJournaledInSeq: m.lastJournaledInSeq,
      lastJournaledOutIndex: m.lastJournaledOutIndex,
      maxEpochSeen: m.maxEpochSeen,
      evicted: r.evicted + this.evictedPublished,
      commandsApplied: m.commandsApplied,
      lastSourceSeq: this.nextSourceSeq - 1,
      backPressureParks: this.backPressureParks,
      takeovers: this.takeovers,
    });
    this.status.end();
  }
}

/** The hex state hash of a replica's engine now (allocates; for logs). */
export function stateHashHexOf(replica: EngineReplica): string {
  const h = replica.engine.stateHash();
  return h.hi.toString(16).padStart(8, '0') + h.lo.toString(16).padStart(8, '0');
}

/** Opens this instance's output ring, creating it (with the sequencer's slot) when missing. */
function openOutRing(file: string, capacityBytes: number, sequencerConsumer: string): RingFile {
  if (fs.existsSync(file)) return RingFile.open(file);
  const ring = RingFile.create(file, { capacityBytes, maxConsumers: 4 });
  // Registered before anything is published, so the sequencer misses nothing when it attaches.
  registerConsumer(ring, sequencerConsumer);
  return ring;
}

function waitForFile(file: string, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  const word = new Int32Array(new SharedArrayBuffer(4));
  while (!fs.existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`${file} did not appear within ${timeoutMs} ms; start the sequencer (or the supervisor) first`);
    Atomics.wait(word, 0, 0, 20);
  }
}

/** Default file locations of an instance inside a run directory and a data directory. */
export function defaultPaths(runDir: string, dataDir: string, instance: EngineInstanceName): Pick<EngineInstanceOptions, 'journalRing' | 'outRing' | 'lease' | 'status' | 'snapshotDir' | 'peerStatus'> {
  const peer = instance === 'a' ? 'b' : 'a';
  return {
    journalRing: path.join(runDir, 'journal.ring'),
    outRing: path.join(runDir, `engine-${instance}-out.ring`),
    lease: engineLeasePath(runDir),
    status: engineStatusPath(runDir, instance),
    peerStatus: engineStatusPath(runDir, peer),
    snapshotDir: path.join(dataDir, 'engine-snapshots'),
  };
}
