// Drives the PM->gateway ring from the uWS event loop. uWS runs on this thread, so the loop must
// never block (no futex wait here): it polls from event-loop callbacks, fast while answers are
// due and lazily otherwise —
//
//   requests in flight and activity within spinWindowMs  -> setImmediate: poll every loop turn
//                                                           (the turn also serves uWS sockets; it
//                                                           costs a busy core while it lasts)
//   requests in flight, no answer for spinWindowMs        -> setTimeout(IN_FLIGHT_POLL_MS)
//   nothing in flight                                    -> setTimeout(idlePollMs): the most an
//                                                           unsolicited fill waits to be pushed
//
// Writing a command calls requestSent(), which switches to setImmediate at once. Each poll takes
// at most REPLY_POLL_BATCH reports, then yields to the loop. Measured figures are in
// processes/gateway/README.md.
//
// With `futexWake` (the default in main.ts) none of that spinning happens: after a poll that
// emptied the ring the poller arms a ReplyWaker (reply-waker.ts), a worker thread parked on the
// ring's futex that posts one wake-up to this loop when the product manager publishes. The loop
// then sleeps in epoll like any idle server; a fallback timer (WAKER_FALLBACK_*_MS) still sweeps
// expired requests and would catch a lost wake-up.

import { BUSY_SPIN_WINDOW_MS, IN_FLIGHT_POLL_MS, REPLY_POLL_BATCH } from './gateway-limits';
import type { PendingRequests, PendingWaiter } from './pending-requests';
import type { PmLink, ReportHandler } from './pm-link';
import { ReplyWaker } from './reply-waker';

/** With the waker: the fallback poll while requests wait (also their expiry sweep), and when idle. */
export const WAKER_FALLBACK_IN_FLIGHT_MS = 10;
export const WAKER_FALLBACK_IDLE_MS = 100;

export interface ReplyPollerOptions {
  readonly idlePollMs: number;
  readonly spinWindowMs?: number;
  /** Wake on the ring's futex from a worker thread instead of polling from timers and loop turns. */
  readonly futexWake?: boolean;
}

export class ReplyPoller {
  private immediate: NodeJS.Immediate | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerDueMs = 0;
  private lastActivityMs = 0;
  private stopped = true;
  private readonly spinWindowMs: number;
  private waker: ReplyWaker | null = null;
  polls = 0;
  reports = 0;
  lastReportMs = 0;

  constructor(
    private readonly link: PmLink,
    private readonly pending: PendingRequests,
    private readonly handler: ReportHandler,
    private readonly onExpired: (requestId: number, waiter: PendingWaiter) => void,
    private readonly options: ReplyPollerOptions,
  ) {
    this.spinWindowMs = options.spinWindowMs ?? BUSY_SPIN_WINDOW_MS;
  }

  start(): void {
    this.stopped = false;
    if (this.options.futexWake === true && this.waker === null) this.waker = new ReplyWaker(this.link.consumer.ring.path, this.onWake);
    this.immediate = setImmediate(this.onImmediate);
  }

  /** Wake-ups posted by the futex waker (0 without one). */
  get wakeups(): number {
    return this.waker === null ? 0 : this.waker.wakeups;
  }

  stop(): void {
    this.stopped = true;
    if (this.immediate !== null) clearImmediate(this.immediate);
    if (this.timer !== null) clearTimeout(this.timer);
    this.immediate = null;
    this.timer = null;
    this.waker?.stop();
    this.waker = null;
  }

  /** A command was written: poll every loop turn until its answer (or the spin window) passes. */
  requestSent(): void {
    this.lastActivityMs = Date.now();
    // The waker is armed whenever the ring was polled empty: it will tell us of the answer.
    if (this.waker !== null) return;
    if (this.immediate === null && !this.stopped) this.immediate = setImmediate(this.onImmediate);
  }

  /** Polls once now (also used by shutdown to drain). Returns the reports handled. */
  pollNow(): number {
    this.polls++;
    const n = this.link.poll(this.handler, REPLY_POLL_BATCH);
    if (n > 0) {
      this.reports += n;
      this.lastReportMs = Date.now();
    }
    this.pending.expire(Date.now(), this.onExpired);
    return n;
  }

  private readonly onImmediate = (): void => {
    this.immediate = null;
    this.tick();
  };

  private readonly onWake = (): void => {
    if (this.immediate === null) this.tick();
  };

  private readonly onTimer = (): void => {
    this.timer = null;
    if (this.immediate === null) this.tick();
  };

  private tick(): void {
    if (this.stopped) return;
    const n = this.pollNow();
    const nowMs = Date.now();
    if (n > 0) this.lastActivityMs = nowMs;
    if (this.waker !== null) {
      if (n >= REPLY_POLL_BATCH) {
        this.immediate = setImmediate(this.onImmediate);
        return;
      }
      this.waker.arm(this.link.consumer.position);
      this.schedule(nowMs, this.pending.inFlight > 0 ? WAKER_FALLBACK_IN_FLIGHT_MS : WAKER_FALLBACK_IDLE_MS);
      return;
    }
    if (n >= REPLY_POLL_BATCH || (this.pending.inFlight > 0 && nowMs - this.lastActivityMs < this.spinWindowMs)) {
      this.immediate = setImmediate(this.onImmediate);
      return;
    }
    this.schedule(nowMs, this.pending.inFlight > 0 ? IN_FLIGHT_POLL_MS : this.options.idlePollMs);
  }

  /** The next timer poll in `delayMs`, unless one is already due sooner. */
  private schedule(nowMs: number, delayMs: number): void {
    const dueMs = nowMs + delayMs;
    if (this.timer !== null) {
      if (this.timerDueMs <= dueMs) return;
      clearTimeout(this.timer);
    }
    this.timerDueMs = dueMs;
    this.timer = setTimeout(this.onTimer, delayMs);
  }
}
