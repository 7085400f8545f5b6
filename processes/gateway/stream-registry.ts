// The open WebSocket streams of this gateway, by account, and the one way anything is sent on
// them. Sending honours uWS backpressure: a stream whose buffered bytes exceed maxBackpressure, or
// whose send uWS drops (send() == 2), is closed with 1013 ("try again later") rather than buffered
// without bound; a client that reconnects resumes from the eventSeq of the last report it saw.

import type { WebSocket } from 'uWebSockets.js';
import type { Principal } from '../accounts/principal';
import { MAX_STREAMS, MAX_STREAMS_PER_ACCOUNT } from './gateway-limits';

export interface StreamUserData {
  readonly principal: Principal;
  readonly ip: string;
  /** The credential the stream was opened with (so a logout through this gateway closes it). */
  readonly credential: string;
  closed: boolean;
}

export type Stream = WebSocket<StreamUserData>;

/** uWS send() results. */
const SEND_DROPPED = 2;
export const CLOSE_SLOW_CONSUMER = 1013;
export const CLOSE_POLICY = 1008;

// The cork callback reads these instead of capturing them: no closure is created per message.
let corkStream: Stream | null = null;
let corkText = '';
let corkResult = 0;
function sendCorked(): void {
  corkResult = corkStream!.send(corkText, false, false);
}

export class StreamRegistry {
  private readonly byAccount = new Map<number, Set<Stream>>();
  private count = 0;
  pushed = 0;
  slowClosed = 0;
  /** Reports for accounts with no stream open here (nobody to tell). */
  undelivered = 0;

  constructor(private readonly maxBackpressureBytes: number) {}

  get size(): number {
    return this.count;
  }

  /** Registers an opened stream; false when the account or the gateway has too many. */
  add(ws: Stream): boolean {
    const accountId = ws.getUserData().principal.accountId;
    let set = this.byAccount.get(accountId);
    if (this.count >= MAX_STREAMS || (set !== undefined && set.size >= MAX_STREAMS_PER_ACCOUNT)) return false;
    if (set === undefined) {
      set = new Set();
      this.byAccount.set(accountId, set);
    }
    set.add(ws);
    this.count++;
    return true;
  }

  remove(ws: Stream): void {
    const accountId = ws.getUserData().principal.accountId;
    const set = this.byAccount.get(accountId);
    if (set === undefined || !set.delete(ws)) return;
    this.count--;
    if (set.size === 0) this.byAccount.delete(accountId);
  }

  /** Sends `text` to every stream of `accountId`; returns how many took it. */
  push(accountId: number, text: string): number {
    const set = this.byAccount.get(accountId);
    if (set === undefined) {
      this.undelivered++;
      return 0;
    }
    let delivered = 0;
    for (const ws of set) if (this.send(ws, text)) delivered++;
    this.pushed += delivered;
    return delivered;
  }

  /** Sends one message on one stream, closing it when it cannot keep up. */
  send(ws: Stream, text: string): boolean {
    const ud = ws.getUserData();
    if (ud.closed) return false;
    if (ws.getBufferedAmount() > this.maxBackpressureBytes) {
      this.closeSlow(ws);
      return false;
    }
    corkStream = ws;
    corkText = text;
    ws.cork(sendCorked);
    corkStream = null;
    corkText = '';
    if (corkResult === SEND_DROPPED) {
      this.closeSlow(ws);
      return false;
    }
    return true;
  }

  /** Closes every stream opened with `credential` (its session was logged out here). */
  closeCredential(accountId: number, credential: string): void {
    const set = this.byAccount.get(accountId);
    if (set === undefined) return;
    for (const ws of [...set]) {
      const ud = ws.getUserData();
      if (ud.credential === credential && !ud.closed) ws.end(CLOSE_POLICY, 'logged out');
    }
  }

  /** Closes every stream of an account (signed out everywhere: its role changed). */
  closeAccount(accountId: number, reason: string): void {
    const set = this.byAccount.get(accountId);
    if (set === undefined) return;
    for (const ws of [...set]) if (!ws.getUserData().closed) ws.end(CLOSE_POLICY, reason);
  }

  /** Closes every stream (shutdown). */
  closeAll(): void {
    for (const set of [...this.byAccount.values()]) for (const ws of [...set]) if (!ws.getUserData().closed) ws.end(1001, 'gateway shutting down');
  }

  private closeSlow(ws: Stream): void {
    this.slowClosed++;
    ws.end(CLOSE_SLOW_CONSUMER, 'cannot keep up; reconnect and resume from your last eventSeq');
  }
}
