// The gateway's HTTP and WebSocket contract, endpoint by endpoint and error code by error code,
// against a real gateway process. The product manager is SIMULATED (test/support/gateway-fake-pm.ts):
// these tests prove what the gateway answers and writes, not what the real product manager decides.

import t from 'tap';
import { RingFile } from '../bus/ring';
import { Deposit, HaltProduct, InventoryDispatch, InventoryReceipt, ListProduct, ResumeProduct, SetRiskRule, Withdraw } from '../bus/schema';
import { applicationBody, startGateway, type GatewayUnderTest } from './support/gateway-harness';
import { isRefusal, TestWebSocket } from './support/gateway-ws-client';

let gw: GatewayUnderTest;

t.before(async () => {
  gw = await startGateway(t);
});

function order(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { symbol: 'APPL-128', side: 'inflow', price: '10.05', quantity: 3, ...extra };
}

async function place(who: string, body: Record<string, unknown>): Promise<{ status: number; json: any; headers: Record<string, unknown> }> {
  const r = await gw.request('POST', '/v1/transact', { token: await gw.tokenOf(who), body });
  return { status: r.status, json: r.json, headers: r.headers };
}

t.test('GET /health, /openapi.json and /v1/products describe the service (PM simulated)', async (t) => {
  const h = await gw.request('GET', '/health');
  t.equal(h.status, 200);
  t.equal(h.json.status, 'ok', 'ok while the (simulated) product manager is attached');
  t.equal(h.json.listener, 'trading');
  t.match(h.json.marketData, /not available/, 'health says market data is not served yet');
  t.equal(h.headers['content-type'], 'application/json');

  const doc = await gw.request('GET', '/openapi.json');
  t.equal(doc.status, 200);
  t.equal(doc.json.openapi, '3.1.0');
  for (const [path, methods] of [
    ['/v1/transact', ['get', 'post']],
    ['/v1/transact/{id}', ['get', 'patch', 'delete']],
    ['/v1/sessions', ['post']],
    ['/v1/sessions/current', ['get', 'delete']],
    ['/v1/applications', ['post']],
    ['/v1/api-keys', ['get', 'post']],
    ['/v1/api-keys/{keyId}', ['delete']],
    ['/v1/admin/kyc-reviews', ['get']],
    ['/v1/admin/deposits', ['post']],
    ['/v1/admin/risk-rules', ['put']],
    ['/v1/admin/products/{symbol}/halt', ['post']],
    ['/v1/stream', ['get']],
  ] as const) {
    for (const m of methods) t.ok(doc.json.paths[path]?.[m], `openapi documents ${m.toUpperCase()} ${path}`);
  }
  const place = doc.json.components.schemas.PlaceOrder;
  t.equal(place.additionalProperties, false, 'the documented order body rejects unknown fields, as the validator does');
  t.same(place.required.sort(), ['price', 'quantity', 'side', 'symbol']);
  t.equal(place.properties.quantity.maximum, 2 ** 30, 'the documented range is the enforced one');
  t.same(doc.json.paths['/v1/transact'].post.requestBody.content['application/json'].schema, { $ref: '#/components/schemas/PlaceOrder' });

  const products = await gw.request('GET', '/v1/products');
  t.equal(products.status, 200);
  t.same(products.json.products.map((p: any) => [p.symbol, p.tickSize, p.lotSize]), [
    ['APPL-128', '0.01', 1],
    ['SMSN-S24', '0.05', 10],
    ['SONY-WH1000', '1.00', 1],
  ]);
});

t.test('the public market-data listener serves health and placeholders only, and fakes no data', async (t) => {
  const h = await gw.request('GET', '/health', { port: gw.publicPort });
  t.equal(h.status, 200);
  t.equal(h.json.listener, 'market-data');
  t.match(h.json.marketData, /not available/);
  const book = await gw.request('GET', '/v1/market-data/APPL-128/book', { port: gw.publicPort });
  t.equal(book.status, 503);
  t.equal(book.json.error, 'market_data_not_available');
  t.ok(Number(book.headers['retry-after']) > 0, 'with a retry hint');
  const trade = await gw.request('POST', '/v1/transact', { port: gw.publicPort, body: order() });
  t.equal(trade.status, 404, 'no order entry on the public listener');
  t.equal((await gw.request('GET', '/v1/products', { port: gw.publicPort })).status, 200, 'reference data is public');
});

