// The L2 book built from BookLevelChanged deltas equals a naive reference book (and, when the
// matching engine is built, the engine's own book) at random checkpoints; a subscriber's mirror
// that loses, repeats or reorders deltas detects the gap by sequence and resyncs from a snapshot.
import t from 'tap';
import { Side } from '../bus/enums';
import { BookMirror, MirrorResult } from '../processes/market-data/book-mirror';
import { BookApplyRejected, L2Book, type PriceQuantityCount } from '../processes/market-data/l2-book';
import { LevelChange } from '../processes/market-data/level-ladder';
import { MarketData, type MarketDataSink } from '../processes/market-data/market-data';
import { SeededRandom, testSeed } from './support/seeded-random';

const SEED = testSeed(0x12b0_0c5);
t.comment(`seed ${SEED} (set IMS_TEST_SEED to change)`);

/** The trivial model: a Map per side, sorted on demand. */
class ReferenceBook {
  readonly bids = new Map<number, [number, number]>();
  readonly asks = new Map<number, [number, number]>();
  sequence = 0;
  apply(side: number, price: number, quantity: number, orderCount: number): void {
    const levels = side === Side.INFLOW ? this.bids : this.asks;
    if (quantity === 0) levels.delete(price);
    else levels.set(price, [quantity, orderCount]);
    this.sequence++;
  }
  levels(side: number): PriceQuantityCount[] {
    const levels = side === Side.INFLOW ? this.bids : this.asks;
    return [...levels.entries()]
      .sort((a, b) => (side === Side.INFLOW ? b[0] - a[0] : a[0] - b[0]))
      .map(([price, [quantity, orderCount]]) => [price, quantity, orderCount]);
  }
}

interface Delta {
  side: number;
  price: number;
  quantity: number;
  orderCount: number;
}

/** A random but well-formed delta stream: removals only of levels that exist. */
function* randomDeltas(random: SeededRandom, count: number): Generator<Delta> {
  const live = [new Set<number>(), new Set<number>()];
  for (let i = 0; i < count; i++) {
    const side = random.int(1, 2);
    const levels = live[side - 1]!;
    // Bids 900..1000, asks 1001..1100, clustered near the touch so inserts hit all positions.
    const price = side === Side.INFLOW ? 1000 - Math.min(random.int(0, 100), random.int(0, 100)) : 1001 + Math.min(random.int(0, 99), random.int(0, 99));
    const remove = levels.size > 0 && random.int(0, 2) === 0;
    if (remove) {
      const existing = [...levels][random.int(0, levels.size - 1)]!;
      levels.delete(existing);
      yield { side, price: existing, quantity: 0, orderCount: 0 };
    } else {
      levels.add(price);
      yield { side, price, quantity: random.int(1, 10_000), orderCount: random.int(1, 50) };
    }
  }
}

t.test('the L2 book equals the reference book at random checkpoints, with a sequence per delta', async (t) => {
  const random = new SeededRandom(SEED);
  const book = new L2Book(1);
  const reference = new ReferenceBook();
  let checkpoints = 0;
  let mismatches = 0;
  let timeUs = 1_000;
  for (const d of randomDeltas(random, 50_000)) {
    timeUs += random.int(0, 3);
    const change = book.apply(d.side, d.price, d.quantity, d.orderCount, timeUs);
    if (change < 0) throw new Error(`refused ${JSON.stringify(d)}`);
    reference.apply(d.side, d.price, d.quantity, d.orderCount);
    if (random.int(0, 499) === 0) {
      checkpoints++;
      const snapshot = book.snapshot();
      const depth = book.depth(5);
      const same =
        JSON.stringify(snapshot.bids) === JSON.stringify(reference.levels(Side.INFLOW)) &&
        JSON.stringify(snapshot.asks) === JSON.stringify(reference.levels(Side.OUTFLOW)) &&
        snapshot.sequence === reference.sequence &&
        JSON.stringify(depth.bids) === JSON.stringify(reference.levels(Side.INFLOW).slice(0, 5).map(([p, q]) => [p, q])) &&
        JSON.stringify(depth.asks) === JSON.stringify(reference.levels(Side.OUTFLOW).slice(0, 5).map(([p, q]) => [p, q])) &&
        depth.timeUs === timeUs;
      if (!same) mismatches++;
    }
  }
  t.ok(checkpoints > 50, `${checkpoints} checkpoints`);
  t.equal(mismatches, 0);
  t.equal(book.sequence, 50_000);
  t.equal(book.absentRemovals, 0);
  t.ok(book.bids.capacity >= book.bids.length);
});

