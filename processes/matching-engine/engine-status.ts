// The engine status file: a small mmap'd file per instance (<runDir>/engine-a.status,
// engine-b.status) through which each engine process says what it is doing, for `ims status`,
// the failover drill and tests. One writer per file (its instance); readers take a consistent
// snapshot through a seqlock. `readEngineStatus(runDir)` combines both files with the lease.
//
//   0   magic u32 "IMES" | 4 layoutVersion u32 | 8 seqlock u32 (odd while written) | 12 pid i32
//   16  role u32 (EngineRole) | 20 epoch u32 | 24 instance u32 (char code of a/b) | 28 takeovers u32
//   32  lastAppliedSeq f64     last journal seq handled
//   40  checkpointInSeq f64    inSeq of the last EngineCheckpoint computed (0 = none yet)
//   48  hashHi u32 | 52 hashLo u32   its state hash
//   56  divergences f64 | 64 pendingOutputs f64 | 72 publishedOutputs f64 (since start)
//   80  lastJournaledInSeq f64 | 88 lastJournaledOutIndex u32 | 92 maxEpochSeen u32
//   96  detectedAtNs f64       CLOCK_MONOTONIC when this instance found the leader dead (0 = never)
//   104 hotAtNs f64            CLOCK_MONOTONIC when it last started publishing as hot
//   112 updatedUs f64          CLOCK_REALTIME of the last update
//   120 snapshotSeq f64        journal seq of the last snapshot written or loaded
//   128 evictedOutputs f64 | 136 commandsApplied f64 | 144 lastSourceSeq f64 (own source, published)
//   152 startedAtNs f64 | 160 restoredFromSeq f64 (the snapshot it started from, 0 = none)
//   168 backPressureParks f64 | 176 fencedAtNs f64 | 184 matchedOutputs f64 | 192 claimedAtNs f64
//   256 CHECKPOINTS: the last CHECKPOINT_HISTORY checkpoints, a ring: 248 next index u32
//       each 16 bytes: inSeq f64 | hashHi u32 | hashLo u32
//
// Monotonic times let the drill, on the same machine, measure detection and takeover from the
// moment it sent SIGKILL.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { LeaderLease } from '../../bus/leader-lease';
import { native } from '../../native/addon';

export const ENGINE_STATUS_MAGIC = 0x53454d49; // "IMES"
export const ENGINE_STATUS_VERSION = 1;
export const ENGINE_STATUS_BYTES = 4096;
export const CHECKPOINT_HISTORY = 16;

export const EngineRole = { STARTING: 0, WARM: 1, CLAIMING: 2, HOT: 3, STOPPED: 4 } as const;
export type EngineRole = (typeof EngineRole)[keyof typeof EngineRole];
export const ENGINE_ROLE_NAMES = ['starting', 'warm', 'claiming', 'hot', 'stopped'] as const;
export type EngineRoleName = (typeof ENGINE_ROLE_NAMES)[number];

const O = {
  MAGIC: 0,
  VERSION: 4,
  SEQLOCK: 8,
  PID: 12,
  ROLE: 16,
  EPOCH: 20,
  INSTANCE: 24,
  TAKEOVERS: 28,
  LAST_APPLIED_SEQ: 32,
  CHECKPOINT_IN_SEQ: 40,
  HASH_HI: 48,
  HASH_LO: 52,
  DIVERGENCES: 56,
  PENDING: 64,
  PUBLISHED: 72,
  LAST_JOURNALED_IN_SEQ: 80,
  LAST_JOURNALED_OUT_INDEX: 88,
  MAX_EPOCH_SEEN: 92,
  DETECTED_AT_NS: 96,
  HOT_AT_NS: 104,
  UPDATED_US: 112,
  SNAPSHOT_SEQ: 120,
  EVICTED: 128,
  COMMANDS_APPLIED: 136,
  LAST_SOURCE_SEQ: 144,
  STARTED_AT_NS: 152,
  RESTORED_FROM_SEQ: 160,
  BACK_PRESSURE_PARKS: 168,
  FENCED_AT_NS: 176,
  MATCHED: 184,
  CLAIMED_AT_NS: 192,
  CHECKPOINT_NEXT: 248,
  CHECKPOINTS: 256,
} as const;
const CHECKPOINT_ENTRY_BYTES = 16;
const SEQLOCK_READ_ATTEMPTS = 10_000;

