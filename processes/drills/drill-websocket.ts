// A small RFC 6455 WebSocket client for the drills' order load: connects to a gateway's /v1/stream
// with the session token in the subprotocol ("ims.v1, ims-token.<token>", as a browser would),
// sends masked text frames, hands text messages to a callback and says when and how the
// connection ended. Node 20 has no WebSocket client built in, and the drills run from the
// operator's `ims` CLI, which must not depend on a development package.
//
//   const ws = await DrillWebSocket.connect({ host: '127.0.0.1', port, token });
//   ws.onMessage = (text) => ...;  ws.onClose = (why) => ...;
//   ws.send(JSON.stringify({ type: 'place', requestId: 'r1', order }));
//
// Not on any hot path of the exchange: clarity over speed, but every buffer is bounded.

import * as crypto from 'node:crypto';
import * as net from 'node:net';

/** The largest frame the gateway may send us (its answers are a few hundred bytes). */
export const MAX_FRAME_BYTES = 1 << 20;
/** The largest upgrade answer read before giving up on it. */
const MAX_HANDSHAKE_BYTES = 16 * 1024;
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

const OP_CONTINUATION = 0x0;
const OP_TEXT = 0x1;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

export interface DrillWebSocketOptions {
  readonly host: string;
  readonly port: number;
  /** Session token or API key, offered as the subprotocol "ims-token.<token>". */
  readonly token: string;
  readonly path?: string;
  readonly timeoutMs?: number;
}

export interface WebSocketEnd {
  /** The close code the server sent, or 1006 when the TCP connection just ended (a killed server). */
  readonly code: number;
  readonly clean: boolean;
  readonly reason: string;
}

/** The server answered the upgrade with something other than 101 (a refusal, with its body). */
export class WebSocketRefused extends Error {
  override readonly name = 'WebSocketRefused';
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`the WebSocket upgrade was refused with ${status}: ${body.slice(0, 200)}`);
  }
}

export class DrillWebSocket {
  onMessage: (text: string) => void = () => undefined;
  onClose: (end: WebSocketEnd) => void = () => undefined;
  private pending: Buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private fragmentBytes = 0;
  private closeFrame: WebSocketEnd | null = null;
  private ended = false;

