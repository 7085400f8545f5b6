// Wakes the gateway's event loop when the product manager publishes on the PM->gateway ring, from
// a worker thread parked on the ring's futex (reply-waker-thread.ts): the loop never blocks and
// never spins, and an answer or a fill is noticed within a futex wake-up and one message to the
// loop (tens of µs) instead of the next timer or a busy loop turn. Measured in BENCHMARKS.md
// (end-to-end) and processes/gateway/README.md ("The poll loop, measured").
//
// The reply poller arms it (arm(position)) after it polled the ring empty; the worker then posts
// one wake-up as soon as the tail moves past that position, and waits to be armed again.

import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { WakerControl } from './reply-waker-thread';

export class ReplyWaker {
  private readonly control = new Int32Array(new SharedArrayBuffer(WakerControl.WORDS * 4));
  private readonly worker: Worker;
  wakeups = 0;

  constructor(ringPath: string, onWake: () => void) {
    this.worker = new Worker(path.join(__dirname, 'reply-waker-thread.js'), { workerData: { ringPath, control: this.control.buffer } });
    this.worker.on('message', () => {
      this.wakeups++;
      onWake();
    });
    this.worker.on('error', (err) => {
      // Losing the waker only makes replies slower (the poller's fallback timer still polls):
      // but it is a bug, so say it loudly.
      process.stderr.write(`gateway: reply waker thread failed: ${err.stack ?? err.message}\n`);
    });
    // The thread must not keep a stopping gateway alive.
    this.worker.unref();
  }

  /** Wake the loop once the ring's tail differs from `consumedPosition` (the consumer's position). */
  arm(consumedPosition: number): void {
    const c = this.control;
    Atomics.store(c, WakerControl.SEEN_TAIL, consumedPosition | 0);
    if (Atomics.exchange(c, WakerControl.ARMED, 1) === 0) Atomics.notify(c, WakerControl.ARMED);
  }

  stop(): void {
    Atomics.store(this.control, WakerControl.STOP, 1);
    Atomics.notify(this.control, WakerControl.ARMED);
    void this.worker.terminate();
  }
}
