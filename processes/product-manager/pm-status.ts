// The product manager's status file: a small mmap'd file per instance (`<runDir>/pm-a.status`,
// `pm-b.status`) that `ims status`, drills and tests read without talking to the process, and that
// a standby reads when it takes over (where the old leader's published reports end).
//
//   0    magic u32 "IMPS" | 4 layoutVersion u32 | 8 seqlock u32 (odd while the owner writes) | 12 pid i32
//   16   role u32 (PmRole) | 20 epoch u32 | 24 instance u32 (char code of 'a'/'b') | 28 gateways u32
//   32   lastSeq f64            last journal seq applied to the state
//   40   reportedSeq f64        execution reports of every entry up to here are PUBLISHED on the
//                               gateway rings. Written after each ring commit with one aligned
//                               store, outside the seqlock: a standby taking over resends from here.
//   48   hashSeq f64            the state hash below is the state after this seq
//   56   stateHashHi u32 | 60 stateHashLo u32
//   64   inFlight u32           commands checked and sent, not yet seen in the journal
//   68   takeovers u32          times this process became the leader
//   72   ordersPerSecond f64    new orders forwarded per second (last status interval)
//   80   ordersForwarded f64 | 88 commandsForwarded f64 | 96 rejected f64 (answered before sequencing)
//   104  duplicatesAnswered f64 (client order id resubmissions) | 112 invalidRecords f64
//   120  reportsSent f64 | 128 reportsDropped f64 (a gateway ring stayed full)
//   136  sourceSeq f64          last InputHeader.sourceSeq this instance wrote
//   144  startedUs f64 | 152 updatedUs f64 (realtime µs)
//   160  lastTakeoverMs f64     how long the last takeover took (lease claimed → serving gateways)
//   168  adminRejected f64 | 176 hotSinceUs f64
//   184  previousPid i32 | 188 reserved | 192 previousReportedSeq f64: what the process that owned the
//        file before this one left (a standby taking over from a leader whose instance was already
//        restarted finds the dead leader's reportedSeq here)
//   200  detectedAtNs f64 | 208 claimedAtNs f64 | 216 hotAtNs f64: CLOCK_MONOTONIC of the last
//        takeover's steps (leader found dead, epoch claimed, serving), so a drill on the same
//        machine measures a failover against its own kill time
//   224  reserved, up to 256
//
// Seqs are f64 (exact for every safe integer), so no reader needs BigInt.

import * as fs from 'node:fs';
import { native } from '../../native/addon';
import { LeaderLease } from '../../bus/leader-lease';
import { stateHashHex } from '../matching-engine/state-encoding';
import { PM_INSTANCES, pmLeasePath, pmStatusPath, type PmInstance } from './pm-paths';

export const PM_STATUS_MAGIC = 0x53504d49; // "IMPS"
export const PM_STATUS_LAYOUT_VERSION = 1;
export const PM_STATUS_FILE_BYTES = 256;

export const PmStatusField = {
  MAGIC: 0,
  LAYOUT_VERSION: 4,
  SEQLOCK: 8,
  PID: 12,
  ROLE: 16,
  EPOCH: 20,
  INSTANCE: 24,
  GATEWAYS: 28,
  LAST_SEQ: 32,
  REPORTED_SEQ: 40,
  HASH_SEQ: 48,
  STATE_HASH_HI: 56,
  STATE_HASH_LO: 60,
  IN_FLIGHT: 64,
  TAKEOVERS: 68,
  ORDERS_PER_SECOND: 72,
  ORDERS_FORWARDED: 80,
  COMMANDS_FORWARDED: 88,
  REJECTED: 96,
  DUPLICATES_ANSWERED: 104,
  INVALID_RECORDS: 112,
  REPORTS_SENT: 120,
  REPORTS_DROPPED: 128,
  SOURCE_SEQ: 136,
  STARTED_US: 144,
  UPDATED_US: 152,
  LAST_TAKEOVER_MS: 160,
  ADMIN_REJECTED: 168,
  HOT_SINCE_US: 176,
  PREVIOUS_PID: 184,
  PREVIOUS_REPORTED_SEQ: 192,
  DETECTED_AT_NS: 200,
  CLAIMED_AT_NS: 208,
  HOT_AT_NS: 216,
} as const;

