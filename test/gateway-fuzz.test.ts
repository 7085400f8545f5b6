// Thousands of generated malformed bodies, header blocks and WebSocket frames against a real
// gateway process (fast-check; the seed is printed, IMS_TEST_SEED=<n> replays a run). Every answer
// must be a 4xx with a machine code (or a 200/409 for inputs that happen to be valid), never a 5xx;
// the process must stay alive; and the gateway->PM ring must receive exactly the commands that
// were accepted, each one valid (the SIMULATED product manager checks every record).

import * as net from 'node:net';
import fc from 'fast-check';
import t from 'tap';
import { startGateway, type GatewayUnderTest } from './support/gateway-harness';
import { isRefusal, TestWebSocket } from './support/gateway-ws-client';
import { testSeed } from './support/seeded-random';

const SEED = testSeed(20_260_611);
let gw: GatewayUnderTest;

t.before(async () => {
  gw = await startGateway(t, { args: ['--orders-per-second', '1000000', '--ip-requests-per-second', '1000000', '--credential-calls-per-minute', '1000000', '--body-timeout-ms', '500'] });
  t.comment(`fast-check seed ${SEED} (replay with IMS_TEST_SEED=${SEED})`);
});

/** Answers that come from the (simulated) product manager rather than from the gateway's own checks. */
const PM_CODES = new Set(['risk_max_order_quantity', 'insufficient_funds']);

const ORDER_KEYS = ['symbol', 'side', 'price', 'quantity', 'clientOrderId', 'timeInForce', 'postOnly'] as const;
const validOrder = fc.record({
  symbol: fc.constantFrom('APPL-128', 'appl-128', 'SMSN-S24', 'SONY-WH1000'),
  side: fc.constantFrom('inflow', 'outflow', 'buy', 'sell'),
  price: fc.constantFrom('10.05', '1.00', '250', '300.05', '0.10'),
  quantity: fc.constantFrom(1, 10, 20, 2_000_000),
});
const tricky = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom('', ' ', '10.005', '1e3', '-1', '0', 'NaN', 'Infinity', '１０', '10,05', '0x10', '9'.repeat(40), '\u0000', '<script>', '__proto__'),
  fc.constantFrom(0, -1, 1.5, 2 ** 30 + 1, 2 ** 53, -0, 1e308, Number.MAX_SAFE_INTEGER),
  fc.string({ maxLength: 40 }),
);
const mutatedOrder = fc
  .tuple(validOrder, fc.constantFrom<string>(...ORDER_KEYS, 'status', 'accountId', 'filledQuantity', '__proto__', 'constructor', 'x'), tricky)
  .map(([o, k, v]) => JSON.stringify({ ...o, [k]: v }));
const droppedField = fc.tuple(validOrder, fc.constantFrom(...ORDER_KEYS.slice(0, 4))).map(([o, k]) => {
  const copy: Record<string, unknown> = { ...o };
  delete copy[k];
  return JSON.stringify(copy);
});
const bodyText = fc.oneof(
  { weight: 4, arbitrary: mutatedOrder },
  { weight: 1, arbitrary: droppedField },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null') },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.jsonValue().map((v) => (JSON.stringify(v) ?? '').slice(0, -1)) },
  { weight: 1, arbitrary: validOrder.map((o) => JSON.stringify(o)) },
);

function assertErrorShape(status: number, json: any, what: string): void {
  if (status >= 500) throw new Error(`${what}: ${status} ${JSON.stringify(json)}`);
  if (status >= 400 && (typeof json?.error !== 'string' || typeof json?.detail !== 'string' || !/^[a-z0-9_]+$/.test(json.error))) {
    throw new Error(`${what}: ${status} without a machine code: ${JSON.stringify(json)}`);
  }
}