t.test('unknown endpoints answer 404 not_found with a pointer to the documentation', async (t) => {
  const r = await gw.request('GET', '/v2/nothing');
  t.equal(r.status, 404);
  t.equal(r.json.error, 'not_found');
  t.match(r.json.detail, /openapi/);
  const put = await gw.request('PUT', '/v1/transact', { body: order() });
  t.equal(put.status, 404, 'a method the path does not have');
  const plainGetStream = await gw.request('GET', '/v1/stream');
  t.ok(plainGetStream.status >= 400 && plainGetStream.status < 500, `GET /v1/stream without an upgrade is refused (${plainGetStream.status})`);
});

t.test('sessions: log in, see who you are, log out; the token then stops working', async (t) => {
  const alice = gw.accounts['alice']!;
  const wrong = await gw.request('POST', '/v1/sessions', { body: { username: 'alice', password: 'not-the-password-1' } });
  t.equal(wrong.status, 401);
  t.equal(wrong.json.error, 'invalid_credentials');
  const login = await gw.request('POST', '/v1/sessions', { body: { username: 'alice', password: alice.password } });
  t.equal(login.status, 201);
  t.match(login.json.token, /^imss_/);
  t.ok(login.json.expiresAt > Date.now());
  t.same(login.json.account, { accountId: alice.accountId, username: 'alice', role: 'colleague', outletId: alice.outletId });
  const token = login.json.token as string;
  const me = await gw.request('GET', '/v1/sessions/current', { token });
  t.equal(me.status, 200);
  t.equal(me.json.accountId, alice.accountId);
  const out = await gw.request('DELETE', '/v1/sessions/current', { token });
  t.equal(out.status, 200);
  t.equal(out.json.status, 'logged_out');
  const after = await gw.request('GET', '/v1/sessions/current', { token });
  t.equal(after.status, 401, 'a logged-out token is refused at once');
  t.equal(after.json.error, 'session_invalid');
});

t.test('place, read, list, update and remove an order over REST (PM simulated)', async (t) => {
  const alice = gw.accounts['alice']!;
  const placed = await place('alice', { symbol: 'appl-128', side: 'buy', price: '10.050', quantity: 3, clientOrderId: 'rest-1', timeInForce: 'DAY' });
  t.equal(placed.status, 200);
  const o = placed.json;
  t.match(o, { symbol: 'APPL-128', side: 'inflow', price: '10.05', quantity: 3, timeInForce: 'DAY', postOnly: false, filledQuantity: 0, remainingQuantity: 3, status: 'added', clientOrderId: 'rest-1' });
  t.match(o.id, /^[1-9][0-9]*$/);
  t.ok(Math.abs(o.creationTime - Date.now()) < 10_000, 'creationTime is epoch milliseconds');
  const written = gw.pm.orders.get(Number(o.id))!;
  t.equal(written.price, 1005, 'the decimal price reached the ring as exactly 1005 minor units');
  t.equal(written.accountId, alice.accountId, 'the account comes from the credential, never from the body');

  const one = await gw.request('GET', `/v1/transact/${o.id}`, { token: await gw.tokenOf('alice') });
  t.equal(one.status, 200);
  t.same(one.json, o);
  const open = await gw.request('GET', '/v1/transact?status=open', { token: await gw.tokenOf('alice') });
  t.equal(open.status, 200);
  t.ok(open.json.orders.some((x: any) => x.id === o.id));
  t.equal(open.json.truncated, false);

  const amended = await gw.request('PATCH', `/v1/transact/${o.id}`, { token: await gw.tokenOf('alice'), body: { price: '10.07' } });
  t.equal(amended.status, 200);
  t.match(amended.json, { id: o.id, price: '10.07', quantity: 3, status: 'updated' });
  t.equal(gw.pm.orders.get(Number(o.id))!.quantity, 3, 'the unchanged quantity was sent as the order has it');
  const same = await gw.request('PATCH', `/v1/transact/${o.id}`, { token: await gw.tokenOf('alice'), body: { price: '10.07' } });
  t.equal(same.status, 400);
  t.equal(same.json.error, 'amend_no_change');
  const empty = await gw.request('PATCH', `/v1/transact/${o.id}`, { token: await gw.tokenOf('alice'), body: {} });
  t.equal(empty.status, 400);
  t.equal(empty.json.error, 'no_fields');

  const removed = await gw.request('DELETE', `/v1/transact/${o.id}`, { token: await gw.tokenOf('alice') });
  t.equal(removed.status, 200);
  t.match(removed.json, { id: o.id, status: 'removed', remainingQuantity: 0, reason: 'user' });
  const again = await gw.request('DELETE', `/v1/transact/${o.id}`, { token: await gw.tokenOf('alice') });
  t.equal(again.status, 409);
  t.equal(again.json.error, 'already_canceled');
  const late = await gw.request('PATCH', `/v1/transact/${o.id}`, { token: await gw.tokenOf('alice'), body: { quantity: 5 } });
  t.equal(late.status, 409);
  const all = await gw.request('GET', '/v1/transact?status=all', { token: await gw.tokenOf('alice') });
  t.ok(all.json.orders.some((x: any) => x.id === o.id && x.status === 'removed'));
  const openAfter = await gw.request('GET', '/v1/transact', { token: await gw.tokenOf('alice') });
  t.notOk(openAfter.json.orders.some((x: any) => x.id === o.id), 'a removed order is not open');
});

