// The market-data history store against both databases: SQLite always, PostgreSQL at
// 127.0.0.1:5432 (database `test`, a fresh schema per run, dropped after; required when CI=true,
// reported as NOT RUN elsewhere). Rows written in batches read back exactly (candles by product,
// resolution and bucket range; trades by product and time), a read issued right after a flush sees
// that flush, stored_seq survives a reopen, a replayed batch doubles nothing, the last version of
// a candle wins, migrations are versioned and applied once, and the queries use their indexes.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pg from 'pg';
import t, { type Test } from 'tap';
import Database from 'better-sqlite3';
import type { CandleRecord } from '../processes/market-data/candle-rollup';
import { marketDataStoreOptionsFromEnv, MAX_PENDING_ROWS, openMarketDataStore, type MarketDataStore, type MarketDataStoreOptions } from '../processes/market-data/market-data-store';
import { MARKET_DATA_MIGRATIONS, MIGRATIONS_TABLE } from '../processes/market-data/market-data-store-migrations';
import { dropPostgresSchema } from '../processes/accounts/postgres-store';
import { PostgresMarketDataStore } from '../processes/market-data/postgres-market-data-store';
import { findTestPostgres, postgresMissingMessage, postgresRequired } from '../processes/reporter/report-test-database';

const SEED = Number(process.env['IMS_TEST_SEED'] ?? 0x5eed_3d);
t.comment(`seed ${SEED} (set IMS_TEST_SEED to change)`);

/** A small deterministic generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

interface Trade {
  seq: number;
  productId: number;
  execId: number;
  price: number;
  quantity: number;
  takerSide: number;
  timeUs: number;
}
interface Candle extends CandleRecord {
  productId: number;
  resolutionS: number;
}

const BASE_US = 1_736_000_000_000_000; // 2025-01-04, µs
const MINUTE_US = 60_000_000;

/** A day of trades on 3 products and the 1-minute and 5-minute candles they close, as a reference. */
function workload(seed: number): { trades: Trade[]; candles: Candle[] } {
  const next = random(seed);
  const trades: Trade[] = [];
  let timeUs = BASE_US;
  for (let i = 1; i <= 3_000; i++) {
    timeUs += Math.floor(next() * 20_000_000);
    trades.push({ seq: i * 3, productId: 1 + Math.floor(next() * 3), execId: i, price: 10_000 + Math.floor(next() * 500), quantity: 1 + Math.floor(next() * 50), takerSide: next() < 0.5 ? 1 : 2, timeUs });
  }
  const candles: Candle[] = [];
  for (const resolutionS of [60, 300]) {
    const byKey = new Map<string, Candle>();
    for (const tr of trades) {
      const bucketStartUs = BASE_US + Math.floor((tr.timeUs - BASE_US) / (resolutionS * 1_000_000)) * resolutionS * 1_000_000;
      const key = `${tr.productId}:${bucketStartUs}`;
      const c = byKey.get(key);
      if (c === undefined) byKey.set(key, { productId: tr.productId, resolutionS, bucketStartUs, open: tr.price, high: tr.price, low: tr.price, close: tr.price, volume: tr.quantity, trades: 1 });
      else {
        c.high = Math.max(c.high, tr.price);
        c.low = Math.min(c.low, tr.price);
        c.close = tr.price;
        c.volume += tr.quantity;
        c.trades++;
      }
    }
    candles.push(...byKey.values());
  }
  return { trades, candles };
}

const { trades: TRADES, candles: CANDLES } = workload(SEED);

function expectedCandles(productId: number, resolutionS: number, fromUs: number, toUs: number, limit: number): CandleRecord[] {
  return CANDLES.filter((c) => c.productId === productId && c.resolutionS === resolutionS && c.bucketStartUs >= fromUs && c.bucketStartUs < toUs)
    .sort((a, b) => a.bucketStartUs - b.bucketStartUs)
    .slice(0, limit)
    .map(({ bucketStartUs, open, high, low, close, volume, trades }) => ({ bucketStartUs, open, high, low, close, volume, trades }));
}

