// Open-loop WebSocket load: orders are scheduled at fixed intended times (start + i/rate) and
// sent in 1 ms batches; each order's latency runs from its intended send time to its answer
// (result or error with its requestId), so a stalled system is charged for every order it
// delayed (no coordinated omission). Unsolicited execution pushes are counted, not parsed.
import * as hdr from 'hdr-histogram-js';
import { randomOrder, rand } from './orders';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const WebSocket = require('ws') as new (url: string, protocols: string[], opts: object) => WsLike;
interface WsLike {
  on(ev: 'open', f: () => void): void;
  on(ev: 'message', f: (d: Buffer, isBinary: boolean) => void): void;
  on(ev: 'error', f: (e: Error) => void): void;
  on(ev: 'close', f: (code: number) => void): void;
  send(s: string): void;
  close(): void;
  terminate(): void;
  readonly bufferedAmount: number;
}

export interface Conn {
  ws: WsLike;
  open: string[]; // own resting order ids, oldest first
  closed: boolean;
}

export interface PhaseResult {
  target: number;
  sent: number;
  answered: number;
  errors: number;
  unanswered: number;
  achieved: number; // answers/s over the send window
  p50: number; p99: number; p999: number; max: number; // µs
  errorCodes: Record<string, number>;
}

let phaseStart = 0;
let pending = new Map<string, number>(); // requestId -> intended send time (ms, performance.now)
let hist = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
let answered = 0;
let lastAnswer = 0;
let errors = 0;
let errorCodes: Record<string, number> = {};
export let executions = 0;

function onMessage(c: Conn, d: Buffer): void {
  const now = performance.now();
  const s = d.toString();
  if (s.startsWith('{"type":"execution"')) { executions++; return; }
  const m = JSON.parse(s) as { type: string; requestId?: string; status?: number; error?: string; order?: { id: string; status: string } };
  if (m.requestId === undefined || m.requestId === null) return;
  const t0 = pending.get(m.requestId);
  if (t0 === undefined) return;
  pending.delete(m.requestId);
  hist.recordValue(Math.max(1, Math.round((now - t0) * 1000)));
  answered++;
  lastAnswer = now;
  if (m.type === 'error') {
    errors++;
    const k = `${m.status}:${m.error}`;
    errorCodes[k] = (errorCodes[k] ?? 0) + 1;
  } else if (m.requestId.charCodeAt(0) === 112 /* p */ && m.order && (m.order.status === 'added' || m.order.status === 'partially_filled')) {
    c.open.push(m.order.id);
  }
}

export async function connect(port: number, token: string): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/stream`, ['ims.v1', `ims-token.${token}`], { perMessageDeflate: false });
    const c: Conn = { ws, open: [], closed: false };
    ws.on('open', () => resolve(c));
    ws.on('error', (e) => reject(e));
    ws.on('close', () => { c.closed = true; });
    ws.on('message', (d) => onMessage(c, d));
  });
}

let seq = 0;
function sendOne(c: Conn, intended: number): void {
  if (c.closed) return;
  let msg: string;
  let id: string;
  if (c.open.length > 0 && (c.open.length > 200 || rand() < 0.125)) {
    id = `r${++seq}`;
    msg = `{"type":"remove","requestId":"${id}","id":"${c.open.shift()}"}`;
  } else {
    id = `p${++seq}`;
    msg = JSON.stringify({ type: 'place', requestId: id, order: randomOrder() });
  }
  pending.set(id, intended);
  c.ws.send(msg);
}

/** Runs one open-loop phase at `rate` orders/s for `seconds`, then waits up to `drainMs` for answers. */
export async function runPhase(conns: Conn[], rate: number, seconds: number, drainMs = 2000): Promise<PhaseResult> {
  pending = new Map();
  hist = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
  answered = 0; lastAnswer = 0; errors = 0; errorCodes = {};
  phaseStart = performance.now();
  const total = Math.floor(rate * seconds);
  const interval = 1000 / rate;
  let i = 0;
  let rr = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      while (i < total && phaseStart + i * interval <= now) {
        sendOne(conns[rr++ % conns.length]!, phaseStart + i * interval);
        i++;
      }
      if (i >= total) return resolve();
      setTimeout(tick, 1);
    };
    tick();
  });
  const sendEnd = performance.now();
  const deadline = sendEnd + drainMs;
  while (pending.size > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  // answers that never came are charged as at least the time waited for them
  const end = performance.now();
  const unanswered = pending.size;
  for (const t0 of pending.values()) hist.recordValue(Math.round((end - t0) * 1000));
  pending.clear();
  const windowS = Math.max(lastAnswer, sendEnd, phaseStart + seconds * 1000) - phaseStart;
  const res: PhaseResult = {
    target: rate, sent: total, answered, errors, unanswered,
    achieved: Math.round(answered / (windowS / 1000)),
    p50: hist.getValueAtPercentile(50), p99: hist.getValueAtPercentile(99), p999: hist.getValueAtPercentile(99.9), max: hist.maxValue,
    errorCodes,
  };
  return res;
}
