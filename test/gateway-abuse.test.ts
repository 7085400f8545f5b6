// Abuse at the gateway: floods get 429 with Retry-After while other clients keep being served,
// oversized bodies and headers get 413, slow clients are cut off, a stream that cannot keep up is
// closed, and the bounded queues answer 503 instead of growing. Against a real gateway process
// with small limits; the product manager is SIMULATED (test/support/gateway-fake-pm.ts).

import * as net from 'node:net';
import t from 'tap';
import { startGateway, type GatewayUnderTest, type HttpAnswer } from './support/gateway-harness';
import { isRefusal, TestWebSocket } from './support/gateway-ws-client';

let gw: GatewayUnderTest;
let slowloris: Promise<{ closedAfterMs: number; received: string }>;

const ORDERS_PER_SECOND = 20;
const IP_REQUESTS_PER_SECOND = 200;
const BODY_TIMEOUT_MS = 400;
const MAX_IN_FLIGHT = 25;

/** A client that sends its request headers one byte a second and never finishes them. */
function startSlowloris(port: number): Promise<{ closedAfterMs: number; received: string }> {
  return new Promise((resolve) => {
    const started = Date.now();
    let received = '';
    const s = net.connect(port, '127.0.0.1', () => s.write('POST /v1/transact HTTP/1.1\r\nHost: gw\r\nX-Slow: '));
    const drip = setInterval(() => {
      if (!s.destroyed) s.write('a');
    }, 1_000);
    const giveUp = setTimeout(() => s.destroy(), 30_000);
    s.on('data', (d) => (received += d.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearInterval(drip);
      clearTimeout(giveUp);
      resolve({ closedAfterMs: Date.now() - started, received });
    });
  });
}

t.before(async () => {
  gw = await startGateway(t, {
    args: [
      '--orders-per-second', String(ORDERS_PER_SECOND),
      '--ip-requests-per-second', String(IP_REQUESTS_PER_SECOND),
      '--body-timeout-ms', String(BODY_TIMEOUT_MS),
      '--ip-ws-connections', '4',
      '--ws-max-backpressure-bytes', '65536',
      '--max-in-flight', String(MAX_IN_FLIGHT),
      '--login-failures-per-username', '3',
    ],
  });
  slowloris = startSlowloris(gw.tradingPort);
});

const order = { symbol: 'APPL-128', side: 'inflow', price: '3.00', quantity: 1 };

t.test("an account's order flood gets 429 + Retry-After while another account keeps trading (PM simulated)", async (t) => {
  const alice = await gw.tokenOf('alice');
  const bob = await gw.tokenOf('bob');
  const before = gw.pm.commands.newOrders;
  const flood = Promise.all(Array.from({ length: 80 }, () => gw.request('POST', '/v1/transact', { token: alice, body: order })));
  const bobAnswers: HttpAnswer[] = [];
  for (let i = 0; i < 5; i++) {
    bobAnswers.push(await gw.request('POST', '/v1/transact', { token: bob, body: { ...order, side: 'outflow', price: '90.00' } }));
    await new Promise((r) => setTimeout(r, 60));
  }
  const answers = await flood;
  const ok = answers.filter((a) => a.status === 200).length;
  const limited = answers.filter((a) => a.status === 429);
  t.ok(ok >= ORDERS_PER_SECOND && ok <= ORDERS_PER_SECOND + 5, `the burst allowance went through (${ok} of 80)`);
  t.equal(ok + limited.length, 80, 'everything else was refused with 429');
  t.ok(limited.every((a) => a.json.error === 'order_rate_limited' && Number(a.headers['retry-after']) >= 1), 'each 429 says why and when to retry');
  t.same(bobAnswers.map((a) => a.status), [200, 200, 200, 200, 200], "bob's orders were all served during alice's flood");
  gw.pm.caughtUp();
  t.equal(gw.pm.commands.newOrders - before, ok + 5, 'refused orders never reached the product manager');
});

t.test("an IP's request flood gets 429 + Retry-After while another IP is served", async (t) => {
  const flooder: HttpAnswer[] = [];
  const other: HttpAnswer[] = [];
  const otherClient = (async () => {
    for (let i = 0; i < 10; i++) {
      other.push(await gw.request('GET', '/v1/products', { localAddress: '127.0.0.3' }));
      await new Promise((r) => setTimeout(r, 30));
    }
  })();
  for (let batch = 0; batch < 10; batch++) {
    flooder.push(...(await Promise.all(Array.from({ length: 50 }, () => gw.request('GET', '/health', { localAddress: '127.0.0.2' })))));
  }
  await otherClient;
  const limited = flooder.filter((a) => a.status === 429);
  t.ok(limited.length >= 100, `${limited.length} of ${flooder.length} flood requests were refused`);
  t.ok(limited.every((a) => a.json.error === 'rate_limited' && Number(a.headers['retry-after']) >= 1));
  t.same(other.map((a) => a.status), Array(10).fill(200), 'the other address was served throughout');
});

