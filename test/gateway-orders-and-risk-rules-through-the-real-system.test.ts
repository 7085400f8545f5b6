// GET /v1/transact, GET /v1/transact/{id}, the stream's orders message and GET /v1/admin/risk-rules
// answered by the product manager, through the real system (gateway, product managers, sequencer,
// engines, control with the demo accounts and funds):
//   - a colleague's resting order is listed with the right fields after the gateway is killed and
//     restarted by the supervisor, and after `ims stop` / `ims start` on the same data directory
//     (the gateway's own cache of reports is empty both times); it can be read, removed, and
//     another colleague gets 404 for it exactly as for an order that does not exist;
//   - the risk rules in force are listed with the built-in defaults marked, a rule set through PUT
//     appears (and a removed one disappears), ?accountId narrows the list, and only risk admins
//     and admins may read it.
import t from 'tap';
import { supervisedPid } from '../processes/drills/gateway-endpoints';
import { isRefusal, TestWebSocket } from './support/gateway-ws-client';
import { createImsInstance, until } from './support/ims-instance';

const inst = createImsInstance('orders-read', ['--trading-port', '0', '--public-port', '0']);
t.teardown(() => inst.destroy());

let port = 0;

async function call(method: string, url: string, body?: unknown, token?: string): Promise<{ status: number; json: any }> {
  const res = await fetch(`http://127.0.0.1:${port}${url}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: await res.json().catch(() => null) };
}

async function login(username: string, password: string): Promise<{ token: string; accountId: number }> {
  const r = await call('POST', '/v1/sessions', { username, password });
  if (r.status !== 201) throw new Error(`login ${username}: ${r.status} ${JSON.stringify(r.json)}`);
  const me = await call('GET', '/v1/sessions/current', undefined, r.json.token);
  return { token: r.json.token as string, accountId: me.json.accountId as number };
}

const alice = (): Promise<{ token: string; accountId: number }> => login('alice', 'kiosk-101-demo');
const bruno = (): Promise<{ token: string; accountId: number }> => login('bruno', 'kiosk-102-demo');

function readyPorts(): number[] {
  return [...inst.log().matchAll(/"event":"gateway-ready".*?"tradingPort":(\d+)/g)].map((m) => Number(m[1]));
}

/** Waits for the n-th gateway-ready line (1-based) and takes its trading port. */
async function gatewayReady(n: number): Promise<void> {
  await until(`gateway-ready #${n}`, () => readyPorts().length >= n, 180_000);
  port = readyPorts()[n - 1]!;
}

async function untilHttp<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The fields of an order that must survive any restart exactly as the placing answer gave them. */
function stable(o: any): any {
  const { id, clientOrderId, symbol, side, price, quantity, timeInForce, postOnly, creationTime, filledQuantity, remainingQuantity, status } = o;
  return { id, clientOrderId, symbol, side, price, quantity, timeInForce, postOnly, creationTime, filledQuantity, remainingQuantity, status };
}

t.before(async () => {
  inst.start();
  await gatewayReady(1);
  await until('the demo day to open', () => /"event":"trading-day-open"/.test(inst.log()), 180_000);
  await until('a hot engine', () => /"event":"engine-hot"/.test(inst.log()), 120_000);
  // The demo funds arrive through the journal shortly after the accounts open.
  const a = await alice();
  await untilHttp('demo funds', async () => {
    const w = await call('GET', '/v1/wallet', undefined, a.token);
    return w.status === 200 && w.json.cash.balance !== '0.00' ? true : undefined;
  });
});

let restingId = '';
let placed: any = null;

t.test("a colleague's resting order is listed and readable after the gateway is killed and restarted", async (t) => {
  const a = await alice();
  const r = await call('POST', '/v1/transact', { symbol: 'APPL-128', side: 'inflow', price: '851.00', quantity: 4, clientOrderId: 'orders-read-1', postOnly: true }, a.token);
  t.equal(r.status, 200, `the inflow rests (${JSON.stringify(r.json)})`);
  t.equal(r.json.status, 'added');
  placed = r.json;
  restingId = r.json.id;

  const gatewayPid = supervisedPid(inst.runDir, 'gateway-1');
  t.ok(gatewayPid > 0, 'the supervisor runs gateway-1');
  process.kill(gatewayPid, 'SIGKILL');
  await until('the supervisor to restart gateway-1', () => {
    const pid = supervisedPid(inst.runDir, 'gateway-1');
    return pid > 0 && pid !== gatewayPid;
  }, 60_000);
  await gatewayReady(2);

  const a2 = await untilHttp('a login on the restarted gateway', () => alice());
  const open = await call('GET', '/v1/transact?status=open', undefined, a2.token);
  t.equal(open.status, 200);
  const listed = open.json.orders.find((o: any) => o.id === restingId);
  t.ok(listed, 'the resting order is listed by the restarted gateway, which has seen no report of it');
  t.same(stable(listed), stable(placed), 'with the fields the placing answer gave: id, clientOrderId, symbol, side, price, quantity, time in force, postOnly, creation time, filled, remaining, status');
  t.equal(open.json.truncated, false);
  t.ok(open.json.orders.every((o: any) => ['added', 'partially_filled', 'updated'].includes(o.status)), 'only open orders are listed');

  const one = await call('GET', `/v1/transact/${restingId}`, undefined, a2.token);
  t.equal(one.status, 200, 'GET /v1/transact/{id} answers it');
  t.same(stable(one.json), stable(placed));

  const ws = await TestWebSocket.connect(port, { protocols: ['ims.v1', `ims-token.${a2.token}`] });
  if (isRefusal(ws)) throw new Error(`stream refused: ${ws.status} ${ws.body}`);
  t.teardown(() => ws.destroy());
  const streamed = (await ws.request({ type: 'orders', requestId: 'o1' }, 10_000)) as any;
  t.match(streamed, { type: 'orders', requestId: 'o1', truncated: false }, 'the stream answers an orders message');
  t.same(streamed.orders, open.json.orders, 'with the same orders as GET /v1/transact?status=open');
  const bad = (await ws.request({ type: 'orders', requestId: 'o2', accountId: '1' }, 10_000)) as any;
  t.match(bad, { type: 'error', requestId: 'o2', status: 400 }, 'an unknown field in an orders message: 400');
});

t.test('another colleague gets 404 for it, exactly as for an order that does not exist; the owner removes it', async (t) => {
  const a = await alice();
  const b = await bruno();
  const theirs = await call('GET', `/v1/transact/${restingId}`, undefined, b.token);
  const nobodys = await call('GET', '/v1/transact/987654321', undefined, b.token);
  t.equal(theirs.status, 404, "bruno reading alice's order: 404");
  t.equal(theirs.json.error, 'unknown_order');
  t.same(theirs, nobodys, 'the very same answer as for an order that does not exist');
  t.notMatch(JSON.stringify(theirs.json), /851|APPL/, 'nothing of the order leaks');
  const brunoList = await call('GET', '/v1/transact?status=all', undefined, b.token);
  t.notOk(brunoList.json.orders.some((o: any) => o.id === restingId), "bruno's lists never show alice's order");
  const brunoDelete = await call('DELETE', `/v1/transact/${restingId}`, undefined, b.token);
  t.equal(brunoDelete.status, 404, "bruno cannot remove alice's order");

  const removed = await call('DELETE', `/v1/transact/${restingId}`, undefined, a.token);
  t.equal(removed.status, 200, `alice removes it through the restarted gateway (${JSON.stringify(removed.json)})`);
  t.equal(removed.json.status, 'removed');
  const open = await call('GET', '/v1/transact?status=open', undefined, a.token);
  t.notOk(open.json.orders.some((o: any) => o.id === restingId), 'it is no longer listed as open');
  const one = await call('GET', `/v1/transact/${restingId}`, undefined, a.token);
  t.match(one, { status: 200, json: { id: restingId, status: 'removed', remainingQuantity: 0 } }, 'reading it shows it removed');
  const all = await call('GET', '/v1/transact?status=all', undefined, a.token);
  t.match(all.json.orders.find((o: any) => o.id === restingId), { status: 'removed' }, 'status=all lists it among the finished orders');
});

t.test('after ims stop / ims start on the same data directory the resting order is still listed', async (t) => {
  const a = await alice();
  const r = await call('POST', '/v1/transact', { symbol: 'APPL-128', side: 'inflow', price: '852.00', quantity: 2, clientOrderId: 'orders-read-2', timeInForce: 'GTC' }, a.token);
  t.equal(r.status, 200, `the inflow rests (${JSON.stringify(r.json)})`);
  const before = readyPorts().length;
  await inst.stop();
  inst.start();
  await gatewayReady(before + 1);
  await until('a hot engine again', () => (inst.log().match(/"event":"engine-hot"/g) ?? []).length >= 2, 180_000);
  const a2 = await untilHttp('a login after the restart', () => alice(), 120_000);
  const listed = await untilHttp('the order listed after the restart', async () => {
    const open = await call('GET', '/v1/transact?status=open', undefined, a2.token);
    return open.status === 200 ? open.json.orders.find((o: any) => o.id === r.json.id) : undefined;
  }, 120_000);
  t.same(stable(listed), stable(r.json), 'listed with the fields the placing answer gave');
  const removed = await call('DELETE', `/v1/transact/${r.json.id}`, undefined, a2.token);
  t.match(removed, { status: 200, json: { status: 'removed' } }, 'and removed');
});

t.test('risk rules: the defaults, a rule set through PUT, the accountId filter, and who may read them', async (t) => {
  const risk = await login('risk', 'limits-desk-demo');
  const admin = await login('admin', 'control-room-demo');
  const a = await alice();
  const b = await bruno();

  const first = await call('GET', '/v1/admin/risk-rules', undefined, risk.token);
  t.equal(first.status, 200, `a risk admin lists the rules (${JSON.stringify(first.json).slice(0, 200)})`);
  const defaults = first.json.rules.filter((r: any) => r.default);
  t.same(
    defaults,
    [
      { kind: 'brand_daily_units', limit: '1000000', unit: 'units', accountId: null, brand: null, brandId: null, default: true },
      { kind: 'notional_daily', limit: '1000000.00', unit: 'currency', accountId: null, brand: null, brandId: null, default: true },
      { kind: 'max_order_quantity', limit: '1000000', unit: 'units', accountId: null, brand: null, brandId: null, default: true },
      { kind: 'price_collar_bps', limit: '1000', unit: 'basis_points', accountId: null, brand: null, brandId: null, default: true },
      { kind: 'max_open_orders', limit: '1000', unit: 'orders', accountId: null, brand: null, brandId: null, default: true },
    ],
    'the five built-in defaults, marked, in their units',
  );
  t.equal(typeof first.json.asOfSeq, 'number');
  t.equal(first.json.truncated, false);

  const put1 = await call('PUT', '/v1/admin/risk-rules', { kind: 'brand_daily_units', limit: '500', accountId: a.accountId, brand: 'Apple' }, risk.token);
  t.equal(put1.status, 202, `a brand rule for alice is submitted (${JSON.stringify(put1.json)})`);
  const put2 = await call('PUT', '/v1/admin/risk-rules', { kind: 'max_open_orders', limit: '50', accountId: b.accountId }, risk.token);
  t.equal(put2.status, 202);
  const put3 = await call('PUT', '/v1/admin/risk-rules', { kind: 'notional_daily', limit: '5000000.50' }, risk.token);
  t.equal(put3.status, 202);
  const listed = await untilHttp('the three rules listed', async () => {
    const r = await call('GET', '/v1/admin/risk-rules', undefined, risk.token);
    const set = r.json.rules.filter((x: any) => !x.default);
    return set.length >= 3 ? r.json : undefined;
  });
  const set = listed.rules.filter((x: any) => !x.default);
  t.match(set.find((x: any) => x.kind === 'brand_daily_units'), { limit: '500', unit: 'units', accountId: a.accountId, brand: 'Apple', brandId: Number, default: false }, "alice's Apple rule, as set");
  t.match(set.find((x: any) => x.kind === 'max_open_orders'), { limit: '50', unit: 'orders', accountId: b.accountId, brand: null, brandId: null, default: false }, "bruno's open-order rule");
  t.match(set.find((x: any) => x.kind === 'notional_daily'), { limit: '5000000.50', unit: 'currency', accountId: null, brand: null, default: false }, 'the every-account notional rule, in currency');
  t.ok(listed.asOfSeq > first.json.asOfSeq, 'the list is read after the rules were journaled');

  const forAlice = await call('GET', `/v1/admin/risk-rules?accountId=${a.accountId}`, undefined, risk.token);
  t.equal(forAlice.status, 200);
  const aliceSet = forAlice.json.rules.filter((x: any) => !x.default);
  t.ok(aliceSet.some((x: any) => x.accountId === a.accountId), "?accountId lists alice's own rule");
  t.ok(aliceSet.some((x: any) => x.accountId === null), 'and the every-account ones');
  t.notOk(aliceSet.some((x: any) => x.accountId === b.accountId), "but not bruno's");
  t.equal(forAlice.json.rules.filter((x: any) => x.default).length, 5, 'with the defaults');

  const byAdmin = await call('GET', '/v1/admin/risk-rules', undefined, admin.token);
  t.equal(byAdmin.status, 200, 'an admin may read them too');
  t.same(byAdmin.json.rules, listed.rules, 'the same list');
  for (const [who, token] of [['a colleague', a.token], ['an operator', (await login('ops', 'night-shift-demo')).token], ['an analyst', (await login('ceo', 'board-view-demo')).token]] as const) {
    const r = await call('GET', '/v1/admin/risk-rules', undefined, token);
    t.equal(r.status, 403, `${who}: 403`);
    t.equal(r.json.error, 'forbidden');
    t.notMatch(JSON.stringify(r.json), /brand_daily_units|1000000/, 'nothing of the rules leaks');
  }
  t.equal((await call('GET', '/v1/admin/risk-rules')).status, 401, 'no credential: 401');
  t.equal((await call('GET', '/v1/admin/risk-rules?accountId=abc', undefined, risk.token)).status, 400, 'a malformed accountId: 400');
  t.equal((await call('GET', '/v1/admin/risk-rules?kind=x', undefined, risk.token)).status, 400, 'an unknown query field: 400');

  // Removing (limit null) takes the rule out of the list; the default shows again for that scope.
  t.equal((await call('PUT', '/v1/admin/risk-rules', { kind: 'max_open_orders', limit: null, accountId: b.accountId }, risk.token)).status, 202);
  await untilHttp('the removed rule to disappear', async () => {
    const r = await call('GET', '/v1/admin/risk-rules', undefined, risk.token);
    return r.json.rules.some((x: any) => !x.default && x.kind === 'max_open_orders') ? undefined : true;
  });
  t.pass('a removed rule is no longer listed');
});

t.test('/openapi.json documents the risk-rules list and the stream orders message', async (t) => {
  const doc = (await call('GET', '/openapi.json')).json;
  const op = doc.paths['/v1/admin/risk-rules']?.get;
  t.ok(op, 'GET /v1/admin/risk-rules is listed');
  t.same(op['x-roles'], ['risk_admin', 'admin']);
  t.ok(op.parameters.some((p: any) => p.name === 'accountId' && p.in === 'query'), 'accountId is a query parameter');
  t.ok(doc.paths['/v1/stream'].get['x-client-messages'].some((m: any) => m.$ref === '#/components/schemas/StreamOrders'), 'the stream lists the orders message');
  t.notMatch(inst.log(), /invalid-gateway-record/, 'the product manager refused no gateway record');
});