t.test('malformed deltas are refused without touching the book or its sequence; a removal of a missing level is counted', async (t) => {
  const book = new L2Book(1);
  t.equal(book.apply(Side.INFLOW, 100, 5, 1, 1), LevelChange.INSERTED);
  t.equal(book.apply(3, 100, 5, 1, 2), BookApplyRejected.INVALID_SIDE);
  t.equal(book.apply(Side.INFLOW, 100, -1, 1, 2), BookApplyRejected.INVALID_LEVEL);
  t.equal(book.apply(Side.INFLOW, 100.5, 1, 1, 2), BookApplyRejected.INVALID_LEVEL);
  t.equal(book.sequence, 1);
  t.equal(book.apply(Side.OUTFLOW, 101, 0, 0, 3), LevelChange.ABSENT);
  t.equal(book.absentRemovals, 1);
  t.equal(book.sequence, 2, 'a journal delta always counts, so every replica stays at the same sequence');
  t.equal(book.apply(Side.INFLOW, 100, 7, 2, 4), LevelChange.UPDATED);
  t.equal(book.apply(Side.INFLOW, 100, 0, 0, 5), LevelChange.REMOVED);
  t.same(book.depth(10), { bids: [], asks: [], sequence: 4, timeUs: 5 });
});

t.test('depth(n) is best first on both sides and capped by the book', async (t) => {
  const book = new L2Book(1);
  for (const p of [99, 97, 98]) book.apply(Side.INFLOW, p, p, 1, 0);
  for (const p of [103, 101, 102]) book.apply(Side.OUTFLOW, p, p, 1, 0);
  t.same(book.depth(2).bids, [[99, 99], [98, 98]]);
  t.same(book.depth(2).asks, [[101, 101], [102, 102]]);
  t.equal(book.depth(100).bids.length, 3);
  t.equal(book.depth(0).asks.length, 0);
});

/** Minimal sink that records the published deltas (what the gateway would forward). */
class DeltaRecorder implements MarketDataSink {
  readonly deltas: { productId: number; sequence: number; side: number; price: number; quantity: number; orderCount: number; timeUs: number }[] = [];
  onTrade(): void {}
  onCandleClosed(): void {}
  onBookDelta(productId: number, sequence: number, side: number, price: number, quantity: number, orderCount: number, timestampUs: number): void {
    this.deltas.push({ productId, sequence, side, price, quantity, orderCount, timeUs: timestampUs });
  }
}

t.test('a mirror that loses a delta sees a GAP, resyncs from a snapshot, and then equals the publisher', async (t) => {
  const random = new SeededRandom(SEED + 1);
  const sink = new DeltaRecorder();
  const publisher = new MarketData(sink, { bookHistory: false });
  const stream = [...randomDeltas(random, 600)];
  const mirror = new BookMirror(1);

  // Deltas before the snapshot arrive first and are buffered.
  for (const d of stream.slice(0, 100)) publisher.onBookLevel(1, d.side, d.price, d.quantity, d.orderCount, 10);
  for (const d of sink.deltas.slice(50)) t.equal(mirror.applyDelta(d.sequence, d.side, d.price, d.quantity, d.orderCount, d.timeUs), MirrorResult.BUFFERED);
  const snapshotAt80 = (() => {
    const replay = new L2Book(1);
    for (const d of sink.deltas.slice(0, 80)) replay.apply(d.side, d.price, d.quantity, d.orderCount, d.timeUs);
    return replay.snapshot();
  })();
  t.equal(mirror.applySnapshot(snapshotAt80), MirrorResult.SYNCED, 'buffered 81..100 continue the snapshot at 80');
  t.equal(mirror.sequence, 100);
  t.same(mirror.depth(1000), publisher.depth(1, 1000));

  // A duplicate is ignored.
  const last = sink.deltas[99]!;
  t.equal(mirror.applyDelta(last.sequence, last.side, last.price, last.quantity, last.orderCount, last.timeUs), MirrorResult.STALE);

  // Delta 101 is lost on the way: 102 is a gap.
  for (const d of stream.slice(100, 200)) publisher.onBookLevel(1, d.side, d.price, d.quantity, d.orderCount, 20);
  const d102 = sink.deltas[101]!;
  t.equal(mirror.applyDelta(d102.sequence, d102.side, d102.price, d102.quantity, d102.orderCount, d102.timeUs), MirrorResult.GAP);
  t.equal(mirror.live, false);
  for (const d of sink.deltas.slice(102, 150)) t.equal(mirror.applyDelta(d.sequence, d.side, d.price, d.quantity, d.orderCount, d.timeUs), MirrorResult.BUFFERED);
  // The publisher answers the resync request with its book now (sequence 200): newer than every buffered delta.
  t.equal(mirror.applySnapshot(publisher.snapshot(1)!), MirrorResult.SYNCED);
  t.equal(mirror.sequence, 200);
  t.equal(mirror.pendingDeltas, 0);
  t.same(mirror.depth(1000), publisher.depth(1, 1000));
  t.equal(mirror.gaps, 1);

  // An older snapshot arriving late changes nothing.
  t.equal(mirror.applySnapshot(snapshotAt80), MirrorResult.STALE);
  t.same(mirror.depth(1000), publisher.depth(1, 1000));
});

