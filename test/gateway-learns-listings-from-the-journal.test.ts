// A product listed through the admin endpoint becomes tradable on every gateway, because the
// gateways learn listings, halts and resumes from the journal (through the market-data publisher's
// ProductStatus records and product snapshots), not only from the products file they started with.
// Against the real system started by `ims start --gateways 2` (every process real): an admin lists
// a new product through gateway 1; it appears in /v1/products; price and quantity are checked on
// its tick and lot; two colleagues trade it and a market-data subscriber sees the trade; a halt
// through gateway 2 is seen by gateway 1 and makes orders answer product_halted; a resume makes
// them accepted again; gateway 1 is killed, the supervisor restarts it, and the restarted gateway
// knows the product and its halt (neither is in its products file).
import t from 'tap';
import { createImsInstance, until } from './support/ims-instance';
import { gatewayCall as call, gatewayLogin as login } from './support/gateway-http';
import { isRefusal, TestWebSocket } from './support/gateway-ws-client';

const inst = createImsInstance('listings', ['--gateways', '2', '--trading-port', '0', '--public-port', '0']);
t.teardown(() => inst.destroy());

/** The new product: not in the demo products file. Tick 0.05, lot 5. */
const NEW = { productId: 4242, symbol: 'LEARN-1', brand: 'Apple', tickSize: '0.05', lotSize: 5, referencePrice: '20.00' } as const;
/** Longest a sequenced effect (a listing, a halt, a receipt) may take to reach a gateway (shared machine: generous). */
const EFFECT_WAIT_MS = 30_000;

interface Ready {
  gatewayId: number;
  pid: number;
  tradingPort: number;
  publicPort: number;
}

/** Every gateway-ready line the supervisor relayed, oldest first. */
function readyLines(): Ready[] {
  const out: Ready[] = [];
  for (const line of inst.log().split('\n')) {
    if (!line.includes('"event":"gateway-ready"')) continue;
    try {
      out.push(JSON.parse(line.slice(line.indexOf('{'))) as Ready);
    } catch {
      // a line cut by the pipe's chunking: the next read has it whole
    }
  }
  return out;
}

/** The latest ready gateway n. */
function gateway(n: number): Ready | undefined {
  return readyLines()
    .filter((r) => r.gatewayId === n)
    .at(-1);
}

