// Determinism: the engine is a pure function of its command stream. Two fresh engines fed the same
// stream emit byte-identical outputs and hold identical state hashes at every checkpoint; the hash
// sees the order of the queue, not just its contents; and the engine never reads the wall clock or
// Math.random.

import fc from 'fast-check';
import t from 'tap';
import { Side } from '../bus/enums';
import { Engine } from '../processes/matching-engine/engine';
import { stateHashHex } from '../processes/matching-engine/state-encoding';
import { applyCommand, RecordingSink, scenarioArbitrary, SMALL_ENGINE_SIZING, TestMarket } from './reference-book';

const SEED = 0xde7e7;
const RUNS = 200;
const CHECKPOINT_EVERY_COMMANDS = 25;

t.test('the same command stream through two fresh engines gives identical outputs and hashes', (t) => {
  t.comment(`fast-check seed ${SEED}, ${RUNS} runs`);
  fc.assert(
    fc.property(fc.oneof(scenarioArbitrary(50, 300, 'mixed'), scenarioArbitrary(100, 400, 'busy')), (s) => {
      // Different start-up sizes on purpose: growth of pools must not change behaviour.
      const a = new RecordingSink();
      const b = new RecordingSink();
      const one = new Engine(a, { terminalOrderMemoryCapacity: s.terminalOrderMemoryCapacity, ...SMALL_ENGINE_SIZING });
      const two = new Engine(b, { terminalOrderMemoryCapacity: s.terminalOrderMemoryCapacity });
      s.commands.forEach((c, i) => {
        applyCommand(one, i + 1, c, a.outputs);
        applyCommand(two, i + 1, c, b.outputs);
        if (i % CHECKPOINT_EVERY_COMMANDS === 0 && stateHashHex(one.stateHash()) !== stateHashHex(two.stateHash())) {
          throw new Error(`state hashes differ after command ${i + 1}`);
        }
      });
      if (JSON.stringify(a.outputs) !== JSON.stringify(b.outputs)) throw new Error('output streams differ');
      if (stateHashHex(one.stateHash()) !== stateHashHex(two.stateHash())) throw new Error('final state hashes differ');
    }),
    { seed: SEED, numRuns: RUNS },
  );
  t.end();
});

t.test('the state hash depends on queue order, quantities and finished-order memory', (t) => {
  const build = (ids: number[], quantity = 5): TestMarket => {
    const m = new TestMarket();
    m.list(1, 1, 1);
    for (const id of ids) m.buy(id, id, 100, quantity);
    return m;
  };
  const hash = (m: TestMarket) => stateHashHex(m.engine.stateHash());
  t.equal(hash(build([1, 2])), hash(build([1, 2])), 'equal states hash equal');
  t.not(hash(build([1, 2])), hash(build([2, 1])), 'same orders in a different queue order');
  t.not(hash(build([1, 2])), hash(build([1, 2], 6)), 'a different quantity');
  const canceled = build([1, 2, 3]);
  canceled.cancel(3, 3);
  const rejected = build([1, 2]);
  rejected.cancel(3, 3); // unknown order: same inSeq count, nothing remembered
  rejected.cancel(4, 4);
  const twoCancels = build([1, 2, 3]);
  twoCancels.cancel(3, 3);
  t.not(hash(canceled), hash(rejected), 'a remembered finished order');
  t.match(hash(canceled), /^[0-9a-f]{16}$/, 'the hash is 64 bits');
  t.equal(twoCancels.engine.restingOrders(1, Side.INFLOW).length, 2);
  t.end();
});

t.test('the engine never reads the wall clock or Math.random', (t) => {
  const realNow = Date.now;
  const realRandom = Math.random;
  const realHrtime = process.hrtime;
  const forbidden = (name: string) => () => {
    throw new Error(`the engine called ${name}`);
  };
  Date.now = forbidden('Date.now');
  Math.random = forbidden('Math.random');
  process.hrtime = Object.assign(forbidden('process.hrtime'), { bigint: forbidden('process.hrtime.bigint') }) as unknown as typeof process.hrtime;
  try {
    const [s] = fc.sample(scenarioArbitrary(300, 300, 'busy'), { seed: SEED, numRuns: 1 });
    const sink = new RecordingSink();
    const engine = new Engine(sink);
    s.commands.forEach((c, i) => applyCommand(engine, i + 1, c, sink.outputs));
    Engine.restore(engine.snapshot(), sink).stateHash();
    t.ok(sink.outputs.length > 300, 'a whole busy stream ran');
  } finally {
    Date.now = realNow;
    Math.random = realRandom;
    process.hrtime = realHrtime;
  }
  t.end();
});