/** Feeds the workload the way the publisher does: rows as they happen, a flush when due. */
function feed(store: MarketDataStore, trades: readonly Trade[], candles: readonly Candle[]): number {
  let seq = 0;
  for (const tr of trades) {
    store.addTrade(tr.seq, tr.productId, tr.execId, tr.price, tr.quantity, tr.takerSide, tr.timeUs);
    seq = tr.seq;
    if (store.flushDue(Date.now(), false)) store.flush(seq);
  }
  for (const c of candles) {
    store.addCandle(c.productId, c.resolutionS, c.bucketStartUs, c.open, c.high, c.low, c.close, c.volume, c.trades);
    if (store.flushDue(Date.now(), false)) store.flush(seq);
  }
  store.flush(seq);
  return seq;
}

async function behaviour(t: Test, options: MarketDataStoreOptions, explain: (sql: string) => Promise<string>): Promise<void> {
  const store = await openMarketDataStore(options);
  t.teardown(() => store.close().catch(() => undefined));
  t.equal(store.storedSeq, 0, 'a new history has stored nothing');

  const lastSeq = feed(store, TRADES, CANDLES);
  t.ok(store.flushes >= Math.floor((TRADES.length + CANDLES.length) / MAX_PENDING_ROWS), `written in batches (${store.flushes} flushes)`);
  // No wait between the flush and the read: the read must see it (PostgreSQL: same connection, in order).
  const rangeFrom = BASE_US + 30 * MINUTE_US;
  const rangeTo = BASE_US + 400 * MINUTE_US;
  for (const productId of [1, 2, 3]) {
    for (const resolutionS of [60, 300]) {
      t.same(await store.candles(productId, resolutionS, rangeFrom, rangeTo, 10_000), expectedCandles(productId, resolutionS, rangeFrom, rangeTo, 10_000), `product ${productId} at ${resolutionS} s: the candles of the range, ascending`);
    }
  }
  t.same(await store.candles(2, 60, BASE_US, BASE_US + 10_000 * MINUTE_US, 7), expectedCandles(2, 60, BASE_US, BASE_US + 10_000 * MINUTE_US, 7), 'limit keeps the earliest');
  t.same(await store.candles(2, 3600, BASE_US, BASE_US + 10_000 * MINUTE_US, 10), [], 'a resolution never stored: none');
  const tradeFrom = TRADES[500]!.timeUs;
  const tradeTo = TRADES[900]!.timeUs;
  t.same(
    await store.trades(3, tradeFrom, tradeTo, 10_000),
    TRADES.filter((tr) => tr.productId === 3 && tr.timeUs >= tradeFrom && tr.timeUs < tradeTo).map(({ execId, price, quantity, takerSide, timeUs }) => ({ execId, price, quantity, takerSide, timeUs })),
    "one product's trades in a time range, by exec id",
  );

  // A replay of the same rows (a restart that re-reads the journal) doubles nothing; the last
  // version of a candle wins, also within one batch.
  const c = CANDLES[0]!;
  store.addCandle(c.productId, c.resolutionS, c.bucketStartUs, c.open, c.high, c.low, c.close, c.volume - 1, c.trades);
  store.addCandle(c.productId, c.resolutionS, c.bucketStartUs, c.open, c.high + 7, c.low, c.close, c.volume + 1, c.trades + 1);
  const first = TRADES[0]!;
  store.addTrade(lastSeq + 1, first.productId, first.execId, first.price + 1, first.quantity, first.takerSide, first.timeUs);
  store.flush(lastSeq + 1);
  const [updated] = await store.candles(c.productId, c.resolutionS, c.bucketStartUs, c.bucketStartUs + 1, 1);
  t.same(updated, { bucketStartUs: c.bucketStartUs, open: c.open, high: c.high + 7, low: c.low, close: c.close, volume: c.volume + 1, trades: c.trades + 1 }, 'the last version of a candle in the batch is stored');
  const [firstTrade] = await store.trades(first.productId, first.timeUs, first.timeUs + 1, 1);
  t.equal(firstTrade!.price, first.price, 'a trade replayed with the same exec id is not stored twice (nor changed)');
  await store.close();
  t.equal(store.storedSeq, lastSeq + 1, 'close waits for the last batch');

  // Reopen: stored_seq and the rows are there; migrations are not applied again.
  const again = await openMarketDataStore(options);
  t.teardown(() => again.close().catch(() => undefined));
  t.equal(again.storedSeq, lastSeq + 1, 'stored_seq survives a reopen (the publisher skips rows up to it)');
  t.equal((await again.trades(1, 0, Number.MAX_SAFE_INTEGER, 100_000)).length, TRADES.filter((tr) => tr.productId === 1).length, 'every trade once');
  again.flush(lastSeq);
  await again.close();
  const third = await openMarketDataStore(options);
  t.equal(third.storedSeq, lastSeq + 1, 'stored_seq never goes back');
  await third.close();

  // The plans use the indexes.
  const candlePlan = await explain('SELECT bucket_start_us FROM md_candles WHERE product_id = 2 AND resolution_s = 60 AND bucket_start_us >= 0 AND bucket_start_us < 99 ORDER BY bucket_start_us LIMIT 5');
  t.notMatch(candlePlan, /Seq Scan|SCAN md_candles(?! USING)|TEMP B-TREE/i, `the candle query reads the primary key in order (${candlePlan.replace(/\s+/g, ' ')})`);
  const tradePlan = await explain('SELECT exec_id FROM md_trades WHERE product_id = 2 AND time_us >= 0 AND time_us < 99 ORDER BY exec_id LIMIT 5');
  t.match(tradePlan, /md_trades_product_time/, `the trade query uses md_trades_product_time (${tradePlan.replace(/\s+/g, ' ')})`);
}

