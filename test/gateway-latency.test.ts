// How long the gateway itself takes, measured through real sockets against a real gateway process
// with the SIMULATED product manager polling every event-loop turn (so its own delay is small):
// REST and WebSocket order round trips, the delay before an unsolicited fill reaches an idle
// gateway's stream (bounded by the idle poll period), and the gateway's CPU while idle. Figures are
// printed (and recorded in processes/gateway/README.md); the assertions are loose bounds that only
// catch a broken poll loop, not a slow machine.

import * as fs from 'node:fs';
import t from 'tap';
import { startGateway, type GatewayUnderTest } from './support/gateway-harness';
import { isRefusal, TestWebSocket } from './support/gateway-ws-client';

const IDLE_POLL_MS = 5;
let gw: GatewayUnderTest;

t.before(async () => {
  gw = await startGateway(t, { args: ['--orders-per-second', '1000000', '--ip-requests-per-second', '1000000', '--idle-poll-ms', String(IDLE_POLL_MS)] });
});

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summary(samples: number[]): string {
  return `p50 ${percentile(samples, 50).toFixed(3)} ms, p99 ${percentile(samples, 99).toFixed(3)} ms, max ${Math.max(...samples).toFixed(3)} ms (n=${samples.length})`;
}

function cpuTicks(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks
}

t.test('order round trips through the gateway (PM simulated, polling every turn)', async (t) => {
  gw.pm.spin = true;
  t.teardown(() => {
    gw.pm.spin = false;
  });
  const token = await gw.tokenOf('alice');
  const rest: number[] = [];
  for (let i = 0; i < 600; i++) {
    const started = process.hrtime.bigint();
    const r = await gw.request('POST', '/v1/transact', { token, body: { symbol: 'APPL-128', side: 'inflow', price: '1.00', quantity: 1, timeInForce: 'IOC' } });
    if (i >= 100) rest.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (r.status !== 200) throw new Error(`${r.status} ${r.text}`);
  }
  const ws = await TestWebSocket.connect(gw.tradingPort, { headers: { Authorization: `Bearer ${token}` } });
  if (isRefusal(ws)) throw new Error('upgrade refused');
  t.teardown(() => ws.destroy());
  const stream: number[] = [];
  for (let i = 0; i < 1_100; i++) {
    const started = process.hrtime.bigint();
    const a = await ws.request({ type: 'place', requestId: `l${i}`, order: { symbol: 'APPL-128', side: 'inflow', price: '1.00', quantity: 1, timeInForce: 'IOC' } });
    if (i >= 100) stream.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (a['type'] !== 'result') throw new Error(JSON.stringify(a));
  }
  t.comment(`REST POST /v1/transact round trip: ${summary(rest)}`);
  t.comment(`WebSocket place round trip: ${summary(stream)}`);
  // Loose on purpose: other test files may load the same two cores. A broken poll loop shows up as
  // answers at the reply bound (1500 ms) or stuck behind the idle period on every request.
  t.ok(percentile(rest, 50) < 50, 'REST answers are not waiting on the reply bound');
  t.ok(percentile(stream, 50) < 50, 'stream answers are not waiting on the reply bound');
});

t.test('an unsolicited fill reaches an idle gateway\'s stream within about the idle poll period (PM simulated)', async (t) => {
  const bob = await gw.tokenOf('bob');
  const resting = await gw.request('POST', '/v1/transact', { token: bob, body: { symbol: 'SONY-WH1000', side: 'inflow', price: '100', quantity: 1_000 } });
  const ws = await TestWebSocket.connect(gw.tradingPort, { headers: { Authorization: `Bearer ${bob}` } });
  if (isRefusal(ws)) throw new Error('upgrade refused');
  t.teardown(() => ws.destroy());
  const delays: number[] = [];
  for (let i = 0; i < 60; i++) {
    await new Promise((r) => setTimeout(r, 15 + (i % 7))); // let the gateway fall back to its idle period
    const from = ws.messages.length;
    const started = process.hrtime.bigint();
    gw.pm.fillFromElsewhere(Number(resting.json.id), 1);
    await ws.waitFor((m) => m['type'] === 'execution', 2_000, from);
    delays.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  t.comment(`fill -> stream push with the gateway idle (--idle-poll-ms ${IDLE_POLL_MS}): ${summary(delays)}`);
  t.ok(percentile(delays, 50) < IDLE_POLL_MS + 20, 'bounded by the idle poll period (plus scheduling)');
});

t.test('an idle gateway costs little CPU', async (t) => {
  await new Promise((r) => setTimeout(r, 300));
  const before = cpuTicks(gw.proc.pid);
  const started = Date.now();
  await new Promise((r) => setTimeout(r, 2_000));
  const ticks = cpuTicks(gw.proc.pid) - before;
  const percent = (ticks * 10) / ((Date.now() - started) / 100); // 100 ticks per second
  t.comment(`idle gateway CPU: ${percent.toFixed(1)} % of one core over ${Date.now() - started} ms (idle poll every ${IDLE_POLL_MS} ms, outbox check every 1 s)`);
  t.ok(percent < 10, 'no busy loop while idle');
});
