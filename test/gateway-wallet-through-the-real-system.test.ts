// GET /v1/wallet and the stream's wallet message, through the real system (gateway, product
// managers, sequencer, engines, control with the demo accounts and funds): the wallet a colleague
// reads moves exactly with a resting order (reservation) and a fill (cash and units both ways,
// brand limit used), a colleague cannot read another account's wallet (403 whether the account
// exists or not), staff can, operators cannot, and the read is not a command (orders keep flowing
// after many reads, and the product manager reports no repeated or invalid gateway records).
import t from 'tap';
import { createImsInstance } from './support/ims-instance';
import { gatewayHttp, tradingPortWhenReady } from './support/gateway-http';
import { isRefusal, TestWebSocket } from './support/gateway-ws-client';

const inst = createImsInstance('wallet', ['--trading-port', '0', '--public-port', '0']);
t.teardown(() => inst.destroy());

let port = 0;
const { call, login } = gatewayHttp(() => port);

/** "1234.50" -> 123450 (two decimals, the demo's cash unit), exactly. */
function cents(text: string): number {
  t.match(text, /^-?[0-9]+\.[0-9]{2}$/, `${text} is a decimal string with two decimals`);
  const [whole, frac] = text.split('.');
  return Number(whole) * 100 + (whole!.startsWith('-') ? -1 : 1) * Number(frac);
}

function position(wallet: any, symbol: string): any {
  return wallet.inventory.find((p: any) => p.symbol === symbol) ?? { balance: 0, reserved: 0, available: 0 };
}

function brand(wallet: any, name: string): any {
  return wallet.brandLimits.find((b: any) => b.brand === name);
}

t.before(async () => {
  inst.start();
  port = await tradingPortWhenReady(inst, 180_000);
});