  private constructor(private readonly socket: net.Socket, rest: Buffer) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.finish());
    socket.on('error', () => undefined);
    if (rest.length > 0) this.onData(rest);
  }

  /** This end's TCP port (with the server's port, it names the connection in /proc/net/tcp). */
  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  get open(): boolean {
    return !this.ended && !this.socket.destroyed;
  }

  static connect(options: DrillWebSocketOptions): Promise<DrillWebSocket> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: options.host, port: options.port });
      socket.setNoDelay(true);
      let head = Buffer.alloc(0);
      const timer = setTimeout(() => fail(new Error(`the WebSocket handshake with ${options.host}:${options.port} took longer than ${options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS} ms`)), options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
      const fail = (e: Error): void => {
        clearTimeout(timer);
        socket.removeAllListeners('data');
        socket.destroy();
        reject(e);
      };
      socket.once('error', fail);
      socket.once('close', () => fail(new Error(`${options.host}:${options.port} closed the connection during the WebSocket handshake`)));
      socket.once('connect', () => {
        const key = crypto.randomBytes(16).toString('base64');
        socket.write(
          [
            `GET ${options.path ?? '/v1/stream'} HTTP/1.1`,
            `Host: ${options.host}:${options.port}`,
            'Upgrade: websocket',
            'Connection: Upgrade',
            `Sec-WebSocket-Key: ${key}`,
            'Sec-WebSocket-Version: 13',
            `Sec-WebSocket-Protocol: ims.v1, ims-token.${options.token}`,
          ].join('\r\n') + '\r\n\r\n',
        );
      });
      const onHead = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        if (head.length > MAX_HANDSHAKE_BYTES) return fail(new Error(`the upgrade answer of ${options.host}:${options.port} exceeds ${MAX_HANDSHAKE_BYTES} bytes`));
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        const text = head.subarray(0, end).toString('latin1');
        const status = Number(text.split(' ')[1]);
        if (status !== 101) {
          const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(text)?.[1] ?? 0);
          const body = head.subarray(end + 4);
          if (body.length < length) return;
          return fail(new WebSocketRefused(status, body.subarray(0, length).toString('utf8')));
        }
        clearTimeout(timer);
        socket.off('data', onHead);
        socket.removeAllListeners('error');
        socket.removeAllListeners('close');
        resolve(new DrillWebSocket(socket, head.subarray(end + 4)));
      };
      socket.on('data', onHead);
    });
  }

  /** Sends one text message; false when the connection is gone (the caller retries elsewhere). */
  send(text: string): boolean {
    if (!this.open) return false;
    this.writeFrame(OP_TEXT, Buffer.from(text, 'utf8'));
    return true;
  }

  /** A clean close (code 1000). */
  close(): void {
    if (!this.open) return;
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(1000, 0);
    this.writeFrame(OP_CLOSE, payload);
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private writeFrame(opcode: number, payload: Buffer): void {
    let header: Buffer;
    if (payload.length < 126) {
      header = Buffer.from([0x80 | opcode, 0x80 | payload.length]);
    } else if (payload.length < 65536) {
      header = Buffer.alloc(4);
      header[0] = 0x80 | opcode;
      header[1] = 0x80 | 126;
      header.writeUInt16BE(payload.length, 2);
    } else {
      header = Buffer.alloc(10);
      header[0] = 0x80 | opcode;
      header[1] = 0x80 | 127;
      header.writeBigUInt64BE(BigInt(payload.length), 2);
    }
    // Clients must mask every frame (RFC 6455 5.3); the server closes the connection otherwise.
    const mask = crypto.randomBytes(4);
    const masked = Buffer.alloc(payload.length);
    for (let i = 0; i < payload.length; i++) masked[i] = payload[i]! ^ mask[i & 3]!;
    this.socket.write(Buffer.concat([header, mask, masked]));
  }

  private onData(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    for (;;) {
      const buf = this.pending;
      if (buf.length < 2) return;
      const fin = (buf[0]! & 0x80) !== 0;
      const opcode = buf[0]! & 0x0f;
      let length = buf[1]! & 0x7f;
      let at = 2;
      if (length === 126) {
        if (buf.length < 4) return;
        length = buf.readUInt16BE(2);
        at = 4;
      } else if (length === 127) {
        if (buf.length < 10) return;
        length = Number(buf.readBigUInt64BE(2));
        at = 10;
      }
      if (length > MAX_FRAME_BYTES || this.fragmentBytes + length > MAX_FRAME_BYTES) {
        this.closeFrame = { code: 1009, clean: false, reason: `a frame of ${length} bytes exceeds the drill client's ${MAX_FRAME_BYTES}` };
        this.socket.destroy();
        return;
      }
      if (buf.length < at + length) return;
      const payload = buf.subarray(at, at + length);
      this.pending = buf.subarray(at + length);
      switch (opcode) {
        case OP_TEXT:
        case OP_CONTINUATION:
          if (fin && this.fragments.length === 0) {
            this.onMessage(payload.toString('utf8'));
          } else {
            this.fragments.push(Buffer.from(payload));
            this.fragmentBytes += payload.length;
            if (fin) {
              const whole = Buffer.concat(this.fragments);
              this.fragments = [];
              this.fragmentBytes = 0;
              this.onMessage(whole.toString('utf8'));
            }
          }
          break;
        case OP_PING:
          this.writeFrame(OP_PONG, Buffer.from(payload));
          break;
        case OP_CLOSE:
          this.closeFrame = { code: payload.length >= 2 ? payload.readUInt16BE(0) : 1005, clean: true, reason: payload.subarray(2).toString('utf8') };
          this.socket.end();
          break;
        default:
          break;
      }
    }
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.onClose(this.closeFrame ?? { code: 1006, clean: false, reason: 'the connection ended without a close frame' });
  }
}