t.test('generated order bodies: only 4xx with a code for bad ones, and exactly the accepted ones reach the ring (PM simulated)', async (t) => {
  const token = await gw.tokenOf('alice');
  const before = { newOrders: gw.pm.commands.newOrders, records: gw.pm.records };
  let accepted = 0;
  let rejectedByPm = 0;
  let refused = 0;
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(bodyText, async (text) => {
      const r = await gw.request('POST', '/v1/transact', { token, rawBody: Buffer.from(text, 'utf8'), headers: { 'content-type': 'application/json' } });
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      assertErrorShape(r.status, r.json, `body ${text.slice(0, 120)}`);
      if (r.status === 200) accepted++;
      else if (PM_CODES.has(r.json.error)) rejectedByPm++;
      else refused++;
      if (![200, 400, 409].includes(r.status)) throw new Error(`unexpected ${r.status} for ${text.slice(0, 120)}: ${r.text}`);
    }),
    { seed: SEED, numRuns: 2_500 },
  );
  t.comment(`statuses ${JSON.stringify([...statuses])}: ${accepted} accepted, ${rejectedByPm} refused by the PM, ${refused} refused by the gateway`);
  t.ok(refused > 1_500, 'most generated bodies were malformed');
  t.ok(accepted > 50, 'and some were valid orders');
  gw.pm.caughtUp();
  t.equal(gw.pm.commands.newOrders - before.newOrders, accepted + rejectedByPm, 'the ring got exactly one NewOrder per order the gateway accepted');
  t.equal(gw.pm.records - before.records, accepted + rejectedByPm, 'and nothing else');
  t.same(gw.pm.invalid, [], 'every record written met the contract');
});

t.test('generated amend bodies and order ids: 4xx with a code, never a 5xx (PM simulated)', async (t) => {
  const token = await gw.tokenOf('bob');
  const live = await gw.request('POST', '/v1/transact', { token, body: { symbol: 'SONY-WH1000', side: 'inflow', price: '1.00', quantity: 1 } });
  const id = live.json.id as string;
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(fc.constant(id), fc.constant(id), fc.string({ maxLength: 20 }).map(encodeURIComponent), fc.constantFrom('0', '-1', '99999999999999999999', '1.5', '%00', '..%2F')),
      fc.oneof(
        fc.record({ price: tricky }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
        fc.record({ quantity: tricky }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
        fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'),
        fc.string({ maxLength: 60 }),
      ),
      async (orderId, text) => {
        const r = await gw.request('PATCH', `/v1/transact/${orderId}`, { token, rawBody: text, headers: { 'content-type': 'application/json' } });
        assertErrorShape(r.status, r.json, `PATCH ${orderId} ${text.slice(0, 80)}`);
      },
    ),
    { seed: SEED, numRuns: 800 },
  );
  t.same(gw.pm.invalid, []);
});

/** Sends one raw request on a fresh connection; resolves with the status (0: no answer before it closed or timed out). */
function rawStatus(port: number, request: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(request, 'latin1'));
    let out = '';
    const done = (): void => {
      const status = /^HTTP\/1\.1 (\d{3})/.exec(out);
      const body = out.slice(out.indexOf('\r\n\r\n') + 4);
      resolve({ status: status === null ? 0 : Number(status[1]), body });
    };
    const timer = setTimeout(() => s.destroy(), timeoutMs);
    s.on('data', (d) => {
      out += d.toString('latin1');
      const head = out.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(out);
      if (head >= 0 && length !== null && out.length >= head + 4 + Number(length[1])) s.destroy();
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      done();
    });
  });
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const TARGETS = ['GET /v1/transact?status=open', 'GET /v1/sessions/current', 'POST /v1/transact', 'DELETE /v1/transact/1', 'GET /health', 'PATCH /v1/transact/1', 'GET /v1/products?x=%ZZ', 'OPTIONS /v1/transact', 'GET /%2e%2e/%2e%2e/etc/passwd', 'POST /v1/sessions'];

