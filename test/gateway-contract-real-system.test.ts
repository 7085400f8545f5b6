// The gateway's contract against the REAL system: one instance started by this test through the
// CLI (`ims start --trading-port 0 --public-port 0`: gateway, product managers hot and warm,
// sequencer, engines, market data, reporter, control with the demo accounts and funds), driven
// through real HTTP and the real WebSocket /v1/stream.
//
// - Coverage from the document: GET /openapi.json (trading and public listeners) is fetched and
//   EVERY path+method in it must be answered at least once with its documented success status and
//   a body that validates against the declared response schema (test/support/openapi-contract.ts,
//   a small JSON-Schema validator that throws on keywords it does not know). Every other answer
//   the test sees is checked too: its status must be documented for the operation and its body
//   must match (errors: the Error schema). A route added without a contract test fails this test.
// - Every error code the gateway produces with the real processes behind it: 400 (schema and
//   normalization codes, invalid JSON, content type, query), 401, 403 (role and ownership), 404
//   (unknown route, unknown and another's order, key, application, account), 408 (body deadline),
//   409 (already_filled on an order really filled, already_canceled, and the product manager's and
//   engine's own rejections: risk limits, funds, inventory, halted product, post-only, FOK), 413
//   (declared, chunked, headers), 429 with Retry-After (an account's order flood, an IP's request
//   flood, failed logins), and 503 with a retry hint while the hot product manager is killed -9
//   (then a retry with the same clientOrderId returns the same order, never a second one). The
//   stream answers place/update/remove with the same bodies and the same errors as REST.
//
// What only the SIMULATED-product-manager tests cover (test/gateway-contract.test.ts,
// gateway-abuse.test.ts, gateway-security.test.ts, gateway-fuzz.test.ts), and why:
// - 503 engine_unavailable at the exact reply bound while the PM is silent, and the /health
//   "degraded" state it causes: a real PM cannot be made to stay silent on demand (here a takeover
//   may or may not outlast the 3 s bound; both outcomes are accepted and checked).
// - 503 overloaded (the in-flight table or the to-PM ring full): needs --max-in-flight lowered and
//   a PM that holds replies back; a real PM drains too fast to fill 4,096 slots deterministically.
// - An expired session token (needs a clock moved past the session lifetime) and a suspended
//   account's stream being cut; a client that walks away before its answer; a slow-loris client
//   and a stream closed for backpressure (timing-dependent, proven with small limits there).
// - 409 from reasons the real PM reaches only by races (duplicate_order_id, already_expired) and
//   403 account_not_active (an account the PM has not heard of yet).
// - Fuzzing thousands of malformed bodies (gateway-fuzz: nothing invalid may reach the PM).

import * as http from 'node:http';
import * as net from 'node:net';
import t, { type Test } from 'tap';
import { readPmStatus } from '../processes/product-manager/pm-status';
import { createImsInstance, until } from './support/ims-instance';
import { applicationBody } from './support/gateway-harness';
import { isRefusal, TestWebSocket } from './support/gateway-ws-client';
import { OpenApiContract } from './support/openapi-contract';

const inst = createImsInstance('contract', ['--trading-port', '0', '--public-port', '0']);
t.teardown(() => inst.destroy());

/** Longest a sequenced effect (a rule, a halt, a withdrawal, a listing) may take to show (shared machine). */
const EFFECT_WAIT_MS = 30_000;
/** No HTTP answer may take longer: the gateway's reply bound is 3 s; the rest is a loaded machine. */
const ANSWER_BOUND_MS = 15_000;
const DEMO_PASSWORDS: Record<string, string> = {
  alice: 'kiosk-101-demo', bruno: 'kiosk-102-demo', chen: 'kiosk-103-demo', dara: 'kiosk-104-demo', emeka: 'kiosk-105-demo',
  admin: 'control-room-demo', risk: 'limits-desk-demo', ceo: 'board-view-demo', ops: 'night-shift-demo',
};

let tradingPort = 0;
let publicPort = 0;
let contract: OpenApiContract;
let publicContract: OpenApiContract;
const tokens: Record<string, string> = {};
const accountIds: Record<string, number> = {};
/** The body-deadline probe runs beside the other tests (it waits 5 s for the gateway to give up). */
let bodyTimeoutProbe: Promise<string>;
/** Stream message types (x-client-messages) sent and answered without an error. */
const streamTypesAnswered = new Set<string>();

// --- HTTP -----------------------------------------------------------------------------------------

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any;
  ms: number;
  problems: string[];
}

interface CallOptions {
  token?: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  localAddress?: string;
  port?: number;
}

const agents = new Map<string, http.Agent>();
function agentFor(localAddress: string): http.Agent {
  let a = agents.get(localAddress);
  if (a === undefined) agents.set(localAddress, (a = new http.Agent({ keepAlive: true, maxSockets: 64, localAddress })));
  return a;
}
t.teardown(() => {
  for (const a of agents.values()) a.destroy();
});

/** One request over real HTTP; every answer is checked against the OpenAPI document of its listener. */
function call(method: string, url: string, o: CallOptions = {}): Promise<Answer> {
  const port = o.port ?? tradingPort;
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  if (o.token !== undefined) headers['authorization'] = `Bearer ${o.token}`;
  const payload = o.rawBody ?? (o.body !== undefined ? JSON.stringify(o.body) : undefined);
  if (payload !== undefined && headers['content-type'] === undefined) headers['content-type'] = 'application/json';
  if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: url, headers, agent: agentFor(o.localAddress ?? '127.0.0.1') }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: any = null;
        try {
          json = JSON.parse(text);
        } catch {
          json = null;
        }
        const status = res.statusCode ?? 0;
        const c = port === tradingPort ? contract : publicContract;
        const problems = c === undefined ? [] : c.observe(method, url, status, json, String(res.headers['content-type'] ?? '')).problems;
        resolve({ status, headers: res.headers, text, json, ms: Date.now() - started, problems });
      });
    });
    req.setTimeout(ANSWER_BOUND_MS, () => req.destroy(new Error(`${method} ${url}: no answer within ${ANSWER_BOUND_MS} ms (a hang)`)));
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/**
 * Writes raw bytes on a fresh connection and returns what came back until the server closed,
 * `complete` said everything arrived, or `waitMs` passed.
 */
function raw(text: string, waitMs = 3_000, localAddress = '127.0.0.1', complete?: (got: string) => boolean): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const s = net.connect({ port: tradingPort, host: '127.0.0.1', localAddress }, () => s.write(text));
    const timer = setTimeout(() => s.destroy(), waitMs);
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (complete?.(got) === true) s.destroy();
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
  });
}

/** Status and JSON body of the first answer in a raw response, checked against the document. */
function rawAnswer(method: string, url: string, response: string): { status: number; json: any; headers: string } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
  const headEnd = response.indexOf('\r\n\r\n');
  const head = response.slice(0, headEnd);
  const rest = response.slice(headEnd + 4);
  const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? rest.length);
  let json: any = null;
  try {
    json = JSON.parse(rest.slice(0, length));
  } catch {
    json = null;
  }
  contract.observe(method, url, status, json, /content-type: *([^\r\n]+)/i.exec(head)?.[1] ?? '');
  return { status, json, headers: head };
}

async function login(username: string, localAddress?: string): Promise<string> {
  const r = await call('POST', '/v1/sessions', { body: { username, password: DEMO_PASSWORDS[username] }, ...(localAddress ? { localAddress } : {}) });
  if (r.status !== 201) throw new Error(`login ${username}: ${r.status} ${r.text}`);
  accountIds[username] = r.json.account.accountId;
  return r.json.token as string;
}

function place(who: string, body: Record<string, unknown>): Promise<Answer> {
  return call('POST', '/v1/transact', { token: tokens[who]!, body });
}

