// The wallet read's contract at the gateway, against the SIMULATED product manager (a real gateway
// process, real rings): the query on the ring is a read (sourceSeq 0, the account from the
// credential or, for staff, from accountId), the multi-record answer is assembled into the JSON the
// portal uses, a colleague naming another account never reaches the ring, and a silent product
// manager gives 503 engine_unavailable after the reply bound instead of a hang.
import t from 'tap';
import { FAKE_CASH_MINOR, FAKE_UNITS } from './support/gateway-fake-pm';
import { startGateway, TEST_PRODUCTS, type GatewayUnderTest } from './support/gateway-harness';
import { isRefusal, TestWebSocket } from './support/gateway-ws-client';

let gw: GatewayUnderTest;

t.before(async () => {
  gw = await startGateway(t);
});

t.test('GET /v1/wallet is a read on the ring, answered from several records as one body', async (t) => {
  const token = await gw.tokenOf('alice');
  const alice = gw.accounts['alice']!;
  gw.pm.caughtUp();
  const before = { ...gw.pm.commands };
  const placed = await gw.request('POST', '/v1/transact', { token, body: { symbol: 'APPL-128', side: 'inflow', price: '7.00', quantity: 3 } });
  t.equal(placed.status, 200);
  const r = await gw.request('GET', '/v1/wallet', { token });
  t.equal(r.status, 200, JSON.stringify(r.json));
  t.same(r.json.cash, { balance: '1000000.00', reserved: '21.00', available: '999979.00' }, 'cash as decimal strings; the open inflow reserves 3 × 7.00');
  t.equal(FAKE_CASH_MINOR, 100_000_000);
  t.equal(r.json.accountId, alice.accountId);
  t.same(
    r.json.inventory.map((p: any) => p.symbol),
    TEST_PRODUCTS.map((p) => p.symbol),
    'one inventory entry per product the PM reported, named by symbol',
  );
  t.same(r.json.inventory[0], { symbol: 'APPL-128', productId: 1, balance: FAKE_UNITS, reserved: 0, available: FAKE_UNITS });
  t.same(r.json.brandLimits, [{ brand: 'Apple', brandId: 1, limitUnits: 1_000_000, usedTodayUnits: 3, leftUnits: 999_997 }], 'brand limits in units, named');
  t.same(r.json.notionalLimit, { limit: '1000000.00', usedToday: '0.00', left: '1000000.00' });
  t.equal(r.json.truncated, false);
  gw.pm.caughtUp();
  t.equal(gw.pm.commands.walletQueries, before.walletQueries + 1, 'one WalletQuery on the ring');
  t.equal(gw.pm.commands.newOrders, before.newOrders + 1, 'and no command besides the order');
  t.same(gw.pm.invalid, [], 'the query carried sourceSeq 0 and did not break the command numbering (the fake checks every record)');
  const next = await gw.request('POST', '/v1/transact', { token, body: { symbol: 'APPL-128', side: 'inflow', price: '6.00', quantity: 1 } });
  t.equal(next.status, 200, 'the next command follows the previous sourceSeq');
  gw.pm.caughtUp();
  t.same(gw.pm.invalid, []);
});

t.test("a colleague naming another account is refused before anything reaches the ring; staff name any", async (t) => {
  gw.pm.caughtUp();
  const queries = gw.pm.commands.walletQueries;
  const bob = gw.accounts['bob']!;
  const refused = await gw.request('GET', `/v1/wallet?accountId=${bob.accountId}`, { token: await gw.tokenOf('alice') });
  t.equal(refused.status, 403);
  t.equal(refused.json.error, 'forbidden');
  gw.pm.caughtUp();
  t.equal(gw.pm.commands.walletQueries, queries, 'no query was written for the refused read');
  const staff = await gw.request('GET', `/v1/wallet?accountId=${bob.accountId}`, { token: await gw.tokenOf('analyst') });
  t.equal(staff.status, 200);
  t.equal(staff.json.accountId, bob.accountId, "the analyst reads bob's wallet");
});

t.test('the stream: {"type":"wallet"} is answered {"type":"wallet","wallet":{…}}', async (t) => {
  const ws = await TestWebSocket.connect(gw.tradingPort, { protocols: ['ims.v1', `ims-token.${await gw.tokenOf('carol')}`] });
  if (isRefusal(ws)) throw new Error(`stream refused: ${ws.status} ${ws.body}`);
  t.teardown(() => ws.destroy());
  const m = (await ws.request({ type: 'wallet', requestId: 'w1' }, 10_000)) as any;
  t.match(m, { type: 'wallet', requestId: 'w1', wallet: { accountId: gw.accounts['carol']!.accountId, cash: { balance: '1000000.00', reserved: '0.00' } } });
});

t.test('a product manager that does not answer gives 503 engine_unavailable after the reply bound', async (t) => {
  gw.pm.silent = true;
  t.teardown(() => {
    gw.pm.silent = false;
  });
  const startedMs = Date.now();
  const r = await gw.request('GET', '/v1/wallet', { token: await gw.tokenOf('alice') });
  t.equal(r.status, 503);
  t.equal(r.json.error, 'engine_unavailable');
  t.ok(Date.now() - startedMs < 10_000, 'answered within the bound, not hung');
});
