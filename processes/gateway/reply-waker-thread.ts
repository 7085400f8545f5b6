// The worker thread of reply-waker.ts: parks on the PM->gateway ring's tail futex so the gateway's
// event loop (which must never block: uWS runs on it) is told the moment the product manager
// publishes, instead of polling the ring on timers or every loop turn.
//
// Protocol with the main thread, over a shared Int32Array `control`:
//   ARMED      main sets 1 (and notifies) after it polled the ring empty; the worker sets 0 when it
//              posts a wake-up, so one wake-up is posted per armed period however many records come
//   SEEN_TAIL  the ring position main had consumed up to when it armed
//   STOP       main sets 1 to end the thread
// Sleeping: the worker counts itself in the ring's consumer-sleepers word, re-checks the tail and
// futex-waits on it; the producer's commit wakes the tail futex only while that word is non-zero
// (bus/ring.ts RingProducer.commit), so a gateway that is busy costs the product manager nothing.

import { parentPort, workerData } from 'node:worker_threads';
import { native } from '../../native/addon';
import { CONSUMER_SLEEPERS_OFFSET, TAIL_OFFSET } from '../../bus/ring-layout';

export const WakerControl = { ARMED: 0, SEEN_TAIL: 1, STOP: 2, WORDS: 4 } as const;

/** Longest single futex sleep: bounds how late a stop (or a missed wake) is noticed. */
export const WAKER_PARK_NS = 20_000_000;
/** Longest wait for main to arm again. */
const DISARMED_WAIT_MS = 20;

interface WakerData {
  readonly ringPath: string;
  readonly control: SharedArrayBuffer;
}

function run(data: WakerData): void {
  const control = new Int32Array(data.control);
  const buffer = native.mapFile(data.ringPath, 0, false);
  const ring = new Int32Array(buffer);
  const tailIndex = TAIL_OFFSET >> 2;
  const sleepersIndex = CONSUMER_SLEEPERS_OFFSET >> 2;
  while (Atomics.load(control, WakerControl.STOP) === 0) {
    if (Atomics.load(control, WakerControl.ARMED) === 0) {
      Atomics.wait(control, WakerControl.ARMED, 0, DISARMED_WAIT_MS);
      continue;
    }
    const seen = Atomics.load(control, WakerControl.SEEN_TAIL);
    if (Atomics.load(ring, tailIndex) !== seen) {
      Atomics.store(control, WakerControl.ARMED, 0);
      parentPort!.postMessage(0);
      continue;
    }
    // Register, then re-check: against the producer's store(tail)-then-load(sleepers), either we
    // see its new tail here or it sees us and wakes the futex.
    Atomics.add(ring, sleepersIndex, 1);
    if (Atomics.load(ring, tailIndex) === seen) native.futexWait(buffer, TAIL_OFFSET, seen, WAKER_PARK_NS);
    Atomics.sub(ring, sleepersIndex, 1);
  }
}

if (parentPort !== null && workerData !== null && typeof workerData === 'object' && 'ringPath' in (workerData as object)) run(workerData as WakerData);
