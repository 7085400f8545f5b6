// The fan-out order of a message is a permutation of the subscribers, differs from message to
// message, puts every subscriber first about equally often, and is a function of (seed, message
// sequence) only.
import t from 'tap';
import { FanoutOrder } from '../processes/market-data/fanout-order';

t.test('every order is a permutation of 0..count-1', async (t) => {
  const fanout = new FanoutOrder(64, 7);
  let bad = 0;
  for (let seq = 1; seq <= 20_000; seq++) {
    const count = 1 + (seq % 64);
    const order = fanout.shuffle(count, seq);
    const seen = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      const s = order[i]!;
      if (s < 0 || s >= count || seen[s] === 1) bad++;
      seen[s] = 1;
    }
  }
  t.equal(bad, 0);
  t.same(Array.from(fanout.shuffle(1, 5).subarray(0, 1)), [0]);
  t.equal(fanout.shuffle(0, 5).length, 64, 'an empty fan-out is fine (the array is the preallocated one)');
});

t.test('consecutive messages get different orders', async (t) => {
  const fanout = new FanoutOrder(8, 1);
  let previous = '';
  let repeats = 0;
  const distinct = new Set<string>();
  const MESSAGES = 10_000;
  for (let seq = 0; seq < MESSAGES; seq++) {
    const key = Array.from(fanout.shuffle(8, seq).subarray(0, 8)).join(',');
    if (key === previous) repeats++;
    previous = key;
    distinct.add(key);
  }
  // 8! = 40,320 orders: equal neighbours should be about 1 in 40,320.
  t.ok(repeats <= 3, `${repeats} messages repeated the previous order`);
  t.ok(distinct.size > 8_000, `${distinct.size} distinct orders in ${MESSAGES} messages`);
});

t.test('the first position is uniform across subscribers (chi-square), also for large sequence numbers', async (t) => {
  const SUBSCRIBERS = 10;
  const MESSAGES = 200_000;
  for (const base of [0, 2 ** 40]) {
    const fanout = new FanoutOrder(SUBSCRIBERS, 12345);
    const first = new Array<number>(SUBSCRIBERS).fill(0);
    const last = new Array<number>(SUBSCRIBERS).fill(0);
    for (let seq = base; seq < base + MESSAGES; seq++) {
      const order = fanout.shuffle(SUBSCRIBERS, seq);
      first[order[0]!]!++;
      last[order[SUBSCRIBERS - 1]!]!++;
    }
    const expected = MESSAGES / SUBSCRIBERS;
    const chi = (counts: number[]): number => counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    // 9 degrees of freedom: P(chi² > 27.88) = 0.001.
    t.ok(chi(first) < 27.88, `first position chi² ${chi(first).toFixed(2)} (sequences from ${base}): ${first.join(' ')}`);
    t.ok(chi(last) < 27.88, `last position chi² ${chi(last).toFixed(2)}`);
    t.ok(Math.min(...first) > 0.95 * expected && Math.max(...first) < 1.05 * expected, 'every subscriber is first within 5% of 1/10 of the time');
  }
});

t.test('the order is a function of the seed and the message sequence only', async (t) => {
  const a = new FanoutOrder(32, 99);
  const b = new FanoutOrder(32, 99);
  const c = new FanoutOrder(32, 100);
  const orderOf = (f: FanoutOrder, seq: number): string => Array.from(f.shuffle(32, seq).subarray(0, 32)).join(',');
  const seqs = [0, 1, 2, 1_000_003, 2 ** 33 + 5];
  // b sees the sequences in another order: no hidden state carries over between messages.
  const fromA = seqs.map((s) => orderOf(a, s));
  const fromB = [...seqs].reverse().map((s) => orderOf(b, s)).reverse();
  t.same(fromA, fromB);
  t.not(orderOf(c, 1), orderOf(a, 1), 'another seed, another order');
  t.throws(() => a.shuffle(33, 1), /count out of range/);
});
