// A leader lease in shared memory, for hot/warm pairs (matching engine, product manager): the hot
// writes a heartbeat; when it is older than a bound the warm claims the next epoch with a
// compare-and-swap. Everything the leader publishes carries its epoch, and consumers drop a
// superseded epoch, so a paused old hot that wakes up cannot publish (it is fenced).
//
// Layout (one file per pair, 128 bytes, each word 32-bit):
//
//   0        4          8         12            16           64
//   +--------+----------+---------+-------------+------------+ ... +-------------------+
//   | magic  | version  | epoch   | leader pid  | beats      |     | heartbeat ms (mod |
//   |        |          | (CAS)   |             | (count)    |     | 2^31, MONOTONIC)  |
//   +--------+----------+---------+-------------+------------+ ... +-------------------+
//
// The heartbeat is CLOCK_MONOTONIC milliseconds modulo 2^31, compared with wrapping subtraction:
// both processes read the same machine clock, and wall-clock steps cannot fake a dead leader.
//
// Claiming is three steps, and the order is what makes a race between claimants safe:
//   1. heartbeat: CAS the stale value the claimant judged dead -> now. Exactly one claimant can move
//      a given value, and a leader that is alive after all moves it itself (the claim then fails).
//      It also tells every other observer "alive" for a lease timeout, so nobody reads the next
//      two words half-written and judges the claimant dead (the race this order closes: a claimant
//      descheduled between the epoch CAS and its pid store looked like a dead leader of the new
//      epoch, and a second claimant took the epoch after it).
//   2. epoch:     CAS seen -> seen + 1: the claim itself; consumers fence on it.
//   3. pid:       CAS the pid seen -> ours (a later claimant may already have written its own).
// Observers read epoch, then heartbeat, then pid (snapshot()), the reverse of the claim, so an
// epoch they see comes with at least its claimant's heartbeat; a pid that is gone counts as dead
// only once the heartbeat is older than PID_CHECK_GRACE_MS, since the pid is written last.

import { native } from '../native/addon';

export const LEASE_MAGIC = 0x4c534d49; // "IMSL"
export const LEASE_VERSION = 1;
export const LEASE_FILE_BYTES = 128;
const MAGIC = 0;
const VERSION = 1;
const EPOCH = 2;
const LEADER_PID = 3;
const BEATS = 4;
const HEARTBEAT_MS = 16; // word index 16 = byte 64, its own cache line

/** Default bound after which a silent leader is presumed dead (the engine issue's 50 ms). */
export const DEFAULT_LEASE_TIMEOUT_MS = 50;
/**
 * A vanished leader pid counts as dead only when the heartbeat is at least this old: a claimant
 * writes its pid after its heartbeat and epoch, so a fresh heartbeat beside the previous (dead)
 * leader's pid is a claim in progress, not a dead leader.
 */
export const PID_CHECK_GRACE_MS = 5;
/** Attempts of a bare-epoch claim against a heartbeat that keeps moving. */
const MAX_BARE_CLAIM_ATTEMPTS = 16;

/** One consistent reading of the lease (see snapshot()); reused by its owner, never allocated per call. */
export interface LeaseSnapshot {
  epoch: number;
  heartbeatMs: number;
  leaderPid: number;
  /** Milliseconds between the heartbeat and the reading. */
  ageMs: number;
}

