// Authentication, authorization and mass assignment at the gateway (DESIGN.md invariant 6: no one
// reads or changes what is not theirs), against a real gateway process. The matrices are built from
// the gateway's own /openapi.json, so a new endpoint is covered without editing this file. The
// product manager is SIMULATED (test/support/gateway-fake-pm.ts).

import * as crypto from 'node:crypto';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { startGateway, type GatewayUnderTest } from './support/gateway-harness';
import { isRefusal, TestWebSocket } from './support/gateway-ws-client';

let gw: GatewayUnderTest;
let aliceOrderId = '';
/** An order of alice's that the role matrix may update and remove (alice is admitted there). */
let matrixOrderId = '';

interface Operation {
  readonly method: string;
  readonly path: string;
  readonly roles: readonly string[] | null;
  readonly hasBody: boolean;
}

let privateOps: Operation[] = [];

function concrete(p: string): string {
  return p
    .replace('{id}', matrixOrderId)
    .replace('{keyId}', '1')
    .replace('{applicationId}', '1')
    .replace('{accountId}', String(gw.accounts['bob']!.accountId))
    .replace('{symbol}', 'APPL-128');
}

t.before(async () => {
  gw = await startGateway(t);
  const placed = await gw.request('POST', '/v1/transact', { token: await gw.tokenOf('alice'), body: { symbol: 'APPL-128', side: 'inflow', price: '7.00', quantity: 2 } });
  aliceOrderId = placed.json.id;
  matrixOrderId = (await gw.request('POST', '/v1/transact', { token: await gw.tokenOf('alice'), body: { symbol: 'APPL-128', side: 'inflow', price: '6.00', quantity: 2 } })).json.id;
  const doc = (await gw.request('GET', '/openapi.json')).json;
  for (const [p, methods] of Object.entries<Record<string, any>>(doc.paths)) {
    if (p === '/v1/stream') continue;
    for (const [method, op] of Object.entries<any>(methods)) {
      if (op.security === undefined) continue;
      privateOps.push({ method: method.toUpperCase(), path: p, roles: op['x-roles'] ?? null, hasBody: op.requestBody !== undefined });
    }
  }
});

function call(op: Operation, authorization: string | undefined): Promise<{ status: number; json: any }> {
  return gw.request(op.method, concrete(op.path), { body: op.hasBody ? {} : undefined, headers: authorization === undefined ? {} : { authorization } });
}

t.test('every private endpoint answers 401 to a missing, malformed, unknown, tampered, expired or revoked credential', async (t) => {
  t.ok(privateOps.length >= 20, `${privateOps.length} private operations found in /openapi.json`);
  const fresh = async (): Promise<string> => (await gw.request('POST', '/v1/sessions', { body: { username: 'carol', password: gw.accounts['carol']!.password } })).json.token;
  const valid = await fresh();
  const tampered = valid.slice(0, -1) + (valid.endsWith('A') ? 'B' : 'A');
  const expired = await fresh();
  const db = new Database(path.join(gw.dataDir, 'accounts.sqlite'));
  db.prepare('UPDATE sessions SET expires_at_ms = 1 WHERE token_hash = ?').run(crypto.createHash('sha256').update(expired).digest('hex'));
  db.close();
  const revoked = await fresh();
  t.equal((await gw.request('DELETE', '/v1/sessions/current', { token: revoked })).status, 200);
  const variants: Array<[string, string | undefined]> = [
    ['no Authorization header', undefined],
    ['an empty bearer', 'Bearer '],
    ['another scheme', `Basic ${Buffer.from('carol:pw').toString('base64')}`],
    ['a malformed credential', 'Bearer not-a-token'],
    ['an unknown well-formed token', `Bearer imss_${crypto.randomBytes(32).toString('base64url')}`],
    ['an unknown API key', `Bearer imsk_abcdefgh_${crypto.randomBytes(32).toString('base64url')}`],
    ['a tampered token', `Bearer ${tampered}`],
    ['an expired token', `Bearer ${expired}`],
    ['a revoked token', `Bearer ${revoked}`],
  ];
  const before = gw.pm.records;
  for (const [name, header] of variants) {
    const statuses = new Map<number, string[]>();
    for (const op of privateOps) {
      const r = await call(op, header);
      const key = r.status;
      statuses.set(key, [...(statuses.get(key) ?? []), `${op.method} ${op.path}${r.status !== 401 ? ` ${JSON.stringify(r.json)}` : ''}`]);
    }
    t.same([...statuses.keys()], [401], `${name}: 401 on all ${privateOps.length} private operations${statuses.size > 1 ? ` (got ${JSON.stringify([...statuses])})` : ''}`);
  }
  const expiredAnswer = await gw.request('GET', '/v1/sessions/current', { headers: { authorization: `Bearer ${expired}` } });
  t.equal(expiredAnswer.json.error, 'session_expired', 'an expired session says so');
  gw.pm.caughtUp();
  t.equal(gw.pm.records, before, 'no unauthenticated request wrote anything to the product manager');
  const ws = await TestWebSocket.connect(gw.tradingPort, { protocols: ['ims.v1', `ims-token.${tampered}`] });
  t.ok(isRefusal(ws) && ws.status === 401, 'a tampered token cannot open a stream either');
});