t.test('a snapshot followed by buffered deltas with a hole is a GAP, and the deltas after the hole are kept', async (t) => {
  const random = new SeededRandom(SEED + 2);
  const sink = new DeltaRecorder();
  const publisher = new MarketData(sink, { bookHistory: false });
  for (const d of randomDeltas(random, 60)) publisher.onBookLevel(1, d.side, d.price, d.quantity, d.orderCount, 1);
  const at40 = new L2Book(1);
  for (const d of sink.deltas.slice(0, 40)) at40.apply(d.side, d.price, d.quantity, d.orderCount, d.timeUs);
  const mirror = new BookMirror(1);
  for (const d of sink.deltas.slice(40, 60)) if (d.sequence !== 45) mirror.applyDelta(d.sequence, d.side, d.price, d.quantity, d.orderCount, d.timeUs);
  t.equal(mirror.applySnapshot(at40.snapshot()), MirrorResult.GAP, '41..44 apply, 45 is missing');
  t.equal(mirror.sequence, 44);
  t.equal(mirror.pendingDeltas, 15, '46..60 wait for a newer snapshot');
  t.equal(mirror.applySnapshot(publisher.snapshot(1)!), MirrorResult.SYNCED);
  t.same(mirror.depth(100), publisher.depth(1, 100));
});

t.test('a mirror waiting too long drops its buffer instead of growing, then recovers', async (t) => {
  const random = new SeededRandom(SEED + 3);
  const sink = new DeltaRecorder();
  const publisher = new MarketData(sink, { bookHistory: false });
  for (const d of randomDeltas(random, 30)) publisher.onBookLevel(1, d.side, d.price, d.quantity, d.orderCount, 1);
  const mirror = new BookMirror(1, 8);
  const results = sink.deltas.map((d) => mirror.applyDelta(d.sequence, d.side, d.price, d.quantity, d.orderCount, d.timeUs));
  t.equal(results.filter((r) => r === MirrorResult.OVERFLOW).length, 3, 'every 9th delta finds the buffer full');
  t.ok(mirror.pendingDeltas <= 8);
  t.equal(mirror.applySnapshot(publisher.snapshot(1)!), MirrorResult.SYNCED);
  t.same(mirror.depth(100), publisher.depth(1, 100));
});

t.test('under random loss, duplication and snapshot delays, a live mirror always equals the publisher at its sequence', async (t) => {
  const random = new SeededRandom(SEED + 4);
  const sink = new DeltaRecorder();
  const publisher = new MarketData(sink, { bookHistory: false });
  const mirror = new BookMirror(1, 64);
  const history = new Map<number, string>(); // sequence -> publisher book
  let pendingSnapshot: ReturnType<MarketData['snapshot']> | undefined;
  let snapshotDueIn = -1;
  let delivered = 0;
  let checks = 0;
  let wrong = 0;
  const deltas = [...randomDeltas(random, 20_000)];
  for (let i = 0; i < deltas.length; i++) {
    const d = deltas[i]!;
    publisher.onBookLevel(1, d.side, d.price, d.quantity, d.orderCount, i);
    const published = sink.deltas[sink.deltas.length - 1]!;
    history.set(published.sequence, JSON.stringify(publisher.depth(1, 1000)));
    const roll = random.int(0, 999);
    if (roll < 5) continue; // lost
    const deliver = (): void => {
      const r = mirror.applyDelta(published.sequence, published.side, published.price, published.quantity, published.orderCount, published.timeUs);
      delivered++;
      if ((r === MirrorResult.GAP || r === MirrorResult.OVERFLOW) && snapshotDueIn < 0) {
        pendingSnapshot = undefined;
        snapshotDueIn = random.int(0, 40); // the snapshot request takes a while
      }
    };
    deliver();
    if (roll < 10) deliver(); // duplicated
    if (!mirror.live && snapshotDueIn < 0 && mirror.sequence === 0) snapshotDueIn = random.int(0, 40);
    if (snapshotDueIn === 0) {
      pendingSnapshot = publisher.snapshot(1);
      snapshotDueIn = -1;
      const r = mirror.applySnapshot(pendingSnapshot!);
      if (r === MirrorResult.GAP) snapshotDueIn = random.int(0, 40);
    } else if (snapshotDueIn > 0) snapshotDueIn--;
    if (mirror.live && random.int(0, 9) === 0) {
      checks++;
      if (JSON.stringify(mirror.depth(1000)) !== history.get(mirror.sequence)) wrong++;
    }
  }
  t.ok(delivered > 19_000);
  t.ok(checks > 1_000, `${checks} checks while live`);
  t.ok(mirror.gaps > 10, `${mirror.gaps} gaps resynced`);
  t.equal(wrong, 0);
});