t.test('generated header blocks uWS parses: every one is answered, 4xx with a code or 200, never a 5xx', async (t) => {
  const token = await gw.tokenOf('carol');
  // uWS accepts header names of letters, digits and '-' and values without control characters.
  const headerName = fc.stringMatching(/^[A-Za-z0-9-]{1,30}$/);
  const headerValue = fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom('', ' ', '\t', '\u00ff\u00fe', 'Bearer', 'Bearer imss_', '-1', '99999999999999999999', '{"a":1}'));
  const authorization = fc.oneof(
    fc.constant(`Bearer ${token}`),
    fc.string({ maxLength: 80 }),
    fc.constantFrom('', 'Bearer', 'bearer  x', `Bearer ${token}x`, `Bearer ${token.slice(0, -2)}`, `Basic ${token}`, `Bearer ${token} ${token}`, `Bearer\t${token}`),
  );
  const before = gw.pm.records;
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...TARGETS), authorization, fc.array(fc.tuple(headerName, headerValue), { maxLength: 6 }), fc.constantFrom('', '0', '2', '999999'), async (line, auth, extra, contentLength) => {
      const lines = [`${line} HTTP/1.1`, 'Host: gw', `Authorization: ${auth}`];
      for (const [k, v] of extra) if (k.toLowerCase() !== 'content-length' && k.toLowerCase() !== 'transfer-encoding') lines.push(`${k}: ${v}`);
      if (contentLength !== '') lines.push(`Content-Length: ${contentLength}`);
      const body = contentLength === '2' ? '{}' : '';
      const r = await rawStatus(gw.tradingPort, lines.join('\r\n') + '\r\n\r\n' + body, 3_000);
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (r.status === 0) throw new Error(`no answer to ${JSON.stringify(lines).slice(0, 300)}`);
      assertErrorShape(r.status, parseOrUndefined(r.body), `headers ${JSON.stringify(lines).slice(0, 300)}`);
    }),
    { seed: SEED, numRuns: 600 },
  );
  t.comment(`statuses ${JSON.stringify([...statuses])}`);
  gw.pm.caughtUp();
  t.same(gw.pm.invalid, []);
  t.ok(gw.pm.records - before < 600, 'only requests that were valid orders wrote anything');
});

t.test('header blocks uWS refuses to parse get no answer and cost nothing; the gateway keeps serving', async (t) => {
  // Header names with RFC token characters other than letters, digits and '-', or values with
  // control characters: uWS stops reading the request and closes the connection at its own header
  // timeout (about 10 s). A Content-Length that is not a number below 2^32-1: uWS closes at once.
  // No handler runs, so there is nothing to answer and nothing reaches the ring.
  const before = gw.pm.records;
  const oddName = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,20}$/).filter((n) => /[^A-Za-z0-9-]/.test(n));
  const controlValue = fc.constantFrom('a\u0001b', '\u0000', 'x\u001fy', '\u0008');
  // uWS holds such connections until its timeout, so they are sent all at once (same seed).
  const cases = fc.sample(
    fc.tuple(fc.constantFrom(...TARGETS), fc.oneof(oddName.map((n) => `${n}: v`), controlValue.map((v) => `X-Odd: ${v}`), fc.constantFrom('99999999999', '4294967295', 'abc', '-5', '1e3', '1 2').map((v) => `Content-Length: ${v}`))),
    { seed: SEED, numRuns: 100 },
  );
  const answers = await Promise.all(cases.map(([line, header]) => rawStatus(gw.tradingPort, `${line} HTTP/1.1\r\nHost: gw\r\n${header}\r\n\r\n`, 500)));
  answers.forEach((r, i) => {
    if (r.status !== 0) assertErrorShape(r.status, parseOrUndefined(r.body), `header ${JSON.stringify(cases[i])}`);
  });
  t.ok(answers.every((r) => r.status === 0 || (r.status >= 400 && r.status < 500)), `${answers.filter((r) => r.status === 0).length} of ${answers.length} got no answer, the rest a 4xx`);
  gw.pm.caughtUp();
  t.equal(gw.pm.records, before);
  t.equal((await gw.request('GET', '/health')).status, 200, 'the gateway answers well-formed requests as before');
});

