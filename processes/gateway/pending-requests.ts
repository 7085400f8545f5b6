// Requests waiting for the product manager's reply, in a table allocated at start-up.
//
// A requestId (u32, carried in the command and echoed in the ExecutionReport) names a slot and
// the slot's generation:
//
//    31                      slotBits  slotBits-1        0
//   +---------------------------+----------------------+
//   | generation (wraps)        | slot index           |
//   +---------------------------+----------------------+
//
// so a reply is matched in O(1), and a late report for a slot that was answered or timed out and
// reused carries an old generation and is recognised as not a reply (the product manager keeps an
// order's original requestId on every later report of it, e.g. fills of a resting order). As a
// second guard against a generation that wrapped, a reply must also name the slot's account (and
// order, once known). requestId 0 is never issued: it marks reports that answer no request.
//
// Deadlines: every request gets the same timeout, and `expire` sweeps the table at most every
// SWEEP_INTERVAL_MS, so a request is answered within timeout + SWEEP_INTERVAL_MS.

import { MAX_IN_FLIGHT_LIMIT } from './gateway-limits';
import type { ExecutionReportValue } from './pm-link';

/** What waits in a slot: an HTTP request or a WebSocket request (see their classes). */
export interface PendingWaiter {
  /** The new order's postOnly flag (execution reports do not carry it); undefined when unknown. */
  postOnly: boolean | undefined;
  /** True once the client went away (its answer then goes to the account's streams instead). */
  readonly gone: boolean;
  /** The reply arrived; the report object is valid only during the call. */
  onReply(report: ExecutionReportValue): void;
  /** No reply within the bound. */
  onTimeout(): void;
}

export const NO_SLOT = 0;
export const NOT_A_REPLY = -1;
const SWEEP_INTERVAL_MS = 10;

export class PendingRequests {
  readonly capacity: number;
  private readonly slotBits: number;
  private readonly slotMask: number;
  private readonly generation: Uint32Array;
  /** The requestId a slot currently serves; 0 when free. */
  private readonly activeId: Uint32Array;
  private readonly accountId: Uint32Array;
  /** The order a slot's request is about; 0 for a new order until its first report names it. */
  private readonly orderId: Float64Array;
  private readonly deadlineMs: Float64Array;
  private readonly waiters: (PendingWaiter | null)[];
  private readonly freeSlots: Int32Array;
  private freeCount: number;
  private lastSweepMs = 0;
  /** Reports naming a requestId that matched no live slot (later reports of an order, late replies). */
  notReplies = 0;
  timeouts = 0;
  /** When the last request timed out (0: never), for /health. */
  lastTimeoutMs = 0;

  constructor(capacity: number, readonly timeoutMs: number, firstGeneration = 1) {
    if (!(Number.isInteger(capacity) && capacity >= 1 && capacity <= MAX_IN_FLIGHT_LIMIT)) {
      throw new RangeError(`pending requests: capacity must be an integer in [1, ${MAX_IN_FLIGHT_LIMIT}], got ${capacity}`);
    }
    if (!(timeoutMs > 0)) throw new RangeError(`pending requests: timeoutMs must be > 0, got ${timeoutMs}`);
    this.capacity = capacity;
    this.slotBits = Math.max(1, Math.ceil(Math.log2(capacity)));
    this.slotMask = (1 << this.slotBits) - 1;
    this.generation = new Uint32Array(capacity).fill(firstGeneration >>> 0);
    this.activeId = new Uint32Array(capacity);
    this.accountId = new Uint32Array(capacity);
    this.orderId = new Float64Array(capacity);
    this.deadlineMs = new Float64Array(capacity);
    this.waiters = new Array<PendingWaiter | null>(capacity).fill(null);
    this.freeSlots = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.freeSlots[i] = capacity - 1 - i;
    this.freeCount = capacity;
  }

  get inFlight(): number {
    return this.capacity - this.freeCount;
  }