t.test('a colleague reads their wallet; it moves exactly with a resting order and a fill', async (t) => {
  const alice = await login('alice', 'kiosk-101-demo');
  const bruno = await login('bruno', 'kiosk-102-demo');
  // The demo funds arrive through the journal shortly after the accounts open.
  const funded = async (who: { token: string }): Promise<any> => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await call('GET', '/v1/wallet', undefined, who.token);
      if (r.status === 200 && r.json.cash.balance !== '0.00' && position(r.json, 'APPL-128').balance > 0) return r.json;
      if (Date.now() > deadline) throw new Error(`no demo funds in the wallet within 60 s: ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  const a0 = await funded(alice);
  const b0 = await funded(bruno);
  t.match(a0, { accountId: alice.accountId, outletId: 101, truncated: false }, 'the wallet names the account and its outlet');
  t.equal(typeof a0.asOfSeq, 'number');
  t.ok(Math.abs(a0.time - Date.now()) < 60_000, 'time is epoch ms, now');
  t.equal(cents(a0.cash.available), cents(a0.cash.balance) - cents(a0.cash.reserved), 'available = balance − reserved');
  const appl0 = position(a0, 'APPL-128');
  t.match(appl0, { symbol: 'APPL-128', productId: Number });
  t.ok(Number.isInteger(appl0.balance) && appl0.available === appl0.balance - appl0.reserved, 'units are integers and available = balance − reserved');
  t.ok(a0.brandLimits.length >= 1 && a0.brandLimits.every((b: any) => Number.isInteger(b.limitUnits) && b.leftUnits === Math.max(0, b.limitUnits - b.usedTodayUnits)), 'brand limits in units, left = limit − used');
  t.match(a0.notionalLimit, { limit: String, usedToday: String, left: String });
  const apple0 = brand(a0, 'Apple');
  t.ok(apple0 !== undefined, 'the Apple brand has a limit entry');

  // A resting inflow reserves price × quantity of cash, and counts its units against the brand.
  const placed = await call('POST', '/v1/transact', { symbol: 'APPL-128', side: 'inflow', price: '899.00', quantity: 5, clientOrderId: 'wallet-alice-1' }, alice.token);
  t.equal(placed.status, 200, `the inflow rests (${JSON.stringify(placed.json)})`);
  t.equal(placed.json.status, 'added');
  const a1 = (await call('GET', '/v1/wallet', undefined, alice.token)).json;
  t.equal(cents(a1.cash.balance), cents(a0.cash.balance), 'resting changes no balance');
  t.equal(cents(a1.cash.reserved), cents(a0.cash.reserved) + 5 * 89_900, 'the inflow reserves 5 × 899.00');
  t.equal(cents(a1.cash.available), cents(a0.cash.available) - 5 * 89_900);
  t.equal(brand(a1, 'Apple').usedTodayUnits, apple0.usedTodayUnits + 5, 'five Apple units used today');
  t.equal(cents(a1.notionalLimit.usedToday), cents(a0.notionalLimit.usedToday) + 5 * 89_900, 'notional used today grows by the order value');
  t.ok(a1.asOfSeq > a0.asOfSeq, 'the wallet is read after the order was journaled');

  // Bruno sells 3 into it: they fill at alice's price; cash and units move both ways.
  const crossing = await call('POST', '/v1/transact', { symbol: 'APPL-128', side: 'outflow', price: '898.00', quantity: 3 }, bruno.token);
  t.match(crossing.json, { status: 'filled', filledQuantity: 3, lastPrice: '899.00' });
  const a2 = (await call('GET', '/v1/wallet', undefined, alice.token)).json;
  const b2 = (await call('GET', '/v1/wallet', undefined, bruno.token)).json;
  t.equal(cents(a2.cash.balance), cents(a0.cash.balance) - 3 * 89_900, 'alice paid 3 × 899.00');
  t.equal(cents(a2.cash.reserved), cents(a0.cash.reserved) + 2 * 89_900, 'the 2 still open stay reserved');
  t.equal(position(a2, 'APPL-128').balance, appl0.balance + 3, 'alice holds 3 more units');
  t.equal(cents(b2.cash.balance), cents(b0.cash.balance) + 3 * 89_900, 'bruno received 3 × 899.00');
  t.equal(position(b2, 'APPL-128').balance, position(b0, 'APPL-128').balance - 3, 'bruno holds 3 fewer units');
  t.equal(position(b2, 'APPL-128').reserved, position(b0, 'APPL-128').reserved, 'bruno has nothing reserved: his outflow filled');

  // Removing the rest releases its reservation.
  const removed = await call('DELETE', `/v1/transact/${placed.json.id}`, undefined, alice.token);
  t.equal(removed.json.status, 'removed');
  const a3 = (await call('GET', '/v1/wallet', undefined, alice.token)).json;
  t.equal(cents(a3.cash.reserved), cents(a0.cash.reserved), 'the removed order reserves nothing');
  t.equal(brand(a3, 'Apple').usedTodayUnits, apple0.usedTodayUnits + 5, 'a removal does not give the day limit back');
});

t.test("a colleague cannot read another account's wallet; staff can; operators cannot", async (t) => {
  const alice = await login('alice', 'kiosk-101-demo');
  const bruno = await login('bruno', 'kiosk-102-demo');
  const foreign = await call('GET', `/v1/wallet?accountId=${bruno.accountId}`, undefined, alice.token);
  t.equal(foreign.status, 403, "alice naming bruno's account is 403");
  t.equal(foreign.json.error, 'forbidden');
  t.notMatch(JSON.stringify(foreign.json), /balance|cash|inventory/, 'nothing of the wallet leaks');
  const nobody = await call('GET', '/v1/wallet?accountId=4000000000', undefined, alice.token);
  t.same(nobody, foreign, 'an account that does not exist gets the very same answer (no probing)');
  t.equal((await call('GET', `/v1/wallet?accountId=${alice.accountId}`, undefined, alice.token)).status, 200, 'naming her own account is fine');
  t.equal((await call('GET', '/v1/wallet')).status, 401, 'no credential: 401');
  t.equal((await call('GET', '/v1/wallet?accountId=abc', undefined, alice.token)).status, 400, 'a malformed accountId: 400');
  t.equal((await call('GET', '/v1/wallet?balance=1', undefined, alice.token)).status, 400, 'an unknown query field: 400');

  const ownBruno = (await call('GET', '/v1/wallet', undefined, bruno.token)).json;
  for (const [user, password] of [['ceo', 'board-view-demo'], ['admin', 'control-room-demo'], ['risk', 'limits-desk-demo']] as const) {
    const staff = await login(user, password);
    const r = await call('GET', `/v1/wallet?accountId=${bruno.accountId}`, undefined, staff.token);
    t.equal(r.status, 200, `${user} reads bruno's wallet`);
    t.match(r.json, { accountId: bruno.accountId, outletId: 102, cash: ownBruno.cash }, `${user} sees what bruno sees`);
    const missing = await call('GET', '/v1/wallet?accountId=4000000000', undefined, staff.token);
    t.equal(missing.status, 404, `${user}: an unknown account is 404`);
    t.equal(missing.json.error, 'unknown_account');
  }
  const ops = await login('ops', 'night-shift-demo');
  const denied = await call('GET', `/v1/wallet?accountId=${bruno.accountId}`, undefined, ops.token);
  t.equal(denied.status, 403, 'an operator may not read wallets');
});