export const PmRole = { REPLAYING: 1, WARM: 2, TAKING_OVER: 3, HOT: 4, STOPPING: 5, STOPPED: 6, FENCED: 7 } as const;
export type PmRole = (typeof PmRole)[keyof typeof PmRole];
export type PmRoleName = 'replaying' | 'warm' | 'taking-over' | 'hot' | 'stopping' | 'stopped' | 'fenced' | 'unknown';

const ROLE_NAMES: Readonly<Record<number, PmRoleName>> = {
  [PmRole.REPLAYING]: 'replaying',
  [PmRole.WARM]: 'warm',
  [PmRole.TAKING_OVER]: 'taking-over',
  [PmRole.HOT]: 'hot',
  [PmRole.STOPPING]: 'stopping',
  [PmRole.STOPPED]: 'stopped',
  [PmRole.FENCED]: 'fenced',
};

/** Counters the process keeps and the status file shows (written every STATUS_INTERVAL_MS). */
export interface PmCounters {
  ordersForwarded: number;
  commandsForwarded: number;
  rejected: number;
  duplicatesAnswered: number;
  invalidRecords: number;
  reportsSent: number;
  reportsDropped: number;
  adminRejected: number;
}

/** What a previous process left in the file before this one took it over. */
export interface PreviousIncarnation {
  readonly pid: number;
  readonly reportedSeq: number;
  readonly role: number;
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

/** The writer side: the instance that owns the file. */
export class PmStatusFile {
  readonly path: string;
  readonly previous: PreviousIncarnation | null;
  private readonly view: DataView;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;

  private constructor(file: string, buffer: ArrayBuffer, previous: PreviousIncarnation | null) {
    this.path = file;
    this.view = new DataView(buffer);
    this.i32 = new Int32Array(buffer);
    this.f64 = new Float64Array(buffer);
    this.previous = previous;
  }

  /** Opens (creating if needed) and claims the status file of `instance`; refuses if a live process owns it. */
  static claim(file: string, instance: PmInstance, gateways: number, nowUs: number): PmStatusFile {
    const buffer = native.mapFile(file, PM_STATUS_FILE_BYTES, true);
    if (buffer.byteLength !== PM_STATUS_FILE_BYTES) {
      throw new Error(`pm status ${file}: an existing file of ${buffer.byteLength} bytes is in the way (expected ${PM_STATUS_FILE_BYTES}); remove it`);
    }
    const view = new DataView(buffer);
    let previous: PreviousIncarnation | null = null;
    const magic = view.getUint32(PmStatusField.MAGIC, true);
    if (magic !== 0) {
      if (magic !== PM_STATUS_MAGIC || view.getUint32(PmStatusField.LAYOUT_VERSION, true) !== PM_STATUS_LAYOUT_VERSION) {
        throw new Error(`pm status ${file}: not a product-manager status file of layout ${PM_STATUS_LAYOUT_VERSION}; remove it`);
      }
      const pid = view.getInt32(PmStatusField.PID, true);
      if (pid !== process.pid && pidAlive(pid) && isProductManagerProcess(pid)) {
        throw new Error(`pm status ${file}: product manager '${instance}' is already running as pid ${pid}; one process per instance (stop it first)`);
      }
      previous = { pid, reportedSeq: view.getFloat64(PmStatusField.REPORTED_SEQ, true), role: view.getUint32(PmStatusField.ROLE, true) };
    }
    const i32 = new Int32Array(buffer);
    // A predecessor killed inside an update left the lock odd: even it up before rewriting.
    if ((Atomics.load(i32, PmStatusField.SEQLOCK >> 2) & 1) !== 0) Atomics.add(i32, PmStatusField.SEQLOCK >> 2, 1);
    Atomics.add(i32, PmStatusField.SEQLOCK >> 2, 1);
    new Uint8Array(buffer).fill(0, PmStatusField.PID, PM_STATUS_FILE_BYTES);
    view.setUint32(PmStatusField.LAYOUT_VERSION, PM_STATUS_LAYOUT_VERSION, true);
    view.setInt32(PmStatusField.PID, process.pid, true);
    view.setUint32(PmStatusField.ROLE, PmRole.REPLAYING, true);
    view.setUint32(PmStatusField.INSTANCE, instance.charCodeAt(0), true);
    view.setUint32(PmStatusField.GATEWAYS, gateways, true);
    view.setFloat64(PmStatusField.STARTED_US, nowUs, true);
    view.setFloat64(PmStatusField.UPDATED_US, nowUs, true);
    if (previous !== null) {
      view.setInt32(PmStatusField.PREVIOUS_PID, previous.pid, true);
      view.setFloat64(PmStatusField.PREVIOUS_REPORTED_SEQ, previous.reportedSeq, true);
    }
    Atomics.add(i32, PmStatusField.SEQLOCK >> 2, 1);
    Atomics.store(i32, PmStatusField.MAGIC >> 2, PM_STATUS_MAGIC | 0);
    return new PmStatusFile(file, buffer, previous);
  }