/** Polls `fn` until it returns a value, giving the last answer in the timeout message. */
async function eventually<T>(what: string, fn: () => Promise<{ done: T | undefined; last: unknown }>, timeoutMs = EFFECT_WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { done, last } = await fn();
    if (done !== undefined) return done;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last answer: ${JSON.stringify(last).slice(0, 400)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function listedOn(port: number, halted: boolean): Promise<any> {
  return eventually(`${NEW.symbol} in /v1/products on port ${port} with halted ${halted}`, async () => {
    const r = await call(port, 'GET', '/v1/products');
    const p = r.json?.products?.find((x: { symbol: string }) => x.symbol === NEW.symbol);
    return { done: p !== undefined && p.halted === halted ? p : undefined, last: p ?? r };
  });
}

t.before(async () => {
  inst.start();
  await until('both gateways to listen', () => gateway(1) !== undefined && gateway(2) !== undefined, 90_000);
  await until('the demo day to open', () => /"event":"trading-day-open"/.test(inst.log()), 60_000);
  await until('a hot engine', () => /"event":"engine-hot"/.test(inst.log()), 30_000);
});

t.test('a product listed through the admin endpoint is traded, halted and resumed on every gateway, and survives a gateway restart', async (t) => {
  const gw1 = gateway(1)!;
  const gw2 = gateway(2)!;
  const admin = await login(gw1.tradingPort, 'admin', 'control-room-demo');
  const admin2 = await login(gw2.tradingPort, 'admin', 'control-room-demo');
  const alice = await login(gw1.tradingPort, 'alice', 'kiosk-101-demo');
  const bruno = await login(gw1.tradingPort, 'bruno', 'kiosk-102-demo');

  const before = await call(gw1.tradingPort, 'POST', '/v1/transact', { symbol: NEW.symbol, side: 'inflow', price: '20.00', quantity: 5 }, alice.token);
  t.match(before, { status: 400, json: { error: 'unknown_symbol' } }, 'before the listing the symbol is unknown');

  // --- the listing, through gateway 1 -------------------------------------------------------------
  const listed = await call(gw1.tradingPort, 'POST', '/v1/admin/products', NEW, admin.token);
  t.equal(listed.status, 202, `the listing is submitted (${JSON.stringify(listed.json)})`);
  const product = await listedOn(gw1.tradingPort, false);
  t.match(product, { productId: NEW.productId, symbol: NEW.symbol, brand: 'Apple', tickSize: '0.05', lotSize: 5, halted: false }, 'gateway 1 lists the new product with its tick and lot');
  await listedOn(gw2.tradingPort, false);
  t.pass('gateway 2, which did not take the listing, lists it too');
  const publicList = await call(gw1.publicPort, 'GET', '/v1/products');
  t.ok(publicList.json.products.some((p: { symbol: string }) => p.symbol === NEW.symbol), 'and so does the public listener');
  const again = await call(gw2.tradingPort, 'POST', '/v1/admin/products', NEW, admin2.token);
  t.match(again, { status: 409, json: { error: 'product_already_listed' } }, 'listing it again through the other gateway is refused');

  // --- order entry checks the product's own tick and lot -------------------------------------------
  const offTick = await call(gw1.tradingPort, 'POST', '/v1/transact', { symbol: NEW.symbol, side: 'inflow', price: '20.01', quantity: 5 }, alice.token);
  t.match(offTick, { status: 400, json: { error: 'price_not_on_tick' } }, 'a price off the 0.05 tick is refused');
  const offLot = await call(gw1.tradingPort, 'POST', '/v1/transact', { symbol: NEW.symbol, side: 'inflow', price: '20.00', quantity: 3 }, alice.token);
  t.match(offLot, { status: 400, json: { error: 'quantity_not_on_lot' } }, 'a quantity off the lot of 5 is refused');

  // --- market data: a public subscriber of the new product's trades and book ------------------------
  const md = await TestWebSocket.connect(gw2.publicPort, { path: '/v1/market-data/stream' });
  if (isRefusal(md)) throw new Error(`market-data stream refused: ${md.status} ${md.body}`);
  t.teardown(() => md.destroy());
  md.send(JSON.stringify({ type: 'subscribe', requestId: 't1', channel: `trades:${NEW.symbol}` }));
  md.send(JSON.stringify({ type: 'subscribe', requestId: 'b1', channel: `book:${NEW.symbol}` }));
  t.match(await md.waitFor((m) => m['requestId'] === 't1', 10_000), { type: 'subscribed', channel: `trades:${NEW.symbol}` }, 'the trades channel of the new product can be subscribed');
  t.match(await md.waitFor((m) => m['requestId'] === 'b1', 10_000), { type: 'subscribed' }, 'so can its book');
  await md.waitFor((m) => m['type'] === 'book' && m['channel'] === `book:${NEW.symbol}` && m['snapshot'] === true, 15_000);
  t.pass('the subscriber gets the new product\'s book snapshot');

  // --- two colleagues trade it (bruno receives stock of the new product first) --------------------
  const receipt = await call(gw1.tradingPort, 'POST', '/v1/admin/inventory-receipts', { accountId: bruno.accountId, symbol: NEW.symbol, quantity: 100, reference: 4242001 }, admin.token);
  t.equal(receipt.status, 202, `bruno's stock receipt is submitted (${JSON.stringify(receipt.json)})`);
  const resting = await call(gw1.tradingPort, 'POST', '/v1/transact', { symbol: NEW.symbol, side: 'inflow', price: '20.00', quantity: 10, clientOrderId: 'learn-alice-1' }, alice.token);
  t.match(resting, { status: 200, json: { symbol: NEW.symbol, status: 'added', price: '20.00', quantity: 10 } }, "alice's inflow rests on the new product");
  // The receipt is sequenced before bruno's order reaches the product manager only once it is in
  // the journal: retry the outflow while it is refused for want of stock.
  let attempt = 0;
  const crossing = await eventually('bruno\'s crossing outflow to fill', async () => {
    const r = await call(gw1.tradingPort, 'POST', '/v1/transact', { symbol: NEW.symbol, side: 'outflow', price: '20.00', quantity: 10, clientOrderId: `learn-bruno-${++attempt}` }, bruno.token);
    return { done: r.status === 200 ? r : undefined, last: r };
  });
  t.match(crossing.json, { status: 'filled', filledQuantity: 10, lastPrice: '20.00' }, 'bruno\'s outflow fills against alice\'s inflow');
  t.match(await md.waitFor((m) => m['type'] === 'trade' && m['channel'] === `trades:${NEW.symbol}`, 15_000), { price: '20.00', size: 10 }, 'the subscriber sees the trade');

  // --- a halt through gateway 2 is seen by gateway 1 -----------------------------------------------
  const halt = await call(gw2.tradingPort, 'POST', `/v1/admin/products/${NEW.symbol}/halt`, undefined, admin2.token);
  t.equal(halt.status, 202, `the halt through gateway 2 is submitted (${JSON.stringify(halt.json)})`);
  await listedOn(gw1.tradingPort, true);
  t.pass('gateway 1 shows the product halted');
  const refused = await eventually('an order on the halted product to be refused', async () => {
    const r = await call(gw1.tradingPort, 'POST', '/v1/transact', { symbol: NEW.symbol, side: 'inflow', price: '19.95', quantity: 5 }, alice.token);
    if (r.status === 200 && r.json.id !== undefined) await call(gw1.tradingPort, 'DELETE', `/v1/transact/${r.json.id}`, undefined, alice.token);
    return { done: r.status === 409 ? r : undefined, last: r };
  });
  t.match(refused.json, { error: 'product_halted' }, 'orders on the halted product answer product_halted');

  // --- resume through gateway 1 ---------------------------------------------------------------------
  const resume = await call(gw1.tradingPort, 'POST', `/v1/admin/products/${NEW.symbol}/resume`, undefined, admin.token);
  t.equal(resume.status, 202);
  await listedOn(gw2.tradingPort, false);
  t.pass('gateway 2 shows the product trading again');
  const accepted = await eventually('an order on the resumed product to be accepted', async () => {
    const r = await call(gw1.tradingPort, 'POST', '/v1/transact', { symbol: NEW.symbol, side: 'inflow', price: '19.95', quantity: 5 }, alice.token);
    return { done: r.status === 200 ? r : undefined, last: r };
  });
  t.match(accepted.json, { status: 'added' }, 'after the resume orders are accepted');
  await call(gw1.tradingPort, 'DELETE', `/v1/transact/${accepted.json.id}`, undefined, alice.token);

  // --- halt again, then restart gateway 1: it must learn both from the journal -----------------------
  t.equal((await call(gw2.tradingPort, 'POST', `/v1/admin/products/${NEW.symbol}/halt`, undefined, admin2.token)).status, 202);
  await listedOn(gw1.tradingPort, true);
  process.kill(gw1.pid, 'SIGKILL');
  const restarted = await until('gateway 1 to be restarted by the supervisor', () => {
    const g = gateway(1);
    return g !== undefined && g.pid !== gw1.pid ? g : undefined;
  }, 60_000);
  t.not(restarted.pid, gw1.pid, 'the supervisor started a new gateway 1');
  const relearned = await listedOn(restarted.tradingPort, true);
  t.match(relearned, { productId: NEW.productId, tickSize: '0.05', lotSize: 5, halted: true }, 'the restarted gateway knows the product (not in its file) and that it is halted');
  const adminAgain = await login(restarted.tradingPort, 'admin', 'control-room-demo');
  const aliceAgain = await login(restarted.tradingPort, 'alice', 'kiosk-101-demo');
  const haltedThere = await call(restarted.tradingPort, 'POST', '/v1/transact', { symbol: NEW.symbol, side: 'inflow', price: '19.95', quantity: 5 }, aliceAgain.token);
  t.match(haltedThere, { status: 409, json: { error: 'product_halted' } }, 'an order through the restarted gateway reaches the product manager, which refuses it: halted');
  t.equal((await call(restarted.tradingPort, 'POST', `/v1/admin/products/${NEW.symbol}/resume`, undefined, adminAgain.token)).status, 202, 'the restarted gateway resumes the product');
  const tradesAgain = await eventually('an order through the restarted gateway to be accepted', async () => {
    const r = await call(restarted.tradingPort, 'POST', '/v1/transact', { symbol: NEW.symbol, side: 'inflow', price: '19.95', quantity: 5 }, aliceAgain.token);
    return { done: r.status === 200 ? r : undefined, last: r };
  });
  t.match(tradesAgain.json, { symbol: NEW.symbol, status: 'added' }, 'and takes orders on it');
  await call(restarted.tradingPort, 'DELETE', `/v1/transact/${tradesAgain.json.id}`, undefined, aliceAgain.token);
});
