// What an application loop does when a poll found no work. The CPU cost of each is stated,
// because on this 2-core machine seven processes share two cores:
//
//   BusySpinIdleStrategy  burns its core at 100 % forever; lowest latency. Opt-in, for machines
//                         with a core per process.
//   YieldingIdleStrategy  sched_yield between polls; 100 % of a core when nobody else wants it.
//   BackoffIdleStrategy   (default) spins briefly, then yields, then sleeps on a futex that the
//                         producer wakes (only when a sleeper is registered, so the producer's
//                         fast path makes no syscall). Idle cost ~0 %; wake-up costs a futex wake
//                         (a few µs).

import { native } from '../native/addon';
import type { RingConsumer } from './ring';

export interface IdleStrategy {
  /** Called after each unit of polling with the work it did; 0 means idle. */
  idle(workCount: number): void;
  reset(): void;
}

/** Something a loop can sleep on until there may be work (or the timeout passes). */
export interface Parker {
  park(timeoutNs: number): void;
}

export class BusySpinIdleStrategy implements IdleStrategy {
  idle(_workCount: number): void {}
  reset(): void {}
}

export class YieldingIdleStrategy implements IdleStrategy {
  idle(workCount: number): void {
    if (workCount === 0) native.yieldCpu();
  }
  reset(): void {}
}

export interface BackoffOptions {
  /** Empty polls spent spinning before yielding. */
  maxSpins?: number;
  /** Empty polls spent yielding before sleeping. */
  maxYields?: number;
  /** First sleep bound; doubles on each idle sleep up to maxParkNs. */
  minParkNs?: number;
  /** Longest sleep: bounds how late a missed wake-up or a timer can be noticed. */
  maxParkNs?: number;
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = {
  maxSpins: 100,
  maxYields: 10,
  minParkNs: 50_000,
  maxParkNs: 1_000_000,
};

const SPINNING = 0;
const YIELDING = 1;
const PARKING = 2;

export class BackoffIdleStrategy implements IdleStrategy {
  private readonly parker: Parker;
  private readonly maxSpins: number;
  private readonly maxYields: number;
  private readonly minParkNs: number;
  private readonly maxParkNs: number;
  private state = SPINNING;
  private count = 0;
  private parkNs: number;
  /** Times the loop actually slept; for status and tests. */
  parks = 0;

  constructor(parker: Parker, options: BackoffOptions = {}) {
    const o = { ...DEFAULT_BACKOFF, ...options };
    if (!(o.maxSpins >= 0 && o.maxYields >= 0 && o.minParkNs > 0 && o.maxParkNs >= o.minParkNs)) {
      throw new TypeError(`backoff options need maxSpins >= 0, maxYields >= 0, 0 < minParkNs <= maxParkNs; got ${JSON.stringify(options)}`);
    }
    this.parker = parker;
    this.maxSpins = o.maxSpins;
    this.maxYields = o.maxYields;
    this.minParkNs = o.minParkNs;
    this.maxParkNs = o.maxParkNs;
    this.parkNs = o.minParkNs;
  }

  idle(workCount: number): void {
    if (workCount > 0) {
      this.reset();
      return;
    }
    switch (this.state) {
      case SPINNING:
        if (++this.count > this.maxSpins) {
          this.state = YIELDING;
          this.count = 0;
        }
        break;
      case YIELDING:
        if (++this.count > this.maxYields) {
          this.state = PARKING;
          this.count = 0;
        } else {
          native.yieldCpu();
        }
        break;
      default:
        this.parks++;
        this.parker.park(this.parkNs);
        this.parkNs = Math.min(this.parkNs * 2, this.maxParkNs);
    }
  }

  reset(): void {
    this.state = SPINNING;
    this.count = 0;
    this.parkNs = this.minParkNs;
  }
}

/**
 * Sleeps until any of several rings has data (futex_waitv), for loops that consume more than one
 * ring (the sequencer reads every input ring). Arrays are built once; parking allocates nothing.
 */
export class MultiRingParker implements Parker {
  private readonly consumers: readonly RingConsumer[];
  private readonly buffers: ArrayBuffer[];
  private readonly offsets: number[];
  private readonly expected: number[];

  constructor(consumers: readonly RingConsumer[], tailOffset: number) {
    if (consumers.length === 0 || consumers.length > 8) throw new RangeError(`MultiRingParker takes 1 to 8 rings, got ${consumers.length}`);
    this.consumers = consumers;
    this.buffers = consumers.map((c) => c.ring.buffer);
    this.offsets = consumers.map(() => tailOffset);
    this.expected = consumers.map(() => 0);
  }

  park(timeoutNs: number): void {
    const n = this.consumers.length;
    for (let i = 0; i < n; i++) this.consumers[i]!.beginSleep();
    let empty = true;
    for (let i = 0; i < n; i++) {
      const c = this.consumers[i]!;
      const tail = c.ring.tail();
      if (tail !== c.position) empty = false;
      this.expected[i] = tail | 0;
    }
    if (empty) native.futexWaitMany(this.buffers, this.offsets, this.expected, timeoutNs);
    for (let i = 0; i < n; i++) this.consumers[i]!.endSleep();
  }
}

/** Sleeps for a bounded time: for loops with nothing to wake them but a timer. */
export class SleepingParker implements Parker {
  private readonly word = new Int32Array(new SharedArrayBuffer(4));
  park(timeoutNs: number): void {
    Atomics.wait(this.word, 0, 0, timeoutNs / 1e6);
  }
}

export type IdleStrategyName = 'backoff' | 'yield' | 'spin';

export function makeIdleStrategy(name: IdleStrategyName, parker: Parker, options?: BackoffOptions): IdleStrategy {
  switch (name) {
    case 'spin':
      return new BusySpinIdleStrategy();
    case 'yield':
      return new YieldingIdleStrategy();
    case 'backoff':
      return new BackoffIdleStrategy(parker, options);
    default:
      throw new TypeError(`unknown idle strategy '${String(name)}'; use backoff (default), yield or spin`);
  }
}