t.test('repeated failed logins from one address are stopped with 429; the real owner elsewhere still logs in', async (t) => {
  const carol = gw.accounts['carol']!;
  for (let i = 0; i < 3; i++) {
    const r = await gw.request('POST', '/v1/sessions', { localAddress: '127.0.0.4', body: { username: 'carol', password: `guess-number-${i}-x` } });
    t.equal(r.status, 401, `guess ${i + 1}: 401`);
  }
  const blocked = await gw.request('POST', '/v1/sessions', { localAddress: '127.0.0.4', body: { username: 'carol', password: carol.password } });
  t.equal(blocked.status, 429, 'then refused, even with the right password, from that address');
  t.equal(blocked.json.error, 'too_many_failed_logins');
  t.ok(Number(blocked.headers['retry-after']) >= 60, 'with a Retry-After of the window');
  const owner = await gw.request('POST', '/v1/sessions', { localAddress: '127.0.0.5', body: { username: 'carol', password: carol.password } });
  t.equal(owner.status, 201, 'carol from her kiosk still logs in (and her account was not locked)');
});

t.test('oversized bodies and header blocks get 413, and the connection is closed', async (t) => {
  const token = await gw.tokenOf('bob');
  const big = JSON.stringify({ ...order, clientOrderId: 'x', pad: 'y'.repeat(20 * 1024) });
  const declared = await gw.raw(`POST /v1/transact HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${big.length}\r\n\r\n${big}`);
  t.match(declared, /^HTTP\/1\.1 413 /, 'a declared length over the limit: 413 before reading the body');
  t.match(declared, /"error":"body_too_large"/);
  const chunked = await gw.raw(`POST /v1/transact HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${token}\r\nTransfer-Encoding: chunked\r\n\r\n${big.length.toString(16)}\r\n${big}\r\n0\r\n\r\n`);
  t.match(chunked, /^HTTP\/1\.1 413 /, 'a chunked body that grows over the limit: 413 while it streams');
  const headers = await gw.request('GET', '/v1/products', { headers: { 'x-filler': 'z'.repeat(10 * 1024) } });
  t.equal(headers.status, 413);
  t.equal(headers.json.error, 'headers_too_large');
  const ws = await TestWebSocket.connect(gw.tradingPort, { headers: { Authorization: `Bearer ${token}` } });
  if (isRefusal(ws)) throw new Error('upgrade refused');
  ws.send(JSON.stringify({ type: 'ping', requestId: 'x'.repeat(20 * 1024) }));
  const closed = await ws.closed;
  t.ok(closed.code === 1009 || closed.code === 1006, `a WebSocket message over 16 KiB closes the stream (${closed.code})`);
  t.ok(gw.proc.alive);
});

t.test('a slow client is cut off: a body not complete in time gets 408 and the connection closes', async (t) => {
  const token = await gw.tokenOf('bob');
  const started = Date.now();
  const answer = await new Promise<{ text: string; closedAfterMs: number }>((resolve) => {
    let text = '';
    const s = net.connect(gw.tradingPort, '127.0.0.1', () => s.write(`POST /v1/transact HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${token}\r\nContent-Length: 200\r\n\r\n{"symbol":`));
    // Keeps trickling: the bound is on the whole body, not on the silence between bytes.
    const drip = setInterval(() => !s.destroyed && s.write(' '), 100);
    s.on('data', (d) => (text += d.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearInterval(drip);
      resolve({ text, closedAfterMs: Date.now() - started });
    });
    setTimeout(() => s.destroy(), 10_000);
  });
  t.match(answer.text, /^HTTP\/1\.1 408 /);
  t.match(answer.text, /"error":"request_timeout"/);
  t.ok(answer.closedAfterMs >= BODY_TIMEOUT_MS - 50 && answer.closedAfterMs < BODY_TIMEOUT_MS + 2_000, `closed after ${answer.closedAfterMs} ms (bound ${BODY_TIMEOUT_MS} ms)`);
});

