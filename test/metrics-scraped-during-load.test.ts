// /metrics of a real exchange, scraped while colleagues trade: `ims start --metrics-port 0` starts
// the endpoint beside the supervisor; two demo colleagues hold WebSockets and place crossing orders
// over REST and WebSocket while the test scrapes. Every scrape parses (a small parser of the text
// format, written here); the gateway's counters move by exactly what was sent: orders in, fills,
// the off-tick reject by its code, REST and WS requests, the round-trip histogram, open streams.
import * as fs from 'node:fs';
import t from 'tap';
import { createImsInstance, until } from './support/ims-instance';
import { gatewayHttp, tradingPortWhenReady } from './support/gateway-http';
import { isRefusal, TestWebSocket } from './support/gateway-ws-client';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The text format as this test needs it: HELP/TYPE comments, name{labels} value; throws on anything else. */
function parseExposition(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (counter|gauge|histogram)$/.exec(line);
    if (type !== null) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? '').match(/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"/g) ?? []) {
      const eq = pair.indexOf('=');
      labels[pair.slice(0, eq)] = pair.slice(eq + 2, -1);
    }
    const value = m[3] === '+Inf' ? Infinity : Number(m[3]);
    if (Number.isNaN(value) && m[3] !== 'NaN') throw new Error(`bad value in ${JSON.stringify(line)}`);
    samples.push({ name: m[1]!, labels, value });
  }
  return { types, samples };
}

type Exposition = ReturnType<typeof parseExposition>;

function value(e: Exposition, name: string, labels: Record<string, string>): number {
  let sum = 0;
  let found = false;
  for (const s of e.samples) {
    if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) {
      sum += s.value;
      found = true;
    }
  }
  return found ? sum : 0;
}

const GW = { process: 'gateway-1' };

const inst = createImsInstance('metrics-load', ['--trading-port', '0', '--public-port', '0', '--metrics-port', '0']);
t.teardown(() => inst.destroy());
let port = 0;
let metricsUrl = '';

const { call, login } = gatewayHttp(() => port);

async function scrape(): Promise<Exposition> {
  const res = await fetch(metricsUrl);
  if (res.status !== 200) throw new Error(`scrape: ${res.status}`);
  return parseExposition(await res.text());
}

t.before(async () => {
  inst.start();
  port = await tradingPortWhenReady(inst, 60_000);
  const m = await until('ims start to print the metrics URL', () => /ims: metrics: (http:\/\/[^\s]+\/metrics)/.exec(inst.log()), 30_000);
  metricsUrl = m[1]!;
});