t.test('options: SQLite unless IMS_DATABASE_URL names PostgreSQL, each in its own place', async (t) => {
  t.same(marketDataStoreOptionsFromEnv('/data/x', {}), { kind: 'sqlite', file: '/data/x/marketdata.sqlite' });
  t.same(marketDataStoreOptionsFromEnv('/data/x', { IMS_DATABASE_URL: 'postgres://db/ims' }), { kind: 'postgres', url: 'postgres://db/ims', schema: 'ims_market_data' });
  t.same(marketDataStoreOptionsFromEnv('/data/x', { IMS_DATABASE_URL: 'postgresql://db/ims', IMS_MARKET_DATA_DATABASE_SCHEMA: 'md_b' }), { kind: 'postgres', url: 'postgresql://db/ims', schema: 'md_b' });
  t.throws(() => marketDataStoreOptionsFromEnv('/data/x', { IMS_DATABASE_URL: 'mysql://db/ims' }), /postgres:\/\//);
});

t.test('SQLite', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ims-md-store-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'marketdata.sqlite');
  await behaviour(t, { kind: 'sqlite', file }, async (sql) => {
    const db = new Database(file, { readonly: true });
    try {
      return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join('; ');
    } finally {
      db.close();
    }
  });
  const db = new Database(file, { readonly: true });
  t.same(db.prepare(`SELECT version, name FROM ${MIGRATIONS_TABLE} ORDER BY version`).all(), MARKET_DATA_MIGRATIONS.map((m) => ({ version: m.version, name: m.name })), 'every migration recorded once');
  db.close();

  // A file written before migrations were versioned (the release before) adopts version 1 as is.
  const oldFile = path.join(dir, 'old.sqlite');
  const old = new Database(oldFile);
  old.exec(`CREATE TABLE md_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    CREATE TABLE md_trades (exec_id INTEGER PRIMARY KEY, product_id INTEGER NOT NULL, price INTEGER NOT NULL, quantity INTEGER NOT NULL, taker_side INTEGER NOT NULL, time_us INTEGER NOT NULL, journal_seq INTEGER NOT NULL);
    CREATE INDEX md_trades_product_time ON md_trades (product_id, time_us);
    CREATE TABLE md_candles (product_id INTEGER NOT NULL, resolution_s INTEGER NOT NULL, bucket_start_us INTEGER NOT NULL, open INTEGER NOT NULL, high INTEGER NOT NULL, low INTEGER NOT NULL, close INTEGER NOT NULL, volume INTEGER NOT NULL, trades INTEGER NOT NULL, PRIMARY KEY (product_id, resolution_s, bucket_start_us)) WITHOUT ROWID;
    INSERT INTO md_meta VALUES ('stored_seq', 42);
    INSERT INTO md_trades VALUES (7, 1, 100, 2, 1, 5, 40);`);
  old.close();
  const adopted = await openMarketDataStore({ kind: 'sqlite', file: oldFile });
  t.equal(adopted.storedSeq, 42, 'an unversioned file keeps its stored_seq');
  t.equal((await adopted.trades(1, 0, 10, 10)).length, 1, 'and its rows');
  await adopted.close();
});