/** Everything an engine instance publishes about itself. */
export interface EngineInstanceStatus {
  instance: string;
  file: string;
  pid: number;
  alive: boolean;
  role: EngineRoleName;
  epoch: number;
  takeovers: number;
  lastAppliedSeq: number;
  checkpointInSeq: number;
  /** 16 hex digits, '' before the first checkpoint. */
  stateHash: string;
  divergences: number;
  pendingOutputs: number;
  publishedOutputs: number;
  matchedOutputs: number;
  lastJournaled: { inSeq: number; outIndex: number };
  maxEpochSeen: number;
  detectedAtNs: number;
  claimedAtNs: number;
  hotAtNs: number;
  fencedAtNs: number;
  startedAtNs: number;
  updatedUs: number;
  snapshotSeq: number;
  restoredFromSeq: number;
  evictedOutputs: number;
  commandsApplied: number;
  lastSourceSeq: number;
  backPressureParks: number;
  /** The last checkpoints, oldest first. */
  checkpoints: Array<{ inSeq: number; stateHash: string }>;
}

export interface EngineStatusReport {
  runDir: string;
  lease: { file: string; epoch: number; leaderPid: number; heartbeatAgeMs: number } | null;
  instances: EngineInstanceStatus[];
  /** The instance publishing now (role hot and holding the lease epoch), or null. */
  hot: string | null;
  /**
   * Whether the instances' state hashes agree at the newest checkpoint both computed: true/false,
   * or null when there is no common checkpoint yet (one instance alone, or no checkpoint yet).
   */
  hashesAgree: boolean | null;
  comparedAtInSeq: number;
}

export function engineStatusPath(runDir: string, instance: string): string {
  return path.join(runDir, `engine-${instance}.status`);
}

export function engineLeasePath(runDir: string): string {
  return path.join(runDir, 'engine.lease');
}