t.test('the stream answers wallet messages with the same body, under the same rules', async (t) => {
  const alice = await login('alice', 'kiosk-101-demo');
  const bruno = await login('bruno', 'kiosk-102-demo');
  const ws = await TestWebSocket.connect(port, { protocols: ['ims.v1', `ims-token.${alice.token}`] });
  if (isRefusal(ws)) throw new Error(`stream refused: ${ws.status} ${ws.body}`);
  t.teardown(() => ws.destroy());
  const rest = (await call('GET', '/v1/wallet', undefined, alice.token)).json;
  const answer = (await ws.request({ type: 'wallet', requestId: 'w1' }, 10_000)) as any;
  t.equal(answer.type, 'wallet');
  t.equal(answer.requestId, 'w1');
  t.match(answer.wallet, { accountId: alice.accountId, outletId: 101, cash: rest.cash, inventory: rest.inventory, brandLimits: rest.brandLimits, truncated: false }, 'the same body as GET /v1/wallet');
  const foreign = (await ws.request({ type: 'wallet', requestId: 'w2', accountId: String(bruno.accountId) }, 10_000)) as any;
  t.match(foreign, { type: 'error', requestId: 'w2', status: 403, error: 'forbidden' }, "another colleague's wallet: 403 on the stream too");
  t.notOk('wallet' in foreign);
  const bad = (await ws.request({ type: 'wallet', requestId: 'w3', cash: '1' }, 10_000)) as any;
  t.match(bad, { type: 'error', requestId: 'w3', status: 400 }, 'an unknown field: 400');
});

t.test('reads are not commands: orders flow after many reads, and the PM sees no repeated or invalid records', async (t) => {
  const alice = await login('alice', 'kiosk-101-demo');
  const reads = await Promise.all(Array.from({ length: 40 }, () => call('GET', '/v1/wallet', undefined, alice.token)));
  t.ok(reads.every((r) => r.status === 200), '40 concurrent reads all answered 200');
  const placed = await call('POST', '/v1/transact', { symbol: 'APPL-128', side: 'inflow', price: '850.00', quantity: 1 }, alice.token);
  t.equal(placed.status, 200, 'an order after the reads is taken (the link numbering is intact)');
  await call('DELETE', `/v1/transact/${placed.json.id}`, undefined, alice.token);
  t.notMatch(inst.log(), /invalid-gateway-record/, 'the product manager refused no gateway record');
});

t.test('/openapi.json documents GET /v1/wallet and the stream wallet message', async (t) => {
  const doc = (await call('GET', '/openapi.json')).json;
  const op = doc.paths['/v1/wallet']?.get;
  t.ok(op, 'GET /v1/wallet is listed');
  t.same(op['x-roles'], ['colleague', 'analyst', 'admin', 'risk_admin']);
  t.ok(op.parameters.some((p: any) => p.name === 'accountId' && p.in === 'query'), 'accountId is a query parameter');
  t.ok(op.responses['200'].content['application/json'].schema.properties.brandLimits, 'the 200 schema has brandLimits');
  t.ok(op.responses['403'] && op.responses['404'] && op.responses['503'], '403, 404 and 503 are documented');
  t.ok(doc.paths['/v1/stream'].get['x-client-messages'].some((m: any) => m.$ref === '#/components/schemas/StreamWallet'), 'the stream lists the wallet message');
});
