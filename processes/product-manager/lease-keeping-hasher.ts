// The state hash of a LEADER, computed without letting its lease lapse: a StateWriter that feeds
// StateHasher and renews the heartbeat every HEARTBEAT_EVERY_WORDS words it hashes. A hash walks the
// whole state while nothing else runs; for a large state that takes longer than the lease timeout,
// and the standby would take the leader for dead and kill it.

import type { LeaderLease } from '../../bus/leader-lease';
import { StateHasher, type StateHash, type StateWriter } from '../matching-engine/state-encoding';

/** Words hashed between two heartbeats (~1 ms of hashing on this machine). */
const HEARTBEAT_EVERY_WORDS = 1 << 16;

export class LeaseKeepingHasher implements StateWriter {
  private readonly hasher = new StateHasher();
  private countdown = HEARTBEAT_EVERY_WORDS;
  /** False once a heartbeat found the lease taken: the caller must stop leading. */
  leaseHeld = true;

  constructor(
    private readonly lease: LeaderLease,
    private readonly epoch: number,
  ) {}

  u8(value: number): void {
    this.hasher.u8(value);
    this.tick(1);
  }

  u32(value: number): void {
    this.hasher.u32(value);
    this.tick(1);
  }

  f64(value: number): void {
    this.hasher.f64(value);
    this.tick(2);
  }

  digest(): StateHash {
    return this.hasher.digest();
  }

  private tick(words: number): void {
    this.countdown -= words;
    if (this.countdown > 0) return;
    this.countdown = HEARTBEAT_EVERY_WORDS;
    if (this.leaseHeld && !this.lease.heartbeat(this.epoch)) this.leaseHeld = false;
  }
}
