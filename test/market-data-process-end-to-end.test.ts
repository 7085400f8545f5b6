// The market-data publisher and a gateway as real processes, fed by a real sequencer: a matching
// Engine in this process trades random orders, its Fill and BookLevelChanged outputs go through
// the sequencer's input ring into the journal (as the engine process's would), the publisher
// follows the journal and publishes on marketdata.ring, and the gateway serves it. Checked
// through HTTP and WebSocket: the L2 book equals the engine's book at every checkpoint, candles
// equal a naive computation from the journaled fills, a book subscription gets a snapshot then
// deltas with consecutive sequences, a (client-forced) gap is repaired by resync, the historical
// book at T equals the live book recorded at T, and the endpoints' limits answer clear errors.
// Everything is killed and removed at the end (teardowns).
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { decode, encode } from '../bus/codec';
import { Side, TimeInForce } from '../bus/enums';
import { BACK_PRESSURED, RingFile, RingProducer } from '../bus/ring';
import { BookLevelChanged, Fill, INPUT_HEADER_BYTES, InputHeader, JOURNAL_HEADER_BYTES, ListProduct, NewOrder, TypeId, type AnyMessage, type ValueOf } from '../bus/schema';
import { gatewaySourceId, SourceId } from '../bus/source-ids';
import { JournalReader } from '../bus/journal-reader';
import { readI64, readU32, readU8 } from '../bus/codec';
import { Engine } from '../processes/matching-engine/engine';
import type { EngineSink } from '../processes/matching-engine/engine-sink';
import { Sequencer } from '../processes/sequencer/sequencer';
import { makeBus, readJournal, tempDir } from './support/journal-harness';
import { startGateway, TEST_PRODUCTS } from './support/gateway-harness';
import { spawnDist } from './support/spawn';
import { SeededRandom, testSeed } from './support/seeded-random';
import { TestWebSocket } from './support/gateway-ws-client';

const SEED = testSeed(20260115);
const ORDERS_PER_BATCH = 150;
const BATCHES = 6;

type Level = [string, number];

function decodeFill(body: Buffer): ValueOf<typeof Fill> {
  const copy = new Uint8Array(body.length);
  copy.set(body);
  return decode(Fill, new DataView(copy.buffer), 0);
}

function cents(p: number): string {
  return (p / 100).toFixed(2);
}