t.test('role checks: each role-limited endpoint refuses every other role with 403 and admits its own', async (t) => {
  const roles: Record<string, string> = { colleague: 'alice', admin: 'admin', risk_admin: 'risk', operator: 'operator', analyst: 'analyst' };
  let checked = 0;
  let bodiless = 0;
  const before = gw.pm.commands.admin;
  for (const op of privateOps.filter((o) => o.roles !== null)) {
    for (const [role, who] of Object.entries(roles)) {
      const r = await call(op, `Bearer ${await gw.tokenOf(who)}`);
      checked++;
      if (op.roles!.includes(role)) {
        t.not(r.status, 403, `${role} may ${op.method} ${op.path} (${r.status})`);
        if (op.path.startsWith('/v1/admin/') && !op.hasBody && op.method === 'POST') bodiless++;
      }
      else {
        t.equal(r.status, 403, `${role} may not ${op.method} ${op.path}`);
        t.equal(r.json.error, 'forbidden');
      }
    }
  }
  t.ok(checked >= 80, `${checked} role/endpoint pairs checked`);
  gw.pm.caughtUp();
  t.ok(privateOps.some((o) => o.path === '/v1/admin/risk-rules' && o.roles!.length === 1 && o.roles![0] === 'risk_admin'), 'risk rules belong to risk admins alone');
  t.equal(gw.pm.commands.admin, before + bodiless, 'admitted roles with empty bodies were refused as invalid; only the body-less halt and resume calls submitted commands');
});

t.test("a colleague cannot read, update or remove another outlet's order, and cannot tell it exists (PM simulated)", async (t) => {
  const bob = await gw.tokenOf('bob');
  const alice = await gw.tokenOf('alice');
  const forwardedBefore = { cancels: gw.pm.commands.cancels, amends: gw.pm.commands.amends };
  const nonexistent = '987654321';
  for (const [method, body] of [['GET', undefined], ['PATCH', { price: '8.00' }], ['DELETE', undefined]] as const) {
    const theirs = await gw.request(method, `/v1/transact/${aliceOrderId}`, { token: bob, body });
    const nobodys = await gw.request(method, `/v1/transact/${nonexistent}`, { token: bob, body });
    t.equal(theirs.status, 404, `${method} of alice's order by bob: 404`);
    t.equal(theirs.json.error, 'unknown_order');
    t.same(theirs.json, nobodys.json, `${method}: the answer is the same as for an order that does not exist`);
  }
  gw.pm.caughtUp();
  t.same({ cancels: gw.pm.commands.cancels, amends: gw.pm.commands.amends }, { cancels: forwardedBefore.cancels + 1, amends: forwardedBefore.amends + 1 }, "bob's commands on alice's known order never left the gateway (only the ones on the unknown id did)");
  const list = await gw.request('GET', '/v1/transact?status=all', { token: bob });
  t.notOk(list.json.orders.some((o: any) => o.id === aliceOrderId), "alice's order is not in bob's list");
  t.equal((await gw.request('GET', `/v1/transact/${aliceOrderId}`, { token: alice })).status, 200, 'alice herself reads it');

  // An order this gateway has never seen (placed through another gateway): the product manager
  // refuses bob (NOT_OWNER), and the gateway answers exactly as for a missing order.
  const elsewhere = gw.pm.orders.get(Number(aliceOrderId))!;
  const hidden = { ...elsewhere, orderId: 55_555, requestId: 0, status: 1, filled: 0 };
  gw.pm.orders.set(hidden.orderId, hidden);
  const bobOnHidden = await gw.request('DELETE', `/v1/transact/${hidden.orderId}`, { token: bob });
  t.equal(bobOnHidden.status, 404);
  t.same(bobOnHidden.json, (await gw.request('DELETE', `/v1/transact/${nonexistent}`, { token: bob })).json, 'not_owner is never revealed');
  const aliceOnHidden = await gw.request('DELETE', `/v1/transact/${hidden.orderId}`, { token: alice });
  t.equal(aliceOnHidden.status, 200, 'the owner can remove an order this gateway had not seen');
  t.equal(aliceOnHidden.json.status, 'removed');
});

