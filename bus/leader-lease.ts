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

const clock = new Float64Array(2);
function monotonicMs31(): number {
  native.clockInto(clock, 0);
  return Math.floor(clock[0]! / 1e6) % 0x80000000;
}

export class LeaderLease {
  readonly path: string;
  private readonly i32: Int32Array;

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
    return (monotonicMs31() - Atomics.load(this.i32, HEARTBEAT_MS) + 0x80000000) % 0x80000000;
  }

  /**
   * Claims leadership if the epoch is still `seenEpoch`: returns the new epoch, or -1 when someone
   * else moved it first (then re-read and decide again).
   */
  tryAcquire(seenEpoch: number): number {
    const next = seenEpoch + 1;
    if (Atomics.compareExchange(this.i32, EPOCH, seenEpoch, next) !== seenEpoch) return -1;
    Atomics.store(this.i32, LEADER_PID, process.pid);
    Atomics.store(this.i32, HEARTBEAT_MS, monotonicMs31());
    Atomics.add(this.i32, BEATS, 1);
    return next;
  }

  /** Writes a heartbeat while `myEpoch` is current; false means we were fenced: stop publishing. */
  heartbeat(myEpoch: number): boolean {
    if (Atomics.load(this.i32, EPOCH) !== myEpoch) return false;
    Atomics.store(this.i32, HEARTBEAT_MS, monotonicMs31());
    Atomics.add(this.i32, BEATS, 1);
    return true;
  }

  /** True when there is no leader or its heartbeat is older than timeoutMs (or it died). */
  leaderLooksDead(timeoutMs: number): boolean {
    const pid = this.leaderPid;
    if (this.epoch === 0 || pid === 0) return true;
    if (this.heartbeatAgeMs() > timeoutMs) return true;
    try {
      process.kill(pid, 0);
      return false;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }

  static unlink(path: string): boolean {
    return native.unlinkFile(path);
  }
}