export function emptyLeaseSnapshot(): LeaseSnapshot {
  return { epoch: 0, heartbeatMs: 0, leaderPid: 0, ageMs: 0 };
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

const clock = new Float64Array(2);
function monotonicMs31(): number {
  native.clockInto(clock, 0);
  return Math.floor(clock[0]! / 1e6) % 0x80000000;
}

function ageOf(heartbeatMs: number): number {
  return (monotonicMs31() - heartbeatMs + 0x80000000) % 0x80000000;
}

export class LeaderLease {
  readonly path: string;
  private readonly i32: Int32Array;
  private readonly scratch = emptyLeaseSnapshot();

  private constructor(path: string, buffer: ArrayBuffer) {
    this.path = path;
    this.i32 = new Int32Array(buffer);
    if (Atomics.load(this.i32, MAGIC) !== LEASE_MAGIC || Atomics.load(this.i32, VERSION) !== LEASE_VERSION) {
      throw new Error(`lease ${path}: not an IMS lease file of version ${LEASE_VERSION}; remove it and restart the pair`);
    }
  }

  /** Opens the lease, creating it (epoch 0, no leader) if it does not exist. */
  static open(path: string): LeaderLease {
    const buffer = native.mapFile(path, LEASE_FILE_BYTES, true);
    if (buffer.byteLength !== LEASE_FILE_BYTES) throw new Error(`lease ${path}: ${buffer.byteLength} bytes, expected ${LEASE_FILE_BYTES}; remove it`);
    const i32 = new Int32Array(buffer);
    if (Atomics.load(i32, MAGIC) === 0) {
      Atomics.store(i32, VERSION, LEASE_VERSION);
      Atomics.compareExchange(i32, MAGIC, 0, LEASE_MAGIC);
    }
    return new LeaderLease(path, buffer);
  }

  get epoch(): number {
    return Atomics.load(this.i32, EPOCH);
  }

  get leaderPid(): number {
    return Atomics.load(this.i32, LEADER_PID);
  }

  get beats(): number {
    return Atomics.load(this.i32, BEATS);
  }

  /** Milliseconds since the leader's last heartbeat. */
  heartbeatAgeMs(): number {
    return ageOf(Atomics.load(this.i32, HEARTBEAT_MS));
  }

  /** Reads epoch, heartbeat and pid in the order that pairs an epoch with its claimant's heartbeat. */
  snapshot(into: LeaseSnapshot = emptyLeaseSnapshot()): LeaseSnapshot {
    into.epoch = Atomics.load(this.i32, EPOCH);
    into.heartbeatMs = Atomics.load(this.i32, HEARTBEAT_MS);
    into.leaderPid = Atomics.load(this.i32, LEADER_PID);
    into.ageMs = ageOf(into.heartbeatMs);
    return into;
  }

  /**
   * Claims leadership if the lease is still as `seen` left it: returns the new epoch, or -1 when
   * someone else moved first or the leader beat again (then re-read and decide again). A bare
   * epoch claims whatever heartbeat is current (a first claim, or a test's outside claim).
   */
  tryAcquire(seen: LeaseSnapshot | number): number {
    if (typeof seen === 'number') {
      // A leader beating meanwhile moves the heartbeat under us: that is not a lost claim here.
      for (let attempt = 0; attempt < MAX_BARE_CLAIM_ATTEMPTS; attempt++) {
        const s = this.snapshot();
        if (s.epoch !== seen) return -1;
        const epoch = this.tryAcquire(s);
        if (epoch >= 0 || this.epoch !== seen) return epoch;
      }
      return -1;
    }
    const s = seen;
    if (Atomics.compareExchange(this.i32, HEARTBEAT_MS, s.heartbeatMs, monotonicMs31()) !== s.heartbeatMs) return -1;
    const next = s.epoch + 1;
    if (Atomics.compareExchange(this.i32, EPOCH, s.epoch, next) !== s.epoch) return -1;
    Atomics.compareExchange(this.i32, LEADER_PID, s.leaderPid, process.pid);
    Atomics.add(this.i32, BEATS, 1);
    return next;
  }

  /**
   * Moves the epoch of a lease this process holds up past `floor` (a journal that already carries
   * a higher epoch than a recreated lease file): the epoch the holder now has, or -1 when it was
   * fenced meanwhile.
   */
  raiseEpoch(mine: number, floor: number): number {
    let epoch = mine;
    while (epoch <= floor) {
      if (Atomics.compareExchange(this.i32, EPOCH, epoch, epoch + 1) !== epoch) return -1;
      epoch++;
    }
    Atomics.store(this.i32, HEARTBEAT_MS, monotonicMs31());
    return epoch;
  }

  /** Writes a heartbeat while `myEpoch` is current; false means we were fenced: stop publishing. */
  heartbeat(myEpoch: number): boolean {
    if (Atomics.load(this.i32, EPOCH) !== myEpoch) return false;
    Atomics.store(this.i32, HEARTBEAT_MS, monotonicMs31());
    Atomics.add(this.i32, BEATS, 1);
    return true;
  }

  /**
   * True when there is no leader or its heartbeat is older than timeoutMs, or its pid is gone and
   * the heartbeat is past PID_CHECK_GRACE_MS. Reads into `into` when given, so the caller can claim
   * exactly the state it judged (tryAcquire(into)).
   */
  leaderLooksDead(timeoutMs: number, into?: LeaseSnapshot): boolean {
    const s = this.snapshot(into ?? this.scratch);
    if (s.epoch === 0 || s.leaderPid === 0) return true;
    if (s.ageMs > timeoutMs) return true;
    return s.ageMs > PID_CHECK_GRACE_MS && !processExists(s.leaderPid);
  }

  static unlink(path: string): boolean {
    return native.unlinkFile(path);
  }
}
