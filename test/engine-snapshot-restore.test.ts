// Snapshot + restore mid-stream, then continuing, is indistinguishable from an uninterrupted run:
// the same outputs after the cut and the same state hash, including the memory of finished orders,
// the execution-id counter and DAY orders that expire after the restore. A damaged snapshot is
// refused with a message that says what is wrong.

import fc from 'fast-check';
import t from 'tap';
import { RejectReason, Side, TimeInForce } from '../bus/enums';
import { Engine } from '../processes/matching-engine/engine';
import { SNAPSHOT_HEADER_BYTES, SNAPSHOT_OFFSET, stateHashHex } from '../processes/matching-engine/state-encoding';
import { applyCommand, firstDifference, RecordingSink, scenarioArbitrary, SMALL_ENGINE_SIZING, TestMarket } from './reference-book';

const SEED = 0x5a9540;
const RUNS = 200;

t.test('snapshot + restore mid-stream then continuing equals an uninterrupted run', (t) => {
  t.comment(`fast-check seed ${SEED}, ${RUNS} runs`);
  let restoredOrders = 0;
  fc.assert(
    fc.property(
      fc.oneof(scenarioArbitrary(50, 300, 'mixed'), scenarioArbitrary(100, 400, 'busy')),
      fc.integer({ min: 0, max: 1000 }),
      (s, cutPerMille) => {
        const options = { terminalOrderMemoryCapacity: s.terminalOrderMemoryCapacity, ...SMALL_ENGINE_SIZING };
        const cut = Math.floor((cutPerMille / 1000) * s.commands.length);
        const straightSink = new RecordingSink();
        const straight = new Engine(straightSink, options);
        const firstSink = new RecordingSink();
        const first = new Engine(firstSink, options);
        s.commands.forEach((c, i) => {
          applyCommand(straight, i + 1, c, straightSink.outputs);
          if (i < cut) applyCommand(first, i + 1, c, firstSink.outputs);
        });
        const bytes = first.snapshot();
        const restoredSink = new RecordingSink();
        const restored = Engine.restore(bytes, restoredSink, SMALL_ENGINE_SIZING);
        restoredOrders += restored.restingOrderCount;
        if (stateHashHex(restored.stateHash()) !== stateHashHex(first.stateHash())) throw new Error('hash differs right after restore');
        if (Buffer.compare(restored.snapshot(), bytes) !== 0) throw new Error('a snapshot of the restored engine differs from the one it came from');
        s.commands.forEach((c, i) => {
          if (i >= cut) applyCommand(restored, i + 1, c, restoredSink.outputs);
        });
        const afterCut = straightSink.outputs.slice(firstSink.outputs.length);
        const diff = firstDifference(restoredSink.outputs, afterCut);
        if (diff !== undefined) throw new Error(`cut at command ${cut}: ${diff}`);
        if (stateHashHex(restored.stateHash()) !== stateHashHex(straight.stateHash())) throw new Error(`cut at command ${cut}: final hashes differ`);
      },
    ),
    { seed: SEED, numRuns: RUNS },
  );
  t.comment(`${restoredOrders} resting orders restored in total`);
  t.ok(restoredOrders > 1000, 'snapshots carried real books');
  t.end();
});

t.test('a snapshot taken mid-day restores DAY orders, finished-order memory and counters', (t) => {
  const m = new TestMarket();
  m.list(1, 1, 1);
  m.buy(1, 1, 100, 5, TimeInForce.DAY);
  m.buy(2, 2, 100, 5, TimeInForce.GTC);
  m.sell(3, 3, 100, 2); // fills order 1 partly: exec id 1
  m.sell(4, 3, 200, 1);
  m.cancel(4, 3);
  const restoredSink = new RecordingSink();
  const restored = Engine.restore(m.engine.snapshot(), restoredSink);
  t.equal(restored.lastInSeq, m.seq);
  t.equal(stateHashHex(restored.stateHash()), stateHashHex(m.engine.stateHash()));
  const seq = m.seq;
  restored.cancel(seq + 1, 0, 4, 3);
  restored.cancel(seq + 2, 0, 3, 3);
  restored.newOrder(seq + 3, 0, 5, 3, 1, Side.OUTFLOW, 100, 1, TimeInForce.GTC, 0);
  restored.closeTradingDay(seq + 4, 0, 20240102);
  t.match(restoredSink.outputs, [
    ['rejected', seq + 1, 0, 4, 3, 1, RejectReason.ALREADY_CANCELED],
    ['rejected', seq + 2, 0, 3, 3, 1, RejectReason.ALREADY_FILLED],
    ['fill', seq + 3, 0, 2, 1, 100, 1, Side.OUTFLOW, 1, 1, 2, 3],
    ['level', seq + 3, 1, 1, Side.INFLOW, 100, 7, 2],
    ['expired', seq + 4, 0, 1, 1, 1, Side.INFLOW, 100, 2],
    ['level', seq + 4, 1, 1, Side.INFLOW, 100, 5, 1],
  ]);
  t.strictSame(restored.restingOrders(1, Side.INFLOW).map((o) => o.orderId), [2]);
  t.end();
});

t.test('a damaged snapshot is refused with a clear reason', (t) => {
  const m = new TestMarket();
  m.list(1, 1, 1);
  m.buy(1, 1, 100, 5);
  const good = m.engine.snapshot();
  const sink = new RecordingSink();

  const flipped = good.slice();
  flipped[SNAPSHOT_HEADER_BYTES + 10] ^= 0x40;
  t.throws(() => Engine.restore(flipped, sink), /CRC32C mismatch/);

  t.throws(() => Engine.restore(good.subarray(0, good.length - 3), sink), /truncated or padded/);
  t.throws(() => Engine.restore(good.subarray(0, 10), sink), /shorter than the 24-byte header/);

  const badMagic = good.slice();
  badMagic[0] = 0;
  t.throws(() => Engine.restore(badMagic, sink), /bad magic/);

  const newer = good.slice();
  new DataView(newer.buffer).setUint16(SNAPSHOT_OFFSET.version, 99, true);
  t.throws(() => Engine.restore(newer, sink), /format version 99/);

  t.doesNotThrow(() => Engine.restore(good, sink));
  t.end();
});
