// The kiosk's WebSocket to /v1/stream: pushes the colleague's execution reports (fills) the moment
// they happen. Browsers cannot set headers on a WebSocket, so the session token goes in the
// subprotocol list ("ims.v1", "ims-token.<token>"); the gateway answers "ims.v1" and never echoes
// the token. The connection is re-opened with a bounded back-off when it drops.

import { currentToken } from './api-client';

export interface StreamMessage {
  readonly type: string;
  readonly [key: string]: unknown;
}

/** Back-off between reconnection attempts, doubling from the first to the last. */
const RECONNECT_FIRST_MS = 500;
const RECONNECT_MAX_MS = 8_000;

export type StreamState = 'connecting' | 'open' | 'closed';

export class OrderStream {
  private ws: WebSocket | null = null;
  private retryMs = RECONNECT_FIRST_MS;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

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

  private connect(): void {
    const token = currentToken();
    if (this.stopped || token === '') return;
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    this.onState('connecting');
    const ws = new WebSocket(`${scheme}//${location.host}/v1/stream`, ['ims.v1', `ims-token.${token}`]);
    this.ws = ws;
    ws.onopen = () => {
      this.retryMs = RECONNECT_FIRST_MS;
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
      if (typeof m === 'object' && m !== null && typeof (m as StreamMessage).type === 'string') this.onMessage(m as StreamMessage);
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