t.test("a colleague cannot revoke another's API key, and never receives another's execution reports (PM simulated)", async (t) => {
  const aliceKey = await gw.request('POST', '/v1/api-keys', { token: await gw.tokenOf('alice'), body: { label: 'alice bot' } });
  t.equal(aliceKey.status, 201);
  const byBob = await gw.request('DELETE', `/v1/api-keys/${aliceKey.json.keyId}`, { token: await gw.tokenOf('bob') });
  t.equal(byBob.status, 404);
  t.equal((await gw.request('GET', '/v1/sessions/current', { token: aliceKey.json.key })).status, 200, "alice's key still works");
  const bobKeys = await gw.request('GET', '/v1/api-keys', { token: await gw.tokenOf('bob') });
  t.notOk(bobKeys.text.includes(aliceKey.json.prefix), "bob's key list does not show alice's keys");

  const bobWs = await TestWebSocket.connect(gw.tradingPort, { headers: { Authorization: `Bearer ${await gw.tokenOf('bob')}` } });
  const aliceWs = await TestWebSocket.connect(gw.tradingPort, { headers: { Authorization: `Bearer ${await gw.tokenOf('alice')}` } });
  if (isRefusal(bobWs) || isRefusal(aliceWs)) throw new Error('upgrade refused');
  t.teardown(() => {
    bobWs.destroy();
    aliceWs.destroy();
  });
  await bobWs.request({ type: 'ping', requestId: 'b' });
  await aliceWs.request({ type: 'ping', requestId: 'a' });
  gw.pm.fillFromElsewhere(Number(aliceOrderId), 1);
  await aliceWs.waitFor((m) => m['type'] === 'execution');
  await bobWs.request({ type: 'ping', requestId: 'b2' });
  t.notOk(bobWs.messages.some((m) => m.includes('"execution"')), "bob's stream got none of alice's executions");
  const bobCancel = await bobWs.request({ type: 'remove', requestId: 'steal', id: aliceOrderId });
  t.match(bobCancel, { type: 'error', status: 404, error: 'unknown_order' }, 'nor can bob remove it over the stream');
});

t.test('mass-assigned fields are rejected as unknown_field, never applied', async (t) => {
  const alice = await gw.tokenOf('alice');
  const base = { symbol: 'APPL-128', side: 'inflow', price: '7.00', quantity: 1 };
  const ordersBefore = gw.pm.commands.newOrders;
  for (const [field, value] of [['status', 'filled'], ['filledQuantity', 1], ['remainingQuantity', 0], ['accountId', gw.accounts['bob']!.accountId], ['balance', '1000000'], ['id', '1'], ['creationTime', 0], ['orderId', 1]] as const) {
    const r = await gw.request('POST', '/v1/transact', { token: alice, body: { ...base, [field]: value } });
    t.equal(r.status, 400, `POST /v1/transact with ${field}: 400`);
    t.equal(r.json.error, 'unknown_field', `${field}: unknown_field`);
    t.match(r.json.detail, new RegExp(`'${field}'`), 'the detail names the field');
  }
  gw.pm.caughtUp();
  t.equal(gw.pm.commands.newOrders, ordersBefore, 'none reached the product manager');
  for (const [field, value] of [['accountId', 1], ['status', 'filled'], ['filledQuantity', 2]] as const) {
    const r = await gw.request('PATCH', `/v1/transact/${aliceOrderId}`, { token: alice, body: { price: '7.10', [field]: value } });
    t.equal(r.json.error, 'unknown_field', `PATCH with ${field}: unknown_field`);
  }
  const apply = await gw.request('POST', '/v1/applications', { body: { username: 'mallory', password: 'x', balance: '1000000' } });
  t.equal(apply.json.error, 'unknown_field', 'an application cannot carry a balance');
  const applyAccount = await gw.request('POST', '/v1/applications', { body: { username: 'mallory', password: 'x', accountId: 1, kycStatus: 'approved' } });
  t.equal(applyAccount.json.error, 'unknown_field');
  const login = await gw.request('POST', '/v1/sessions', { body: { username: 'alice', password: 'x', role: 'admin' } });
  t.equal(login.json.error, 'unknown_field');
  const key = await gw.request('POST', '/v1/api-keys', { token: alice, body: { label: 'k', accountId: 1 } });
  t.equal(key.json.error, 'unknown_field');
  const deposit = await gw.request('POST', '/v1/admin/deposits', { token: await gw.tokenOf('admin'), body: { accountId: 1, amount: '1.00', reference: 1, balance: '5' } });
  t.equal(deposit.json.error, 'unknown_field');
  const protoPollution = await gw.request('POST', '/v1/transact', { token: alice, rawBody: '{"symbol":"APPL-128","side":"inflow","price":"7.00","quantity":1,"__proto__":{"accountId":2}}', headers: { 'content-type': 'application/json' } });
  t.equal(protoPollution.json.error, 'unknown_field', '__proto__ is just an unknown field');
  const query = await gw.request('GET', '/v1/transact?__proto__=x', { token: alice });
  t.equal(query.json.error, 'unknown_field');
  t.same(gw.pm.invalid, []);
});