t.test('scraped during trading, the gateway counts orders, fills, rejects by code, requests, streams and round trips', async (t) => {
  t.ok(fs.existsSync(`${inst.runDir}/gateway-1.counters`), 'the gateway writes its counters file in the run dir');
  const { token: alice } = await login('alice', 'kiosk-101-demo');
  const { token: bruno } = await login('bruno', 'kiosk-102-demo');
  const sockets: TestWebSocket[] = [];
  for (const token of [alice, bruno]) {
    const ws = await TestWebSocket.connect(port, { protocols: ['ims.v1', `ims-token.${token}`] });
    if (isRefusal(ws)) throw new Error(`stream refused: ${ws.status} ${ws.body}`);
    t.teardown(() => ws.destroy());
    sockets.push(ws);
  }
  // until() takes a synchronous check: the endpoint is polled by hand (the gauge is sampled every 200 ms).
  let before = await scrape();
  for (let i = 0; i < 100 && value(before, 'ims_open_connections', { ...GW, kind: 'websocket' }) !== 2; i++) {
    await new Promise((r) => setTimeout(r, 100));
    before = await scrape();
  }
  t.equal(value(before, 'ims_open_connections', { ...GW, kind: 'websocket' }), 2, 'open connections: the two WebSockets the test holds');

  // The load: PAIRS crossing pairs over REST (each pair one fill per side), WS_ORDERS resting
  // orders over the WebSocket, and one off-tick order; scrapes run all the while.
  const PAIRS = 12;
  const WS_ORDERS = 6;
  let scraping = true;
  let scrapes = 0;
  const scraper = (async () => {
    while (scraping) {
      await scrape(); // throws on a malformed exposition
      scrapes++;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  for (let i = 0; i < PAIRS; i++) {
    const rest = await call('POST', '/v1/transact', { symbol: 'APPL-128', side: 'inflow', price: '899.00', quantity: 1, clientOrderId: `m-a-${i}` }, alice);
    t.equal(rest.status, 200, `inflow ${i} answered`);
    const take = await call('POST', '/v1/transact', { symbol: 'APPL-128', side: 'outflow', price: '898.00', quantity: 1, clientOrderId: `m-b-${i}` }, bruno);
    t.match(take.json, { status: 'filled' }, `outflow ${i} fills`);
  }
  for (let i = 0; i < WS_ORDERS; i++) {
    const answer = await sockets[0]!.request({ type: 'place', requestId: `w${i}`, order: { symbol: 'APPL-128', side: 'inflow', price: '890.00', quantity: 1, clientOrderId: `m-ws-${i}` } }, 15_000);
    t.equal(answer['type'], 'result', `WS order ${i} answered (${JSON.stringify(answer).slice(0, 200)})`);
  }
  // Far from the last trade: written to the exchange, rejected by the product manager's risk check.
  const collared = await sockets[0]!.request({ type: 'place', requestId: 'collar', order: { symbol: 'APPL-128', side: 'inflow', price: '700.00', quantity: 1 } }, 15_000);
  t.match(collared, { type: 'error', error: 'risk_price_collar' });
  const offTick = await call('POST', '/v1/transact', { symbol: 'APPL-128', side: 'inflow', price: '899.005', quantity: 1 }, alice);
  t.equal(offTick.status, 400);
  t.equal(offTick.json.error, 'price_not_on_tick');
  // The sampled values (WS messages) are refreshed every 200 ms: wait for them, not for a time.
  let after = await scrape();
  for (let i = 0; i < 100 && value(after, 'ims_requests_total', { ...GW, api: 'ws' }) - value(before, 'ims_requests_total', { ...GW, api: 'ws' }) < WS_ORDERS + 1; i++) {
    await new Promise((r) => setTimeout(r, 100));
    after = await scrape();
  }
  scraping = false;
  await scraper;
  t.ok(scrapes >= 3, `${scrapes} scrapes parsed during the load`);

  const delta = (name: string, labels: Record<string, string>): number => value(after, name, labels) - value(before, name, labels);
  t.equal(delta('ims_orders_in_total', { ...GW, command: 'place' }), 2 * PAIRS + WS_ORDERS + 1, 'orders in: every order sent, the off-tick one excepted (never written)');
  t.equal(delta('ims_fills_total', GW), 2 * PAIRS, 'fills: one per side of each crossing pair');
  t.equal(delta('ims_rejects_total', { ...GW, reason: 'price_not_on_tick' }), 1, 'the off-tick order counted under its code');
  t.equal(delta('ims_rejects_total', { ...GW, reason: 'risk_price_collar' }), 1, "the exchange's reject counted under its code");
  t.ok(delta('ims_requests_total', { ...GW, api: 'rest' }) >= 2 * PAIRS + 1, 'REST requests counted');
  t.ok(delta('ims_requests_total', { ...GW, api: 'ws' }) >= WS_ORDERS + 1, 'WebSocket messages counted');
  t.equal(value(after, 'ims_open_connections', { ...GW, kind: 'websocket' }), 2);
  t.equal(value(after, 'ims_in_flight_requests', GW), 0, 'nothing left waiting for the exchange');

  t.equal(after.types.get('ims_round_trip_seconds'), 'histogram');
  const buckets = after.samples.filter((s) => s.name === 'ims_round_trip_seconds_bucket' && s.labels['process'] === 'gateway-1');
  let previous = { le: -Infinity, count: 0 };
  let monotonic = true;
  for (const b of buckets) {
    const le = b.labels['le'] === '+Inf' ? Infinity : Number(b.labels['le']);
    if (!(le > previous.le && b.value >= previous.count)) monotonic = false;
    previous = { le, count: b.value };
  }
  t.ok(monotonic, 'histogram buckets rise in bound and in count');
  t.equal(previous.le, Infinity, 'the last bucket is +Inf');
  const count = value(after, 'ims_round_trip_seconds_count', GW);
  t.equal(previous.count, count, '_count equals the +Inf bucket');
  t.ok(count - value(before, 'ims_round_trip_seconds_count', GW) >= 2 * PAIRS + WS_ORDERS, `round trips recorded (${count})`);
  const p99 = value(after, 'ims_latency_quantile_seconds', { ...GW, histogram: 'ims_round_trip_seconds', quantile: '0.99' });
  t.ok(p99 > 0 && p99 < 5, `p99 round trip ${(p99 * 1e3).toFixed(3)} ms`);
  t.ok(after.samples.some((s) => s.name === 'ims_event_loop_delay_seconds' && s.labels['process'] === 'gateway-1' && s.labels['stat'] === 'p99'), 'event-loop delay gauge present');

  // What existed before stays: journal positions, ring lag, engine role and epoch, RSS.
  t.ok(value(after, 'ims_journal_head_seq', {}) > 0, 'journal head');
  t.ok(after.samples.some((s) => s.name === 'ims_ring_consumer_lag_bytes'), 'ring lag');
  t.equal(value(after, 'ims_engine_role', { role: 'hot' }), 1, 'exactly one hot engine');
  t.ok(value(after, 'ims_engine_epoch', { process: 'engine-a' }) + value(after, 'ims_engine_epoch', { process: 'engine-b' }) >= 1, 'engine epoch');
  t.ok(value(after, 'ims_process_resident_memory_bytes', GW) > 1e6, 'gateway RSS');
  t.ok(value(after, 'ims_pm_orders_forwarded_total', {}) >= 2 * PAIRS + WS_ORDERS, `the product managers forwarded the orders (${JSON.stringify(after.samples.filter((s) => s.name.startsWith('ims_pm')).slice(0, 12))})`);

  // Closing a stream shows in the gauge.
  sockets[1]!.close();
  let closed = await scrape();
  for (let i = 0; i < 100 && value(closed, 'ims_open_connections', { ...GW, kind: 'websocket' }) !== 1; i++) {
    await new Promise((r) => setTimeout(r, 100));
    closed = await scrape();
  }
  t.equal(value(closed, 'ims_open_connections', { ...GW, kind: 'websocket' }), 1, 'one stream left open');

  const status = inst.ims('status');
  t.match(status.out, /COUNTERS[\s\S]*\ngateway-1\s+\d+\s/, `ims status prints the gateway's counters:\n${status.out.slice(-600)}`);
});

/** Scrapes until `ok` holds for a scrape (the slower readers — warm engine, reporter — catch up), else returns the last one. */
async function scrapeUntil(ok: (e: Exposition) => boolean, timeoutMs = 30_000): Promise<Exposition> {
  const deadline = Date.now() + timeoutMs;
  let e = await scrape();
  while (!ok(e) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    e = await scrape();
  }
  return e;
}

t.test('every process counts its share of the trades: engines, product manager, sequencer, reporter, market data', async (t) => {
  for (const p of ['engine-a', 'engine-b', 'pm-a', 'pm-b', 'sequencer', 'reporter', 'market-data']) t.ok(fs.existsSync(`${inst.runDir}/${p}.counters`), `${p} writes its counters file`);
  const { token: alice } = await login('alice', 'kiosk-101-demo');
  const { token: bruno } = await login('bruno', 'kiosk-102-demo');
  // Everything from the first test settled: the slowest reader (the reporter) has what the sequencer wrote.
  const before = await scrapeUntil((e) => value(e, 'ims_last_seq', { process: 'reporter' }) >= value(e, 'ims_last_seq', { process: 'sequencer' }) && value(e, 'ims_last_seq', { process: 'market-data' }) >= value(e, 'ims_last_seq', { process: 'sequencer' }));
  const headBefore = value(before, 'ims_last_seq', { process: 'sequencer' });

  const PAIRS = 5;
  for (let i = 0; i < PAIRS; i++) {
    t.equal((await call('POST', '/v1/transact', { symbol: 'APPL-128', side: 'inflow', price: '899.00', quantity: 1, clientOrderId: `e-a-${i}` }, alice)).status, 200, `inflow ${i}`);
    t.match((await call('POST', '/v1/transact', { symbol: 'APPL-128', side: 'outflow', price: '898.00', quantity: 1, clientOrderId: `e-b-${i}` }, bruno)).json, { status: 'filled' }, `outflow ${i} fills`);
  }
  // Refused by the product manager's risk check: never sequenced, so no engine, reporter or market-data count.
  const collared = await call('POST', '/v1/transact', { symbol: 'APPL-128', side: 'inflow', price: '700.00', quantity: 1 }, alice);
  t.equal(collared.json?.error, 'risk_price_collar', 'the far-off order is refused by the product manager');

  const d = (after: Exposition, name: string, labels: Record<string, string>): number => value(after, name, labels) - value(before, name, labels);
  const pms = (after: Exposition, name: string, labels: Record<string, string> = {}): number => d(after, name, { ...labels, process: 'pm-a' }) + d(after, name, { ...labels, process: 'pm-b' });
  const after = await scrapeUntil(
    (e) =>
      d(e, 'ims_engine_fills_total', { process: 'engine-a' }) >= PAIRS &&
      d(e, 'ims_engine_fills_total', { process: 'engine-b' }) >= PAIRS &&
      d(e, 'ims_reporter_rows_total', { process: 'reporter', table: 'executions' }) >= PAIRS &&
      d(e, 'ims_market_data_trades_total', { process: 'market-data' }) >= PAIRS &&
      value(e, 'ims_last_seq', { process: 'reporter' }) >= value(e, 'ims_last_seq', { process: 'sequencer' }),
  );

  // The matching engines: both instances apply (and check) the same journal, so both count exactly the same.
  for (const engine of ['engine-a', 'engine-b']) {
    t.equal(d(after, 'ims_engine_orders_total', { process: engine, command: 'place' }), 2 * PAIRS, `${engine}: every sequenced order, the collared one excepted`);
    t.equal(d(after, 'ims_engine_fills_total', { process: engine }), PAIRS, `${engine}: one fill per crossing pair`);
    t.equal(d(after, 'ims_engine_rejects_total', { process: engine }), 0, `${engine}: no engine reject`);
    t.ok(value(after, 'ims_loop_work_seconds_count', { process: engine }) > 0, `${engine}: work-loop turns timed`);
  }
  t.equal(after.types.get('ims_engine_rejects_total'), 'counter');
  t.ok(after.samples.some((s) => s.name === 'ims_engine_rejects_total' && s.labels['process'] === 'engine-a' && s.labels['reason'] === 'insufficient_funds'), 'engine rejects are declared per reason from the start');

  // The product manager (the hot one counts; the warm one serves no gateway).
  t.equal(pms(after, 'ims_pm_commands_total', { command: 'place' }), 2 * PAIRS + 1, 'product manager: every order taken from the gateway, the collared one included');
  t.equal(pms(after, 'ims_pm_command_rejects_total', { reason: 'risk_price_collar' }), 1, 'product manager: the collar reject counted under its reason');
  t.equal(pms(after, 'ims_pm_command_rejects_total', {}), 1, 'product manager: no other reject');
  t.ok(pms(after, 'ims_pm_reports_sent_total') >= 2 * PAIRS + 1, `product manager: execution reports out (${pms(after, 'ims_pm_reports_sent_total')})`);

  // The sequencer: at least the orders, their accepts and the fills; its head is what readers reached.
  const SEQ = { process: 'sequencer' };
  t.ok(d(after, 'ims_sequencer_entries_total', SEQ) >= 5 * PAIRS, `sequencer: entries journaled (${d(after, 'ims_sequencer_entries_total', SEQ)})`);
  t.ok(d(after, 'ims_sequencer_batches_total', SEQ) >= 1, 'sequencer: batches');
  t.ok(value(after, 'ims_last_seq', SEQ) >= headBefore + 5 * PAIRS, 'sequencer: its head moved past the new entries');
  t.ok(value(after, 'ims_sequencer_commit_seconds_count', SEQ) >= value(after, 'ims_sequencer_batches_total', SEQ) - 1, 'sequencer: every group commit timed');
  const fsyncs = await scrapeUntil((e) => value(e, 'ims_sequencer_fsync_seconds_count', SEQ) > 0, 5_000);
  t.ok(value(fsyncs, 'ims_sequencer_fsync_seconds_count', SEQ) > 0, 'sequencer: fdatasync times recorded (async durability syncs within 20 ms)');

  // The reporter: one execution row per fill, order rows for every order it saw change.
  const REP = { process: 'reporter' };
  t.equal(d(after, 'ims_reporter_rows_total', { ...REP, table: 'executions' }), PAIRS, 'reporter: one execution row per fill');
  t.ok(d(after, 'ims_reporter_rows_total', { ...REP, table: 'orders' }) >= 2 * PAIRS, 'reporter: a row for each order');
  t.ok(d(after, 'ims_reporter_batches_total', REP) >= 1, 'reporter: batches committed');
  t.ok(value(after, 'ims_reporter_batch_write_seconds_count', REP) >= 1, 'reporter: batch writes timed');
  t.ok(value(after, 'ims_last_seq', REP) >= headBefore + 5 * PAIRS, 'reporter: its database reached the new entries');

  // The market-data publisher: one trade per fill, everything journaled applied.
  const MD = { process: 'market-data' };
  t.equal(d(after, 'ims_market_data_trades_total', MD), PAIRS, 'market data: one trade per fill');
  t.ok(d(after, 'ims_market_data_entries_total', MD) >= 5 * PAIRS, 'market data: journal entries applied');
  t.ok(d(after, 'ims_market_data_messages_total', MD) >= PAIRS, 'market data: messages published');
  t.ok(d(after, 'ims_market_data_book_deltas_total', MD) >= PAIRS, 'market data: book changes');
  t.ok(value(after, 'ims_last_seq', MD) >= headBefore + 5 * PAIRS, 'market data: applied up to the new entries');

  const status = inst.ims('status');
  t.match(status.out, /\nengine-a\s+\d+\s/, `ims status prints the engines' counters:\n${status.out.slice(-900)}`);
});