t.test('publisher + gateway serve the engine\'s book, candles, history and live subscriptions', async (t) => {
  const prng = new SeededRandom(SEED);
  const rand = (): number => prng.nextU32() / 2 ** 32;
  t.comment(`seed ${SEED}`);
  const bus = makeBus(t, 'md-e2e', { inputs: 2, journalBytes: 1 << 22 });
  const journalDir = tempDir(t, 'md-journal');
  const mdDataDir = tempDir(t, 'md-data');
  const sequencer = Sequencer.open({ inputs: bus.inputs, journalRing: bus.journal, dataDir: journalDir, durability: 'async', log: () => undefined });
  t.teardown(() => sequencer.close());
  // Commands come in as gateway 1's would; the engine's outputs on their own ring.
  const commands = new RingProducer(RingFile.open(bus.inputs[0]!));
  t.teardown(() => commands.close());
  const input = new RingProducer(RingFile.open(bus.inputs[1]!));
  t.teardown(() => input.close());
  const engineReader = new JournalReader({ ringPath: bus.journal, name: 'test-engine', fromSeq: 1, gating: false });
  t.teardown(() => engineReader.leave());
  let commandSeq = 0;

  // The engine: its market-data outputs become sequencer inputs of the hot engine (epoch 1).
  let sourceSeq = 0;
  const outputs: Array<{ desc: AnyMessage; value: Record<string, number> }> = [];
  const deltasOf = new Map<number, number>();
  const noop = (): void => undefined;
  const sink: EngineSink = {
    onAccepted: noop,
    onRejected: noop,
    onCanceled: noop,
    onAmended: noop,
    onExpired: noop,
    onFill: (inSeq, outIndex, execId, productId, price, quantity, takerSide, makerOrderId, makerAccountId, makerLeaves, makerCumQuantity, takerOrderId, takerAccountId, takerLeaves, takerCumQuantity) =>
      outputs.push({ desc: Fill, value: { execId, price, quantity, makerOrderId, makerLeaves, makerCumQuantity, takerOrderId, takerLeaves, takerCumQuantity, inSeq, productId, makerAccountId, takerAccountId, epoch: 1, outIndex, takerSide } }),
    onBookLevel: (inSeq, outIndex, productId, side, price, quantity, orderCount) => {
      deltasOf.set(productId, (deltasOf.get(productId) ?? 0) + 1);
      outputs.push({ desc: BookLevelChanged, value: { price, quantity, inSeq, productId, orderCount, epoch: 1, outIndex, side } });
    },
  } as EngineSink;
  const engine = new Engine(sink);

  const flushOutputs = (): void => {
    for (const out of outputs) {
      const bytes = INPUT_HEADER_BYTES + out.desc.size;
      let at = input.tryClaim(out.desc.typeId, out.desc.version, bytes);
      if (at === BACK_PRESSURED) {
        input.commit();
        while (sequencer.doWork() > 0);
        at = input.tryClaim(out.desc.typeId, out.desc.version, bytes);
      }
      encode(InputHeader, { sourceSeq: ++sourceSeq, sourceId: SourceId.ENGINE_A, flags: 0, epoch: 1 }, input.ring.view, at);
      encode(out.desc, out.value as ValueOf<AnyMessage>, input.ring.view, at + INPUT_HEADER_BYTES);
    }
    outputs.length = 0;
    input.commit();
    while (sequencer.doWork() > 0);
  };
  let orderId = 0;
  // The engine applies the journaled commands with their journal seq and timestamp.
  const runEngine = (): void => {
    for (;;) {
      const n = engineReader.poll((typeId, _version, buf, offset) => {
        const v = buf.view;
        const b = offset + JOURNAL_HEADER_BYTES;
        if (typeId === TypeId.ListProduct) {
          engine.listProduct(readI64(v, offset), readI64(v, offset + 8), readU32(v, b + ListProduct.o.productId), readI64(v, b + ListProduct.o.tickSize), readI64(v, b + ListProduct.o.lotSize));
          return;
        }
        if (typeId !== TypeId.NewOrder) return;
        engine.newOrder(readI64(v, offset), readI64(v, offset + 8), readI64(v, b + NewOrder.o.orderId), readU32(v, b + NewOrder.o.accountId), readU32(v, b + NewOrder.o.productId),
          readU8(v, b + NewOrder.o.side), readI64(v, b + NewOrder.o.price), readI64(v, b + NewOrder.o.quantity), readU8(v, b + NewOrder.o.timeInForce), 0);
      }, 1024);
      if (n === 0) break;
    }
  };
  // The listings are journaled commands too (as the control process sends them).
  TEST_PRODUCTS.forEach((p, i) => {
    const at = commands.tryClaim(ListProduct.typeId, ListProduct.version, INPUT_HEADER_BYTES + ListProduct.size);
    encode(InputHeader, { sourceSeq: i + 1, sourceId: SourceId.CONTROL, flags: 0, epoch: 0 }, commands.ring.view, at);
    encode(ListProduct, { tickSize: p.tickSize, lotSize: p.lotSize, referencePrice: 100_000, productId: p.productId, brandId: p.brandId, selfTradePolicy: 0, symbol: p.symbol, brand: p.brand }, commands.ring.view, at + INPUT_HEADER_BYTES);
  });
  commands.commit();
  while (sequencer.doWork() > 0);
  runEngine();
  const trade = (n: number): void => {
    for (let i = 0; i < n; i++) {
      const p = TEST_PRODUCTS[rand() < 0.7 ? 0 : 1];
      const side = rand() < 0.5 ? Side.INFLOW : Side.OUTFLOW;
      const ticks = Math.floor(rand() * 21) - 10 + (side === Side.INFLOW ? -2 : 2);
      const price = 100_000 + ticks * p.tickSize * 10;
      const quantity = p.lotSize * (1 + Math.floor(rand() * 9));
      orderId++;
      const at = commands.tryClaim(NewOrder.typeId, NewOrder.version, INPUT_HEADER_BYTES + NewOrder.size);
      if (at === BACK_PRESSURED) throw new Error('command ring full');
      encode(InputHeader, { sourceSeq: ++commandSeq, sourceId: gatewaySourceId(1), flags: 0, epoch: 0 }, commands.ring.view, at);
      encode(NewOrder, { orderId, price, quantity, accountId: 1 + (orderId % 7), productId: p.productId, requestId: orderId, gatewayId: 1, side, timeInForce: TimeInForce.GTC, flags: 0, clientOrderId: '' }, commands.ring.view, at + INPUT_HEADER_BYTES);
      if (i % 20 === 19 || i === n - 1) {
        commands.commit();
        while (sequencer.doWork() > 0);
        runEngine();
        flushOutputs();
        runEngine();
      }
    }
  };
  const engineBook = (productId: number): { bids: Level[]; asks: Level[] } => ({
    bids: engine.levels(productId, Side.INFLOW).map((l) => [cents(l.price), l.quantity]),
    asks: engine.levels(productId, Side.OUTFLOW).map((l) => [cents(l.price), l.quantity]),
  });

  // Some history before anything else starts: the publisher replays it from the journal.
  trade(ORDERS_PER_BATCH);

  const md = spawnDist(t, 'processes/market-data/main.ts', ['--run-dir', bus.dir, '--data-dir', mdDataDir, '--gateways', '1', '--journal-ring', bus.journal, '--journal-data-dir', journalDir]);
  await md.waitForEvent('market-data-ready', 15_000);
  const gw = await startGateway(t, { args: ['--market-data-ring', path.join(bus.dir, 'marketdata.ring')] });
  const port = gw.publicPort;

  const bookOf = async (symbol: string, extra = ''): Promise<any> => (await gw.request('GET', `/marketdata/orderBook?symbol=${symbol}&depth=1000${extra}`, { port })).json;
  const waitForSequence = async (symbol: string, productId: number): Promise<any> => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const r = await gw.request('GET', `/marketdata/orderBook?symbol=${symbol}&depth=1000`, { port });
      if (r.status === 200 && r.json.sequence === (deltasOf.get(productId) ?? 0)) return r.json;
      if (Date.now() > deadline) throw new Error(`book of ${symbol} did not reach sequence ${deltasOf.get(productId)}: ${r.status} ${r.text.slice(0, 300)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  // Live subscriptions: book and trades on the public listener.
  const ws = await TestWebSocket.connect(port, { path: '/v1/market-data/stream' });
  if (!(ws instanceof TestWebSocket)) throw new Error(`market-data stream refused: ${JSON.stringify(ws)}`);
  t.teardown(() => ws.destroy());
  await waitForSequence('APPL-128', 1);
  ws.send(JSON.stringify({ type: 'subscribe', requestId: 'b1', channel: 'book:APPL-128' }));
  ws.send(JSON.stringify({ type: 'subscribe', requestId: 't1', channel: 'trades:APPL-128' }));
  const snapshot = await ws.waitFor((m) => m['type'] === 'book' && m['snapshot'] === true);
  t.equal(snapshot['sequence'], deltasOf.get(1), 'the first book message is a snapshot at the current sequence');

  const checkpoints: Array<{ symbol: string; time: number; book: any }> = [];
  for (let batch = 0; batch < BATCHES; batch++) {
    trade(ORDERS_PER_BATCH);
    for (const p of TEST_PRODUCTS.slice(0, 2)) {
      const live = await waitForSequence(p.symbol, p.productId);
      const expected = engineBook(p.productId);
      t.same({ bids: live.bids, asks: live.asks }, expected, `batch ${batch}: the L2 book of ${p.symbol} equals the engine's at sequence ${live.sequence}`);
      checkpoints.push({ symbol: p.symbol, time: live.time, book: live });
    }
    // Journal timestamps are µs of the sequencer's clock: leave the millisecond before the next batch.
    await new Promise((resolve) => setTimeout(resolve, 3));
  }

  // The subscription: consecutive sequences after the snapshot, and they rebuild the engine's book.
  await ws.waitFor((m) => m['type'] === 'book' && m['sequence'] === deltasOf.get(1), 10_000);
  const bookMessages = ws.messages.map((text) => JSON.parse(text) as Record<string, any>).filter((m) => m['type'] === 'book');
  let expectedSeq = snapshot['sequence'] as number;
  const levels = { bid: new Map<string, number>(), ask: new Map<string, number>() };
  for (const [p, q] of snapshot['bids'] as Level[]) levels.bid.set(p, q);
  for (const [p, q] of snapshot['asks'] as Level[]) levels.ask.set(p, q);
  let consecutive = true;
  for (const m of bookMessages.slice(1)) {
    if (m['snapshot'] === true) continue;
    if (m['sequence'] !== expectedSeq + 1) consecutive = false;
    expectedSeq = m['sequence'];
    const side = levels[m['side'] as 'bid' | 'ask'];
    if (m['size'] === 0) side.delete(m['price']);
    else side.set(m['price'], m['size']);
  }
  t.ok(consecutive, 'deltas carry consecutive sequences');
  const sorted = (m: Map<string, number>, desc: boolean): Level[] => [...m.entries()].sort((a, b) => (desc ? Number(b[0]) - Number(a[0]) : Number(a[0]) - Number(b[0])));
  t.same({ bids: sorted(levels.bid, true), asks: sorted(levels.ask, false) }, engineBook(1), 'snapshot + deltas rebuild the engine\'s book');
  t.ok(ws.messages.some((text) => JSON.parse(text).type === 'trade'), 'trades:APPL-128 delivers trades');

  // A forced gap: the client drops a delta, notices the jump and asks for a resync.
  const from = ws.messages.length;
  trade(40);
  await waitForSequence('APPL-128', 1);
  const fresh = ws.messages.slice(from).map((text) => JSON.parse(text) as Record<string, any>).filter((m) => m['type'] === 'book');
  t.ok(fresh.length >= 3, 'new deltas arrived');
  const kept = fresh.filter((_, i) => i !== 1);
  t.not(kept[1]!['sequence'], kept[0]!['sequence'] + 1, 'without the dropped delta the client sees a gap');
  const resyncFrom = ws.messages.length;
  ws.send(JSON.stringify({ type: 'resync', requestId: 'r1', channel: 'book:APPL-128' }));
  const resynced = await ws.waitFor((m) => m['type'] === 'book' && m['snapshot'] === true, 5_000, resyncFrom);
  t.equal(resynced['sequence'], deltasOf.get(1), 'resync answers a snapshot at the current sequence');
  t.same({ bids: resynced['bids'], asks: resynced['asks'] }, engineBook(1), 'the resync snapshot is the engine\'s book');

  // History: the book at each checkpoint's time equals the live book recorded then.
  for (const c of checkpoints) {
    const past = await bookOf(c.symbol, `&time=${c.time}`);
    t.same({ bids: past.bids, asks: past.asks, sequence: past.sequence }, { bids: c.book.bids, asks: c.book.asks, sequence: c.book.sequence }, `orderBook?time=${c.time} of ${c.symbol} equals the live book recorded then`);
  }

  // Candles against a naive computation from the journaled fills (minute buckets; New York's
  // offset is whole hours, so they are UTC minutes).
  const fills = readJournal(journalDir).filter((e) => e.typeId === TypeId.Fill).map((e) => ({ ...decodeFill(e.body), timestampUs: e.timestampUs }));
  for (const [resolution, p] of [[60, TEST_PRODUCTS[0]], [120, TEST_PRODUCTS[0]], [300, TEST_PRODUCTS[1]]] as const) {
    const naive = new Map<number, { time: number; open: number; high: number; low: number; close: number; volume: number; trades: number }>();
    for (const f of fills.filter((x) => x.productId === p.productId)) {
      const time = Math.floor(f.timestampUs / (resolution * 1e6)) * resolution * 1000;
      const c = naive.get(time);
      if (c === undefined) naive.set(time, { time, open: f.price, high: f.price, low: f.price, close: f.price, volume: f.quantity, trades: 1 });
      else {
        c.high = Math.max(c.high, f.price);
        c.low = Math.min(c.low, f.price);
        c.close = f.price;
        c.volume += f.quantity;
        c.trades++;
      }
    }
    const expected = [...naive.values()].map((c) => ({ time: c.time, open: cents(c.open), high: cents(c.high), low: cents(c.low), close: cents(c.close), volume: c.volume, trades: c.trades }));
    const now = Date.now();
    const r = await gw.request('GET', `/marketdata/snapshot?symbol=${p.symbol}&resolution=${resolution}&startTime=${now - 3_600_000}&endTime=${now + 60_000}`, { port });
    t.equal(r.status, 200, r.text.slice(0, 200));
    t.ok(expected.length > 0, `${p.symbol} traded`);
    t.same(r.json.candles, expected, `${resolution}-second candles of ${p.symbol} equal the naive computation from the fills`);
  }

  // Limits and errors.
  const errorOf = async (url: string): Promise<[number, string]> => {
    const r = await gw.request('GET', url, { port });
    return [r.status, r.json?.error];
  };
  const now = Date.now();
  t.same(await errorOf('/marketdata/orderBook?symbol=NOPE-1'), [400, 'unknown_symbol']);
  t.same(await errorOf('/marketdata/orderBook?symbol=APPL-128&depth=0'), [400, 'depth_out_of_range']);
  t.same(await errorOf('/marketdata/orderBook?symbol=APPL-128&depth=5000'), [400, 'depth_out_of_range']);
  t.same(await errorOf(`/marketdata/orderBook?symbol=APPL-128&time=${now + 600_000}`), [400, 'time_in_future']);
  t.same(await errorOf('/marketdata/orderBook?symbol=APPL-128&colour=red'), [400, 'unknown_field']);
  t.same(await errorOf(`/marketdata/snapshot?symbol=APPL-128&resolution=61&startTime=0&endTime=${now}`), [400, 'invalid_resolution']);
  t.same(await errorOf(`/marketdata/snapshot?symbol=APPL-128&resolution=60&startTime=${now}&endTime=${now}`), [400, 'invalid_range']);
  t.same(await errorOf(`/marketdata/snapshot?symbol=APPL-128&resolution=60&startTime=0&endTime=${now}`), [400, 'range_too_large']);
  t.same(await errorOf('/marketdata/snapshot?symbol=APPL-128&resolution=60'), [400, 'missing_field']);
  const early = await gw.request('GET', '/marketdata/orderBook?symbol=APPL-128&time=1', { port });
  t.same([early.status, early.json.sequence, early.json.bids], [200, 0, []], 'before any change the book was empty');
  const cached1 = await gw.request('GET', `/marketdata/snapshot?symbol=APPL-128&resolution=60&startTime=${now - 3_600_000}&endTime=${now}`, { port });
  const cached2 = await gw.request('GET', `/marketdata/snapshot?symbol=APPL-128&resolution=60&startTime=${now - 3_600_000}&endTime=${now}`, { port });
  t.equal(cached2.text, cached1.text, 'a repeated query within the cache time gets the same answer');
  const health = (await gw.request('GET', '/health', { port })).json;
  t.equal(health.marketData.status, 'served');
  t.ok(health.marketData.cache.hits >= 1, 'the second query was a cache hit');
  const subBad = await ws.request({ type: 'subscribe', requestId: 'x1', channel: 'candles:APPL-128:61' });
  t.equal(subBad['error'], 'invalid_resolution');

  // The private stream carries the same channels, beside order entry.
  const token = await gw.tokenOf('alice');
  const priv = await TestWebSocket.connect(gw.tradingPort, { path: '/v1/stream', headers: { authorization: `Bearer ${token}` } });
  if (!(priv instanceof TestWebSocket)) throw new Error(`private stream refused: ${JSON.stringify(priv)}`);
  t.teardown(() => priv.destroy());
  priv.send(JSON.stringify({ type: 'subscribe', requestId: 'p1', channel: 'book:SMSN-S24' }));
  const privSnap = await priv.waitFor((m) => m['type'] === 'book' && m['snapshot'] === true);
  t.same({ bids: privSnap['bids'], asks: privSnap['asks'] }, engineBook(2), '/v1/stream book:SMSN-S24 starts with the engine\'s book');

  // Trades and candles are stored: SQLite holds every journaled fill.
  await md.kill('SIGTERM');
  t.ok(fs.existsSync(path.join(mdDataDir, 'marketdata.sqlite')), 'history is in marketdata.sqlite');
  const Database = (await import('better-sqlite3')).default;
  const db = new Database(path.join(mdDataDir, 'marketdata.sqlite'), { readonly: true });
  const stored = (db.prepare('SELECT COUNT(*) AS n FROM md_trades').get() as { n: number }).n;
  db.close();
  t.equal(stored, fills.length, 'every trade is stored once');
});
