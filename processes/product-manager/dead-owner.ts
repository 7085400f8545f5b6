// Frees the rings a killed product manager still "owns". A process killed with SIGKILL stays a
// zombie until its parent reaps it, and for kill(pid, 0) a zombie exists: the ring code would refuse
// to let a successor attach as the producer of the reply rings or as consumer `pm` of the gateway
// rings until then. A takeover that has killed the old leader and seen it stop running (a zombie
// runs no code) clears that pid from the rings' owner words itself, with a compare-and-swap so it
// never clears anyone else's (bus/ring-layout.ts owns the offsets).

import { CONSUMER_SLOT_BYTES, CONSUMERS_OFFSET, ConsumerState, Meta, Slot } from '../../bus/ring-layout';
import type { RingFile } from '../../bus/ring';

/** Clears `deadPid` as producer and as the pid of any consumer slot of `ring`; returns how many words it cleared. */
export function releaseDeadOwner(ring: RingFile, deadPid: number): number {
  if (deadPid <= 0) return 0;
  const i32 = ring.i32;
  let cleared = 0;
  if (Atomics.compareExchange(i32, Meta.PRODUCER_PID >> 2, deadPid, 0) === deadPid) cleared++;
  for (let s = 0; s < ring.maxConsumers; s++) {
    const base = CONSUMERS_OFFSET + s * CONSUMER_SLOT_BYTES;
    if (Atomics.load(i32, (base + Slot.STATE) >> 2) === ConsumerState.FREE) continue;
    if (Atomics.compareExchange(i32, (base + Slot.PID) >> 2, deadPid, 0) === deadPid) cleared++;
  }
  return cleared;
}
