// The GET /v1/execution and GET /v1/orders scenario, run against a whole real system (every
// process, the reporter writing the report database, the gateway reading it) by
// test/gateway-execution-history.test.ts (SQLite) and
// test/gateway-execution-history-postgres.test.ts (PostgreSQL): demo colleagues trade over HTTP,
// the test waits until the reporter has written the executions (by polling the route itself), then
// proves authorization, filters, pagination and the error codes through real HTTP.
import type { Test } from 'tap';
import { createImsInstance, type ImsInstance } from './ims-instance';
import { gatewayHttp, tradingPortWhenReady, type Reply } from './gateway-http';

/** Rows per page the reporter allows (processes/reporter/reporter-limits.ts MAX_PAGE_SIZE). */
const MAX_PAGE_SIZE = 1_000;

export interface HistoryScenarioOptions {
  /** Label for the instance name. */
  readonly label: string;
  /** Runs after the system stopped and its directories were removed (drop PostgreSQL schemas). */
  readonly cleanup?: () => Promise<void>;
  /** How many trades the market-data publisher's history holds (read from its database directly). */
  readonly storedTrades: (inst: ImsInstance) => Promise<number>;
}

export function executionHistoryScenario(t: Test, options: HistoryScenarioOptions): void {
  const inst: ImsInstance = createImsInstance(options.label, ['--trading-port', '0', '--public-port', '0']);
  t.teardown(async () => {
    await inst.destroy();
    await options.cleanup?.();
  });
  let port = 0;

  const { call, get, login } = gatewayHttp(() => port);
  /** Every row of a query, following nextCursor (bounded), and the number of pages it took. */
  const walk = async (url: string, token: string, key: 'executions' | 'orders'): Promise<{ rows: any[]; pages: number }> => {
    const rows: any[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const sep = url.includes('?') ? '&' : '?';
      const r: Reply = await get(cursor === null ? url : `${url}${sep}cursor=${encodeURIComponent(cursor)}`, token);
      if (r.status !== 200) throw new Error(`${url}: ${r.status} ${JSON.stringify(r.json)}`);
      rows.push(...r.json[key]);
      cursor = r.json.nextCursor;
      if (++pages > 100) throw new Error(`${url}: more than 100 pages; the cursor does not advance`);
    } while (cursor !== null);
    return { rows, pages };
  };

  t.before(async () => {
    inst.start();
    port = await tradingPortWhenReady(inst, 90_000);
  });

  t.test('colleagues see only their own executions; staff see all; pages and errors hold', async (t) => {
    const alice = await login('alice', 'kiosk-101-demo');
    const bruno = await login('bruno', 'kiosk-102-demo');
    const chen = await login('chen', 'kiosk-103-demo');
    const ceo = await login('ceo', 'board-view-demo'); // analyst
    const admin = await login('admin', 'control-room-demo');
    const ops = await login('ops', 'night-shift-demo'); // operator: reads no trading records
    const place = async (who: { token: string }, order: Record<string, unknown>): Promise<any> => {
      const r = await call('POST', '/v1/transact', order, who.token);
      if (r.status !== 200) throw new Error(`order ${JSON.stringify(order)}: ${r.status} ${JSON.stringify(r.json)}`);
      return r.json;
    };

    const startMs = Date.now() - 1;
    // Three matches: alice (maker) with bruno twice on APPL-128, and chen (maker) with alice on SONY-64.
    const aliceInflow = await place(alice, { symbol: 'APPL-128', side: 'inflow', price: '899.00', quantity: 5, clientOrderId: 'hist-alice-1' });
    const brunoOut1 = await place(bruno, { symbol: 'APPL-128', side: 'outflow', price: '898.00', quantity: 2 });
    const brunoOut2 = await place(bruno, { symbol: 'APPL-128', side: 'outflow', price: '898.00', quantity: 1 });
    t.match(brunoOut2, { status: 'filled', lastPrice: '899.00' }, "bruno's outflows fill at alice's resting price");
    const chenInflow = await place(chen, { symbol: 'SONY-64', side: 'inflow', price: '399.00', quantity: 4 });
    const aliceOut = await place(alice, { symbol: 'SONY-64', side: 'outflow', price: '398.50', quantity: 4 });
    t.match(aliceOut, { status: 'filled', filledQuantity: 4, lastPrice: '399.00' });

    // The reporter writes in batches (at most 300 ms behind the journal): wait for the rows.
    const deadline = Date.now() + 60_000;
    for (let r = await get('/v1/execution', alice.token); !(r.status === 200 && r.json.executions.length >= 3); r = await get('/v1/execution', alice.token)) {
      // 503 history_unavailable is expected until the reporter has created its database.
      if (r.status !== 200 && !(r.status === 503 && r.json.error === 'history_unavailable')) throw new Error(`GET /v1/execution: ${r.status} ${JSON.stringify(r.json)}`);
      if (Date.now() > deadline) throw new Error(`the reporter did not write alice's three executions within 60 s (last answer ${r.status} ${JSON.stringify(r.json)})`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const mine = await get('/v1/execution', alice.token);
    t.equal(mine.status, 200);
    t.equal(mine.json.nextCursor, null, 'one page holds them all');
    t.equal(mine.json.executions.length, 3, 'alice sees exactly her three executions');
    t.ok(
      mine.json.executions.every((e: any) => e.accountId === alice.accountId),
      `every execution alice sees is hers (${JSON.stringify(mine.json.executions.map((e: any) => e.accountId))})`,
    );
    const appl = mine.json.executions.filter((e: any) => e.symbol === 'APPL-128');
    t.same(
      appl.map((e: any) => ({ orderId: e.orderId, side: e.side, liquidity: e.liquidity, quantity: e.quantity, price: e.price })),
      [
        { orderId: aliceInflow.id, side: 'inflow', liquidity: 'maker', quantity: 2, price: '899.00' },
        { orderId: aliceInflow.id, side: 'inflow', liquidity: 'maker', quantity: 1, price: '899.00' },
      ],
      "alice's APPL-128 executions: her resting inflow, at its own price, oldest first",
    );
    const sony = mine.json.executions.find((e: any) => e.symbol === 'SONY-64');
    t.match(sony, { orderId: aliceOut.id, side: 'outflow', liquidity: 'taker', quantity: 4, price: '399.00' }, 'her SONY-64 outflow took chen at his price');
    for (const e of mine.json.executions) {
      t.ok(typeof e.id === 'string' && /^[0-9]+$/.test(e.id) && Number.isInteger(e.productId) && e.productId > 0, 'id and productId are present');
      t.ok(e.time >= startMs && e.time <= Date.now(), `time ${e.time} is an epoch ms of this test`);
    }

    const brunoView = await get('/v1/execution', bruno.token);
    t.same(
      brunoView.json.executions.map((e: any) => [e.orderId, e.side, e.liquidity, e.quantity]),
      [
        [brunoOut1.id, 'outflow', 'taker', 2],
        [brunoOut2.id, 'outflow', 'taker', 1],
      ],
      'bruno sees only his own two sides of the matches',
    );

    // Filters.
    const bySymbol = await get('/v1/execution?symbol=sony-64', alice.token);
    t.same(bySymbol.json.executions.map((e: any) => e.symbol), ['SONY-64'], 'symbol filter (any letter case)');
    const byOrder = await get(`/v1/execution?orderId=${aliceInflow.id}`, alice.token);
    t.equal(byOrder.json.executions.length, 2, 'orderId filter: the two fills of her inflow');
    const foreignOrder = await get(`/v1/execution?orderId=${chenInflow.id}`, alice.token);
    t.same(foreignOrder, { status: 200, json: { executions: [], nextCursor: null } }, "another colleague's orderId returns nothing (its existence does not leak)");
    const ownAccount = await get(`/v1/execution?accountId=${alice.accountId}`, alice.token);
    t.equal(ownAccount.json.executions.length, 3, 'a colleague may name their own account');
    const firstTime = mine.json.executions[0].time;
    const window = await get(`/v1/execution?startTime=${firstTime}&endTime=${firstTime}`, alice.token);
    t.same(window.json.executions, [], 'endTime is exclusive: an empty window holds nothing');
    const late = await get(`/v1/execution?startTime=${Date.now() + 60_000}`, alice.token);
    t.same(late.json.executions, [], 'startTime after every execution: nothing');

    // Authorization.
    const otherAccount = await get(`/v1/execution?accountId=${bruno.accountId}`, alice.token);
    t.equal(otherAccount.status, 403, "a colleague asking for another account's executions is refused");
    t.equal(otherAccount.json.error, 'forbidden');
    const operator = await get('/v1/execution', ops.token);
    t.equal(operator.status, 403, 'an operator reads no trading records');
    const anonymous = await get('/v1/execution');
    t.equal(anonymous.status, 401, 'no token: 401');
    t.equal(anonymous.json.error, 'unauthenticated');

    // Staff see every account's, and one account's when they name it.
    const everyone = await get(`/v1/execution?limit=${MAX_PAGE_SIZE}`, ceo.token);
    t.equal(everyone.status, 200);
    t.equal(everyone.json.executions.length, 6, 'the analyst sees both sides of all three matches');
    t.same(new Set(everyone.json.executions.map((e: any) => e.accountId)), new Set([alice.accountId, bruno.accountId, chen.accountId]), 'of all three colleagues');
    const chenOnly = await get(`/v1/execution?accountId=${chen.accountId}`, admin.token);
    t.same(
      chenOnly.json.executions.map((e: any) => [e.accountId, e.orderId, e.side, e.liquidity]),
      [[chen.accountId, chenInflow.id, 'inflow', 'maker']],
      "an admin filters by accountId: chen's one execution",
    );

    // Pagination: limit=1 walks every row exactly once.
    const walked = await walk('/v1/execution?limit=1', ceo.token, 'executions');
    t.equal(walked.pages, 6, 'six pages of one row');
    t.same(
      walked.rows.map((e: any) => `${e.id}/${e.liquidity}`),
      everyone.json.executions.map((e: any) => `${e.id}/${e.liquidity}`),
      'the pages, concatenated, are the single page: every row once, in order',
    );
    t.equal(new Set(walked.rows.map((e: any) => `${e.id}/${e.liquidity}`)).size, 6, 'no row twice');
    const walkedAlice = await walk('/v1/execution?limit=2', alice.token, 'executions');
    t.same(walkedAlice.rows, mine.json.executions, "a colleague's pages of two give her rows once each");

    // Errors with machine codes.
    const tooMany = await get(`/v1/execution?limit=${MAX_PAGE_SIZE + 1}`, alice.token);
    t.equal(tooMany.status, 400);
    t.equal(tooMany.json.error, 'limit_out_of_range', `limit > ${MAX_PAGE_SIZE}: limit_out_of_range (${tooMany.json.detail})`);
    const zero = await get('/v1/execution?limit=0', alice.token);
    t.equal(zero.json.error, 'limit_out_of_range', 'limit 0: limit_out_of_range');
    const firstPage = await get('/v1/execution?limit=1', alice.token);
    const cursor = firstPage.json.nextCursor as string;
    t.ok(typeof cursor === 'string' && cursor.length > 3, 'a first page of one row has a cursor');
    for (const damaged of [`${cursor.slice(0, -2)}zz`, 'x1.bm90LWpzb24', 'o1.WzEsMl0', 'garbage']) {
      const r = await get(`/v1/execution?cursor=${encodeURIComponent(damaged)}`, alice.token);
      t.equal(r.status, 400, `damaged cursor ${damaged} is refused`);
      t.equal(r.json.error, 'invalid_cursor');
    }
    const bad = await get('/v1/execution?cursor=%7B%7D', alice.token);
    t.equal(bad.json.error, 'invalid_cursor', 'a cursor with characters no cursor has: invalid_cursor');
    const backwards = await get('/v1/execution?startTime=2000&endTime=1000', alice.token);
    t.equal(backwards.status, 400);
    t.equal(backwards.json.error, 'invalid_time_range', 'startTime > endTime: invalid_time_range');
    const unknown = await get('/v1/execution?symbol=NOPE-1', alice.token);
    t.equal(unknown.status, 400);
    t.equal(unknown.json.error, 'unknown_symbol');
    const field = await get('/v1/execution?sort=desc', alice.token);
    t.equal(field.status, 400);
    t.equal(field.json.error, 'unknown_field', 'an unknown query field is refused');
    const badTime = await get('/v1/execution?startTime=yesterday', alice.token);
    t.equal(badTime.json.error, 'invalid_start_time', 'a startTime that is not epoch ms');

    // Order history: the same rules, the order JSON vocabulary.
    const orders = await get('/v1/orders', alice.token);
    t.equal(orders.status, 200);
    t.same(
      orders.json.orders.map((o: any) => [o.id, o.symbol, o.side, o.status, o.filledQuantity, o.remainingQuantity]),
      [
        [aliceInflow.id, 'APPL-128', 'inflow', 'partially_filled', 3, 2],
        [aliceOut.id, 'SONY-64', 'outflow', 'filled', 4, 0],
      ],
      "alice's order history: her two orders, latest state, the API's status words",
    );
    t.match(orders.json.orders[0], { clientOrderId: 'hist-alice-1', price: '899.00', averageFillPrice: '899.00', timeInForce: 'GTC', accountId: alice.accountId });
    const open = await get('/v1/orders?status=open', alice.token);
    t.same(open.json.orders.map((o: any) => o.id), [aliceInflow.id], 'status=open: the resting inflow only');
    const filled = await get('/v1/orders?status=filled', alice.token);
    t.same(filled.json.orders.map((o: any) => o.id), [aliceOut.id], 'status=filled');
    const foreignOrders = await get(`/v1/orders?accountId=${chen.accountId}`, alice.token);
    t.equal(foreignOrders.status, 403, "a colleague cannot read another account's orders");
    const allOrders = await walk('/v1/orders?limit=1', admin.token, 'orders');
    t.same(new Set(allOrders.rows.map((o: any) => o.id)), new Set([aliceInflow.id, brunoOut1.id, brunoOut2.id, chenInflow.id, aliceOut.id]), 'staff walk every order once');
    t.equal(allOrders.rows.length, 5);
    const badStatus = await get('/v1/orders?status=new', alice.token);
    t.equal(badStatus.json.error, 'invalid_status', "the database's words are not the API's: status=new is refused");

    // The market-data publisher stored the three trades in its history database, and the candle
    // query (closed candles from that database, the open one from memory) counts them.
    let storedTrades = -1;
    for (const deadline = Date.now() + 60_000; (storedTrades = await options.storedTrades(inst)) !== 3 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 250));
    t.equal(storedTrades, 3, 'the market-data history holds the three trades');
    const minuteMs = 60_000;
    const candles = await get(`/marketdata/snapshot?symbol=APPL-128&resolution=60&startTime=${Math.floor(startMs / minuteMs) * minuteMs}&endTime=${(Math.floor(Date.now() / minuteMs) + 1) * minuteMs}`);
    t.equal(candles.status, 200, `candles answered (${JSON.stringify(candles.json).slice(0, 200)})`);
    const sum = (key: 'volume' | 'trades'): number => (candles.json?.candles ?? []).reduce((n: number, c: any) => n + c[key], 0);
    t.same([sum('volume'), sum('trades')], [3, 2], 'APPL-128 candles: volume 3 in 2 trades');
    // Two-hour buckets start at exchange-time (New York) hours: a window of ±4 h holds the trade's.
    const twoHours = await get(`/marketdata/snapshot?symbol=SONY-64&resolution=7200&startTime=${startMs - 4 * 3_600_000}&endTime=${Date.now() + 4 * 3_600_000}`);
    t.equal(twoHours.status, 200, `a resolution aggregated from 1-minute candles is answered (${JSON.stringify(twoHours.json).slice(0, 200)})`);
    t.same(twoHours.json?.candles?.map((c: any) => [c.volume, c.trades, c.open]), [[4, 1, '399.00']], 'SONY-64 at 2 hours: the one trade');

    // The routes are documented.
    const doc = await get('/openapi.json');
    t.ok(doc.json.paths['/v1/execution']?.get, '/v1/execution is in /openapi.json');
    t.ok(doc.json.paths['/v1/orders']?.get, '/v1/orders is in /openapi.json');
    t.same(
      doc.json.paths['/v1/execution'].get.parameters.map((p: any) => p.name).sort(),
      ['accountId', 'cursor', 'endTime', 'limit', 'orderId', 'startTime', 'symbol'],
      'with its query parameters',
    );
  });
}