t.test('generated WebSocket messages: each gets one 4xx error or a result, never a 5xx (PM simulated)', async (t) => {
  const ws = await TestWebSocket.connect(gw.tradingPort, { headers: { Authorization: `Bearer ${await gw.tokenOf('carol')}` } });
  if (isRefusal(ws)) throw new Error('upgrade refused');
  t.teardown(() => ws.destroy());
  const before = gw.pm.commands.newOrders;
  let placed = 0;
  let n = 0;
  const message = fc.oneof(
    { weight: 3, arbitrary: fc.tuple(mutatedOrder, fc.constantFrom('place', 'update', 'remove', 'ping', 'PLACE', '')).map(([o, type]) => `{"type":"${type}","requestId":"REQ","order":${o},"id":"1","changes":{}}`) },
    { weight: 2, arbitrary: validOrder.map((o) => JSON.stringify({ type: 'place', requestId: 'REQ', order: o })) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null') },
    { weight: 1, arbitrary: fc.string({ maxLength: 100 }) },
    { weight: 1, arbitrary: fc.record({ type: tricky, requestId: tricky }, { requiredKeys: [] }).map((o) => JSON.stringify(o)) },
  );
  await fc.assert(
    fc.asyncProperty(message, async (raw) => {
      const requestId = `f${n++}`;
      const text = raw.replace('"REQ"', JSON.stringify(requestId));
      const from = ws.messages.length;
      ws.send(text);
      // Every frame is answered exactly once, and the next frame is sent only after the answer, so
      // the answer is the next message that is not an execution push (a fill of a resting order).
      const answer = await ws.waitFor((m) => m['type'] !== 'execution', 5_000, from);
      if (answer['type'] === 'result') {
        placed++;
        if (answer['requestId'] !== requestId) throw new Error(`result for ${String(answer['requestId'])}, sent ${requestId}`);
        return;
      }
      if (answer['type'] === 'pong') return;
      if (answer['type'] !== 'error') throw new Error(`unexpected answer ${JSON.stringify(answer)}`);
      assertErrorShape(answer['status'] as number, answer, `frame ${text.slice(0, 120)}`);
      if (PM_CODES.has(answer['error'] as string)) placed++;
    }),
    { seed: SEED, numRuns: 1_500 },
  );
  gw.pm.caughtUp();
  t.ok(placed > 100, `${placed} generated messages were valid orders`);
  t.equal(gw.pm.commands.newOrders - before, placed, 'the ring got exactly the orders the stream accepted');
  t.same(gw.pm.invalid, []);
});

t.test('generated broken WebSocket frames close the stream at worst; the gateway lives on', async (t) => {
  const token = await gw.tokenOf('carol');
  let closedByServer = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => ({ raw: Buffer.from(b) })),
        fc.record({ opcode: fc.integer({ min: 0, max: 15 }), rsv: fc.integer({ min: 0, max: 7 }), mask: fc.boolean(), fin: fc.boolean(), payload: fc.uint8Array({ maxLength: 200 }) }),
      ),
      async (frame) => {
        const ws = await TestWebSocket.connect(gw.tradingPort, { headers: { Authorization: `Bearer ${token}` } });
        if (isRefusal(ws)) throw new Error(`upgrade refused ${ws.status}`);
        if ('raw' in frame) ws.sendRaw(frame.raw);
        else ws.sendFrame(frame.opcode, Buffer.from(frame.payload), { rsv: frame.rsv, mask: frame.mask, fin: frame.fin });
        ws.send(JSON.stringify({ type: 'ping', requestId: 'after' }));
        const outcome = await Promise.race([ws.closed.then(() => 'closed'), ws.waitFor((m) => m['requestId'] === 'after', 3_000).then(() => 'alive', () => 'silent')]);
        if (outcome === 'closed') closedByServer++;
        for (const m of ws.messages) {
          const parsed = JSON.parse(m) as Record<string, unknown>;
          if (parsed['type'] === 'error') assertErrorShape(parsed['status'] as number, parsed, `frame ${JSON.stringify(frame).slice(0, 100)}`);
        }
        ws.destroy();
      },
    ),
    { seed: SEED, numRuns: 200 },
  );
  t.comment(`${closedByServer} of 200 broken frames made the server close the stream`);
  t.ok(gw.proc.alive, 'the gateway process is alive');
  const h = await gw.health();
  t.equal(h.status, 'ok');
  t.equal(h.counters.bugs, 0, 'no handler threw during the whole fuzz run');
  t.same(gw.pm.invalid, []);
});