t.test('PostgreSQL', async (t) => {
  const found = await findTestPostgres();
  if (found.url === undefined) {
    if (postgresRequired()) t.fail(postgresMissingMessage(found.why));
    else t.skip(postgresMissingMessage(found.why), () => undefined);
    return;
  }
  const url = found.url;
  const schema = `ims_md_test_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  t.comment(`PostgreSQL ${url} schema ${schema}`);
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  t.teardown(async () => {
    await admin.end().catch(() => undefined);
    await dropPostgresSchema(url, schema);
  });
  await behaviour(t, { kind: 'postgres', url, schema }, async (sql) => {
    // A few thousand rows: make the planner show which index it would take.
    await admin.query(`SET search_path = ${schema}`);
    await admin.query('ANALYZE md_trades');
    await admin.query('ANALYZE md_candles');
    await admin.query('SET enable_seqscan = off');
    const rows = (await admin.query(`EXPLAIN ${sql}`)).rows as { 'QUERY PLAN': string }[];
    return rows.map((r) => r['QUERY PLAN']).join('; ');
  });
  const versions = (await admin.query(`SELECT version, name FROM ${schema}.${MIGRATIONS_TABLE} ORDER BY version`)).rows;
  t.same(versions, MARKET_DATA_MIGRATIONS.map((m) => ({ version: m.version, name: m.name })), 'every migration recorded once');

  // flush() returns before the database answers, and back-pressure bounds what waits.
  const store = (await openMarketDataStore({ kind: 'postgres', url, schema })) as PostgresMarketDataStore;
  t.teardown(() => store.close().catch(() => undefined));
  let seq = 1_000_000;
  let sawPressure = false;
  for (let batch = 0; batch < 8; batch++) {
    for (let i = 0; i < MAX_PENDING_ROWS; i++) store.addTrade(++seq, 9, seq, 100, 1, 1, BASE_US + seq);
    if (store.flushDue(Date.now(), false)) store.flush(seq);
    if (store.backPressured) sawPressure = true;
  }
  t.ok(store.batchesInFlight > 0 || store.pending > 0, 'flush handed the batches over without waiting for them');
  t.ok(sawPressure, `with ${8} full batches handed over at once the store pushes back (in flight ${store.batchesInFlight}, pending ${store.pending})`);
  t.ok(store.pending <= MAX_PENDING_ROWS * 8, 'what waits is bounded');
  await store.close(seq);
  const reopened = await openMarketDataStore({ kind: 'postgres', url, schema });
  t.equal(reopened.storedSeq, seq, 'every batch committed by close');
  t.equal((await reopened.trades(9, 0, Number.MAX_SAFE_INTEGER, 100_000)).length, 8 * MAX_PENDING_ROWS, 'every row of them');
  await reopened.close();

  // A write that fails (the schema dropped under it) surfaces as `failure`, for the publisher to die on.
  const doomed = (await openMarketDataStore({ kind: 'postgres', url, schema })) as PostgresMarketDataStore;
  await admin.query(`DROP TABLE ${schema}.md_trades`);
  doomed.addTrade(seq + 1, 9, seq + 1, 100, 1, 1, BASE_US);
  doomed.flush(seq + 1);
  await t.rejects(doomed.drained(), /a write failed/, 'the failed batch rejects');
  t.match(doomed.failure?.message, /md_trades/, 'and is kept as the store failure, naming the cause');
  await doomed.close().catch(() => undefined);
});