t.test('a crossing order answers with its immediate fills, and the maker hears of its fill on its stream (PM simulated)', async (t) => {
  const ws = await TestWebSocket.connect(gw.tradingPort, { protocols: ['ims.v1', `ims-token.${await gw.tokenOf('alice')}`] });
  if (isRefusal(ws)) throw new Error(`upgrade refused: ${ws.status} ${ws.body}`);
  t.teardown(() => ws.destroy());
  t.equal(ws.protocol, 'ims.v1', 'the server selects ims.v1 and never echoes the credential');
  const rest = await ws.request({ type: 'place', requestId: 'maker-1', order: { symbol: 'SONY-WH1000', side: 'outflow', price: '250', quantity: 4 } });
  t.match(rest, { type: 'result', requestId: 'maker-1', status: 200, order: { status: 'added', price: '250.00', quantity: 4 } });
  const makerId = (rest['order'] as any).id as string;

  const taker = await place('bob', { symbol: 'SONY-WH1000', side: 'inflow', price: '251.00', quantity: 6 });
  t.equal(taker.status, 200);
  t.match(taker.json, { filledQuantity: 4, remainingQuantity: 2, status: 'partially_filled', lastPrice: '250.00', lastQuantity: 4 }, 'the answer came after the engine processed the order, fills included');

  const pushed = await ws.waitFor((m) => m['type'] === 'execution' && (m['order'] as any).id === makerId);
  t.match(pushed, { type: 'execution', order: { id: makerId, status: 'filled', filledQuantity: 4, remainingQuantity: 0, lastPrice: '250.00', lastQuantity: 4 } });
  t.match(pushed['execId'], /^[0-9]+$/);

  // A fill caused elsewhere (another gateway's colleague) reaches the owner's stream as well.
  const resting = await place('bob', { symbol: 'SONY-WH1000', side: 'inflow', price: '240', quantity: 5 });
  const bobWs = await TestWebSocket.connect(gw.tradingPort, { headers: { Authorization: `Bearer ${await gw.tokenOf('bob')}` } });
  if (isRefusal(bobWs)) throw new Error('bob upgrade refused');
  t.teardown(() => bobWs.destroy());
  await bobWs.request({ type: 'ping', requestId: 'p' });
  gw.pm.fillFromElsewhere(Number(resting.json.id), 2);
  const bobFill = await bobWs.waitFor((m) => m['type'] === 'execution');
  t.match(bobFill, { order: { id: resting.json.id, filledQuantity: 2, remainingQuantity: 3, status: 'partially_filled' } });
  t.notOk(ws.messages.some((m) => m.includes(`"id":"${resting.json.id}"`)), "bob's fill never reaches alice's stream");
});

