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

import { BUSY_SPIN_WINDOW_MS, IN_FLIGHT_POLL_MS, REPLY_POLL_BATCH } from './gateway-limits';
import type { PendingRequests, PendingWaiter } from './pending-requests';
import type { PmLink, ReportHandler } from './pm-link';

export interface ReplyPollerOptions {
  readonly idlePollMs: number;
  readonly spinWindowMs?: number;
}

export class ReplyPoller {
  private immediate: NodeJS.Immediate | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerDueMs = 0;
  private lastActivityMs = 0;
  private stopped = true;
  private readonly spinWindowMs: number;
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
    this.immediate = setImmediate(this.onImmediate);
  }

  stop(): void {
    this.stopped = true;
    if (this.immediate !== null) clearImmediate(this.immediate);
    if (this.timer !== null) clearTimeout(this.timer);
    this.immediate = null;
    this.timer = null;
  }

  /** A command was written: poll every loop turn until its answer (or the spin window) passes. */
  requestSent(): void {
    this.lastActivityMs = Date.now();
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

  private readonly onTimer = (): void => {
    this.timer = null;
    if (this.immediate === null) this.tick();
  };

  private tick(): void {
    if (this.stopped) return;
    const n = this.pollNow();
    const nowMs = Date.now();
    if (n > 0) this.lastActivityMs = nowMs;
    if (n >= REPLY_POLL_BATCH || (this.pending.inFlight > 0 && nowMs - this.lastActivityMs < this.spinWindowMs)) {
      this.immediate = setImmediate(this.onImmediate);
      return;
    }
    const delayMs = this.pending.inFlight > 0 ? IN_FLIGHT_POLL_MS : this.options.idlePollMs;
    const dueMs = nowMs + delayMs;
    if (this.timer !== null) {
      if (this.timerDueMs <= dueMs) return;
      clearTimeout(this.timer);
    }
    this.timerDueMs = dueMs;
    this.timer = setTimeout(this.onTimer, delayMs);
  }
}
