// One client process of bench:connections: holds a share of the colleagues' WebSocket streams
// (the `ws` package) and drives them, commanded by the orchestrator over the IPC channel:
//
//   {op:'connect', ...}  open every stream of colleagues firstIndex.. with its token and source address
//   {op:'run', ...}      each stream sends at ratePerConn orders/s (warm-up, then the measured window)
//   {op:'close'}         close every stream and exit
//
// Pacing: one timer wheel of WHEEL_SLOTS 1 ms slots for all streams of this process (not one
// setInterval per stream). A stream's next order is due one mean interval later, jittered by
// ±JITTER, so the streams do not fire in lock step. Every order has an intended time (its slot)
// and its latency runs from that time to the answer carrying its requestId: a client or server
// that falls behind is charged for it (no coordinated omission). The time from intended to actual
// send is measured too, to show whether this generator kept its own pace.
//
// Execution pushes ({"type":"execution"}) are counted per stream and attributed by the
// clientOrderId every order carries ("c<colleague>.<n>"): a push naming another colleague's order
// is a cross-delivery, which must never happen.
import * as hdr from 'hdr-histogram-js';
import { flowOf, sourceAddressOf, MAX_OPEN_PER_COLLEAGUE, REMOVE_ONE_IN } from './flow';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const WebSocket = require('ws') as new (url: string, protocols: string[], opts: object) => WsLike;
interface WsLike {
  on(ev: 'open', f: () => void): void;
  on(ev: 'message', f: (d: Buffer, isBinary: boolean) => void): void;
  on(ev: 'error', f: (e: Error) => void): void;
  on(ev: 'close', f: (code: number) => void): void;
  on(ev: 'unexpected-response', f: (req: unknown, res: { statusCode?: number; resume(): void }) => void): void;
  send(s: string): void;
  close(): void;
  terminate(): void;
}

export interface ConnectCommand { op: 'connect'; url: string; tokens: string[]; firstIndex: number; perAddress: number; concurrency: number; handshakeTimeoutMs: number }
export interface RunCommand { op: 'run'; ratePerConn: number; warmupMs: number; measureMs: number; drainMs: number; startInMs: number }
export interface ConnectReport { op: 'connected'; opened: number; failed: number; failures: Record<string, number>; ms: number }
export interface RunReport {
  op: 'result';
  sent: number; ok: number; errors: Record<string, number>; unanswered: number;
  /** Milliseconds from the window start to the last answer of a window order. */
  lastAnswerMs: number;
  latency: string; // compressed HdrHistogram, µs from intended send time to any answer (unanswered: to the end)
  okLatency: string; // the same for orders answered with a result (not an error)
  sendLag: string; // compressed HdrHistogram, µs from intended to actual send
  executions: number; executionsPerStreamMin: number; executionsPerStreamMax: number;
  foreign: number; unattributed: number;
  /** The first few pushes that could not be attributed, for the log. */
  unattributedSamples: string[];
  closedDuringRun: number; openAtEnd: number;
}

/** Longest time ahead an order can be scheduled, in 1 ms slots (covers intervals up to ~4 s). */
const WHEEL_SLOTS = 4096;
/** ± fraction of the mean interval each stream's next order is moved by. */
const JITTER = 0.25;
/** Orders remembered for their answer (a ring; 24 s at 43,000/s across both workers). */
const PENDING_SLOTS = 1 << 20;
const MAX_TRACKABLE_US = 600_000_000;

let seed = 0x9e3779b9 ^ process.pid;
function rand(): number {
  seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
}

function send(m: ConnectReport | RunReport | { op: 'closed' }): void {
  process.send!(m);
}

const streams: WsLike[] = [];
const closed: boolean[] = [];
let firstIndex = 0;
let connected = false;
let closedAfterConnect = 0;
let stopping = false;

// per stream
let openOrders: string[][] = [];
let placed: Int32Array = new Int32Array(0);
let executions: Int32Array = new Int32Array(0);
let symbols: string[] = [];
let sides: string[] = [];
let prices: (readonly string[])[] = [];
let foreign = 0;
let unattributed = 0;
const unattributedSamples: string[] = [];
/** Unattributable pushes kept for the log. */
const MAX_SAMPLES = 3;

// pending answers, indexed by requestId & (PENDING_SLOTS - 1)
const pendingSeq = new Float64Array(PENDING_SLOTS).fill(-1);
const pendingIntended = new Float64Array(PENDING_SLOTS);
const pendingRecorded = new Uint8Array(PENDING_SLOTS);
let recordedOutstanding = 0;
let nextRequestId = 1;

const newHist = (): hdr.Histogram => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: MAX_TRACKABLE_US, numberOfSignificantValueDigits: 3 });
let latency = newHist();
let okLatency = newHist();
let sendLag = newHist();
let ok = 0;
let errors: Record<string, number> = {};
let lastAnswerAt = 0;