t.test('order entry errors: each bad input gets its 400 code and nothing reaches the product manager', async (t) => {
  const before = gw.pm.commands.newOrders;
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['price off tick', order({ price: '10.005' }), 'price_not_on_tick'],
    ['price off a 0.05 tick', order({ symbol: 'SMSN-S24', price: '10.03', quantity: 10 }), 'price_not_on_tick'],
    ['quantity off lot', order({ symbol: 'SMSN-S24', price: '10.05', quantity: 15 }), 'quantity_not_on_lot'],
    ['unknown symbol', order({ symbol: 'NOPE-1' }), 'unknown_symbol'],
    ['quantity 0', order({ quantity: 0 }), 'quantity_out_of_range'],
    ['quantity above 2^30', order({ quantity: 2 ** 30 + 1 }), 'quantity_out_of_range'],
    ['fractional quantity', order({ quantity: 1.5 }), 'invalid_quantity'],
    ['price as a number', order({ price: 10.05 }), 'invalid_price'],
    ['price with exponent', order({ price: '1e3' }), 'invalid_price'],
    ['negative price', order({ price: '-1.00' }), 'invalid_price'],
    ['zero price', order({ price: '0.00' }), 'price_out_of_range'],
    ['huge price', order({ price: '999999999999999.99' }), 'price_out_of_range'],
    ['notional beyond exact', order({ price: '99999999999.00', quantity: 2 ** 20 }), 'notional_out_of_range'],
    ['bad side', order({ side: 'up' }), 'invalid_side'],
    ['bad time in force', order({ timeInForce: 'GTD' }), 'invalid_time_in_force'],
    ['post-only IOC', order({ postOnly: true, timeInForce: 'IOC' }), 'post_only_with_ioc_or_fok'],
    ['unknown field', order({ colour: 'red' }), 'unknown_field'],
    ['missing price', { symbol: 'APPL-128', side: 'inflow', quantity: 1 }, 'missing_field'],
    ['bad client order id', order({ clientOrderId: 'has space' }), 'invalid_client_order_id'],
  ];
  for (const [name, body, code] of cases) {
    const r = await place('alice', body);
    t.equal(r.status, 400, `${name}: 400`);
    t.equal(r.json.error, code, `${name}: ${code}`);
    t.type(r.json.detail, 'string');
  }
  const detail = (await place('alice', order({ price: '10.005' }))).json.detail;
  t.equal(detail, 'price 10.005 is not a multiple of tick 0.01 for APPL-128', 'the detail says what is wrong and with which product');
  const notJson = await gw.request('POST', '/v1/transact', { token: await gw.tokenOf('alice'), rawBody: '{"symbol":', headers: { 'content-type': 'application/json' } });
  t.equal(notJson.status, 400);
  t.equal(notJson.json.error, 'invalid_json');
  const array = await gw.request('POST', '/v1/transact', { token: await gw.tokenOf('alice'), body: [order()] });
  t.equal(array.json.error, 'invalid_body');
  const form = await gw.request('POST', '/v1/transact', { token: await gw.tokenOf('alice'), rawBody: 'symbol=APPL-128', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  t.equal(form.status, 400);
  t.equal(form.json.error, 'unsupported_content_type');
  const badQuery = await gw.request('GET', '/v1/transact?status=closed', { token: await gw.tokenOf('alice') });
  t.equal(badQuery.json.error, 'invalid_status');
  const extraQuery = await gw.request('GET', '/v1/transact?status=open&accountId=1', { token: await gw.tokenOf('alice') });
  t.equal(extraQuery.json.error, 'unknown_field');
  const badId = await gw.request('GET', '/v1/transact/abc', { token: await gw.tokenOf('alice') });
  t.equal(badId.status, 400);
  t.equal(badId.json.error, 'invalid_id');
  const missing = await gw.request('GET', '/v1/transact/999999', { token: await gw.tokenOf('alice') });
  t.equal(missing.status, 404);
  t.equal(missing.json.error, 'unknown_order');
  gw.pm.caughtUp();
  t.equal(gw.pm.commands.newOrders, before, 'not one of them was written to the product manager');
  t.same(gw.pm.invalid, []);
});

t.test('product-manager rejections become 409 (or 403) with the reason as the code (PM simulated)', async (t) => {
  const limit = await place('alice', order({ quantity: 2_000_000 }));
  t.equal(limit.status, 409);
  t.equal(limit.json.error, 'risk_max_order_quantity');
  gw.pm.brokeAccounts.add(gw.accounts['carol']!.accountId);
  const broke = await place('carol', order());
  t.equal(broke.status, 409);
  t.equal(broke.json.error, 'insufficient_funds');
  gw.pm.brokeAccounts.clear();
  const staff = await place('admin', order());
  t.equal(staff.status, 403, 'staff accounts do not trade');
  t.equal(staff.json.error, 'forbidden');
  // Filled orders refuse updates: 409 already_filled.
  const maker = await place('bob', { symbol: 'APPL-128', side: 'outflow', price: '20.00', quantity: 1 });
  const taker = await place('carol', { symbol: 'APPL-128', side: 'inflow', price: '20.00', quantity: 1 });
  t.equal(taker.json.status, 'filled');
  const cancelFilled = await gw.request('DELETE', `/v1/transact/${taker.json.id}`, { token: await gw.tokenOf('carol') });
  t.equal(cancelFilled.status, 409);
  t.equal(cancelFilled.json.error, 'already_filled');
  t.ok(maker.json.id);
});

t.test('a repeated clientOrderId returns the original order and creates nothing (PM simulated)', async (t) => {
  const first = await place('alice', order({ clientOrderId: 'retry-me', price: '9.00' }));
  t.equal(first.status, 200);
  const count = gw.pm.orders.size;
  const second = await place('alice', order({ clientOrderId: 'retry-me', price: '9.00' }));
  t.equal(second.status, 200);
  t.equal(second.json.id, first.json.id);
  t.equal(gw.pm.orders.size, count);
});

t.test('a product manager that does not answer gets 503 with a retry hint, never a hang (PM simulated)', async (t) => {
  gw.pm.silent = true;
  const started = Date.now();
  const r = await place('alice', order({ clientOrderId: 'during-failover' }));
  const tookMs = Date.now() - started;
  gw.pm.silent = false;
  t.equal(r.status, 503);
  t.equal(r.json.error, 'engine_unavailable');
  t.match(r.json.detail, /clientOrderId/);
  t.ok(Number(r.headers['retry-after']) >= 1, 'Retry-After is set');
  t.ok(tookMs >= 1400 && tookMs < 3000, `answered at the reply bound (${tookMs} ms for a 1500 ms bound)`);
  const h = await gw.health();
  t.equal(h.status, 'degraded', '/health reports the timeouts');
  t.ok(h.productManager.timeouts >= 1);
});

t.test("a client that goes away before the answer learns the outcome on its account's streams (PM simulated)", async (t) => {
  const ws = await TestWebSocket.connect(gw.tradingPort, { headers: { Authorization: `Bearer ${await gw.tokenOf('alice')}` } });
  if (isRefusal(ws)) throw new Error('upgrade refused');
  t.teardown(() => ws.destroy());
  await ws.request({ type: 'ping', requestId: 'ready' });
  gw.pm.delayMs = 200;
  t.teardown(() => {
    gw.pm.delayMs = 0;
  });
  const from = ws.messages.length;
  const body = JSON.stringify(order({ clientOrderId: 'walked-away', price: '4.44' }));
  const answer = await gw.raw(`POST /v1/transact HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${await gw.tokenOf('alice')}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`, 50);
  t.equal(answer, '', 'the client hung up before the product manager answered');
  const pushed = await ws.waitFor((m) => m['type'] === 'execution' && (m['order'] as any).clientOrderId === 'walked-away', 3_000, from);
  t.match(pushed, { order: { status: 'added', price: '4.44' } });
});

t.test('applications: KYC decides at once; malformed applications list every bad field', async (t) => {
  const ok = await gw.request('POST', '/v1/applications', { body: applicationBody('dora', 'Dora Explorer', 501) });
  t.equal(ok.status, 201);
  t.match(ok.json, { username: 'dora', status: 'approved', reasons: [] });
  t.type(ok.json.accountId, 'number');
  const young = await gw.request('POST', '/v1/applications', { body: applicationBody('eddie', 'Eddie Young', 502, { dateOfBirth: '2015-01-01' }) });
  t.equal(young.status, 201);
  t.equal(young.json.status, 'rejected');
  t.ok(young.json.reasons.some((r: any) => r.code === 'under_age'));
  const taken = await gw.request('POST', '/v1/applications', { body: applicationBody('dora', 'Dora Again', 503) });
  t.equal(taken.status, 409);
  t.equal(taken.json.error, 'username_taken');
  const bad = await gw.request('POST', '/v1/applications', { body: { ...applicationBody('fred', 'Fred', 504), dateOfBirth: '12/04/1990', address: { city: 'Leeds' } } });
  t.equal(bad.status, 400);
  t.ok(bad.json.fields.length >= 2, 'every wrong field is listed');
  t.ok(bad.json.fields.some((f: any) => f.field === 'dateOfBirth'));
  t.ok(bad.json.fields.some((f: any) => f.field.startsWith('address')));
  const staffRole = await gw.request('POST', '/v1/applications', { body: applicationBody('gina', 'Gina Grab', 505, { role: 'admin', outletId: undefined }) });
  t.equal(staffRole.status, 403, 'nobody applies for a staff role');
  t.equal(staffRole.json.error, 'forbidden');
});

t.test('API keys: create, list, use, revoke', async (t) => {
  const token = await gw.tokenOf('bob');
  const created = await gw.request('POST', '/v1/api-keys', { token, body: { label: 'kiosk bot' } });
  t.equal(created.status, 201);
  t.match(created.json.key, /^imsk_/);
  const key = created.json.key as string;
  const listed = await gw.request('GET', '/v1/api-keys', { token });
  t.ok(listed.json.keys.some((k: any) => k.keyId === created.json.keyId && k.label === 'kiosk bot'));
  t.notOk(listed.text.includes(key), 'a listing never shows the key');
  const me = await gw.request('GET', '/v1/sessions/current', { token: key });
  t.equal(me.json.accountId, gw.accounts['bob']!.accountId);
  const viaKey = await gw.request('POST', '/v1/transact', { token: key, body: order({ price: '5.00' }) });
  t.equal(viaKey.status, 200, 'an API key trades');
  const keyFromKey = await gw.request('POST', '/v1/api-keys', { token: key, body: { label: 'nested' } });
  t.equal(keyFromKey.status, 403, 'keys are created from a session, not with another key');
  const revoked = await gw.request('DELETE', `/v1/api-keys/${created.json.keyId}`, { token });
  t.equal(revoked.status, 200);
  await new Promise((r) => setTimeout(r, 1_100)); // the gateway caches a resolved credential for 1 s
  const dead = await gw.request('GET', '/v1/sessions/current', { token: key });
  t.equal(dead.status, 401);
  t.equal(dead.json.error, 'api_key_invalid');
  const unknown = await gw.request('DELETE', '/v1/api-keys/987654', { token });
  t.equal(unknown.status, 404);
});

t.test('admin: KYC review queue, money and stock movements, risk rules, products (PM simulated)', async (t) => {
  const admin = await gw.tokenOf('admin');
  // A name close to the demo sanctions list goes to review.
  const flagged = await gw.request('POST', '/v1/applications', { body: applicationBody('boris', 'Boris Quellmarch', 601) });
  t.equal(flagged.json.status, 'pending_review');
  const queue = await gw.request('GET', '/v1/admin/kyc-reviews', { token: admin });
  t.equal(queue.status, 200);
  t.ok(queue.json.applications.some((a: any) => a.applicationId === flagged.json.applicationId));
  const decided = await gw.request('POST', `/v1/admin/kyc-reviews/${flagged.json.applicationId}`, { token: admin, body: { decision: 'approve', note: 'different person: date of birth and address differ' } });
  t.equal(decided.status, 200);
  t.equal(decided.json.status, 'approved');
  const twice = await gw.request('POST', `/v1/admin/kyc-reviews/${flagged.json.applicationId}`, { token: admin, body: { decision: 'reject', note: 'again' } });
  t.equal(twice.status, 409);

  const alice = gw.accounts['alice']!;
  const seen = gw.pm.adminCommands.length;
  const dep = await gw.request('POST', '/v1/admin/deposits', { token: admin, body: { accountId: alice.accountId, amount: '1500.25', reference: 7001 } });
  t.equal(dep.status, 202);
  t.match(dep.json, { command: 'Deposit', status: 'submitted' });
  const wd = await gw.request('POST', '/v1/admin/withdrawals', { token: admin, body: { accountId: alice.accountId, amount: '10', reference: 7002 } });
  t.equal(wd.status, 202);
  const rec = await gw.request('POST', '/v1/admin/inventory-receipts', { token: admin, body: { accountId: alice.accountId, symbol: 'smsn-s24', quantity: 40, reference: 7003 } });
  t.equal(rec.status, 202);
  const dis = await gw.request('POST', '/v1/admin/inventory-dispatches', { token: admin, body: { accountId: alice.accountId, symbol: 'SMSN-S24', quantity: 10, reference: 7004 } });
  t.equal(dis.status, 202);
  const rule = await gw.request('PUT', '/v1/admin/risk-rules', { token: await gw.tokenOf('risk'), body: { kind: 'notional_daily', limit: '1000000.00', brand: 'apple' } });
  t.equal(rule.status, 202);
  const removeRule = await gw.request('PUT', '/v1/admin/risk-rules', { token: await gw.tokenOf('risk'), body: { kind: 'max_open_orders', limit: null, accountId: alice.accountId } });
  t.equal(removeRule.status, 202);
  const listed = await gw.request('POST', '/v1/admin/products', { token: admin, body: { productId: 9, symbol: 'lg-oled55', brand: 'LG', brandId: 9, tickSize: '0.50', lotSize: 1, referencePrice: '999.50' } });
  t.equal(listed.status, 202);
  const halt = await gw.request('POST', '/v1/admin/products/APPL-128/halt', { token: await gw.tokenOf('operator') });
  t.equal(halt.status, 202);
  const resume = await gw.request('POST', '/v1/admin/products/APPL-128/resume', { token: admin });
  t.equal(resume.status, 202);
  const products = await gw.request('GET', '/v1/admin/products', { token: admin });
  t.equal(products.status, 200);
  gw.pm.caughtUp();
  const got = gw.pm.adminCommands.slice(seen).map((c) => [c.name, c.value]);
  t.same(got, [
    [Deposit.name, { amount: 150025, reference: 7001, accountId: alice.accountId }],
    [Withdraw.name, { amount: 1000, reference: 7002, accountId: alice.accountId }],
    [InventoryReceipt.name, { quantity: 40, reference: 7003, accountId: alice.accountId, productId: 2 }],
    [InventoryDispatch.name, { quantity: 10, reference: 7004, accountId: alice.accountId, productId: 2 }],
    [SetRiskRule.name, { limit: 100000000, accountId: 0, brandId: 1, ruleKind: 2 }],
    [SetRiskRule.name, { limit: -1, accountId: alice.accountId, brandId: 0, ruleKind: 5 }],
    [ListProduct.name, { tickSize: 50, lotSize: 1, referencePrice: 99950, productId: 9, brandId: 9, selfTradePolicy: 0, symbol: 'LG-OLED55', brand: 'LG' }],
    [HaltProduct.name, { productId: 1 }],
    [ResumeProduct.name, { productId: 1 }],
  ], 'each admin call wrote exactly its sequenced command, amounts in minor units');

  const zero = await gw.request('POST', '/v1/admin/deposits', { token: admin, body: { accountId: alice.accountId, amount: '0.00', reference: 7005 } });
  t.equal(zero.status, 400);
  t.equal(zero.json.error, 'amount_out_of_range');
  const cents = await gw.request('POST', '/v1/admin/deposits', { token: admin, body: { accountId: alice.accountId, amount: '1.005', reference: 7006 } });
  t.equal(cents.json.error, 'invalid_amount');
  const unknownBrand = await gw.request('PUT', '/v1/admin/risk-rules', { token: await gw.tokenOf('risk'), body: { kind: 'brand_daily_units', limit: '5', brand: 'Nokia' } });
  t.equal(unknownBrand.json.error, 'unknown_brand');
  const fractionalUnits = await gw.request('PUT', '/v1/admin/risk-rules', { token: await gw.tokenOf('risk'), body: { kind: 'brand_daily_units', limit: '5.5' } });
  t.equal(fractionalUnits.json.error, 'invalid_limit');
  const dup = await gw.request('POST', '/v1/admin/products', { token: admin, body: { productId: 1, symbol: 'APPL-128', brand: 'Apple', tickSize: '0.01', lotSize: 1, referencePrice: '10.00' } });
  t.equal(dup.status, 409);

  // Suspension: the account can no longer use its session (no cache delay: suspended here).
  const carolToken = await gw.tokenOf('carol');
  const suspended = await gw.request('POST', `/v1/admin/accounts/${gw.accounts['carol']!.accountId}/suspend`, { token: admin, body: { reason: 'test' } });
  t.equal(suspended.status, 200);
  const refused = await gw.request('GET', '/v1/sessions/current', { token: carolToken });
  t.ok(refused.status === 401 || refused.status === 403, `a suspended account's session is refused (${refused.status} ${refused.json.error})`);
  const reinstated = await gw.request('POST', `/v1/admin/accounts/${gw.accounts['carol']!.accountId}/reinstate`, { token: await gw.tokenOf('risk'), body: { reason: 'cleared' } });
  t.equal(reinstated.status, 200);
  gw.forgetToken('carol'); // suspension signed carol out everywhere
  t.same(gw.pm.invalid, []);
});

t.test('WebSocket /v1/stream: authentication at upgrade, order entry and errors as messages (PM simulated)', async (t) => {
  const noCred = await TestWebSocket.connect(gw.tradingPort);
  t.ok(isRefusal(noCred) && noCred.status === 401 && JSON.parse(noCred.body).error === 'unauthenticated', 'no credential: 401');
  const badCred = await TestWebSocket.connect(gw.tradingPort, { protocols: ['ims.v1', 'ims-token.imss_' + 'x'.repeat(43)] });
  t.ok(isRefusal(badCred) && badCred.status === 401, 'unknown credential: 401');
  const badProto = await TestWebSocket.connect(gw.tradingPort, { protocols: ['chat', `ims-token.${await gw.tokenOf('alice')}`] });
  t.ok(isRefusal(badProto) && badProto.status === 400 && JSON.parse(badProto.body).error === 'unsupported_subprotocol', 'without ims.v1: 400');

  const ws = await TestWebSocket.connect(gw.tradingPort, { headers: { Authorization: `Bearer ${await gw.tokenOf('carol')}` } });
  if (isRefusal(ws)) throw new Error(`upgrade refused ${ws.status} ${ws.body}`);
  t.teardown(() => ws.destroy());
  t.same(await ws.request({ type: 'ping', requestId: 'p1' }), { type: 'pong', requestId: 'p1' });
  const placed = await ws.request({ type: 'place', requestId: 'o1', order: { symbol: 'SMSN-S24', side: 'sell', price: '300.05', quantity: 20, postOnly: true } });
  t.match(placed, { type: 'result', requestId: 'o1', status: 200, order: { side: 'outflow', price: '300.05', quantity: 20, status: 'added', postOnly: true } });
  const id = (placed['order'] as any).id as string;
  const updated = await ws.request({ type: 'update', requestId: 'o2', id, changes: { quantity: 30 } });
  t.match(updated, { type: 'result', status: 200, order: { id, quantity: 30, status: 'updated' } });
  const removed = await ws.request({ type: 'remove', requestId: 'o3', id });
  t.match(removed, { type: 'result', status: 200, order: { id, status: 'removed' } });
  const again = await ws.request({ type: 'remove', requestId: 'o4', id });
  t.match(again, { type: 'error', requestId: 'o4', status: 409, error: 'already_canceled' });
  const offTick = await ws.request({ type: 'place', requestId: 'o5', order: { symbol: 'SMSN-S24', side: 'sell', price: '300.01', quantity: 20 } });
  t.match(offTick, { type: 'error', requestId: 'o5', status: 400, error: 'price_not_on_tick' });
  const unknownType = await ws.request({ type: 'shout', requestId: 'o6' });
  t.match(unknownType, { type: 'error', requestId: 'o6', status: 400, error: 'invalid_type' });
  const from = ws.messages.length;
  ws.send('{not json');
  t.match(await ws.waitFor((m) => m['type'] === 'error', 2_000, from), { requestId: null, status: 400, error: 'invalid_json' });
  const from2 = ws.messages.length;
  ws.sendFrame(0x2, Buffer.from([1, 2, 3]));
  t.match(await ws.waitFor((m) => m['type'] === 'error', 2_000, from2), { status: 400, error: 'binary_not_supported' });
  const mass = await ws.request({ type: 'place', requestId: 'o7', order: { symbol: 'SMSN-S24', side: 'sell', price: '300.05', quantity: 20, accountId: 1 } });
  t.match(mass, { type: 'error', requestId: 'o7', status: 400, error: 'unknown_field' });
  t.same(gw.pm.invalid, []);
});

t.test('the gateway stayed healthy and wrote nothing invalid through the whole contract run', async (t) => {
  t.same(gw.pm.invalid, [], 'every record on the gateway->PM ring met the contract');
  t.ok(gw.proc.alive);
  const h = await gw.health();
  t.equal(h.counters.bugs, 0, 'no handler threw');
});

t.test('SIGTERM stops the gateway cleanly: streams closed, ring released, exit 0', async (t) => {
  const ws = await TestWebSocket.connect(gw.tradingPort, { headers: { Authorization: `Bearer ${await gw.tokenOf('bob')}` } });
  if (isRefusal(ws)) throw new Error('upgrade refused');
  const exit = await gw.proc.kill('SIGTERM');
  t.same(exit, { code: 0, signal: null });
  t.ok(gw.proc.lines.some((l) => l.event === 'gateway-stopped'), 'it said so');
  const closed = await ws.closed;
  t.equal(closed.code, 1001, 'open streams were told the gateway is going away');
  t.equal(RingFile.open(gw.toPmRing).producerPid(), 0, 'the gateway->PM ring is free for a restarted gateway');
});
