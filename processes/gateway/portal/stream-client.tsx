// The kiosk's WebSocket to /v1/stream: pushes the colleague's execution reports (fills) the moment
// they happen, and carries market-data subscriptions (book:S, trades:S, candles:S:SECONDS; shapes in
// processes/gateway/market-data-subscriptions.ts) on the same connection, so a kiosk holds one
// socket. Browsers cannot set headers on a WebSocket, so the session token goes in the subprotocol
// list ("ims.v1", "ims-token.<token>"); the gateway answers "ims.v1" and never echoes the token.
// The connection is re-opened with a bounded back-off when it drops; the gateway forgets a closed
// connection's subscriptions, so every channel still wanted is subscribed again on each open (a
// book channel then starts from a fresh snapshot).

import { currentToken } from './api-client';

export interface StreamMessage {
  readonly type: string;
  readonly [key: string]: unknown;
}

/** Back-off between reconnection attempts, doubling from the first to the last. */
const RECONNECT_FIRST_MS = 500;
const RECONNECT_MAX_MS = 8_000;

export type StreamState = 'connecting' | 'open' | 'closed';

/** Receives the messages of one market-data channel (and errors about its subscription). */
export type ChannelHandler = (m: StreamMessage) => void;

/** The gateway refuses more channels per connection than this (MAX_CHANNELS_PER_CONNECTION). */
export const STREAM_CHANNELS_MAX = 64;
/** Subscription requests awaiting their answer, remembered to route an error to its channel. */
const PENDING_REQUESTS_MAX = 256;

export class OrderStream {
  private ws: WebSocket | null = null;
  private retryMs = RECONNECT_FIRST_MS;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private readonly channels = new Map<string, Set<ChannelHandler>>();
  /** requestId -> channel of subscription requests not answered yet (bounded). */
  private readonly pending = new Map<string, string>();
  private requestSeq = 0;

  constructor(
    private readonly onMessage: (m: StreamMessage) => void,
    private readonly onState: (s: StreamState) => void,
  ) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.ws?.close(1000, 'logged out');
    this.ws = null;
  }

  /** Sends a JSON message if the stream is open; false when it is not. */
  send(m: StreamMessage): boolean {
    if (this.ws === null || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(m));
    return true;
  }

  /**
   * Receives a channel's messages until the returned function is called. The first handler of a
   * channel subscribes it, the last one to leave unsubscribes it. Throws when the connection's
   * channel budget is spent (a programming error: callers bound what they watch).
   */
  subscribe(channel: string, handler: ChannelHandler): () => void {
    let handlers = this.channels.get(channel);
    if (handlers === undefined) {
      if (this.channels.size >= STREAM_CHANNELS_MAX) throw new Error(`the stream already carries ${STREAM_CHANNELS_MAX} channels; unsubscribe some before watching ${channel}`);
      handlers = new Set();
      this.channels.set(channel, handlers);
      this.request('subscribe', channel);
    }
    handlers.add(handler);
    return () => {
      const hs = this.channels.get(channel);
      if (hs === undefined || !hs.delete(handler) || hs.size > 0) return;
      this.channels.delete(channel);
      this.request('unsubscribe', channel);
    };
  }

  /** Asks for a fresh snapshot of a book channel (after a sequence gap). */
  resync(channel: string): void {
    this.request('resync', channel);
  }

  private request(type: 'subscribe' | 'unsubscribe' | 'resync', channel: string): void {
    const requestId = `ch${++this.requestSeq}`;
    if (!this.send({ type, requestId, channel })) return; // sent again on the next open
    if (this.pending.size >= PENDING_REQUESTS_MAX) this.pending.clear();
    this.pending.set(requestId, channel);
  }

  /** Messages of channels subscribed through subscribe() go to their handlers; everything else to onMessage. */
  private dispatch(m: StreamMessage): void {
    const requestId = typeof m['requestId'] === 'string' ? m['requestId'] : '';
    let channel = typeof m['channel'] === 'string' ? m['channel'] : '';
    if (requestId !== '' && this.pending.has(requestId)) {
      channel ||= this.pending.get(requestId)!;
      this.pending.delete(requestId);
    }
    const handlers = channel === '' ? undefined : this.channels.get(channel);
    // Not a channel this stream subscribed itself: the owner's (dashboard-market-data.tsx sends
    // its own subscriptions through send() and reads them in onMessage).
    if (handlers === undefined) return this.onMessage(m);
    for (const h of [...handlers]) h(m.channel === undefined ? { ...m, channel } : m);
  }

  private connect(): void {
    const token = currentToken();
    if (this.stopped || token === '') return;
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    this.onState('connecting');
    const ws = new WebSocket(`${scheme}//${location.host}/v1/stream`, ['ims.v1', `ims-token.${token}`]);
    this.ws = ws;
    ws.onopen = () => {
      this.retryMs = RECONNECT_FIRST_MS;
      this.pending.clear();
      for (const channel of this.channels.keys()) this.request('subscribe', channel);
      this.onState('open');
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      let m: unknown;
      try {
        m = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (typeof m === 'object' && m !== null && typeof (m as StreamMessage).type === 'string') this.dispatch(m as StreamMessage);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.onState('closed');
      if (this.stopped) return;
      this.timer = setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(RECONNECT_MAX_MS, this.retryMs * 2);
    };
  }
}
