// What the gateway counts into its counters file (processes/operations/process-counters.ts has the
// names and help texts, bus/counters.ts the file). Each count is one store into shared memory; a
// scrape reads the file and never talks to the gateway.
//
//   orders in        CountedPmLink: a command counts once it is on the product-manager ring
//   round trip       TimedPendingRequests: from reserving the slot (the command is written in the
//                    same synchronous step) to the reply that ends the command
//   rejects          every error answer, REST (HttpExchange) and WebSocket (order-stream), by code
//   fills            countingReportHandler: a report that raises an order's filled quantity
//   requests, open connections and requests, in flight, timeouts: noteHttp* plus sample() from
//                    the gateway's own stats, refreshed by main.ts every SAMPLE_MS
//
// The error-answer hook is the process's one GatewayCounters (gatewayCounters()): HttpExchange and
// the stream's error answer have no handle on the services, and a process has exactly one counters
// file. Until main.ts installs the file-backed one, counts go to a detached copy (tests).

import { CountersWriter, type LatencyHistogram } from '../../bus/counters';
import type { AmendCommand, PlaceCommand } from './order-normalization';
import { PendingRequests, type PendingWaiter } from './pending-requests';
import { PmLink, type ExecutionReportValue, type ReportHandler } from './pm-link';

/** How often main.ts copies the gateway's own stats (open streams, WS messages, …) into the file. */
export const SAMPLE_MS = 200;
/** Distinct error codes counted under their own label; further ones count as "other". */
const MAX_REJECT_CODES = 128;

const nowNs = (): number => performance.now() * 1e6;

export class GatewayCounters {
  readonly placed: number;
  readonly updated: number;
  readonly removed: number;
  readonly fills: number;
  readonly reports: number;
  readonly restRequests: number;
  readonly wsMessages: number;
  readonly openWebSockets: number;
  readonly openHttp: number;
  readonly inFlight: number;
  readonly timeouts: number;
  readonly roundTrip: LatencyHistogram;
  private readonly rejectSlots = new Map<string, number>();
  private readonly otherRejects: number;

  constructor(readonly writer: CountersWriter) {
    this.placed = writer.counter('ims_orders_in_total', 'command=place');
    this.updated = writer.counter('ims_orders_in_total', 'command=update');
    this.removed = writer.counter('ims_orders_in_total', 'command=remove');
    this.fills = writer.counter('ims_fills_total');
    this.reports = writer.counter('ims_execution_reports_total');
    this.restRequests = writer.counter('ims_requests_total', 'api=rest');
    this.wsMessages = writer.counter('ims_requests_total', 'api=ws');
    this.openWebSockets = writer.gauge('ims_open_connections', 'kind=websocket');
    this.openHttp = writer.gauge('ims_open_http_requests');
    this.inFlight = writer.gauge('ims_in_flight_requests');
    this.timeouts = writer.counter('ims_request_timeouts_total');
    this.otherRejects = writer.counter('ims_rejects_total', 'reason=other');
    this.roundTrip = writer.histogram('ims_round_trip_seconds');
  }

  /** An error answer with code `code`. A new code takes a slot once (bounded); then a store. */
  rejected(code: string): void {
    let slot = this.rejectSlots.get(code);
    if (slot === undefined) {
      slot = this.rejectSlots.size < MAX_REJECT_CODES && this.writer.hasRoom && /^[a-z0-9_]{1,48}$/.test(code) ? this.writer.counter('ims_rejects_total', `reason=${code}`) : this.otherRejects;
      this.rejectSlots.set(code, slot);
    }
    this.writer.values[slot]! += 1;
  }

  httpStarted(): void {
    this.writer.values[this.restRequests]! += 1;
    this.writer.values[this.openHttp]! += 1;
  }

  httpEnded(): void {
    this.writer.values[this.openHttp]! -= 1;
  }
}

let current = new GatewayCounters(CountersWriter.detached('gateway'));

/** The process's gateway counters (a detached copy until main.ts installs the file-backed one). */
export function gatewayCounters(): GatewayCounters {
  return current;
}

export function installGatewayCounters(counters: GatewayCounters): void {
  current = counters;
}

/** PmLink that counts each order command once it is on the ring. */
export class CountedPmLink extends PmLink {
  constructor(
    options: ConstructorParameters<typeof PmLink>[0],
    private readonly counters: GatewayCounters,
  ) {
    super(options);
  }

  override sendNewOrder(requestId: number, accountId: number, c: PlaceCommand): boolean {
    const ok = super.sendNewOrder(requestId, accountId, c);
    if (ok) this.counters.writer.values[this.counters.placed]! += 1;
    return ok;
  }

  override sendCancel(requestId: number, accountId: number, orderId: number, productId: number): boolean {
    const ok = super.sendCancel(requestId, accountId, orderId, productId);
    if (ok) this.counters.writer.values[this.counters.removed]! += 1;
    return ok;
  }

  override sendAmend(requestId: number, accountId: number, orderId: number, productId: number, a: AmendCommand): boolean {
    const ok = super.sendAmend(requestId, accountId, orderId, productId, a);
    if (ok) this.counters.writer.values[this.counters.updated]! += 1;
    return ok;
  }
}

/**
 * PendingRequests that times each request from its slot's reservation (order-entry writes the
 * command in the same synchronous step) to its completion, into the round-trip histogram.
 */
export class TimedPendingRequests extends PendingRequests {
  private readonly reservedNs: Float64Array;
  private readonly mask: number;

  constructor(capacity: number, timeoutMs: number, firstGeneration: number, private readonly counters: GatewayCounters) {
    super(capacity, timeoutMs, firstGeneration);
    this.reservedNs = new Float64Array(capacity);
    // The slot is the requestId's low bits, as PendingRequests lays it out (checked on each reserve).
    this.mask = (1 << Math.max(1, Math.ceil(Math.log2(capacity)))) - 1;
  }

  override reserve(waiter: PendingWaiter, nowMs: number, accountId: number, orderId: number): number {
    const id = super.reserve(waiter, nowMs, accountId, orderId);
    if (id !== 0) {
      const slot = id & this.mask;
      if (this.requestIdAt(slot) !== id) throw new Error(`gateway counters: requestId ${id} is not in slot ${slot}; the PendingRequests layout changed`);
      this.reservedNs[slot] = nowNs();
    }
    this.counters.writer.values[this.counters.inFlight] = this.inFlight;
    return id;
  }

  override complete(slot: number): PendingWaiter {
    this.counters.roundTrip.record(nowNs() - this.reservedNs[slot]!);
    const waiter = super.complete(slot);
    this.counters.writer.values[this.counters.inFlight] = this.inFlight;
    return waiter;
  }

  override noteTimeout(nowMs: number): void {
    super.noteTimeout(nowMs);
    this.counters.writer.values[this.counters.timeouts]! += 1;
    this.counters.writer.values[this.counters.inFlight] = this.inFlight;
  }
}

/** Wraps the report router's handler: counts reports and each new fill of a tracked order. */
export function countingReportHandler(handle: ReportHandler, filledOf: (orderId: number) => number, counters: GatewayCounters): ReportHandler {
  const values = counters.writer.values;
  return (r: ExecutionReportValue): void => {
    const before = filledOf(r.orderId);
    handle(r);
    values[counters.reports]! += 1;
    if (filledOf(r.orderId) > before) values[counters.fills]! += 1;
  };
}