function onMessage(k: number, data: Buffer): void {
  const now = performance.now();
  const text = data.toString();
  if (text.startsWith('{"type":"execution"')) {
    executions[k]!++;
    const at = text.indexOf('"clientOrderId":"c');
    if (at < 0) {
      unattributed++;
      if (unattributedSamples.length < MAX_SAMPLES) unattributedSamples.push(text);
      return;
    }
    const from = at + 18;
    const dot = text.indexOf('.', from);
    if (Number(text.slice(from, dot)) !== firstIndex + k) { foreign++; return; }
    // An own resting order that is done no longer needs removing: forget it (no 409 already_filled).
    if (text.includes('"status":"filled"') || text.includes('"status":"removed"') || text.includes('"status":"expired"')) {
      const idAt = text.indexOf('"order":{"id":"');
      if (idAt >= 0) {
        const id = text.slice(idAt + 15, text.indexOf('"', idAt + 15));
        const open = openOrders[k]!;
        const i = open.indexOf(id);
        if (i >= 0) open.splice(i, 1);
      }
    }
    return;
  }
  const m = JSON.parse(text) as { type: string; requestId?: string | null; status?: number; error?: string; order?: { id: string; status: string } };
  if (typeof m.requestId !== 'string') return;
  const id = Number(m.requestId);
  const slot = id & (PENDING_SLOTS - 1);
  if (pendingSeq[slot] !== id) return;
  pendingSeq[slot] = -1;
  if (m.type === 'result' && m.order !== undefined && (m.order.status === 'added' || m.order.status === 'partially_filled')) openOrders[k]!.push(m.order.id);
  if (pendingRecorded[slot] !== 1) return;
  recordedOutstanding--;
  const us = Math.max(1, Math.round((now - pendingIntended[slot]!) * 1000));
  latency.recordValue(us);
  lastAnswerAt = now;
  if (m.type === 'result') {
    ok++;
    okLatency.recordValue(us);
  } else {
    const key = `${m.status}:${m.error}`;
    errors[key] = (errors[key] ?? 0) + 1;
  }
}

async function connectAll(c: ConnectCommand): Promise<void> {
  const t0 = performance.now();
  firstIndex = c.firstIndex;
  const n = c.tokens.length;
  openOrders = Array.from({ length: n }, () => []);
  placed = new Int32Array(n);
  executions = new Int32Array(n);
  symbols = []; sides = []; prices = [];
  for (let k = 0; k < n; k++) {
    const f = flowOf(firstIndex + k);
    symbols.push(f.symbol); sides.push(f.side); prices.push(f.prices);
  }
  let opened = 0;
  let failed = 0;
  const failures: Record<string, number> = {};
  let next = 0;
  const openOne = (k: number): Promise<void> => new Promise((resolve) => {
    const ws = new WebSocket(c.url, ['ims.v1', `ims-token.${c.tokens[k]}`], {
      perMessageDeflate: false,
      localAddress: sourceAddressOf(firstIndex + k, c.perAddress),
      handshakeTimeout: c.handshakeTimeoutMs,
    });
    streams[k] = ws;
    closed[k] = true;
    let settled = false;
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      failed++;
      failures[why] = (failures[why] ?? 0) + 1;
      resolve();
    };
    ws.on('unexpected-response', (_req, res) => { res.resume(); fail(`http ${res.statusCode}`); ws.terminate(); });
    ws.on('error', (e) => fail(e.message.slice(0, 80)));
    ws.on('open', () => {
      if (settled) return;
      settled = true;
      closed[k] = false;
      opened++;
      resolve();
    });
    ws.on('close', () => {
      if (!closed[k] && connected && !stopping) closedAfterConnect++;
      closed[k] = true;
    });
    ws.on('message', (d) => onMessage(k, d));
  });
  const worker = async (): Promise<void> => {
    for (;;) {
      const k = next++;
      if (k >= n) return;
      await openOne(k);
    }
  };
  await Promise.all(Array.from({ length: Math.min(c.concurrency, n) }, worker));
  connected = true;
  send({ op: 'connected', opened, failed, failures, ms: Math.round(performance.now() - t0) });
}

function sendOrder(k: number, intended: number, recorded: boolean): void {
  if (closed[k]) return;
  const id = nextRequestId++;
  const slot = id & (PENDING_SLOTS - 1);
  if (pendingSeq[slot] !== -1 && pendingRecorded[slot] === 1) {
    // A window order still unanswered after PENDING_SLOTS newer ones: charge it now.
    latency.recordValue(Math.min(MAX_TRACKABLE_US, Math.round((performance.now() - pendingIntended[slot]!) * 1000)));
    recordedOutstanding--;
    errors['unanswered-evicted'] = (errors['unanswered-evicted'] ?? 0) + 1;
  }
  pendingSeq[slot] = id;
  pendingIntended[slot] = intended;
  pendingRecorded[slot] = recorded ? 1 : 0;
  if (recorded) recordedOutstanding++;
  const open = openOrders[k]!;
  let msg: string;
  if (open.length > MAX_OPEN_PER_COLLEAGUE || (open.length > 0 && rand() * REMOVE_ONE_IN < 1)) {
    msg = `{"type":"remove","requestId":"${id}","id":"${open.shift()}"}`;
  } else {
    const p = prices[k]!;
    const n = ++placed[k]!;
    msg = `{"type":"place","requestId":"${id}","order":{"symbol":"${symbols[k]}","side":"${sides[k]}","price":"${p[Math.floor(rand() * p.length)]}","quantity":${1 + Math.floor(rand() * 2)},"clientOrderId":"c${firstIndex + k}.${n}"}}`;
  }
  const now = performance.now();
  if (recorded) sendLag.recordValue(Math.max(1, Math.round((now - intended) * 1000)));
  streams[k]!.send(msg);
}