  /** Takes a slot for `waiter`; returns its requestId, or NO_SLOT when the table is full. */
  reserve(waiter: PendingWaiter, nowMs: number, accountId: number, orderId: number): number {
    if (this.freeCount === 0) return NO_SLOT;
    const slot = this.freeSlots[--this.freeCount]!;
    let id = 0;
    do {
      const gen = (this.generation[slot]! + 1) >>> 0;
      this.generation[slot] = gen;
      id = ((gen << this.slotBits) | slot) >>> 0;
    } while (id === NO_SLOT);
    this.activeId[slot] = id;
    this.accountId[slot] = accountId;
    this.orderId[slot] = orderId;
    this.deadlineMs[slot] = nowMs + this.timeoutMs;
    this.waiters[slot] = waiter;
    return id;
  }

  /** Frees the slot of `requestId` without an answer (the command could not be written). */
  cancel(requestId: number): void {
    const slot = requestId & this.slotMask;
    if (slot < this.capacity && this.activeId[slot] === requestId) this.release(slot);
  }

  /** The live slot `report` answers, or NOT_A_REPLY. Pins a new order's id on its first report. */
  slotOf(report: ExecutionReportValue): number {
    const requestId = report.requestId;
    const slot = requestId & this.slotMask;
    if (requestId === NO_SLOT || slot >= this.capacity || this.activeId[slot] !== requestId || this.accountId[slot] !== report.accountId) {
      this.notReplies++;
      return NOT_A_REPLY;
    }
    const expected = this.orderId[slot]!;
    if (expected !== 0 && report.orderId !== 0 && expected !== report.orderId) {
      this.notReplies++;
      return NOT_A_REPLY;
    }
    if (expected === 0 && report.orderId > 0) this.orderId[slot] = report.orderId;
    return slot;
  }

  /**
   * The live slot a record answering `requestId` for `accountId` belongs to (wallet reads: their
   * records carry no order), or NOT_A_REPLY.
   */
  slotOfRequest(requestId: number, accountId: number): number {
    const slot = requestId & this.slotMask;
    if (requestId === NO_SLOT || slot >= this.capacity || this.activeId[slot] !== requestId || this.accountId[slot] !== accountId) {
      this.notReplies++;
      return NOT_A_REPLY;
    }
    return slot;
  }

  waiterAt(slot: number): PendingWaiter {
    return this.waiters[slot]!;
  }

  requestIdAt(slot: number): number {
    return this.activeId[slot]!;
  }

  /** Frees `slot` and returns its waiter (to be answered by the caller). */
  complete(slot: number): PendingWaiter {
    const waiter = this.waiters[slot]!;
    this.release(slot);
    return waiter;
  }

  /** Moves the slot's deadline to `deadlineMs` if that is earlier. */
  shortenDeadline(slot: number, deadlineMs: number): void {
    if (deadlineMs < this.deadlineMs[slot]!) this.deadlineMs[slot] = deadlineMs;
  }

  /** Frees every slot past its deadline and hands each to `onExpired`. Returns how many. */
  expire(nowMs: number, onExpired: (requestId: number, waiter: PendingWaiter) => void): number {
    if (nowMs - this.lastSweepMs < SWEEP_INTERVAL_MS || this.freeCount === this.capacity) return 0;
    this.lastSweepMs = nowMs;
    let expired = 0;
    for (let slot = 0; slot < this.capacity; slot++) {
      const requestId = this.activeId[slot]!;
      if (requestId === 0 || this.deadlineMs[slot]! > nowMs) continue;
      const waiter = this.waiters[slot]!;
      this.release(slot);
      expired++;
      onExpired(requestId, waiter);
    }
    return expired;
  }

  /** Counts a request answered 503 for want of a reply. */
  noteTimeout(nowMs: number): void {
    this.timeouts++;
    this.lastTimeoutMs = nowMs;
  }

  private release(slot: number): void {
    this.activeId[slot] = 0;
    this.waiters[slot] = null;
    this.freeSlots[this.freeCount++] = slot;
  }
}