// The engine is another issue's work in progress: it is loaded by path (so this file does not need
// it to compile) and driven before the test starts; while it cannot load or throws on its own, the
// test is skipped and says why. Once the engine is done, any difference is a failure here.
interface EngineDrive {
  checks: number;
  wrong: number;
  trades: number;
  absentRemovals: number;
}

function driveEngine(): EngineDrive | string {
  let EngineClass: any;
  try {
    EngineClass = require('../processes/matching-engine/engine').Engine;
  } catch (e) {
    return `the matching engine is not loadable yet: ${(e as Error).message.split('\n')[0]}`;
  }
  if (typeof EngineClass !== 'function' || typeof EngineClass.prototype.newOrder !== 'function' || typeof EngineClass.prototype.levels !== 'function') {
    return 'the matching engine has no newOrder/levels yet';
  }
  const random = new SeededRandom(SEED + 5);
  const md = new MarketData(new DeltaRecorder(), { bookHistory: false });
  let inSeq = 0;
  let timeUs = Date.parse('2026-03-02T15:00:00Z') * 1000;
  const sink = {
    onAccepted() {},
    onRejected() {},
    onCanceled() {},
    onAmended() {},
    onExpired() {},
    onFill(_inSeq: number, _out: number, execId: number, productId: number, price: number, quantity: number, takerSide: number) {
      md.onFill(productId, execId, price, quantity, takerSide, timeUs);
    },
    onBookLevel(_inSeq: number, _out: number, productId: number, side: number, price: number, quantity: number, orderCount: number) {
      md.onBookLevel(productId, side, price, quantity, orderCount, timeUs);
    },
  };
  const PRODUCTS = [11, 12];
  const open: { orderId: number; accountId: number }[] = [];
  let nextOrderId = 1;
  let checks = 0;
  let wrong = 0;
  try {
    const engine = new EngineClass(sink, { initialOrderCapacity: 1 << 12, initialOrderIndexCapacity: 1 << 13 });
    for (const p of PRODUCTS) engine.listProduct(++inSeq, timeUs, p, 5, 1);
    for (let i = 0; i < 20_000; i++) {
      timeUs += random.int(0, 2_000_000);
      if (open.length > 0 && random.int(0, 3) === 0) {
        const k = random.int(0, open.length - 1);
        const o = open[k]!;
        open[k] = open[open.length - 1]!;
        open.pop();
        engine.cancel(++inSeq, timeUs, o.orderId, o.accountId);
      } else {
        const side = random.int(1, 2);
        const price = 5 * (side === Side.INFLOW ? random.int(180, 202) : random.int(198, 220));
        const accountId = random.int(1, 20);
        const orderId = nextOrderId++;
        engine.newOrder(++inSeq, timeUs, orderId, accountId, PRODUCTS[random.int(0, 1)]!, side, price, random.int(1, 50), 1, 0);
        open.push({ orderId, accountId });
      }
      if (random.int(0, 199) === 0) {
        for (const p of PRODUCTS) {
          checks++;
          const snapshot = md.snapshot(p) ?? { bids: [], asks: [] };
          const engineBids = engine.levels(p, Side.INFLOW).map((l: any) => [l.price, l.quantity, l.orderCount]);
          const engineAsks = engine.levels(p, Side.OUTFLOW).map((l: any) => [l.price, l.quantity, l.orderCount]);
          if (JSON.stringify(snapshot.bids) !== JSON.stringify(engineBids) || JSON.stringify(snapshot.asks) !== JSON.stringify(engineAsks)) wrong++;
        }
      }
    }
  } catch (e) {
    const stack = (e as Error).stack ?? '';
    // Only an error raised inside the engine's own code means "engine not ready"; ours fail the test.
    if (/matching-engine/.test(stack.split('\n').slice(0, 3).join('\n'))) return `the matching engine threw on its own: ${(e as Error).message}`;
    throw e;
  }
  const absentRemovals = PRODUCTS.reduce((sum, p) => sum + (md.product(p)?.book.absentRemovals ?? 0), 0);
  return { checks, wrong, trades: md.trades, absentRemovals };
}
const engineDrive = driveEngine();

t.test('driven by the real matching engine, the L2 book equals the engine book at random checkpoints', { skip: typeof engineDrive === 'string' ? engineDrive : false }, async (t) => {
  const drive = engineDrive as EngineDrive;
  t.ok(drive.checks > 100, `${drive.checks} checkpoints`);
  t.equal(drive.wrong, 0);
  t.ok(drive.trades > 100, `${drive.trades} trades reached the tape and candles`);
  t.equal(drive.absentRemovals, 0, 'the engine never removes a level that is not there');
});