t.test('a stream that cannot keep up is closed instead of buffered; other streams are unaffected (PM simulated)', async (t) => {
  const slow = await TestWebSocket.connect(gw.tradingPort, { headers: { Authorization: `Bearer ${await gw.tokenOf('alice')}` } });
  const fine = await TestWebSocket.connect(gw.tradingPort, { headers: { Authorization: `Bearer ${await gw.tokenOf('bob')}` } });
  if (isRefusal(slow) || isRefusal(fine)) throw new Error('upgrade refused');
  t.teardown(() => {
    slow.destroy();
    fine.destroy();
  });
  await slow.request({ type: 'ping', requestId: 's' });
  slow.pauseReading();
  gw.pm.floodReports(gw.accounts['alice']!.accountId, 60_000);
  const deadline = Date.now() + 15_000;
  let health = await gw.health();
  while (health.counters.streams.slowClosed === 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    health = await gw.health();
  }
  t.ok(health.counters.streams.slowClosed >= 1, 'the gateway closed the stream that stopped reading');
  t.same(await fine.request({ type: 'ping', requestId: 'still-here' }), { type: 'pong', requestId: 'still-here' }, "bob's stream kept working");
  slow.socket.resume();
  const closed = await slow.closed;
  t.ok(closed.code === 1013 || !closed.clean, `the slow stream ends (code ${closed.code})`);
  t.ok(slow.messages.length < 60_000, `it was not sent everything (${slow.messages.length} of 60000 delivered)`);
});

t.test('WebSocket connections per address are bounded', async (t) => {
  const token = await gw.tokenOf('bob');
  const open: TestWebSocket[] = [];
  t.teardown(() => open.forEach((w) => w.destroy()));
  for (let i = 0; i < 4; i++) {
    const w = await TestWebSocket.connect(gw.tradingPort, { localAddress: '127.0.0.6', headers: { Authorization: `Bearer ${token}` } });
    if (isRefusal(w)) throw new Error(`connection ${i} refused: ${w.body}`);
    open.push(w);
  }
  const fifth = await TestWebSocket.connect(gw.tradingPort, { localAddress: '127.0.0.6', headers: { Authorization: `Bearer ${token}` } });
  t.ok(isRefusal(fifth) && fifth.status === 429 && JSON.parse(fifth.body).error === 'too_many_connections', 'the fifth from one address: 429');
  open.pop()!.close();
  await new Promise((r) => setTimeout(r, 100));
  const again = await TestWebSocket.connect(gw.tradingPort, { localAddress: '127.0.0.6', headers: { Authorization: `Bearer ${token}` } });
  t.notOk(isRefusal(again), 'a closed connection frees its place');
  if (!isRefusal(again)) open.push(again);
});

t.test('requests beyond the in-flight bound get 503 at once, and the waiting ones 503 at the reply bound (PM simulated)', async (t) => {
  const carol = await gw.tokenOf('carol');
  const bob = await gw.tokenOf('bob');
  gw.pm.silent = true;
  // Within each account's orders/s allowance: 20 + 5 fill the 25 slots.
  const waiting = [
    ...Array.from({ length: 20 }, () => gw.request('POST', '/v1/transact', { token: carol, body: order })),
    ...Array.from({ length: MAX_IN_FLIGHT - 20 }, () => gw.request('POST', '/v1/transact', { token: bob, body: order })),
  ];
  await new Promise((r) => setTimeout(r, 200));
  const started = Date.now();
  const beyond = await gw.request('POST', '/v1/transact', { token: bob, body: order });
  t.equal(beyond.status, 503);
  t.equal(beyond.json.error, 'overloaded');
  t.ok(Number(beyond.headers['retry-after']) >= 1);
  t.ok(Date.now() - started < 500, 'answered at once, not queued');
  const late = await Promise.all(waiting);
  gw.pm.silent = false;
  t.same(late.map((a) => a.status), Array(MAX_IN_FLIGHT).fill(503));
  t.ok(late.every((a) => a.json.error === 'engine_unavailable'));
  const afterwards = await gw.request('POST', '/v1/transact', { token: carol, body: order });
  t.equal(afterwards.status, 200, 'the slots were freed');
});

t.test('a client sending its headers a byte at a time is disconnected by uWS within its header timeout', async (t) => {
  const r = await slowloris;
  t.equal(r.received, '', 'no answer: the request never began');
  t.ok(r.closedAfterMs < 20_000, `closed after ${r.closedAfterMs} ms`);
  t.ok(gw.proc.alive);
  t.same(gw.pm.invalid, []);
  t.equal((await gw.health()).counters.bugs, 0);
});