function hex(hi: number, lo: number): string {
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

/** The writer: one engine process. Every setter is a plain store; publish() brackets them. */
export class EngineStatusFile {
  readonly path: string;
  readonly view: DataView;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly clock = new Float64Array(2);

  private constructor(file: string, buffer: ArrayBuffer) {
    this.path = file;
    this.view = new DataView(buffer);
    this.i32 = new Int32Array(buffer);
    this.f64 = new Float64Array(buffer);
  }

  /** Creates (or takes over) the status file of `instance`. */
  static create(file: string, instance: string): EngineStatusFile {
    const buffer = native.mapFile(file, ENGINE_STATUS_BYTES, true);
    if (buffer.byteLength !== ENGINE_STATUS_BYTES) throw new Error(`engine status ${file}: ${buffer.byteLength} bytes, expected ${ENGINE_STATUS_BYTES}; remove it`);
    const status = new EngineStatusFile(file, buffer);
    const v = status.view;
    const magic = v.getUint32(O.MAGIC, true);
    if (magic !== 0 && (magic !== ENGINE_STATUS_MAGIC || v.getUint32(O.VERSION, true) !== ENGINE_STATUS_VERSION)) {
      throw new Error(`engine status ${file}: not an engine status file of layout ${ENGINE_STATUS_VERSION}; remove it`);
    }
    // A predecessor killed inside an update left the lock odd: make it even, then start clean.
    if ((Atomics.load(status.i32, O.SEQLOCK >> 2) & 1) !== 0) Atomics.add(status.i32, O.SEQLOCK >> 2, 1);
    status.begin();
    new Uint8Array(buffer).fill(0, O.PID, ENGINE_STATUS_BYTES);
    v.setUint32(O.VERSION, ENGINE_STATUS_VERSION, true);
    v.setInt32(O.PID, process.pid, true);
    v.setUint32(O.INSTANCE, instance.charCodeAt(0), true);
    status.end();
    Atomics.store(status.i32, O.MAGIC >> 2, ENGINE_STATUS_MAGIC | 0);
    return status;
  }

  begin(): void {
    Atomics.add(this.i32, O.SEQLOCK >> 2, 1);
  }

  end(): void {
    native.clockInto(this.clock, 0);
    this.f64[O.UPDATED_US >> 3] = this.clock[1]!;
    Atomics.add(this.i32, O.SEQLOCK >> 2, 1);
  }

  setRole(role: EngineRole, epoch: number): void {
    this.view.setUint32(O.ROLE, role, true);
    this.view.setUint32(O.EPOCH, epoch, true);
  }

  setProgress(p: {
    lastAppliedSeq: number;
    divergences: number;
    pending: number;
    published: number;
    matched: number;
    lastJournaledInSeq: number;
    lastJournaledOutIndex: number;
    maxEpochSeen: number;
    evicted: number;
    commandsApplied: number;
    lastSourceSeq: number;
    backPressureParks: number;
    takeovers: number;
  }): void {
    const f = this.f64;
    f[O.LAST_APPLIED_SEQ >> 3] = p.lastAppliedSeq;
    f[O.DIVERGENCES >> 3] = p.divergences;
    f[O.PENDING >> 3] = p.pending;
    f[O.PUBLISHED >> 3] = p.published;
    f[O.MATCHED >> 3] = p.matched;
    f[O.LAST_JOURNALED_IN_SEQ >> 3] = p.lastJournaledInSeq;
    this.view.setUint32(O.LAST_JOURNALED_OUT_INDEX, p.lastJournaledOutIndex, true);
    this.view.setUint32(O.MAX_EPOCH_SEEN, p.maxEpochSeen, true);
    f[O.EVICTED >> 3] = p.evicted;
    f[O.COMMANDS_APPLIED >> 3] = p.commandsApplied;
    f[O.LAST_SOURCE_SEQ >> 3] = p.lastSourceSeq;
    f[O.BACK_PRESSURE_PARKS >> 3] = p.backPressureParks;
    this.view.setUint32(O.TAKEOVERS, p.takeovers, true);
  }

  /** Records a checkpoint this instance computed (call between begin and end). */
  addCheckpoint(inSeq: number, hashHi: number, hashLo: number): void {
    const v = this.view;
    this.f64[O.CHECKPOINT_IN_SEQ >> 3] = inSeq;
    v.setUint32(O.HASH_HI, hashHi, true);
    v.setUint32(O.HASH_LO, hashLo, true);
    const next = v.getUint32(O.CHECKPOINT_NEXT, true);
    const at = O.CHECKPOINTS + (next % CHECKPOINT_HISTORY) * CHECKPOINT_ENTRY_BYTES;
    this.f64[at >> 3] = inSeq;
    v.setUint32(at + 8, hashHi, true);
    v.setUint32(at + 12, hashLo, true);
    v.setUint32(O.CHECKPOINT_NEXT, next + 1, true);
  }

  setTime(which: 'detected' | 'claimed' | 'hot' | 'fenced' | 'started', monotonicNs: number): void {
    const offset = { detected: O.DETECTED_AT_NS, claimed: O.CLAIMED_AT_NS, hot: O.HOT_AT_NS, fenced: O.FENCED_AT_NS, started: O.STARTED_AT_NS }[which];
    this.f64[offset >> 3] = monotonicNs;
  }

  setSnapshotSeq(seq: number): void {
    this.f64[O.SNAPSHOT_SEQ >> 3] = seq;
  }

  setRestoredFromSeq(seq: number): void {
    this.f64[O.RESTORED_FROM_SEQ >> 3] = seq;
  }
}

/** Readers poll (the drill, every millisecond): map each file once, again only when it was replaced. */
const mappings = new Map<string, { ino: number; buffer: ArrayBuffer }>();
const MAX_CACHED_MAPPINGS = 64;

function mappedStatus(file: string): ArrayBuffer | null {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (stat === undefined || stat.size !== ENGINE_STATUS_BYTES) return null;
  const cached = mappings.get(file);
  if (cached !== undefined && cached.ino === stat.ino) return cached.buffer;
  if (mappings.size >= MAX_CACHED_MAPPINGS) mappings.clear();
  const buffer = native.mapFile(file, 0, false);
  if (buffer.byteLength !== ENGINE_STATUS_BYTES) return null;
  mappings.set(file, { ino: stat.ino, buffer });
  return buffer;
}

/** Reads one instance's status file, or null when it does not exist. */
export function readEngineInstanceStatus(file: string): EngineInstanceStatus | null {
  const buffer = mappedStatus(file);
  if (buffer === null) return null;
  const view = new DataView(buffer);
  if (view.getUint32(O.MAGIC, true) !== ENGINE_STATUS_MAGIC) return null;
  const i32 = new Int32Array(buffer);
  const f64 = new Float64Array(buffer);
  for (let attempt = 0; attempt < SEQLOCK_READ_ATTEMPTS; attempt++) {
    const before = Atomics.load(i32, O.SEQLOCK >> 2);
    if ((before & 1) !== 0) continue;
    const pid = view.getInt32(O.PID, true);
    const roleCode = view.getUint32(O.ROLE, true);
    const next = view.getUint32(O.CHECKPOINT_NEXT, true);
    const checkpoints: Array<{ inSeq: number; stateHash: string }> = [];
    for (let k = Math.max(0, next - CHECKPOINT_HISTORY); k < next; k++) {
      const at = O.CHECKPOINTS + (k % CHECKPOINT_HISTORY) * CHECKPOINT_ENTRY_BYTES;
      checkpoints.push({ inSeq: f64[at >> 3]!, stateHash: hex(view.getUint32(at + 8, true), view.getUint32(at + 12, true)) });
    }
    const alive = pidAlive(pid);
    const status: EngineInstanceStatus = {
      instance: String.fromCharCode(view.getUint32(O.INSTANCE, true)),
      file,
      pid,
      alive,
      role: alive ? (ENGINE_ROLE_NAMES[roleCode] ?? 'starting') : 'stopped',
      epoch: view.getUint32(O.EPOCH, true),
      takeovers: view.getUint32(O.TAKEOVERS, true),
      lastAppliedSeq: f64[O.LAST_APPLIED_SEQ >> 3]!,
      checkpointInSeq: f64[O.CHECKPOINT_IN_SEQ >> 3]!,
      stateHash: f64[O.CHECKPOINT_IN_SEQ >> 3]! > 0 ? hex(view.getUint32(O.HASH_HI, true), view.getUint32(O.HASH_LO, true)) : '',
      divergences: f64[O.DIVERGENCES >> 3]!,
      pendingOutputs: f64[O.PENDING >> 3]!,
      publishedOutputs: f64[O.PUBLISHED >> 3]!,
      matchedOutputs: f64[O.MATCHED >> 3]!,
      lastJournaled: { inSeq: f64[O.LAST_JOURNALED_IN_SEQ >> 3]!, outIndex: view.getUint32(O.LAST_JOURNALED_OUT_INDEX, true) },
      maxEpochSeen: view.getUint32(O.MAX_EPOCH_SEEN, true),
      detectedAtNs: f64[O.DETECTED_AT_NS >> 3]!,
      claimedAtNs: f64[O.CLAIMED_AT_NS >> 3]!,
      hotAtNs: f64[O.HOT_AT_NS >> 3]!,
      fencedAtNs: f64[O.FENCED_AT_NS >> 3]!,
      startedAtNs: f64[O.STARTED_AT_NS >> 3]!,
      updatedUs: f64[O.UPDATED_US >> 3]!,
      snapshotSeq: f64[O.SNAPSHOT_SEQ >> 3]!,
      restoredFromSeq: f64[O.RESTORED_FROM_SEQ >> 3]!,
      evictedOutputs: f64[O.EVICTED >> 3]!,
      commandsApplied: f64[O.COMMANDS_APPLIED >> 3]!,
      lastSourceSeq: f64[O.LAST_SOURCE_SEQ >> 3]!,
      backPressureParks: f64[O.BACK_PRESSURE_PARKS >> 3]!,
      checkpoints,
    };
    if (Atomics.load(i32, O.SEQLOCK >> 2) === before) return status;
  }
  // The writer died inside an update (or is stuck there): report what is there, marked stopped if dead.
  return null;
}

/**
 * Both engine instances of a run directory (engine-a.status, engine-b.status) and the lease, for
 * `ims status`: which one is hot, its epoch, and whether their state hashes agree.
 */
export function readEngineStatus(runDir: string, instances: readonly string[] = ['a', 'b']): EngineStatusReport {
  const leaseFile = engineLeasePath(runDir);
  let lease: EngineStatusReport['lease'] = null;
  if (fs.existsSync(leaseFile)) {
    try {
      const l = LeaderLease.open(leaseFile);
      lease = { file: leaseFile, epoch: l.epoch, leaderPid: l.leaderPid, heartbeatAgeMs: l.heartbeatAgeMs() };
    } catch {
      lease = null;
    }
  }
  const found: EngineInstanceStatus[] = [];
  for (const name of instances) {
    const s = readEngineInstanceStatus(engineStatusPath(runDir, name));
    if (s !== null) found.push(s);
  }
  const hot = found.find((s) => s.alive && s.role === 'hot' && lease !== null && s.epoch === lease.epoch && s.pid === lease.leaderPid);
  let hashesAgree: boolean | null = null;
  let comparedAtInSeq = 0;
  const live = found.filter((s) => s.alive);
  if (live.length >= 2) {
    // The newest inSeq both have a checkpoint for.
    const a = new Map(live[0]!.checkpoints.map((c) => [c.inSeq, c.stateHash]));
    for (const c of live[1]!.checkpoints) {
      if (a.has(c.inSeq) && c.inSeq > comparedAtInSeq) {
        comparedAtInSeq = c.inSeq;
        hashesAgree = a.get(c.inSeq) === c.stateHash;
      }
    }
  }
  return { runDir, lease, instances: found, hot: hot?.instance ?? null, hashesAgree, comparedAtInSeq };
}

/** A few lines for `ims status`. */
export function formatEngineStatus(report: EngineStatusReport): string {
  const lines: string[] = [];
  const lease = report.lease;
  lines.push(
    `engines: hot ${report.hot ?? 'NONE'}, epoch ${lease?.epoch ?? '-'}, leader pid ${lease?.leaderPid ?? '-'}, heartbeat ${lease === null ? '-' : `${lease.heartbeatAgeMs} ms ago`}, ` +
      `state hashes ${report.hashesAgree === null ? 'not compared yet' : report.hashesAgree ? `agree at inSeq ${report.comparedAtInSeq}` : `DIFFER at inSeq ${report.comparedAtInSeq}`}`,
  );
  for (const s of report.instances) {
    lines.push(
      `  engine-${s.instance}  pid ${String(s.pid).padStart(7)}  ${s.role.padEnd(8)} epoch ${String(s.epoch).padStart(3)}  seq ${s.lastAppliedSeq}  ` +
        `hash ${s.stateHash || '-'}@${s.checkpointInSeq}  divergences ${s.divergences}  pending ${s.pendingOutputs}  published ${s.publishedOutputs}`,
    );
  }
  return lines.join('\n');
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