async function run(r: RunCommand): Promise<void> {
  latency = newHist();
  okLatency = newHist();
  sendLag = newHist();
  ok = 0; errors = {}; lastAnswerAt = 0; recordedOutstanding = 0;
  const n = streams.length;
  const intervalMs = 1000 / r.ratePerConn;
  const heads = new Int32Array(WHEEL_SLOTS).fill(-1);
  const nextInSlot = new Int32Array(n).fill(-1);
  const dueMs = new Float64Array(n);
  const t0 = performance.now() + r.startInMs;
  const windowStart = r.warmupMs;
  const windowEnd = r.warmupMs + r.measureMs;
  const schedule = (k: number, ms: number): void => {
    dueMs[k] = ms;
    const s = ms & (WHEEL_SLOTS - 1);
    nextInSlot[k] = heads[s]!;
    heads[s] = k;
  };
  for (let k = 0; k < n; k++) schedule(k, Math.floor(rand() * intervalMs));
  let cursor = -1;
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const nowMs = Math.floor(performance.now() - t0);
      const until = Math.min(nowMs, windowEnd - 1);
      while (cursor < until) {
        cursor++;
        const s = cursor & (WHEEL_SLOTS - 1);
        let k = heads[s]!;
        heads[s] = -1;
        while (k !== -1) {
          const after = nextInSlot[k]!;
          if (dueMs[k] === cursor) {
            const recorded = cursor >= windowStart;
            sendOrder(k, t0 + cursor, recorded);
            if (recorded) sent++;
            schedule(k, cursor + Math.max(1, Math.round(intervalMs * (1 - JITTER + 2 * JITTER * rand()))));
          } else {
            schedule(k, dueMs[k]!); // due in a later turn of the wheel
          }
          k = after;
        }
      }
      if (cursor >= windowEnd - 1) return resolve();
      setTimeout(tick, 1);
    };
    setTimeout(tick, Math.max(0, r.startInMs));
  });
  const drainUntil = performance.now() + r.drainMs;
  while (recordedOutstanding > 0 && performance.now() < drainUntil) await new Promise((res) => setTimeout(res, 5));
  // Orders never answered are charged the time waited for them.
  const end = performance.now();
  let unanswered = 0;
  for (let s = 0; s < PENDING_SLOTS; s++) {
    if (pendingSeq[s] !== -1 && pendingRecorded[s] === 1) {
      latency.recordValue(Math.min(MAX_TRACKABLE_US, Math.round((end - pendingIntended[s]!) * 1000)));
      pendingRecorded[s] = 0;
      unanswered++;
    }
  }
  let executionsTotal = 0;
  let minE = Number.MAX_SAFE_INTEGER;
  let maxE = 0;
  let openAtEnd = 0;
  for (let k = 0; k < n; k++) {
    executionsTotal += executions[k]!;
    if (executions[k]! < minE) minE = executions[k]!;
    if (executions[k]! > maxE) maxE = executions[k]!;
    if (!closed[k]) openAtEnd++;
  }
  send({
    op: 'result',
    sent, ok, errors, unanswered,
    lastAnswerMs: lastAnswerAt === 0 ? 0 : Math.round(lastAnswerAt - (t0 + windowStart)),
    latency: hdr.encodeIntoCompressedBase64(latency),
    okLatency: hdr.encodeIntoCompressedBase64(okLatency),
    sendLag: hdr.encodeIntoCompressedBase64(sendLag),
    executions: executionsTotal, executionsPerStreamMin: n === 0 ? 0 : minE, executionsPerStreamMax: maxE,
    foreign, unattributed, unattributedSamples,
    closedDuringRun: closedAfterConnect, openAtEnd,
  });
}

function closeAll(): void {
  stopping = true;
  for (let k = 0; k < streams.length; k++) if (!closed[k]) streams[k]!.close();
  // Give the close handshakes a moment, then make sure nothing is left.
  setTimeout(() => {
    for (const ws of streams) ws.terminate();
    send({ op: 'closed' });
    setTimeout(() => process.exit(0), 50);
  }, 500);
}

process.on('message', (m: ConnectCommand | RunCommand | { op: 'close' }) => {
  const fail = (e: unknown): void => {
    process.stderr.write(`client worker: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  };
  if (m.op === 'connect') connectAll(m).catch(fail);
  else if (m.op === 'run') run(m).catch(fail);
  else if (m.op === 'close') closeAll();
});
process.on('disconnect', () => process.exit(0));