  beginWrite(): void {
    Atomics.add(this.i32, PmStatusField.SEQLOCK >> 2, 1);
  }

  endWrite(): void {
    Atomics.add(this.i32, PmStatusField.SEQLOCK >> 2, 1);
  }

  setU32(field: number, value: number): void {
    this.view.setUint32(field, value >>> 0, true);
  }

  setF64(field: number, value: number): void {
    this.f64[field >> 3] = value;
  }

  /** One aligned 8-byte store, outside the seqlock (see the layout). */
  setReportedSeq(seq: number): void {
    this.f64[PmStatusField.REPORTED_SEQ >> 3] = seq;
  }

  get reportedSeq(): number {
    return this.f64[PmStatusField.REPORTED_SEQ >> 3]!;
  }

  setRole(role: PmRole): void {
    this.beginWrite();
    this.setU32(PmStatusField.ROLE, role);
    this.endWrite();
  }
}

/** One instance's status as the CLI shows it. */
export interface PmInstanceStatus {
  readonly instance: PmInstance;
  readonly pid: number;
  readonly alive: boolean;
  readonly role: PmRoleName;
  readonly epoch: number;
  readonly gateways: number;
  readonly lastSeq: number;
  readonly reportedSeq: number;
  /** Hex of the state hash after hashSeq (the same hash a replay of the journal to hashSeq gives). */
  readonly stateHash: string;
  readonly hashSeq: number;
  readonly inFlight: number;
  readonly ordersPerSecond: number;
  readonly ordersForwarded: number;
  readonly commandsForwarded: number;
  readonly rejected: number;
  readonly duplicatesAnswered: number;
  readonly invalidRecords: number;
  readonly reportsSent: number;
  readonly reportsDropped: number;
  readonly adminRejected: number;
  readonly sourceSeq: number;
  readonly takeovers: number;
  readonly lastTakeoverMs: number;
  readonly startedUs: number;
  readonly updatedUs: number;
  readonly hotSinceUs: number;
  /** The previous owner of the file (a process of the same instance that ended) and its reportedSeq. */
  readonly previousPid: number;
  readonly previousReportedSeq: number;
  /** CLOCK_MONOTONIC ns of the last takeover's steps (0: none). */
  readonly detectedAtNs: number;
  readonly claimedAtNs: number;
  readonly hotAtNs: number;
}

export interface PmLeaseStatus {
  readonly epoch: number;
  readonly leaderPid: number;
  readonly leaderAlive: boolean;
  readonly heartbeatAgeMs: number;
}

export interface PmStatus {
  readonly runDir: string;
  readonly lease: PmLeaseStatus | null;
  /** The instance whose pid holds the lease (null: none, or the leader is not one of ours). */
  readonly leader: PmInstance | null;
  /** Instances that have a status file, a before b. */
  readonly instances: readonly PmInstanceStatus[];
}

const SEQLOCK_READ_ATTEMPTS = 10_000;

/** Reads one instance's status file, or null when it does not exist. Allocates; not for hot paths. */
export function readPmInstanceStatus(runDir: string, instance: PmInstance): PmInstanceStatus | null {
  const file = pmStatusPath(runDir, instance);
  // A file being created has fewer bytes for a moment: there is no status in it yet.
  if ((fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0) !== PM_STATUS_FILE_BYTES) return null;
  const buffer = native.mapFile(file, 0, false);
  if (buffer.byteLength !== PM_STATUS_FILE_BYTES) return null;
  const view = new DataView(buffer);
  const i32 = new Int32Array(buffer);
  if (view.getUint32(PmStatusField.MAGIC, true) !== PM_STATUS_MAGIC) return null;
  const read = (): PmInstanceStatus => {
    const f = (field: number): number => view.getFloat64(field, true);
    const u = (field: number): number => view.getUint32(field, true);
    const pid = view.getInt32(PmStatusField.PID, true);
    return {
      instance,
      pid,
      alive: pidAlive(pid),
      role: ROLE_NAMES[u(PmStatusField.ROLE)] ?? 'unknown',
      epoch: u(PmStatusField.EPOCH),
      gateways: u(PmStatusField.GATEWAYS),
      lastSeq: f(PmStatusField.LAST_SEQ),
      reportedSeq: f(PmStatusField.REPORTED_SEQ),
      stateHash: stateHashHex({ hi: u(PmStatusField.STATE_HASH_HI), lo: u(PmStatusField.STATE_HASH_LO) }),
      hashSeq: f(PmStatusField.HASH_SEQ),
      inFlight: u(PmStatusField.IN_FLIGHT),
      ordersPerSecond: f(PmStatusField.ORDERS_PER_SECOND),
      ordersForwarded: f(PmStatusField.ORDERS_FORWARDED),
      commandsForwarded: f(PmStatusField.COMMANDS_FORWARDED),
      rejected: f(PmStatusField.REJECTED),
      duplicatesAnswered: f(PmStatusField.DUPLICATES_ANSWERED),
      invalidRecords: f(PmStatusField.INVALID_RECORDS),
      reportsSent: f(PmStatusField.REPORTS_SENT),
      reportsDropped: f(PmStatusField.REPORTS_DROPPED),
      adminRejected: f(PmStatusField.ADMIN_REJECTED),
      sourceSeq: f(PmStatusField.SOURCE_SEQ),
      takeovers: u(PmStatusField.TAKEOVERS),
      lastTakeoverMs: f(PmStatusField.LAST_TAKEOVER_MS),
      startedUs: f(PmStatusField.STARTED_US),
      updatedUs: f(PmStatusField.UPDATED_US),
      hotSinceUs: f(PmStatusField.HOT_SINCE_US),
      previousPid: view.getInt32(PmStatusField.PREVIOUS_PID, true),
      previousReportedSeq: f(PmStatusField.PREVIOUS_REPORTED_SEQ),
      detectedAtNs: f(PmStatusField.DETECTED_AT_NS),
      claimedAtNs: f(PmStatusField.CLAIMED_AT_NS),
      hotAtNs: f(PmStatusField.HOT_AT_NS),
    };
  };
  for (let attempt = 0; attempt < SEQLOCK_READ_ATTEMPTS; attempt++) {
    const before = Atomics.load(i32, PmStatusField.SEQLOCK >> 2);
    if ((before & 1) !== 0) continue;
    const s = read();
    if (Atomics.load(i32, PmStatusField.SEQLOCK >> 2) === before) return s;
  }
  // A writer killed mid-update leaves the lock odd; its last values are still the best there are.
  return read();
}

/**
 * The product-manager pair's status: the lease (epoch, leader, heartbeat age) and each instance's
 * status file. For `ims status`, drills and tests; reads files only, never talks to a process.
 */
export function readPmStatus(runDir: string): PmStatus {
  const leasePath = pmLeasePath(runDir);
  let lease: PmLeaseStatus | null = null;
  if (fs.existsSync(leasePath) && fs.statSync(leasePath).size > 0) {
    const l = LeaderLease.open(leasePath);
    lease = { epoch: l.epoch, leaderPid: l.leaderPid, leaderAlive: pidAlive(l.leaderPid), heartbeatAgeMs: l.heartbeatAgeMs() };
  }
  const instances: PmInstanceStatus[] = [];
  for (const instance of PM_INSTANCES) {
    const s = readPmInstanceStatus(runDir, instance);
    if (s !== null) instances.push(s);
  }
  const leader = lease === null || lease.leaderPid === 0 ? null : (instances.find((s) => s.pid === lease!.leaderPid)?.instance ?? null);
  return { runDir, lease, leader, instances };
}

/**
 * True when `pid` runs the product-manager entry point. A lease can name a leader that died long
 * ago and whose pid the kernel has since given to an unrelated process: that one must not be killed.
 */
export function isProductManagerProcess(pid: number): boolean {
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1');
    return cmdline.includes('product-manager/main');
  } catch {
    return false;
  }
}

/** True for a process that exists and is not a zombie (a killed child its parent has not reaped yet). */
export function processRunning(pid: number): boolean {
  if (!pidAlive(pid)) return false;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    // "pid (comm) S ...": the state letter follows the last ')' (comm may contain ')').
    const state = stat.charAt(stat.lastIndexOf(')') + 2);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