/** Polls `attempt` until `done` says its answer is the awaited one. */
async function eventually<T>(what: string, attempt: () => Promise<T>, done: (v: T) => boolean, timeoutMs = EFFECT_WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await attempt();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(v).slice(0, 400)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// --- WebSocket ------------------------------------------------------------------------------------

async function stream(who: string): Promise<TestWebSocket> {
  const ws = await TestWebSocket.connect(tradingPort, { protocols: ['ims.v1', `ims-token.${tokens[who]!}`], timeoutMs: ANSWER_BOUND_MS });
  if (isRefusal(ws)) throw new Error(`stream refused for ${who}: ${ws.status} ${ws.body}`);
  contract.covered('GET /v1/stream');
  return ws;
}

/** The x-client-messages schema whose `type` constant is `type`. */
function clientMessageSchema(type: string): unknown {
  const list = contract.doc['paths']['/v1/stream']['get']['x-client-messages'] as Array<Record<string, any>>;
  for (const entry of list) {
    const s = entry['$ref'] !== undefined ? contract.schemaOf(String(entry['$ref']).split('/').pop()!) : entry;
    if ((s as any).properties?.type?.const === type) return s;
  }
  return undefined;
}

/**
 * Sends a stream message and returns its answer; the message must be one the document describes
 * (for deliberately invalid ones pass `invalid`), and the answer's body must match its schema: an
 * order result the Order schema, an error the Error schema, a wallet the wallet's 200 schema.
 */
async function wsRequest(t: Test, ws: TestWebSocket, message: Record<string, unknown>, opts: { invalid?: boolean; timeoutMs?: number } = {}): Promise<Record<string, any>> {
  if (opts.invalid !== true) {
    const schema = clientMessageSchema(String(message['type']));
    t.ok(schema, `the document describes the stream message type ${message['type']}`);
    if (schema !== undefined) t.same(contract.validator.validate(schema, message), [], `the ${message['type']} message matches its documented schema`);
  }
  const answer = (await ws.request(message, opts.timeoutMs ?? ANSWER_BOUND_MS)) as Record<string, any>;
  checkStreamAnswer(t, answer);
  if (answer['type'] !== 'error' && opts.invalid !== true) streamTypesAnswered.add(String(message['type']));
  return answer;
}

function checkStreamAnswer(t: Test, answer: Record<string, any>): void {
  const { type, requestId: _r, status, ...rest } = answer;
  let problems: string[] = [];
  if (type === 'result') {
    t.equal(status, 200, 'a stream result carries status 200');
    problems = contract.validator.validate(contract.schemaOf('Order'), rest['order']);
  } else if (type === 'error') {
    t.ok(typeof status === 'number' && status >= 400 && status !== 500, `a stream error carries a 4xx/503 status (${status})`);
    problems = contract.validator.validate(contract.schemaOf('Error'), rest);
  } else if (type === 'wallet') {
    problems = contract.validator.validate(contract.doc['paths']['/v1/wallet']['get']['responses']['200']['content']['application/json']['schema'], rest['wallet']);
  } else if (type === 'orders') {
    problems = contract.validator.validate(contract.schemaOf('OrderList'), rest);
  }
  if (problems.length > 0) contract.violations.push(...problems.map((p) => `stream ${type}: ${p}`));
  t.same(problems, [], `the stream ${type} answer matches its schema`);
}

/**
 * The error part of a REST error answer, to compare with a stream error answer: status and code
 * always; for a schema problem (with `fields`) every field and its code, else the detail sentence.
 * A stream names a field by its path in the MESSAGE ("order.quantity", "changes.price") and says
 * "place message" where REST says "request body": only that naming may differ.
 */
function errorOf(a: Answer): Record<string, unknown> {
  return comparable(a.status, a.json ?? {});
}
function streamErrorOf(m: Record<string, any>): Record<string, unknown> {
  return comparable(m['status'], m, /^(order|changes)\./);
}
function comparable(status: unknown, body: Record<string, any>, prefix?: RegExp): Record<string, unknown> {
  const fields = Array.isArray(body['fields']) ? body['fields'].map((f: any) => `${String(f.field).replace(prefix ?? /^$/, '')}:${f.code}`) : undefined;
  return fields === undefined ? { status, error: body['error'], detail: body['detail'] } : { status, error: body['error'], fields };
}

// --- start ----------------------------------------------------------------------------------------

t.before(async () => {
  inst.start();
  const ready = await until('the gateway to listen', () => /"event":"gateway-ready".*?"tradingPort":(\d+)/.exec(inst.log()), 180_000);
  tradingPort = Number(ready[1]);
  publicPort = Number(/"event":"gateway-ready".*?"publicPort":(\d+)/.exec(inst.log())![1]);
  await until('the demo day to open', () => /"event":"trading-day-open"/.test(inst.log()), 180_000);
  await until('a hot engine', () => /"event":"engine-hot"/.test(inst.log()), 120_000);
  const doc = await call('GET', '/openapi.json');
  contract = new OpenApiContract(doc.json);
  contract.observe('GET', '/openapi.json', doc.status, doc.json, String(doc.headers['content-type']));
  const pub = await call('GET', '/openapi.json', { port: publicPort });
  publicContract = new OpenApiContract(pub.json);
  publicContract.observe('GET', '/openapi.json', pub.status, pub.json, String(pub.headers['content-type']));
  for (const who of Object.keys(DEMO_PASSWORDS)) tokens[who] = await login(who);
  // The body-deadline probe: headers promise 40 bytes, 1 arrives; the gateway gives up after 5 s.
  bodyTimeoutProbe = raw(`POST /v1/transact HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${tokens['alice']}\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{`, 20_000, '127.0.0.9');
  // The demo funds arrive through the journal shortly after the accounts open.
  for (const who of ['alice', 'bruno', 'chen', 'dara', 'emeka']) {
    await eventually(`${who}'s demo funds`, () => call('GET', '/v1/wallet', { token: tokens[who]! }), (r) => r.status === 200 && r.json.cash.balance !== '0.00' && r.json.inventory.length >= 100);
  }
});

// --- the tests ------------------------------------------------------------------------------------

t.test('service and reference routes answer their documented bodies on both listeners', async (t) => {
  for (const port of [tradingPort, publicPort]) {
    const h = await call('GET', '/health', { port });
    t.equal(h.status, 200);
    t.same(h.problems, [], `/health on port ${port} matches the Health schema`);
    const p = await call('GET', '/v1/products', { port });
    t.equal(p.status, 200);
    t.equal(p.json.products.length, 100, 'the demo lists 100 products');
    t.match(p.json.products.find((x: any) => x.symbol === 'APPL-128'), { productId: 2, brand: 'Apple', tickSize: '0.01', lotSize: 1, halted: false });
    const now = Date.now();
    const book = await call('GET', '/marketdata/orderBook?symbol=APPL-128&depth=5', { port });
    t.equal(book.status, 200, `order book (${book.text.slice(0, 200)})`);
    const candles = await call('GET', `/marketdata/snapshot?symbol=APPL-128&resolution=60&startTime=${now - 3_600_000}&endTime=${now}`, { port });
    t.equal(candles.status, 200, `candles (${candles.text.slice(0, 200)})`);
    const trades = await call('GET', '/marketdata/trades?symbol=appl-128&limit=10', { port });
    t.equal(trades.status, 200);
    const badDepth = await call('GET', '/marketdata/orderBook?symbol=APPL-128&depth=0', { port });
    t.match(badDepth.json, { error: 'depth_out_of_range' });
    const unknown = await call('GET', '/marketdata/trades?symbol=NOPE-1', { port });
    t.match(unknown, { status: 400, json: { error: 'unknown_symbol' } });
  }
  const sys = await call('GET', '/v1/admin/system-status', { token: tokens['ops']! });
  t.equal(sys.status, 200, `system status for an operator (${sys.text.slice(0, 200)})`);
  t.same(sys.problems, []);
  const sysColleague = await call('GET', '/v1/admin/system-status', { token: tokens['alice']! });
  t.match(sysColleague, { status: 403, json: { error: 'forbidden' } });
  // The public market-data stream: subscribe to a book.
  const md = await TestWebSocket.connect(publicPort, { path: '/v1/market-data/stream', timeoutMs: ANSWER_BOUND_MS });
  if (isRefusal(md)) throw new Error(`public stream refused: ${md.status} ${md.body}`);
  t.teardown(() => md.destroy());
  const sub = await md.request({ type: 'subscribe', requestId: 's1', channel: 'book:APPL-128' }, ANSWER_BOUND_MS);
  t.match(sub, { type: 'subscribed', requestId: 's1', channel: 'book:APPL-128' });
  publicContract.covered('GET /v1/market-data/stream');
  t.notOk(publicContract.operationOf('GET', '/v1/stream'), 'the public document does not offer the order stream (it is not served there)');
  const noOrderStream = await TestWebSocket.connect(publicPort, { protocols: ['ims.v1', `ims-token.${tokens['alice']}`], timeoutMs: ANSWER_BOUND_MS });
  t.ok(isRefusal(noOrderStream) && noOrderStream.status === 404, 'no order stream on the public listener');
  const badChannel = await md.request({ type: 'subscribe', requestId: 's2', channel: 'nope' }, ANSWER_BOUND_MS);
  t.match(badChannel, { type: 'error', requestId: 's2', status: 400, error: 'invalid_channel' });
});

t.test('orders over REST: place, read, list, update, partial fill by another colleague, remove; finished orders refuse changes (409)', async (t) => {
  const placed = await place('alice', { symbol: 'appl-128', side: 'buy', price: '899.000', quantity: 5, clientOrderId: 'ct-alice-1', timeInForce: 'DAY' });
  t.equal(placed.status, 200, placed.text);
  t.match(placed.json, { symbol: 'APPL-128', side: 'inflow', price: '899.00', quantity: 5, timeInForce: 'DAY', status: 'added', filledQuantity: 0, remainingQuantity: 5, clientOrderId: 'ct-alice-1' });
  t.ok(Math.abs(placed.json.creationTime - Date.now()) < 60_000, 'creationTime is epoch ms');
  const id = placed.json.id as string;
  const one = await call('GET', `/v1/transact/${id}`, { token: tokens['alice']! });
  t.match(one, { status: 200, json: { id, status: 'added', quantity: 5 } });
  const open = await call('GET', '/v1/transact?status=open', { token: tokens['alice']! });
  t.equal(open.status, 200);
  t.ok(open.json.orders.some((o: any) => o.id === id), 'the open list has it');
  const amended = await call('PATCH', `/v1/transact/${id}`, { token: tokens['alice']!, body: { price: '899.50', quantity: 6 } });
  t.match(amended, { status: 200, json: { id, price: '899.50', quantity: 6, status: 'updated' } });
  const same = await call('PATCH', `/v1/transact/${id}`, { token: tokens['alice']!, body: { price: '899.50' } });
  t.match(same, { status: 400, json: { error: 'amend_no_change' } });
  const empty = await call('PATCH', `/v1/transact/${id}`, { token: tokens['alice']!, body: {} });
  t.match(empty, { status: 400, json: { error: 'no_fields' } });

  const crossing = await place('bruno', { symbol: 'APPL-128', side: 'outflow', price: '899.00', quantity: 2 });
  t.match(crossing, { status: 200, json: { status: 'filled', filledQuantity: 2, remainingQuantity: 0, lastPrice: '899.50', lastQuantity: 2 } }, "bruno fills at alice's resting price");
  const after = await call('GET', `/v1/transact/${id}`, { token: tokens['alice']! });
  t.match(after.json, { status: 'partially_filled', filledQuantity: 2, remainingQuantity: 4 });

  // Ownership: another colleague's order is unknown to them, for every verb (404, never 403).
  for (const [method, body] of [['GET', undefined], ['PATCH', { quantity: 9 }], ['DELETE', undefined]] as const) {
    const foreign = await call(method, `/v1/transact/${id}`, { token: tokens['bruno']!, ...(body ? { body } : {}) });
    t.match(foreign, { status: 404, json: { error: 'unknown_order' } }, `${method} of another colleague's order: 404 unknown_order`);
  }
  const nobody = await call('DELETE', '/v1/transact/987654321', { token: tokens['alice']! });
  t.match(nobody, { status: 404, json: { error: 'unknown_order' } }, 'an order id nobody has: 404 (the product manager says so)');
  const readNobody = await call('GET', '/v1/transact/987654321', { token: tokens['alice']! });
  t.match(readNobody, { status: 404, json: { error: 'unknown_order' } });

  const removed = await call('DELETE', `/v1/transact/${id}`, { token: tokens['alice']! });
  t.match(removed, { status: 200, json: { id, status: 'removed', remainingQuantity: 0, filledQuantity: 2 } });
  const twice = await call('DELETE', `/v1/transact/${id}`, { token: tokens['alice']! });
  t.match(twice, { status: 409, json: { error: 'already_canceled' } });
  const lateUpdate = await call('PATCH', `/v1/transact/${id}`, { token: tokens['alice']!, body: { quantity: 8 } });
  t.match(lateUpdate, { status: 409, json: { error: 'already_canceled' } });
  const all = await call('GET', '/v1/transact?status=all', { token: tokens['alice']! });
  t.ok(all.json.orders.some((o: any) => o.id === id && o.status === 'removed'), 'status=all lists the removed order');

  // An order filled for real refuses update and removal with 409 already_filled, for both sides.
  const maker = await place('chen', { symbol: 'APPL-256', side: 'outflow', price: '999.00', quantity: 2 });
  t.match(maker.json, { status: 'added' });
  const taker = await place('dara', { symbol: 'APPL-256', side: 'inflow', price: '999.00', quantity: 2, timeInForce: 'IOC' });
  t.match(taker.json, { status: 'filled', filledQuantity: 2 });
  for (const [who, orderId] of [['chen', maker.json.id], ['dara', taker.json.id]] as const) {
    const del = await call('DELETE', `/v1/transact/${orderId}`, { token: tokens[who]! });
    t.match(del, { status: 409, json: { error: 'already_filled' } }, `${who}: DELETE of a filled order is 409 already_filled`);
    const upd = await call('PATCH', `/v1/transact/${orderId}`, { token: tokens[who]!, body: { quantity: 3 } });
    t.match(upd, { status: 409, json: { error: 'already_filled' } }, `${who}: PATCH of a filled order is 409 already_filled`);
  }
  const again = await place('alice', { symbol: 'APPL-128', side: 'buy', price: '899.00', quantity: 5, clientOrderId: 'ct-alice-1' });
  t.equal(again.json.id, id, 'the same clientOrderId returns the original order');
});

t.test('the stream takes the same place/update/remove messages and answers with the same bodies and errors', async (t) => {
  const ws = await stream('alice');
  t.teardown(() => ws.destroy());
  t.equal(ws.protocol, 'ims.v1', 'the server selects ims.v1 and never echoes the credential');
  t.same(await wsRequest(t, ws, { type: 'ping', requestId: 'p1' }), { type: 'pong', requestId: 'p1' });
  const placed = await wsRequest(t, ws, { type: 'place', requestId: 'w-place', order: { symbol: 'SONY-128', side: 'inflow', price: '480.00', quantity: 3, clientOrderId: 'ct-ws-1' } });
  t.match(placed, { type: 'result', requestId: 'w-place', status: 200, order: { symbol: 'SONY-128', status: 'added', price: '480.00', quantity: 3 } });
  const id = placed['order'].id as string;
  const rest = await call('GET', `/v1/transact/${id}`, { token: tokens['alice']! });
  t.same(rest.json, placed['order'], 'GET /v1/transact/{id} answers the very body the stream answered');
  const updated = await wsRequest(t, ws, { type: 'update', requestId: 'w-upd', id, changes: { quantity: 4 } });
  t.match(updated, { type: 'result', requestId: 'w-upd', order: { id, quantity: 4, status: 'updated' } });
  const noChange = await wsRequest(t, ws, { type: 'update', requestId: 'w-upd2', id, changes: { quantity: 4 } });
  const noChangeRest = await call('PATCH', `/v1/transact/${id}`, { token: tokens['alice']!, body: { quantity: 4 } });
  t.same(streamErrorOf(noChange), errorOf(noChangeRest), 'amend_no_change: the same error on both');
  const removed = await wsRequest(t, ws, { type: 'remove', requestId: 'w-rm', id });
  t.match(removed, { type: 'result', order: { id, status: 'removed' } });
  const removedAgain = await wsRequest(t, ws, { type: 'remove', requestId: 'w-rm2', id });
  const removedAgainRest = await call('DELETE', `/v1/transact/${id}`, { token: tokens['alice']! });
  t.same(streamErrorOf(removedAgain), errorOf(removedAgainRest), 'already_canceled: the same error on both');
  t.match(removedAgain, { type: 'error', requestId: 'w-rm2', status: 409, error: 'already_canceled' });
  const foreign = await wsRequest(t, ws, { type: 'remove', requestId: 'w-foreign', id: String((await place('bruno', { symbol: 'SONY-128', side: 'inflow', price: '470.00', quantity: 1 })).json.id) });
  t.match(foreign, { type: 'error', status: 404, error: 'unknown_order' }, "another colleague's order: 404 on the stream too");
  const wallet = await wsRequest(t, ws, { type: 'wallet', requestId: 'w-wallet' });
  t.match(wallet, { type: 'wallet', wallet: { accountId: accountIds['alice'] } });
  if (clientMessageSchema('orders') !== undefined) {
    const orders = await wsRequest(t, ws, { type: 'orders', requestId: 'w-orders', status: 'all' });
    t.ok(Array.isArray(orders['orders']) && orders['orders'].some((o: any) => o.id === id), 'the orders message lists the removed order');
  }
  // A fill pushes an execution to the resting order's owner.
  const resting = await wsRequest(t, ws, { type: 'place', requestId: 'w-rest', order: { symbol: 'SONY-128', side: 'outflow', price: '481.00', quantity: 2 } });
  const from = ws.messages.length;
  const taker = await place('bruno', { symbol: 'SONY-128', side: 'inflow', price: '481.00', quantity: 2 });
  t.match(taker.json, { status: 'filled' });
  const pushed = await ws.waitFor((m) => m['type'] === 'execution' && (m['order'] as any).id === resting['order'].id, ANSWER_BOUND_MS, from);
  t.match(pushed, { order: { status: 'filled', filledQuantity: 2, lastPrice: '481.00' } });
  t.same(contract.validator.validate(contract.schemaOf('Order'), pushed['order']), [], 'a pushed execution carries an Order body');

  // Stream-only errors: not JSON, binary, unknown type, mass assignment.
  const f1 = ws.messages.length;
  ws.send('{not json');
  t.match(await ws.waitFor((m) => m['type'] === 'error', ANSWER_BOUND_MS, f1), { requestId: null, status: 400, error: 'invalid_json' });
  const f2 = ws.messages.length;
  ws.sendFrame(0x2, Buffer.from([1, 2, 3]));
  t.match(await ws.waitFor((m) => m['type'] === 'error', ANSWER_BOUND_MS, f2), { status: 400, error: 'binary_not_supported' });
  t.match(await wsRequest(t, ws, { type: 'shout', requestId: 'w-shout' }, { invalid: true }), { type: 'error', status: 400, error: 'invalid_type' });
  t.match(await wsRequest(t, ws, { type: 'place', requestId: 'w-mass', order: { symbol: 'SONY-128', side: 'inflow', price: '480.00', quantity: 1, accountId: 1 } }, { invalid: true }), { type: 'error', status: 400, error: 'unknown_field' });

  // Upgrade refusals.
  const noCred = await TestWebSocket.connect(tradingPort);
  t.ok(isRefusal(noCred) && noCred.status === 401, 'no credential: 401');
  const badCred = await TestWebSocket.connect(tradingPort, { protocols: ['ims.v1', 'ims-token.imss_' + 'x'.repeat(43)] });
  t.ok(isRefusal(badCred) && badCred.status === 401, 'an unknown credential: 401');
  const badProto = await TestWebSocket.connect(tradingPort, { protocols: ['chat', `ims-token.${tokens['alice']}`] });
  t.ok(isRefusal(badProto) && badProto.status === 400 && JSON.parse(badProto.body).error === 'unsupported_subprotocol', 'without ims.v1: 400');
  for (const refusal of [noCred, badCred, badProto]) {
    if (isRefusal(refusal)) t.same(contract.validator.validate(contract.schemaOf('Error'), JSON.parse(refusal.body)), [], 'a refused upgrade answers an Error body');
  }
  const viaHeader = await TestWebSocket.connect(tradingPort, { headers: { Authorization: `Bearer ${tokens['bruno']}` } });
  t.notOk(isRefusal(viaHeader), 'a program upgrades with the Authorization header');
  if (!isRefusal(viaHeader)) viaHeader.destroy();
});

/** Order-entry inputs the gateway refuses before the product manager, with their 400 codes. */
const BAD_ORDERS: Array<[string, Record<string, unknown>, string]> = [
  ['price off tick', { symbol: 'APPL-128', side: 'inflow', price: '899.005', quantity: 1 }, 'price_not_on_tick'],
  ['price off a 0.05 tick', { symbol: 'APPL-PRO', side: 'inflow', price: '1499.03', quantity: 1 }, 'price_not_on_tick'],
  ['unknown symbol', { symbol: 'NOPE-1', side: 'inflow', price: '1.00', quantity: 1 }, 'unknown_symbol'],
  ['quantity 0', { symbol: 'APPL-128', side: 'inflow', price: '899.00', quantity: 0 }, 'quantity_out_of_range'],
  ['quantity above 2^30', { symbol: 'APPL-128', side: 'inflow', price: '899.00', quantity: 2 ** 30 + 1 }, 'quantity_out_of_range'],
  ['fractional quantity', { symbol: 'APPL-128', side: 'inflow', price: '899.00', quantity: 1.5 }, 'invalid_quantity'],
  ['price as a number', { symbol: 'APPL-128', side: 'inflow', price: 899, quantity: 1 }, 'invalid_price'],
  ['price with an exponent', { symbol: 'APPL-128', side: 'inflow', price: '8.99e2', quantity: 1 }, 'invalid_price'],
  ['zero price', { symbol: 'APPL-128', side: 'inflow', price: '0.00', quantity: 1 }, 'price_out_of_range'],
  ['huge price', { symbol: 'APPL-128', side: 'inflow', price: '999999999999999.99', quantity: 1 }, 'price_out_of_range'],
  ['notional beyond exact', { symbol: 'APPL-128', side: 'inflow', price: '99999999999.00', quantity: 2 ** 20 }, 'notional_out_of_range'],
  ['bad side', { symbol: 'APPL-128', side: 'up', price: '899.00', quantity: 1 }, 'invalid_side'],
  ['bad time in force', { symbol: 'APPL-128', side: 'inflow', price: '899.00', quantity: 1, timeInForce: 'GTD' }, 'invalid_time_in_force'],
  ['post-only IOC', { symbol: 'APPL-128', side: 'inflow', price: '899.00', quantity: 1, postOnly: true, timeInForce: 'IOC' }, 'post_only_with_ioc_or_fok'],
  ['unknown field', { symbol: 'APPL-128', side: 'inflow', price: '899.00', quantity: 1, colour: 'red' }, 'unknown_field'],
  ['mass-assigned status', { symbol: 'APPL-128', side: 'inflow', price: '899.00', quantity: 1, status: 'filled' }, 'unknown_field'],
  ['missing price', { symbol: 'APPL-128', side: 'inflow', quantity: 1 }, 'missing_field'],
  ['bad client order id', { symbol: 'APPL-128', side: 'inflow', price: '899.00', quantity: 1, clientOrderId: 'has space' }, 'invalid_client_order_id'],
];

t.test('400: every bad order gets its code over REST, and the stream answers the same error', async (t) => {
  const ws = await stream('bruno');
  t.teardown(() => ws.destroy());
  let n = 0;
  for (const [name, body, code] of BAD_ORDERS) {
    const r = await place('bruno', body);
    t.match(r, { status: 400, json: { error: code } }, `${name}: 400 ${code}`);
    t.type(r.json?.detail, 'string');
    const m = await wsRequest(t, ws, { type: 'place', requestId: `bad-${n++}`, order: body }, { invalid: true });
    t.same(streamErrorOf(m), errorOf(r), `${name}: the stream answers the same status, code and detail`);
  }
  t.equal((await place('bruno', BAD_ORDERS[0]![1])).json.detail, 'price 899.005 is not a multiple of tick 0.01 for APPL-128', 'the detail names the price, the tick and the product');
  const notJson = await call('POST', '/v1/transact', { token: tokens['bruno']!, rawBody: '{"symbol":' });
  t.match(notJson, { status: 400, json: { error: 'invalid_json' } });
  const emptyBody = await call('POST', '/v1/transact', { token: tokens['bruno']!, rawBody: '' });
  t.match(emptyBody, { status: 400, json: { error: 'invalid_json' } });
  const array = await call('POST', '/v1/transact', { token: tokens['bruno']!, body: [BAD_ORDERS[0]![1]] });
  t.match(array, { status: 400, json: { error: 'invalid_body' } });
  const form = await call('POST', '/v1/transact', { token: tokens['bruno']!, rawBody: 'symbol=APPL-128', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  t.match(form, { status: 400, json: { error: 'unsupported_content_type' } });
  t.match(await call('GET', '/v1/transact?status=closed', { token: tokens['bruno']! }), { status: 400, json: { error: 'invalid_status' } });
  t.match(await call('GET', '/v1/transact?status=open&accountId=1', { token: tokens['bruno']! }), { status: 400, json: { error: 'unknown_field' } });
  t.match(await call('GET', '/v1/transact?status=open&status=all', { token: tokens['bruno']! }), { status: 400, json: { error: 'duplicate_query_field' } });
  t.match(await call('GET', `/v1/transact?status=${'a'.repeat(2100)}`, { token: tokens['bruno']! }), { status: 400, json: { error: 'invalid_query' } });
  t.match(await call('GET', '/v1/transact/abc', { token: tokens['bruno']! }), { status: 400, json: { error: 'invalid_id' } });
  t.match(await call('GET', '/v1/wallet?accountId=abc', { token: tokens['bruno']! }), { status: 400, json: { error: 'invalid_account_id' } });
  const own = await place('bruno', { symbol: 'APPL-128', side: 'inflow', price: '850.00', quantity: 1 });
  t.equal(own.status, 200);
  for (const [name, changes, code] of [['price off tick', { price: '850.001' }, 'price_not_on_tick'], ['quantity 0', { quantity: 0 }, 'quantity_out_of_range'], ['unknown field', { side: 'outflow' }, 'unknown_field']] as const) {
    const badUpdateRest = await call('PATCH', `/v1/transact/${own.json.id}`, { token: tokens['bruno']!, body: changes });
    t.match(badUpdateRest, { status: 400, json: { error: code } }, `update, ${name}: 400 ${code}`);
    const badUpdate = await wsRequest(t, ws, { type: 'update', requestId: `bad-upd-${code}`, id: own.json.id, changes }, { invalid: true });
    t.same(streamErrorOf(badUpdate), errorOf(badUpdateRest), `update, ${name}: the same error on both`);
  }
  t.match(await wsRequest(t, ws, { type: 'remove', requestId: 'bad-rm', id: 'abc' }, { invalid: true }), { type: 'error', status: 400, error: 'invalid_id' });
  t.match((await call('DELETE', `/v1/transact/${own.json.id}`, { token: tokens['bruno']! })).json, { status: 'removed' });
});

t.test("409/404/403 from the product manager and the engine: risk limits, funds, inventory, a halted product, post-only, FOK — the same on the stream", async (t) => {
  const ws = await stream('alice');
  t.teardown(() => ws.destroy());
  let n = 0;
  const both = async (who: string, body: Record<string, unknown>, status: number, code: string, what: string): Promise<void> => {
    const r = await place(who, body);
    t.match(r, { status, json: { error: code } }, `${what}: ${status} ${code} (${r.text.slice(0, 160)})`);
    if (who === 'alice') {
      const m = await wsRequest(t, ws, { type: 'place', requestId: `pm-${n++}`, order: body });
      t.same(streamErrorOf(m), errorOf(r), `${what}: the stream answers the same`);
    }
  };
  await both('alice', { symbol: 'APPL-128', side: 'inflow', price: '899.00', quantity: 1_000_001 }, 409, 'risk_max_order_quantity', 'above the maximum order quantity');
  await both('alice', { symbol: 'APPL-128', side: 'inflow', price: '500.00', quantity: 1 }, 409, 'risk_price_collar', 'far from the reference price');
  await both('alice', { symbol: 'APPL-128', side: 'inflow', price: '899.00', quantity: 1_200 }, 409, 'risk_notional_daily_limit', 'beyond the daily notional');
  await both('alice', { symbol: 'BOSE-64', side: 'outflow', price: '249.00', quantity: 1_001 }, 409, 'insufficient_inventory', 'more units than held');
  // A FOK that cannot fill is not a rejection: the engine cancels it at once, nothing executed.
  const fok = { symbol: 'ASUS-64', side: 'inflow', price: '499.00', quantity: 5, timeInForce: 'FOK' };
  const fokRest = await place('alice', fok);
  t.match(fokRest, { status: 200, json: { filledQuantity: 0, remainingQuantity: 0, reason: 'fok_not_fillable' } }, `a FOK with nothing to fill it is answered removed, reason fok_not_fillable (${fokRest.text.slice(0, 200)})`);
  const fokWs = await wsRequest(t, ws, { type: 'place', requestId: 'pm-fok', order: fok });
  t.match(fokWs, { type: 'result', order: { status: fokRest.json.status, reason: 'fok_not_fillable', filledQuantity: 0 } }, 'the stream answers the same');

  // Post-only that would take: bruno rests, alice's post-only at his price is refused by the engine.
  const rest = await place('bruno', { symbol: 'LGEL-64', side: 'outflow', price: '299.00', quantity: 1 });
  t.match(rest.json, { status: 'added' });
  await both('alice', { symbol: 'LGEL-64', side: 'inflow', price: '299.00', quantity: 1, postOnly: true }, 409, 'post_only_would_take', 'a post-only order that would take');
  t.match((await call('DELETE', `/v1/transact/${rest.json.id}`, { token: tokens['bruno']! })).json, { status: 'removed' });

  // A halted product: the operator halts it, orders are refused by the product manager; the admin resumes it.
  const halt = await call('POST', '/v1/admin/products/SONY-64/halt', { token: tokens['ops']! });
  t.match(halt, { status: 202, json: { command: 'HaltProduct', status: 'submitted' } });
  const probe = { symbol: 'SONY-64', side: 'inflow', price: '399.00', quantity: 1, timeInForce: 'IOC' };
  await eventually('the halt to reach the product manager', () => place('alice', probe), (r) => r.status === 409);
  await both('alice', probe, 409, 'product_halted', 'a halted product');
  const listed = await call('GET', '/v1/admin/products', { token: tokens['ops']! });
  t.equal(listed.status, 200);
  t.equal(listed.json.products.find((p: any) => p.symbol === 'SONY-64')?.halted, true, 'the admin product list shows the halt');
  t.match(await call('POST', '/v1/admin/products/SONY-64/resume', { token: tokens['admin']! }), { status: 202, json: { command: 'ResumeProduct' } });
  const resumed = await eventually('the resume to reach the product manager', () => place('alice', probe), (r) => r.status === 200);
  t.match(resumed.json, { symbol: 'SONY-64' }, 'orders are taken again after the resume');
  t.match(await call('POST', '/v1/admin/products/NOPE-1/halt', { token: tokens['ops']! }), { status: 400, json: { error: 'unknown_symbol' } });
  t.match(await call('POST', '/v1/admin/products/SONY-64/halt', { token: tokens['alice']! }), { status: 403, json: { error: 'forbidden' } });

  // Staff do not trade (403 by role, at the route), on the stream too.
  t.match(await place('admin', { symbol: 'APPL-128', side: 'inflow', price: '899.00', quantity: 1 }), { status: 403, json: { error: 'forbidden' } });
});

t.test('admin money, stock, risk and listing commands: 202 and their effect through the real product manager', async (t) => {
  // Withdraw all but 100.00 of emeka's cash: an order for more than that is then refused (insufficient_funds).
  const w0 = await call('GET', '/v1/wallet', { token: tokens['emeka']! });
  const availableCents = Math.round(Number(w0.json.cash.available) * 100);
  const take = availableCents - 10_000;
  const withdrawal = await call('POST', '/v1/admin/withdrawals', { token: tokens['admin']!, body: { accountId: accountIds['emeka'], amount: `${Math.floor(take / 100)}.${String(take % 100).padStart(2, '0')}`, reference: 910_001 } });
  t.match(withdrawal, { status: 202, json: { command: 'Withdraw', status: 'submitted' } });
  await eventually("the withdrawal in emeka's wallet", () => call('GET', '/v1/wallet', { token: tokens['emeka']! }), (r) => r.json?.cash?.available === '100.00');
  t.match(await place('emeka', { symbol: 'APPL-128', side: 'inflow', price: '899.00', quantity: 1 }), { status: 409, json: { error: 'insufficient_funds' } });
  const deposit = await call('POST', '/v1/admin/deposits', { token: tokens['admin']!, body: { accountId: accountIds['emeka'], amount: '1000.00', reference: 910_002 } });
  t.match(deposit, { status: 202, json: { command: 'Deposit' } });
  await eventually("the deposit in emeka's wallet", () => call('GET', '/v1/wallet', { token: tokens['emeka']! }), (r) => r.json?.cash?.available === '1100.00');
  t.match(await place('emeka', { symbol: 'APPL-128', side: 'inflow', price: '899.00', quantity: 1 }), { status: 200 }, 'the deposit funds the order');

  const receipt = await call('POST', '/v1/admin/inventory-receipts', { token: tokens['admin']!, body: { accountId: accountIds['emeka'], symbol: 'cano-64', quantity: 40, reference: 910_003 } });
  t.match(receipt, { status: 202, json: { command: 'InventoryReceipt' } });
  const dispatch = await call('POST', '/v1/admin/inventory-dispatches', { token: tokens['admin']!, body: { accountId: accountIds['emeka'], symbol: 'CANO-64', quantity: 10, reference: 910_004 } });
  t.match(dispatch, { status: 202, json: { command: 'InventoryDispatch' } });
  await eventually("the stock movements in emeka's wallet", () => call('GET', '/v1/wallet', { token: tokens['emeka']! }), (r) => r.json?.inventory?.find((p: any) => p.symbol === 'CANO-64')?.balance === 1_030);

  // A brand rule for chen only: 5 Canon units a day; the 6th unit is refused by the product manager.
  const rule = await call('PUT', '/v1/admin/risk-rules', { token: tokens['risk']!, body: { kind: 'brand_daily_units', limit: '5', accountId: accountIds['chen'], brand: 'canon' } });
  t.match(rule, { status: 202, json: { command: 'SetRiskRule' } });
  await eventually("chen's Canon limit in the wallet", () => call('GET', '/v1/wallet', { token: tokens['chen']! }), (r) => r.json?.brandLimits?.find((b: any) => b.brand === 'Canon')?.limitUnits === 5);
  t.match(await place('chen', { symbol: 'CANO-64', side: 'inflow', price: '449.00', quantity: 6 }), { status: 409, json: { error: 'risk_brand_daily_limit' } });
  t.match(await place('dara', { symbol: 'CANO-64', side: 'inflow', price: '449.00', quantity: 6, timeInForce: 'IOC' }), { status: 200 }, 'the rule is chen’s only');
  if (contract.operationOf('GET', '/v1/admin/risk-rules') !== null) {
    const rules = await call('GET', `/v1/admin/risk-rules?accountId=${accountIds['chen']}`, { token: tokens['risk']! });
    t.equal(rules.status, 200, `the rules in force (${rules.text.slice(0, 200)})`);
  }
  t.match(await call('PUT', '/v1/admin/risk-rules', { token: tokens['risk']!, body: { kind: 'brand_daily_units', limit: null, accountId: accountIds['chen'], brand: 'Canon' } }), { status: 202 }, 'limit null removes the rule');

  // A new product with a 0.05 tick and a lot of 10 becomes tradable; its tick and lot are enforced.
  const listing = await call('POST', '/v1/admin/products', { token: tokens['admin']!, body: { productId: 4343, symbol: 'ctrc-1', brand: 'Apple', tickSize: '0.05', lotSize: 10, referencePrice: '20.00' } });
  t.match(listing, { status: 202, json: { command: 'ListProduct' } });
  await eventually('the listing on the gateway', () => call('GET', '/v1/products'), (r) => r.json?.products?.some((p: any) => p.symbol === 'CTRC-1'));
  t.match(await place('bruno', { symbol: 'CTRC-1', side: 'inflow', price: '20.00', quantity: 15 }), { status: 400, json: { error: 'quantity_not_on_lot' } });
  t.match(await place('bruno', { symbol: 'CTRC-1', side: 'inflow', price: '20.03', quantity: 10 }), { status: 400, json: { error: 'price_not_on_tick' } });
  t.match(await place('bruno', { symbol: 'CTRC-1', side: 'inflow', price: '20.05', quantity: 10, timeInForce: 'IOC' }), { status: 200 }, 'on tick and lot: taken');
  t.match(await call('POST', '/v1/admin/products', { token: tokens['admin']!, body: { productId: 4343, symbol: 'CTRC-1', brand: 'Apple', tickSize: '0.05', lotSize: 10, referencePrice: '20.00' } }), { status: 409, json: { error: 'product_already_listed' } });

  // 400s of the admin commands.
  const admin = tokens['admin']!;
  t.match(await call('POST', '/v1/admin/deposits', { token: admin, body: { accountId: accountIds['emeka'], amount: '0.00', reference: 910_010 } }), { status: 400, json: { error: 'amount_out_of_range' } });
  t.match(await call('POST', '/v1/admin/deposits', { token: admin, body: { accountId: accountIds['emeka'], amount: '1.005', reference: 910_011 } }), { status: 400, json: { error: 'invalid_amount' } });
  t.match(await call('POST', '/v1/admin/inventory-receipts', { token: admin, body: { accountId: accountIds['emeka'], symbol: 'NOPE-1', quantity: 1, reference: 910_012 } }), { status: 400, json: { error: 'unknown_symbol' } });
  t.match(await call('PUT', '/v1/admin/risk-rules', { token: tokens['risk']!, body: { kind: 'brand_daily_units', limit: '5', brand: 'Nokia' } }), { status: 400, json: { error: 'unknown_brand' } });
  t.match(await call('PUT', '/v1/admin/risk-rules', { token: tokens['risk']!, body: { kind: 'brand_daily_units', limit: '5.5' } }), { status: 400, json: { error: 'invalid_limit' } });
  t.match(await call('POST', '/v1/admin/products', { token: admin, body: { productId: 4344, symbol: 'CTRC-2', brand: 'Apple', tickSize: '0.05', lotSize: 1, referencePrice: '20.03' } }), { status: 400, json: { error: 'price_not_on_tick' } });
  // 403 by role: each command only for its role.
  t.match(await call('POST', '/v1/admin/deposits', { token: tokens['ops']!, body: { accountId: accountIds['emeka'], amount: '1.00', reference: 910_013 } }), { status: 403, json: { error: 'forbidden' } });
  t.match(await call('PUT', '/v1/admin/risk-rules', { token: admin, body: { kind: 'max_open_orders', limit: '10' } }), { status: 403, json: { error: 'forbidden' } });
  t.match(await call('POST', '/v1/admin/inventory-receipts', { token: tokens['alice']!, body: { accountId: accountIds['alice'], symbol: 'APPL-128', quantity: 1, reference: 910_014 } }), { status: 403, json: { error: 'forbidden' } });
});

t.test('wallets and trading history: own, staff, forbidden, unknown', async (t) => {
  const own = await call('GET', '/v1/wallet', { token: tokens['alice']! });
  t.match(own, { status: 200, json: { accountId: accountIds['alice'], outletId: 101 } });
  t.match(await call('GET', `/v1/wallet?accountId=${accountIds['bruno']}`, { token: tokens['ceo']! }), { status: 200, json: { accountId: accountIds['bruno'] } });
  t.match(await call('GET', `/v1/wallet?accountId=${accountIds['bruno']}`, { token: tokens['alice']! }), { status: 403, json: { error: 'forbidden' } });
  t.match(await call('GET', '/v1/wallet?accountId=4000000000', { token: tokens['admin']! }), { status: 404, json: { error: 'unknown_account' } });
  t.match(await call('GET', '/v1/wallet', { token: tokens['ops']! }), { status: 403 });

  // The reporter's database catches up with the fills within its batch time.
  const executions = await eventually("alice's executions in the history", () => call('GET', '/v1/execution?symbol=APPL-128&limit=10', { token: tokens['alice']! }), (r) => r.status === 200 && r.json.executions.length >= 1);
  t.ok(executions.json.executions.every((e: any) => e.accountId === accountIds['alice']), 'a colleague sees only their own executions');
  const orders = await call('GET', '/v1/orders?limit=5', { token: tokens['alice']! });
  t.equal(orders.status, 200, orders.text.slice(0, 200));
  t.ok(orders.json.orders.length >= 1);
  const everyone = await call('GET', `/v1/orders?accountId=${accountIds['bruno']}&limit=5`, { token: tokens['ceo']! });
  t.equal(everyone.status, 200, 'an analyst reads anyone’s orders');
  t.match(await call('GET', `/v1/orders?accountId=${accountIds['bruno']}`, { token: tokens['alice']! }), { status: 403, json: { error: 'forbidden' } });
  t.match(await call('GET', '/v1/execution', { token: tokens['ops']! }), { status: 403, json: { error: 'forbidden' } });
  t.match(await call('GET', '/v1/execution?limit=5000', { token: tokens['alice']! }), { status: 400, json: { error: 'limit_out_of_range' } });
  t.match(await call('GET', '/v1/execution?cursor=zzz', { token: tokens['alice']! }), { status: 400, json: { error: 'invalid_cursor' } });
  t.match(await call('GET', '/v1/execution?startTime=20&endTime=10', { token: tokens['alice']! }), { status: 400, json: { error: 'invalid_time_range' } });
});

t.test('sessions, API keys, applications, KYC review, staff accounts, suspension: success and every refusal', async (t) => {
  // A second session for alice, logged out: its token stops working at once.
  const extra = await call('POST', '/v1/sessions', { body: { username: 'alice', password: DEMO_PASSWORDS['alice'] } });
  t.equal(extra.status, 201);
  const me = await call('GET', '/v1/sessions/current', { token: extra.json.token });
  t.match(me, { status: 200, json: { username: 'alice', role: 'colleague', outletId: 101 } });
  t.match(await call('DELETE', '/v1/sessions/current', { token: extra.json.token }), { status: 200, json: { status: 'logged_out' } });
  t.match(await call('GET', '/v1/sessions/current', { token: extra.json.token }), { status: 401, json: { error: 'session_invalid' } });
  t.match(await call('POST', '/v1/sessions', { body: { username: 'alice', password: 'not-the-password-1' } }), { status: 401, json: { error: 'invalid_credentials' } });
  t.match(await call('GET', '/v1/sessions/current'), { status: 401, json: { error: 'unauthenticated' } });
  t.match(await call('GET', '/v1/sessions/current', { headers: { authorization: 'Basic abc' } }), { status: 401, json: { error: 'invalid_token' } });
  t.match(await call('GET', '/v1/sessions/current', { token: 'imss_' + 'y'.repeat(43) }), { status: 401 });
  t.match(await call('POST', '/v1/transact', { body: BAD_ORDERS[0]![1] }), { status: 401, json: { error: 'unauthenticated' } }, 'order entry without a credential: 401 before validation');

  // API keys: create from a session, list, use, cannot create keys, cannot log out, revoke.
  const created = await call('POST', '/v1/api-keys', { token: tokens['bruno']!, body: { label: 'contract bot' } });
  t.match(created, { status: 201, json: { label: 'contract bot' } });
  const key = created.json.key as string;
  const keys = await call('GET', '/v1/api-keys', { token: tokens['bruno']! });
  t.ok(keys.json.keys.some((k: any) => k.keyId === created.json.keyId), 'listed');
  t.notOk(keys.text.includes(key), 'a listing never shows the key');
  t.match(await call('GET', '/v1/sessions/current', { token: key }), { status: 200, json: { username: 'bruno' } });
  t.match(await place('bruno', { symbol: 'APPL-64', side: 'inflow', price: '720.00', quantity: 1, timeInForce: 'IOC' }), { status: 200 });
  t.match(await call('POST', '/v1/api-keys', { token: key, body: { label: 'nested' } }), { status: 403 });
  t.match(await call('DELETE', '/v1/sessions/current', { token: key }), { status: 400, json: { error: 'not_a_session' } });
  t.match(await call('DELETE', `/v1/api-keys/${created.json.keyId}`, { token: tokens['bruno']! }), { status: 200, json: { status: 'revoked' } });
  t.match(await call('DELETE', '/v1/api-keys/987654', { token: tokens['bruno']! }), { status: 404 });
  await eventually('the revoked key to be refused (the gateway caches a credential for 1 s)', () => call('GET', '/v1/sessions/current', { token: key }), (r) => r.status === 401);
  t.match(await call('GET', '/v1/sessions/current', { token: key }), { json: { error: 'api_key_invalid' } });

  // Applications: approved at once; flagged for review; username taken; staff role refused.
  const zoe = await call('POST', '/v1/applications', { body: applicationBody('contract-zoe', 'Zoe Contract', 701) });
  t.match(zoe, { status: 201, json: { username: 'contract-zoe', status: 'approved', reasons: [] } });
  t.match(await call('POST', '/v1/applications', { body: applicationBody('contract-zoe', 'Zoe Again', 702) }), { status: 409, json: { error: 'username_taken' } });
  t.match(await call('POST', '/v1/applications', { body: applicationBody('contract-gina', 'Gina Grab', 703, { role: 'admin', outletId: undefined }) }), { status: 403, json: { error: 'forbidden' } });
  const bad = await call('POST', '/v1/applications', { body: { ...applicationBody('contract-fred', 'Fred', 704), dateOfBirth: '12/04/1990', address: { city: 'Leeds' } } });
  t.equal(bad.status, 400);
  t.ok(bad.json.fields.length >= 2, 'every wrong field is listed');
  const flagged = await call('POST', '/v1/applications', { body: applicationBody('contract-boris', 'Boris Quellmarch', 705) });
  t.match(flagged, { status: 201, json: { status: 'pending_review' } }, 'a name close to the sanctions list goes to review');
  const queue = await call('GET', '/v1/admin/kyc-reviews?limit=50', { token: tokens['admin']! });
  t.equal(queue.status, 200);
  t.ok(queue.json.applications.some((a: any) => a.applicationId === flagged.json.applicationId), 'the review queue lists it');
  t.match(await call('GET', '/v1/admin/kyc-reviews', { token: tokens['alice']! }), { status: 403, json: { error: 'forbidden' } });
  const decided = await call('POST', `/v1/admin/kyc-reviews/${flagged.json.applicationId}`, { token: tokens['admin']!, body: { decision: 'approve', note: 'a different person: date of birth and address differ' } });
  t.match(decided, { status: 200, json: { status: 'approved' } });
  t.match(await call('POST', `/v1/admin/kyc-reviews/${flagged.json.applicationId}`, { token: tokens['admin']!, body: { decision: 'reject', note: 'again' } }), { status: 409 });
  t.match(await call('POST', '/v1/admin/kyc-reviews/99999999', { token: tokens['admin']!, body: { decision: 'reject', note: 'no such' } }), { status: 404 });

  // A staff account created by an admin.
  const analyst = await call('POST', '/v1/admin/accounts', { token: tokens['admin']!, body: applicationBody('contract-ana', 'Ana Lyst', 706, { role: 'analyst', outletId: undefined }) });
  t.match(analyst, { status: 201, json: { status: 'approved' } });

  // Suspension: zoe cannot log in while suspended; reinstated, she can.
  const zoeId = zoe.json.accountId as number;
  t.match(await call('POST', `/v1/admin/accounts/${zoeId}/suspend`, { token: tokens['risk']!, body: { reason: 'contract test' } }), { status: 200, json: { accountId: zoeId, suspended: true } });
  const zoeLogin = await call('POST', '/v1/sessions', { body: { username: 'contract-zoe', password: 'kiosk-Passphrase-2024' } });
  t.ok(zoeLogin.status === 401 || zoeLogin.status === 403, `a suspended account cannot log in (${zoeLogin.status} ${zoeLogin.json?.error})`);
  t.match(await call('POST', `/v1/admin/accounts/${zoeId}/suspend`, { token: tokens['risk']!, body: { reason: 'again' } }), { status: 409 });
  t.match(await call('POST', `/v1/admin/accounts/${zoeId}/reinstate`, { token: tokens['admin']!, body: { reason: 'cleared' } }), { status: 200, json: { accountId: zoeId, suspended: false } });
  t.match(await call('POST', '/v1/sessions', { body: { username: 'contract-zoe', password: 'kiosk-Passphrase-2024' } }), { status: 201 });
  t.match(await call('POST', '/v1/admin/accounts/999999999/suspend', { token: tokens['admin']!, body: { reason: 'nobody' } }), { status: 404 });
  t.match(await call('POST', `/v1/admin/accounts/${zoeId}/suspend`, { token: tokens['ops']!, body: { reason: 'not mine' } }), { status: 403 });

  // Roles: an admin makes the analyst an operator; refusals for a repeat, a risk admin, an unknown role and account.
  const anaId = analyst.json.accountId as number;
  t.match(await call('PUT', `/v1/admin/accounts/${anaId}/role`, { token: tokens['admin']!, body: { role: 'operator', reason: 'contract test' } }), { status: 200, json: { accountId: anaId, previousRole: 'analyst', role: 'operator', outletId: 0 } });
  t.match(await call('PUT', `/v1/admin/accounts/${anaId}/role`, { token: tokens['admin']!, body: { role: 'operator', reason: 'again' } }), { status: 409, json: { error: 'role_unchanged' } });
  t.match(await call('PUT', `/v1/admin/accounts/${anaId}/role`, { token: tokens['admin']!, body: { role: 'colleague', reason: 'no outlet' } }), { status: 400, json: { error: 'validation_failed' } });
  t.match(await call('PUT', `/v1/admin/accounts/${anaId}/role`, { token: tokens['risk']!, body: { role: 'analyst', reason: 'not mine' } }), { status: 403 });
  t.match(await call('PUT', `/v1/admin/accounts/${anaId}/role`, { token: tokens['admin']!, body: { role: 'ceo', reason: 'no such role' } }), { status: 400 });
  t.match(await call('PUT', '/v1/admin/accounts/999999999/role', { token: tokens['admin']!, body: { role: 'analyst', reason: 'nobody' } }), { status: 404 });
});

t.test('404, 408 and 413: unknown routes, a body that never arrives, bodies and headers too large', async (t) => {
  t.match(await call('GET', '/v2/nothing'), { status: 404, json: { error: 'not_found' } });
  t.match(await call('PUT', '/v1/transact', { body: BAD_ORDERS[0]![1] }), { status: 404, json: { error: 'not_found' } }, 'a method the path does not have');
  t.match(await call('POST', '/v1/transact', { port: publicPort, body: BAD_ORDERS[0]![1] }), { status: 404 }, 'no order entry on the public listener');

  const big = JSON.stringify({ symbol: 'APPL-128', side: 'inflow', price: '899.00', quantity: 1, pad: 'y'.repeat(20 * 1024) });
  const declared = rawAnswer('POST', '/v1/transact', await raw(`POST /v1/transact HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${tokens['bruno']}\r\nContent-Type: application/json\r\nContent-Length: ${big.length}\r\n\r\n${big}`));
  t.match(declared, { status: 413, json: { error: 'body_too_large' } }, 'a declared length over the limit: 413');
  const chunked = rawAnswer('POST', '/v1/transact', await raw(`POST /v1/transact HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${tokens['bruno']}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${big.length.toString(16)}\r\n${big}\r\n0\r\n\r\n`));
  t.match(chunked, { status: 413, json: { error: 'body_too_large' } }, 'a chunked body growing over the limit: 413');
  const headers = await call('GET', '/v1/products', { headers: { 'x-filler': 'z'.repeat(10 * 1024) } });
  t.match(headers, { status: 413, json: { error: 'headers_too_large' } });

  const late = rawAnswer('POST', '/v1/transact', await bodyTimeoutProbe);
  t.match(late, { status: 408, json: { error: 'request_timeout' } }, 'a body that does not arrive within 5 s: 408');
});

t.test("429 + Retry-After: an account's order flood, an IP's request flood and failed logins — others keep being served", async (t) => {
  // dara floods orders over the stream, from an address of its own (so the per-IP limit stays out of
  // it): 100 valid orders, then 900 off-tick ones. The per-account bucket holds 200 and refills at
  // 200/s; the rate is checked before normalization, so an off-tick order spends a token (400) or is
  // refused (429) and never reaches the product manager. How many 429s the bucket must have given
  // follows from the time the gateway took to answer all of them, so a loaded machine cannot make
  // this pass or fail by luck.
  const ORDERS_PER_SECOND = 200;
  const FLOOD_ADDRESS = '127.0.0.4';
  const ws = await TestWebSocket.connect(tradingPort, { protocols: ['ims.v1', `ims-token.${tokens['dara']}`], localAddress: FLOOD_ADDRESS, timeoutMs: ANSWER_BOUND_MS });
  if (isRefusal(ws)) throw new Error(`dara's stream refused: ${ws.status} ${ws.body}`);
  t.teardown(() => ws.destroy());
  await ws.request({ type: 'ping', requestId: 'ready' }, ANSWER_BOUND_MS);
  const FLOOD = 1_000;
  const VALID = 100;
  const from = ws.messages.length;
  const floodStarted = Date.now();
  for (let i = 0; i < FLOOD; i++) ws.send(JSON.stringify({ type: 'place', requestId: `f${i}`, order: { symbol: 'BOSE-64', side: 'inflow', price: i < VALID ? '230.00' : '230.001', quantity: 1 } }));
  const during = await place('bruno', { symbol: 'BOSE-64', side: 'inflow', price: '229.00', quantity: 1 });
  t.equal(during.status, 200, "bruno's order is served during dara's flood");
  const answerOf = new Map<string, Record<string, any>>();
  await until('every flood message answered', () => {
    for (const m of ws.messages.slice(from + answerOf.size)) {
      const j = JSON.parse(m);
      if (typeof j.requestId === 'string' && j.requestId.startsWith('f') && j.type !== 'execution') answerOf.set(j.requestId, j);
    }
    return answerOf.size >= FLOOD;
  }, ANSWER_BOUND_MS * 2, 10);
  const floodSeconds = (Date.now() - floodStarted) / 1000;
  const answers = [...answerOf.values()];
  const taken = answers.filter((m) => m.type === 'result').length;
  const spent400 = answers.filter((m) => m.type === 'error' && m.status === 400 && m.error === 'price_not_on_tick').length;
  const limited = answers.filter((m) => m.type === 'error' && m.status === 429);
  t.equal(taken + spent400 + limited.length, FLOOD, `every flood message was taken (${taken}), refused as off-tick after spending a token (${spent400}) or refused with 429 (${limited.length})`);
  t.equal(taken, VALID, 'the first 100 (valid) orders were all within the burst allowance and taken');
  const mustLimit = FLOOD - ORDERS_PER_SECOND - Math.ceil(ORDERS_PER_SECOND * floodSeconds);
  t.ok(limited.length >= Math.max(1, mustLimit), `at least ${Math.max(1, mustLimit)} refused with 429 by a ${ORDERS_PER_SECOND}/s bucket over ${floodSeconds.toFixed(2)} s (${limited.length})`);
  t.ok(limited.every((m) => m.error === 'order_rate_limited' && m.retryAfterSeconds >= 1), 'each stream 429 says why and when to retry');
  for (const m of limited.slice(0, 3)) checkStreamAnswer(t, m);
  // Then over REST: bursts of 50 off-tick orders until the bucket is empty (bounded: 20 bursts).
  let rest429: Answer[] = [];
  for (let burst = 0; burst < 20 && rest429.length === 0; burst++) {
    const rest = await Promise.all(Array.from({ length: 50 }, () => call('POST', '/v1/transact', { token: tokens['dara']!, localAddress: FLOOD_ADDRESS, body: { symbol: 'BOSE-64', side: 'inflow', price: '230.001', quantity: 1 } })));
    t.ok(rest.every((r) => (r.status === 400 && r.json.error === 'price_not_on_tick') || r.status === 429), `REST burst ${burst + 1}: every answer is 400 (a token spent) or 429`);
    rest429 = rest.filter((r) => r.status === 429);
  }
  t.ok(rest429.length >= 1, `REST orders beyond the rate get 429 too (${rest429.length} in the last burst)`);
  t.ok(rest429.every((r) => r.json.error === 'order_rate_limited' && Number(r.headers['retry-after']) >= 1 && r.json.retryAfterSeconds === Number(r.headers['retry-after'])), 'with a Retry-After header equal to retryAfterSeconds');
  await new Promise((r) => setTimeout(r, 1_000 * Number(rest429[0]?.headers['retry-after'] ?? 1)));
  t.equal((await place('dara', { symbol: 'BOSE-64', side: 'inflow', price: '230.00', quantity: 1 })).status, 200, 'after Retry-After, dara trades again');

  // One IP floods requests (pipelined on one connection); another address is served meanwhile.
  // Same arithmetic: 2,000 requests/s with a burst of 2,000 per address.
  const IP_REQUESTS_PER_SECOND = 2_000;
  const N = 6_000;
  const answered = (got: string): boolean => (got.match(/HTTP\/1\.1 \d{3}/g)?.length ?? 0) >= N && got.endsWith('}');
  const ipFloodStarted = Date.now();
  const flood = raw('GET /v1/sessions/current HTTP/1.1\r\nHost: gw\r\n\r\n'.repeat(N), 30_000, '127.0.0.2', answered);
  const other = await call('GET', '/v1/products');
  const text = await flood;
  const ipFloodSeconds = (Date.now() - ipFloodStarted) / 1000;
  const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
  const ip429 = statuses.filter((s) => s === 429).length;
  const mustLimitIp = N - IP_REQUESTS_PER_SECOND - Math.ceil(IP_REQUESTS_PER_SECOND * ipFloodSeconds);
  t.equal(other.status, 200, 'another address is served during the flood');
  t.equal(statuses.length, N, 'every pipelined request was answered');
  t.ok(ip429 >= Math.max(1, mustLimitIp), `the flooding address got at least ${Math.max(1, mustLimitIp)} 429s over ${ipFloodSeconds.toFixed(2)} s (${ip429} of ${N})`);
  t.ok(statuses.every((s) => s === 401 || s === 429), 'every flood answer is 401 (no credential) or 429');
  t.match(text, /retry-after: *\d+/i, 'with Retry-After');
  const limitedIp = rawAnswer('GET', '/v1/sessions/current', text.slice(text.indexOf('HTTP/1.1 429')));
  t.match(limitedIp, { status: 429, json: { error: 'rate_limited' } });

  // Failed logins from one address: after 5 per username the address is refused, even with the right password.
  for (let i = 0; i < 5; i++) {
    const r = await call('POST', '/v1/sessions', { localAddress: '127.0.0.3', body: { username: 'contract-nobody', password: `wrong-guess-${i}-x` } });
    t.equal(r.status, 401, `failed login ${i + 1}: 401`);
  }
  const blocked = await call('POST', '/v1/sessions', { localAddress: '127.0.0.3', body: { username: 'contract-nobody', password: 'wrong-guess-9-x' } });
  t.match(blocked, { status: 429, json: { error: 'too_many_failed_logins' } });
  t.ok(Number(blocked.headers['retry-after']) >= 1, 'with a Retry-After');
});

t.test('kill -9 of the hot product manager while orders flow: normal answers or 503 with a retry hint, never 500 or a hang; a retry with the same clientOrderId returns the same order', async (t) => {
  const before = readPmStatus(inst.runDir);
  t.ok(before.lease !== null && before.lease.leaderAlive, 'a live leader');
  const leaderPid = before.lease!.leaderPid;
  const lanes = ['alice', 'bruno', 'chen', 'emeka'] as const;
  interface Sent { who: string; coid: string; body: Record<string, unknown>; answer: Answer }
  const sent: Sent[] = [];
  let killedAt = 0;
  let takeoverSeenAt = 0;
  const newLeaderHot = (): boolean => {
    const s = readPmStatus(inst.runDir);
    return s.lease !== null && s.lease.leaderPid !== leaderPid && s.lease.leaderAlive && s.instances.some((i) => i.pid === s.lease!.leaderPid && i.role === 'hot');
  };
  const lane = async (who: string, n: number): Promise<void> => {
    for (let i = 0; ; i++) {
      if (takeoverSeenAt !== 0 && Date.now() - takeoverSeenAt > 1_500) return;
      if (Date.now() - (killedAt || Date.now()) > 25_000) return;
      const coid = `fo-${n}-${i}`;
      // emeka has 1,100.00 of cash left: his lane sells instead.
      const body = who === 'emeka'
        ? { symbol: 'APPL-64', side: 'outflow', price: '870.00', quantity: 1, clientOrderId: coid }
        : { symbol: 'APPL-64', side: 'inflow', price: '720.00', quantity: 1, clientOrderId: coid };
      sent.push({ who, coid, body, answer: await place(who, body) });
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const running = Promise.all(lanes.map((who, n) => lane(who, n)));
  await until('orders flowing', () => sent.length >= 20, ANSWER_BOUND_MS);
  process.kill(leaderPid, 'SIGKILL');
  killedAt = Date.now();
  // A burst at the moment of the kill: these sit in the ring (or in the dead leader) during the takeover.
  const burst = Promise.all(Array.from({ length: 24 }, async (_x, i) => {
    const who = lanes[i % 3]!;
    const body = { symbol: 'APPL-64', side: 'inflow', price: '721.00', quantity: 1, clientOrderId: `fo-burst-${i}` };
    sent.push({ who, coid: body.clientOrderId, body, answer: await place(who, body) });
  }));
  await until('the warm product manager to take over', () => newLeaderHot(), 30_000, 25);
  takeoverSeenAt = Date.now();
  await Promise.all([running, burst]);
  const after = readPmStatus(inst.runDir);
  t.ok(after.lease!.epoch > before.lease!.epoch, `the new leader holds a higher epoch (${before.lease!.epoch} -> ${after.lease!.epoch})`);
  t.not(after.leader, before.leader, `the other instance leads (${before.leader} -> ${after.leader})`);
  t.throws(() => process.kill(leaderPid, 0), 'the killed leader is gone');
  t.comment(`taken over ${takeoverSeenAt - killedAt} ms after the kill; ${sent.length} orders sent`);

  const statuses = new Map<number, number>();
  for (const s of sent) statuses.set(s.answer.status, (statuses.get(s.answer.status) ?? 0) + 1);
  t.comment(`answers: ${JSON.stringify([...statuses])}`);
  t.ok(sent.every((s) => s.answer.status === 200 || s.answer.status === 503), 'every answer during the takeover is 200 or 503 (no 500, no other code)');
  const unavailable = sent.filter((s) => s.answer.status === 503);
  t.ok(unavailable.every((s) => ['engine_unavailable', 'overloaded'].includes(s.answer.json?.error) && Number(s.answer.headers['retry-after']) >= 1 && s.answer.json.retryAfterSeconds >= 1), '503s carry a code and a retry hint (Retry-After and retryAfterSeconds)');
  const slowest = Math.max(...sent.map((s) => s.answer.ms));
  t.comment(`slowest answer ${slowest} ms`);
  t.ok(slowest < ANSWER_BOUND_MS, `no request hung (slowest ${slowest} ms)`);
  t.ok(sent.filter((s) => s.coid.startsWith('fo-burst-')).length === 24, 'the burst sent at the kill was answered in full');

  // Every clientOrderId again, after the takeover: the same order for those answered, one order for the others.
  for (const s of sent) {
    const retry = await place(s.who, s.body);
    t.equal(retry.status, 200, `${s.coid}: the retry is answered (${retry.text.slice(0, 120)})`);
    if (s.answer.status === 200) t.equal(retry.json.id, s.answer.json.id, `${s.coid}: the retry returns the original order`);
  }
  for (const who of lanes) {
    const all = await call('GET', '/v1/transact?status=all', { token: tokens[who]! });
    t.equal(all.status, 200);
    const mine = sent.filter((s) => s.who === who);
    const counts = new Map<string, number>();
    for (const o of all.json.orders) if (typeof o.clientOrderId === 'string' && o.clientOrderId.startsWith('fo-')) counts.set(o.clientOrderId, (counts.get(o.clientOrderId) ?? 0) + 1);
    t.same(mine.filter((s) => counts.get(s.coid) !== 1).map((s) => `${s.coid}×${counts.get(s.coid) ?? 0}`), [], `${who}: every clientOrderId is exactly one order`);
  }
  const h = await call('GET', '/health');
  t.equal(h.status, 200);
});

t.test('the contract checker itself refuses what the document forbids (so the checks above can fail)', async (t) => {
  const v = contract.validator;
  const order = (await call('GET', '/v1/transact?status=all', { token: tokens['alice']! })).json.orders[0];
  t.same(v.validate(contract.schemaOf('Order'), order), [], 'a real order conforms');
  const { id: _id, ...noId } = order;
  t.match(v.validate(contract.schemaOf('Order'), noId).join(), /required property 'id'/, 'a missing required field is caught');
  t.match(v.validate(contract.schemaOf('Order'), { ...order, accountId: 1 }).join(), /'accountId' is not in the schema/, 'an undocumented field is caught');
  t.match(v.validate(contract.schemaOf('Order'), { ...order, status: 'done' }).join(), /anyOf/, 'a value outside the vocabulary is caught');
  t.match(v.validate(contract.schemaOf('Order'), { ...order, quantity: '1' }).join(), /expected integer/, 'a wrong type is caught');
  t.throws(() => v.validate({ type: 'string', format: 'email' }, 'x'), /unsupported schema keyword 'format'/, 'a keyword the checker does not know fails loudly');
  const probe = new OpenApiContract(contract.doc);
  probe.observe('GET', '/v1/products', 200, { products: [] }, 'application/json');
  t.ok(probe.uncovered().includes('POST /v1/transact'), 'an operation never called is reported uncovered');
  t.notOk(probe.uncovered().includes('GET /v1/products'), 'a conforming success covers its operation');
  t.match(probe.observe('GET', '/v1/products', 409, { error: 'x', detail: 'y' }, 'application/json').problems.join(), /not documented/, 'an undocumented status is caught');
});

t.test('the contract: every documented operation was exercised successfully, every answer matched the document, no 500', async (t) => {
  t.same(contract.uncovered(), [], 'every path+method of the trading listener’s /openapi.json was answered with its documented success');
  t.same(publicContract.uncovered(), [], 'every path+method of the public listener’s /openapi.json was answered with its documented success');
  const messageTypes = (contract.doc['paths']['/v1/stream']['get']['x-client-messages'] as Array<Record<string, any>>).map((e) => (contract.schemaOf(String(e['$ref']).split('/').pop()!) as any).properties.type.const as string);
  t.same(messageTypes.filter((m) => !streamTypesAnswered.has(m)), [], 'every documented stream message was sent and answered');
  t.same([...contract.violations, ...publicContract.violations], [], 'no answer contradicted the document');
  const seen = new Set<number>();
  for (const s of contract.statusesSeen.values()) for (const x of s) seen.add(x);
  for (const status of [200, 201, 202, 400, 401, 403, 404, 408, 409, 413, 429]) t.ok(seen.has(status), `status ${status} was produced and checked`);
  t.notOk(seen.has(500), 'no 500 anywhere');
  t.notMatch(inst.log(), /"event":"handler-bug"|"event":"upgrade-bug"/, 'the gateway logged no handler bug');
  t.notMatch(inst.log(), /invalid-gateway-record/, 'the product manager refused no gateway record');
});
