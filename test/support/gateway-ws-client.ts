// A small RFC 6455 WebSocket client over a raw TCP socket, for the gateway tests: it can send
// well-formed frames and deliberately broken ones (bad opcodes, unmasked frames, lies about
// lengths), stop reading to play a slow client, and report how the server closed. Node 20 has no
// WebSocket client built in, and a library would refuse to send broken frames.

import * as crypto from 'node:crypto';
import * as net from 'node:net';

export interface WsConnectOptions {
  readonly path?: string;
  readonly headers?: Record<string, string>;
  readonly protocols?: readonly string[];
  readonly localAddress?: string;
  readonly timeoutMs?: number;
}

/** The answer to an upgrade that did not switch protocols. */
export interface WsRefusal {
  readonly refused: true;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface WsClose {
  readonly code: number;
  readonly reason: string;
  /** False when the TCP connection ended without a close frame. */
  readonly clean: boolean;
}

export class TestWebSocket {
  readonly messages: string[] = [];
  readonly protocol: string;
  closeFrame: WsClose | null = null;
  readonly closed: Promise<WsClose>;
  private buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private resolveClosed!: (c: WsClose) => void;

  private constructor(readonly socket: net.Socket, protocol: string, rest: Buffer) {
    this.protocol = protocol;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => {
      this.resolveClosed(this.closeFrame ?? { code: 1006, reason: '', clean: false });
      this.notify();
    });
    socket.on('error', () => undefined);
    if (rest.length > 0) this.onData(rest);
  }

  static connect(port: number, options: WsConnectOptions = {}): Promise<TestWebSocket | WsRefusal> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1', localAddress: options.localAddress });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('WebSocket handshake timed out'));
      }, options.timeoutMs ?? 5_000);
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      socket.once('connect', () => {
        const key = crypto.randomBytes(16).toString('base64');
        const lines = [`GET ${options.path ?? '/v1/stream'} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${key}`, 'Sec-WebSocket-Version: 13'];
        if (options.protocols !== undefined) lines.push(`Sec-WebSocket-Protocol: ${options.protocols.join(', ')}`);
        for (const [k, v] of Object.entries(options.headers ?? {})) lines.push(`${k}: ${v}`);
        socket.write(lines.join('\r\n') + '\r\n\r\n');
      });
      let head = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        const text = head.subarray(0, end).toString('latin1');
        const [statusLine, ...headerLines] = text.split('\r\n');
        const status = Number(statusLine!.split(' ')[1]);
        const headers: Record<string, string> = {};
        for (const l of headerLines) {
          const i = l.indexOf(':');
          if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
        }
        if (status !== 101) {
          // Read the whole (small, Content-Length framed) body of the refusal.
          const length = Number(headers['content-length'] ?? 0);
          const body = head.subarray(end + 4);
          if (body.length < length) return;
          socket.off('data', onData);
          clearTimeout(timer);
          socket.destroy();
          resolve({ refused: true, status, headers, body: body.subarray(0, length).toString('utf8') });
          return;
        }
        socket.off('data', onData);
        clearTimeout(timer);
        resolve(new TestWebSocket(socket, headers['sec-websocket-protocol'] ?? '', head.subarray(end + 4)));
      };
      socket.on('data', onData);
    });
  }

  /** Sends a text message (masked, as a client must). */
  send(text: string): void {
    this.sendFrame(0x1, Buffer.from(text, 'utf8'));
  }

  /** Sends one frame; `mask: false` breaks the protocol on purpose. */
  sendFrame(opcode: number, payload: Buffer, options: { fin?: boolean; mask?: boolean; rsv?: number } = {}): void {
    const fin = options.fin ?? true;
    const mask = options.mask ?? true;
    const first = (fin ? 0x80 : 0) | ((options.rsv ?? 0) << 4) | (opcode & 0x0f);
    let header: Buffer;
    if (payload.length < 126) header = Buffer.from([first, (mask ? 0x80 : 0) | payload.length]);
    else if (payload.length < 65536) {
      header = Buffer.alloc(4);
      header[0] = first;
      header[1] = (mask ? 0x80 : 0) | 126;
      header.writeUInt16BE(payload.length, 2);
    } else {
      header = Buffer.alloc(10);
      header[0] = first;
      header[1] = (mask ? 0x80 : 0) | 127;
      header.writeBigUInt64BE(BigInt(payload.length), 2);
    }
    if (!mask) {
      this.socket.write(Buffer.concat([header, payload]));
      return;
    }
    const key = crypto.randomBytes(4);
    const masked = Buffer.alloc(payload.length);
    for (let i = 0; i < payload.length; i++) masked[i] = payload[i]! ^ key[i & 3]!;
    this.socket.write(Buffer.concat([header, key, masked]));
  }

  /** Writes raw bytes (for frames no encoder would produce). */
  sendRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Stops reading from the socket (the kernel buffers fill, then the server's). */
  pauseReading(): void {
    this.socket.pause();
  }

  close(code = 1000): void {
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(code, 0);
    this.sendFrame(0x8, payload);
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** The first received JSON message (at or after index `from`) that satisfies `match`. */
  async waitFor(match: (m: Record<string, unknown>) => boolean, timeoutMs = 5_000, from = 0): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    let scanned = from;
    for (;;) {
      for (; scanned < this.messages.length; scanned++) {
        const m = JSON.parse(this.messages[scanned]!) as Record<string, unknown>;
        if (match(m)) return m;
      }
      if (this.socket.destroyed) throw new Error(`stream closed before the awaited message; got ${this.messages.slice(-3).join(' | ')}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`awaited stream message not seen in ${timeoutMs} ms; last: ${this.messages.slice(-3).join(' | ')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Sends a JSON request and waits for the answer carrying its requestId. */
  async request(message: Record<string, unknown>, timeoutMs = 5_000): Promise<Record<string, unknown>> {
    const from = this.messages.length;
    this.send(JSON.stringify(message));
    return this.waitFor((m) => m['requestId'] === message['requestId'] && m['type'] !== 'execution', timeoutMs, from);
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.buffer.length < 2) return;
      const opcode = this.buffer[0]! & 0x0f;
      let length = this.buffer[1]! & 0x7f;
      let at = 2;
      if (length === 126) {
        if (this.buffer.length < 4) return;
        length = this.buffer.readUInt16BE(2);
        at = 4;
      } else if (length === 127) {
        if (this.buffer.length < 10) return;
        length = Number(this.buffer.readBigUInt64BE(2));
        at = 10;
      }
      if (this.buffer.length < at + length) return;
      const payload = this.buffer.subarray(at, at + length);
      this.buffer = this.buffer.subarray(at + length);
      if (opcode === 0x1) this.messages.push(payload.toString('utf8'));
      else if (opcode === 0x8) this.closeFrame = { code: payload.length >= 2 ? payload.readUInt16BE(0) : 1005, reason: payload.subarray(2).toString('utf8'), clean: true };
      else if (opcode === 0x9) this.sendFrame(0xa, Buffer.from(payload));
      this.notify();
    }
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

export function isRefusal(x: TestWebSocket | WsRefusal): x is WsRefusal {
  return (x as WsRefusal).refused === true;
}
