// A role change through the real system (supervisor, gateway, control relaying the accounts
// outbox, sequencer, product managers, engines, reporter): a new colleague applies, trades, and
// reads only their own executions; an admin makes them an analyst with PUT
// /v1/admin/accounts/{id}/role; their old session is refused at once; logged in again they read
// every account's executions and wallets, and may not trade (403); the product manager learned
// the change through the journal (the wallet it answers carries the outlet of the new role);
// demoted back to a colleague at another outlet, they trade again.
import t from 'tap';
import { createImsInstance } from './support/ims-instance';
import { gatewayHttp, tradingPortWhenReady, type GatewayHttp, type Reply, type Session } from './support/gateway-http';
import { applicationBody } from './support/gateway-harness';

/** The password applicationBody gives every applicant. */
const PASSWORD = 'kiosk-Passphrase-2024';

const inst = createImsInstance('role-change', ['--trading-port', '0', '--public-port', '0']);
t.teardown(() => inst.destroy());

let port = 0;
const gw: GatewayHttp = gatewayHttp(() => port);
/** Generous: the machine is shared, and the reporter writes its database in batches. */
const WAIT_MS = 90_000;

async function eventually(what: string, fn: () => Promise<Reply>, ok: (r: Reply) => boolean): Promise<Reply> {
  let last: Reply | undefined;
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    last = await fn().catch(() => undefined);
    if (last !== undefined && ok(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last answer ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const accountsIn = (r: Reply): Set<number> => new Set<number>((r.json?.executions ?? []).map((e: any) => e.accountId as number));

let admin: Session;
/** The new colleague of the test, logged in again after each role change. */
let nina: Session | undefined;
function ninaToken(): string {
  if (nina === undefined) throw new Error('nina is not logged in');
  return nina.token;
}
let alice: Session;
let bruno: Session;

t.before(async () => {
  inst.start();
  port = await tradingPortWhenReady(inst, 180_000);
  admin = await gw.login('admin', 'control-room-demo');
  alice = await gw.login('alice', 'kiosk-101-demo');
  bruno = await gw.login('bruno', 'kiosk-102-demo');
  await eventually('demo funds', () => gw.get('/v1/wallet', bruno.token), (r) => r.status === 200 && r.json.cash.balance !== '0.00');
  // A trade between two other accounts, for the analyst to see later.
  const maker = await gw.call('POST', '/v1/transact', { symbol: 'SONY-PLUS', side: 'outflow', price: '999.00', quantity: 1 }, alice.token);
  if (maker.status !== 200) throw new Error(`alice's order: ${JSON.stringify(maker)}`);
  const taker = await gw.call('POST', '/v1/transact', { symbol: 'SONY-PLUS', side: 'inflow', price: '999.00', quantity: 1, timeInForce: 'IOC' }, bruno.token);
  if (taker.status !== 200) throw new Error(`bruno's order: ${JSON.stringify(taker)}`);
  // The reporter has the trade, so what a colleague does not see below is hidden, not missing.
  await eventually('the trade in the execution history', () => gw.get('/v1/execution?limit=500', admin.token), (r) => r.status === 200 && accountsIn(r).has(alice.accountId) && accountsIn(r).has(bruno.accountId));
});

t.test('a colleague made analyst is signed out, sees every account, cannot trade; made a colleague again, trades', async (t) => {
  const applied = await gw.call('POST', '/v1/applications', applicationBody('role-nina', 'Nina Rolle', 901));
  t.match(applied, { status: 201, json: { status: 'approved' } });
  const ninaId = applied.json.accountId as number;
  const firstOutlet = 100 + 901;
  nina = await gw.login('role-nina', PASSWORD);

  // As a colleague: the product manager knows her (the outbox reached it), she trades, and her
  // execution history has only her own rows.
  t.match(await gw.call('POST', '/v1/admin/deposits', { accountId: ninaId, amount: '5000.00', reference: 90_100 + ninaId }, admin.token), { status: 202 });
  await eventually("nina's deposit in the product manager", () => gw.get('/v1/wallet', ninaToken()), (r) => r.status === 200 && r.json.cash.balance === '5000.00');
  t.match(await gw.get(`/v1/wallet?accountId=${ninaId}`, admin.token), { status: 200, json: { accountId: ninaId, outletId: firstOutlet } });
  t.match(await gw.call('POST', '/v1/transact', { symbol: 'SONY-PLUS', side: 'inflow', price: '990.00', quantity: 1, timeInForce: 'IOC' }, ninaToken()), { status: 200 }, 'a colleague trades');
  const own = await gw.get('/v1/execution?limit=100', ninaToken());
  t.equal(own.status, 200);
  t.ok([...accountsIn(own)].every((id) => id === ninaId), "a colleague sees only her own executions (not alice's or bruno's, which the history has)");

  // Promotion.
  const oldToken = ninaToken();
  const promoted = await gw.call('PUT', `/v1/admin/accounts/${ninaId}/role`, { role: 'analyst', reason: 'joins the analysts' }, admin.token);
  t.match(promoted, { status: 200, json: { accountId: ninaId, previousRole: 'colleague', role: 'analyst', outletId: 0, sessionsRevoked: 1 } });
  t.match(await gw.get('/v1/sessions/current', oldToken), { status: 401, json: { error: 'session_invalid' } }, 'the old session is refused at once');
  t.match(await gw.call('POST', '/v1/transact', { symbol: 'SONY-PLUS', side: 'inflow', price: '990.00', quantity: 1 }, oldToken), { status: 401 }, 'and cannot trade');
  t.match(await gw.call('PUT', `/v1/admin/accounts/${admin.accountId}/role`, { role: 'analyst', reason: 'step back' }, admin.token), { status: 409, json: { error: 'self_demotion' } });

  nina = await gw.login('role-nina', PASSWORD);
  t.match(await gw.get('/v1/sessions/current', nina.token), { status: 200, json: { role: 'analyst', outletId: 0 } }, 'logged in again: an analyst');
  await eventually('the product manager to apply AccountRoleChanged (outlet 0)', () => gw.get(`/v1/wallet?accountId=${ninaId}`, admin.token), (r) => r.status === 200 && r.json.outletId === 0);
  const all = await eventually("every account's executions", () => gw.get('/v1/execution?limit=500', nina!.token), (r) => r.status === 200 && accountsIn(r).has(alice.accountId) && accountsIn(r).has(bruno.accountId));
  t.ok(accountsIn(all).size >= 2, `an analyst sees every account's executions (${[...accountsIn(all)].join(', ')})`);
  t.match(await gw.get(`/v1/wallet?accountId=${alice.accountId}`, nina.token), { status: 200, json: { accountId: alice.accountId } }, "and any account's wallet");
  t.match(await gw.call('POST', '/v1/transact', { symbol: 'SONY-PLUS', side: 'inflow', price: '990.00', quantity: 1 }, nina.token), { status: 403 }, 'an analyst may not trade');

  // Back to a colleague, at another outlet.
  t.match(await gw.call('PUT', `/v1/admin/accounts/${ninaId}/role`, { role: 'colleague', reason: 'back to the kiosk' }, admin.token), { status: 400, json: { error: 'validation_failed', fields: [{ field: 'outletId' }] } });
  t.match(await gw.call('PUT', `/v1/admin/accounts/${ninaId}/role`, { role: 'colleague', outletId: 4242, reason: 'back to the kiosk' }, admin.token), { status: 200, json: { role: 'colleague', outletId: 4242 } });
  t.match(await gw.get('/v1/sessions/current', nina.token), { status: 401 });
  nina = await gw.login('role-nina', PASSWORD);
  await eventually('the product manager to apply the demotion (outlet 4242)', () => gw.get(`/v1/wallet?accountId=${ninaId}`, admin.token), (r) => r.status === 200 && r.json.outletId === 4242);
  t.match(await gw.call('POST', '/v1/transact', { symbol: 'SONY-PLUS', side: 'inflow', price: '990.00', quantity: 1, timeInForce: 'IOC' }, nina.token), { status: 200 }, 'a colleague again: trades');
  t.match(await gw.get(`/v1/wallet?accountId=${alice.accountId}`, nina.token), { status: 403 }, 'and sees only her own wallet');
});
