// bookAt(T) — the L2 book rebuilt from the nearest checkpoint and the deltas after it — equals the
// live book recorded at T, re-applies fewer than K deltas, and says "not kept" (undefined) for
// times older than its bounded history instead of answering wrongly.
import t from 'tap';
import { Side } from '../bus/enums';
import { BookHistory, rebuildBookAt, type BookChange } from '../processes/market-data/book-history';
import { L2Book, type BookSnapshot } from '../processes/market-data/l2-book';
import { MarketData, type MarketDataSink } from '../processes/market-data/market-data';
import { SeededRandom, testSeed } from './support/seeded-random';

const SEED = testSeed(0x415_7021);
t.comment(`seed ${SEED} (set IMS_TEST_SEED to change)`);

const quietSink: MarketDataSink = { onTrade() {}, onBookDelta() {}, onCandleClosed() {} };

/** Deltas with non-decreasing times, several often sharing one timestamp (one command's outputs). */
function randomStream(random: SeededRandom, count: number, startUs: number): BookChange[] {
  const live = [new Set<number>(), new Set<number>()];
  const out: BookChange[] = [];
  let timeUs = startUs;
  for (let i = 0; i < count; i++) {
    if (random.int(0, 2) === 0) timeUs += random.int(1, 5_000_000);
    const side = random.int(1, 2);
    const levels = live[side - 1]!;
    if (levels.size > 0 && random.int(0, 2) === 0) {
      const price = [...levels][random.int(0, levels.size - 1)]!;
      levels.delete(price);
      out.push({ timeUs, side, price, quantity: 0, orderCount: 0 });
    } else {
      const price = side === Side.INFLOW ? random.int(900, 1000) : random.int(1001, 1100);
      levels.add(price);
      out.push({ timeUs, side, price, quantity: random.int(1, 1000), orderCount: random.int(1, 9) });
    }
  }
  return out;
}

t.test('bookAt(T) equals the live book recorded at T, for T anywhere in the kept history', async (t) => {
  const random = new SeededRandom(SEED);
  const CAPACITY = 4_096;
  const K = 64;
  const md = new MarketData(quietSink, { bookHistoryChanges: CAPACITY, bookCheckpointInterval: K });
  const stream = randomStream(random, 30_000, Date.parse('2026-03-02T14:30:00Z') * 1000);
  // Record the live book at the last moment of random timestamps: after every delta with time <= T.
  const recorded: { timeUs: number; book: string; sequence: number }[] = [];
  for (let i = 0; i < stream.length; i++) {
    const d = stream[i]!;
    md.onBookLevel(5, d.side, d.price, d.quantity, d.orderCount, d.timeUs);
    const next = stream[i + 1];
    if ((next === undefined || next.timeUs > d.timeUs) && random.int(0, 20) === 0) {
      // Any T in [d.timeUs, next.timeUs) sees the same book.
      const T = next === undefined ? d.timeUs : random.int(d.timeUs, next.timeUs - 1);
      recorded.push({ timeUs: T, book: JSON.stringify(md.depth(5, 1000)), sequence: md.product(5)!.book.sequence });
    }
  }
  const history = md.product(5)!.history!;
  const earliest = history.earliestTimeUs();
  let answered = 0;
  let refused = 0;
  let wrong = 0;
  let maxReplayed = 0;
  for (const r of recorded) {
    const at = md.bookAt(5, r.timeUs, 1000);
    if (r.timeUs < earliest) {
      if (at === undefined) refused++;
      else wrong++;
      continue;
    }
    answered++;
    maxReplayed = Math.max(maxReplayed, history.lastRebuildDeltas);
    // The live depth carries the raw timestamp of its last delta; history keeps the same here (times are monotonic).
    if (JSON.stringify(at) !== r.book) wrong++;
  }
  t.ok(answered > 50, `${answered} times answered from memory`);
  t.ok(refused > 200, `${refused} older times refused (left to storage)`);
  t.equal(wrong, 0);
  t.ok(maxReplayed < K, `at most ${maxReplayed} deltas re-applied per query (bound K - 1 = ${K - 1})`);
  t.ok(history.latestSequence - history.oldestSequence + 1 === CAPACITY);
});

t.test('before the first delta the book was empty; after the last one bookAt is the live book', async (t) => {
  const history = new BookHistory(1, 256, 16);
  const book = new L2Book(1);
  const random = new SeededRandom(SEED + 1);
  const stream = randomStream(random, 100, 1_000_000);
  for (const d of stream) {
    book.apply(d.side, d.price, d.quantity, d.orderCount, d.timeUs);
    history.record(book, d.side, d.price, d.quantity, d.orderCount, d.timeUs);
  }
  t.same(history.bookAt(999_999, 10), { bids: [], asks: [], sequence: 0, timeUs: 0 });
  t.equal(history.earliestTimeUs(), Number.NEGATIVE_INFINITY);
  t.same(history.bookAt(Number.MAX_SAFE_INTEGER, 1000), book.depth(1000));
  t.same(history.snapshotAt(Number.MAX_SAFE_INTEGER), book.snapshot());
});

t.test('a checkpoint slot grows when the book outgrows it, and rebuilds stay exact', async (t) => {
  const history = new BookHistory(1, 512, 32);
  const book = new L2Book(1);
  // 400 levels per side: far more than the slots' initial room.
  let timeUs = 0;
  const snapshots: { timeUs: number; snapshot: BookSnapshot }[] = [];
  for (let i = 0; i < 400; i++) {
    for (const side of [Side.INFLOW, Side.OUTFLOW]) {
      timeUs++;
      const price = side === Side.INFLOW ? 1000 - i : 1001 + i;
      book.apply(side, price, i + 1, 1, timeUs);
      history.record(book, side, price, i + 1, 1, timeUs);
    }
    snapshots.push({ timeUs, snapshot: book.snapshot() });
  }
  const kept = snapshots.filter((s) => s.timeUs >= history.earliestTimeUs());
  t.ok(kept.length > 100);
  t.ok(kept.every((s) => JSON.stringify(history.snapshotAt(s.timeUs)) === JSON.stringify(s.snapshot)));
});

t.test('rebuildBookAt replays stored deltas after a stored snapshot up to T', async (t) => {
  const random = new SeededRandom(SEED + 2);
  const stream = randomStream(random, 2_000, 5_000_000);
  const live = new L2Book(9);
  for (const d of stream.slice(0, 700)) live.apply(d.side, d.price, d.quantity, d.orderCount, d.timeUs);
  const stored = live.snapshot();
  const T = stream[1_500]!.timeUs;
  for (const d of stream.slice(700)) {
    if (d.timeUs > T) break;
    live.apply(d.side, d.price, d.quantity, d.orderCount, d.timeUs);
  }
  t.same(rebuildBookAt(stored, stream.slice(700), T), live.snapshot());
  t.throws(() => rebuildBookAt(stored, [{ timeUs: 0, side: 9, price: 1, quantity: 1, orderCount: 1 }], T), /malformed delta/);
});
