// Reads answered by the product manager — wallets (wallet-routes.ts), orders (order-reads.ts) and
// risk rules (risk-rules-reads.ts) — share one mechanism:
//
//   submitRead: a slot in the pending table (requestId, the caller's account), the query on this
//     gateway's ring with sourceSeq 0 (pm-link.ts), the poller told a reply is due;
//   ReadAnswers.handle: each answer record (WalletReport, OrderRecord, RiskRuleRecord) is matched
//     to its slot by requestId and account, handed to the waiting ReadRequest of that record type,
//     and when the last record (more = 0) arrives the slot is freed and the request answers;
//   the reply bound: a read that gets no complete answer in time is answered 503 like a command.
//
// A ReadRequest builds a JSON value from its records; where the value goes is its ReadSink: an
// HTTP response (HttpReadSink) or a WebSocket message (order-stream.ts).

import { failure, type ApiFailure } from './api-failure';
import type { GatewayServices } from './gateway-services';
import type { HttpExchange } from './http-exchange';
import { NO_SLOT, NOT_A_REPLY, type PendingWaiter } from './pending-requests';
import type { AnswerRecordValue, ExecutionReportValue } from './pm-link';

export const READ_TIMEOUT = failure(503, 'engine_unavailable', 'the exchange did not answer in time (it may be failing over); retry shortly', 1);
const TOO_MANY_IN_FLIGHT = failure(503, 'overloaded', 'the gateway has too many requests waiting for the exchange; retry shortly', 1);
const RING_FULL = failure(503, 'overloaded', 'the exchange is not keeping up; retry shortly', 1);

/** Where a read's answer goes. */
export interface ReadSink {
  /** True once the client went away (the answer is then dropped). */
  readonly gone: boolean;
  answer(value: object): void;
  deny(f: ApiFailure): void;
}

/** Collects one read's answer records; subclasses know one record type and build the JSON. */
export abstract class ReadRequest implements PendingWaiter {
  postOnly: boolean | undefined = undefined;

  constructor(protected readonly sink: ReadSink) {}

  /** The type id of the answer records this read collects. */
  abstract readonly answerTypeId: number;

  /** One record of the answer (the value is valid only during the call). */
  abstract add(s: GatewayServices, record: AnswerRecordValue): void;

  /** The last record arrived: answer through the sink. */
  abstract finish(s: GatewayServices): void;

  get gone(): boolean {
    return this.sink.gone;
  }

  /** Read answers never arrive as execution reports. */
  onReply(_report: ExecutionReportValue): void {}

  onTimeout(): void {
    this.sink.deny(READ_TIMEOUT);
  }
}

/** Reserves a slot for `request`, then writes the query with `write(requestId)`; null when sent, else the failure to answer now. */
export function submitRead(s: GatewayServices, accountId: number, request: ReadRequest, write: (requestId: number) => boolean): ApiFailure | null {
  const requestId = s.pending.reserve(request, Date.now(), accountId, 0);
  if (requestId === NO_SLOT) return TOO_MANY_IN_FLIGHT;
  if (!write(requestId)) {
    s.pending.cancel(requestId);
    return RING_FULL;
  }
  s.poller.requestSent();
  return null;
}

/** Routes answer records from the PM ring to the read they answer (made once in main.ts). */
export class ReadAnswers {
  answered = 0;
  /** Records naming no live read of their type (it timed out, or its client went away and it was freed). */
  orphans = 0;

  constructor(private readonly s: GatewayServices) {}

  readonly handle = (typeId: number, r: AnswerRecordValue): void => {
    const pending = this.s.pending;
    const slot = pending.slotOfRequest(r.requestId, r.accountId);
    if (slot === NOT_A_REPLY) {
      this.orphans++;
      return;
    }
    const waiter = pending.waiterAt(slot);
    if (!(waiter instanceof ReadRequest) || waiter.answerTypeId !== typeId) {
      // A request id that wrapped onto another request of the same account: not ours.
      this.orphans++;
      return;
    }
    waiter.add(this.s, r);
    if (r.more !== 0) return;
    pending.complete(slot);
    this.answered++;
    if (!waiter.gone) waiter.finish(this.s);
  };
}

/** A read made over HTTP: 200 with the JSON value, or the failure. */
export class HttpReadSink implements ReadSink {
  constructor(private readonly ex: HttpExchange) {}

  get gone(): boolean {
    return this.ex.gone;
  }

  answer(value: object): void {
    this.ex.reply(200, JSON.stringify(value));
  }

  deny(f: ApiFailure): void {
    this.ex.fail(f);
  }
}

