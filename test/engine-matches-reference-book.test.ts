// Property tests: thousands of random command sequences over several products (GTC/DAY/IOC/FOK,
// post-only, cancels, amends up and down in price and quantity, self-trades under every policy,
// halts, delistings, day closes, invalid input) give the engine and the trivial reference book the
// identical output stream and the identical resting orders; and after every single command the
// engine's book satisfies the exchange invariants.

import fc from 'fast-check';
import t from 'tap';
import { Side } from '../bus/enums';
import { Engine } from '../processes/matching-engine/engine';
import {
  applyCommand,
  type EngineCommand,
  firstDifference,
  type Output,
  RecordingSink,
  ReferenceEngine,
  SCENARIO_PRODUCTS,
  type Scenario,
  scenarioArbitrary,
  SMALL_ENGINE_SIZING,
} from './reference-book';

const SEED = 0x1d5eed;
const RUNS = 1500;

/** Checks the invariants of one command's outputs and of the book after it; throws on a violation. */
class InvariantChecker {
  private readonly expectedQuantity = new Map<number, number>();
  private readonly cum = new Map<number, number>();

  constructor(private readonly engine: Engine) {}

  restingPrices(): Map<number, number> {
    const prices = new Map<number, number>();
    for (const productId of this.engine.productIds()) {
      for (const side of [Side.INFLOW, Side.OUTFLOW]) {
        for (const o of this.engine.restingOrders(productId, side)) prices.set(o.orderId, o.price);
      }
    }
    return prices;
  }

  check(inSeq: number, c: EngineCommand, outputs: readonly Output[], restingBefore: Map<number, number>): void {
    const fail = (what: string): never => {
      throw new Error(`invariant broken at inSeq ${inSeq} (${JSON.stringify(c)}): ${what}\n  outputs: ${JSON.stringify(outputs)}`);
    };
    outputs.forEach((o, i) => {
      if (o[1] !== inSeq || o[2] !== i) fail(`output ${i} carries inSeq ${o[1]} outIndex ${o[2]}`);
    });
    if (c.kind === 'new' && !outputs.some((o) => o[0] === 'rejected')) {
      this.expectedQuantity.set(c.orderId, c.quantity);
      this.cum.set(c.orderId, 0);
    }
    for (const o of outputs) {
      const [kind] = o;
      // Tuples are [kind, inSeq, outIndex, ...the sink method's arguments after outIndex].
      if (kind === 'amended') this.expectedQuantity.set(o[3] as number, o[9] as number);
      if (kind === 'canceled' && (o[9] as number) > 0) {
        // A self-trade decrement shrinks an order that stays open.
        const id = o[3] as number;
        this.expectedQuantity.set(id, (this.expectedQuantity.get(id) as number) - (o[8] as number));
      }
      if (kind !== 'fill') continue;
      const [, , , , , price, quantity, takerSide, makerId, , makerLeaves, makerCum, takerId, , takerLeaves, takerCum] = o as unknown as number[];
      if (!(quantity > 0)) fail(`fill quantity ${quantity}`);
      if (restingBefore.get(makerId) !== price) fail(`fill price ${price} is not the resting order's price ${restingBefore.get(makerId)}`);
      const limit = c.kind === 'new' ? c.price : c.kind === 'amend' ? c.newPrice : fail('a fill from a command that cannot take');
      if (takerSide === Side.INFLOW ? price > limit : price < limit) fail(`fill at ${price} is beyond the taker's limit ${limit}`);
      for (const [id, leaves, cumNow] of [
        [makerId, makerLeaves, makerCum],
        [takerId, takerLeaves, takerCum],
      ]) {
        if (cumNow - (this.cum.get(id) ?? 0) !== quantity) fail(`order ${id} cum moved by ${cumNow - (this.cum.get(id) ?? 0)}, fill was ${quantity}`);
        this.cum.set(id, cumNow);
        if (leaves + cumNow !== this.expectedQuantity.get(id)) {
          fail(`order ${id}: filled ${cumNow} + leaves ${leaves} != quantity ${this.expectedQuantity.get(id)}`);
        }
      }
    }
    // The book at rest.
    for (const productId of this.engine.productIds()) {
      const bids = this.engine.levels(productId, Side.INFLOW);
      const asks = this.engine.levels(productId, Side.OUTFLOW);
      if (bids.length > 0 && asks.length > 0 && bids[0].price >= asks[0].price) fail(`product ${productId} is crossed at rest: ${bids[0].price} >= ${asks[0].price}`);
      for (const [side, levels] of [
        [Side.INFLOW, bids],
        [Side.OUTFLOW, asks],
      ] as const) {
        for (let i = 1; i < levels.length; i++) {
          if (side === Side.INFLOW ? levels[i].price >= levels[i - 1].price : levels[i].price <= levels[i - 1].price) fail(`levels out of order`);
        }
        const orders = this.engine.restingOrders(productId, side);
        for (const lv of levels) {
          const at = orders.filter((x) => x.price === lv.price);
          const sum = at.reduce((s, x) => s + x.leavesQuantity, 0);
          if (at.length !== lv.orderCount || sum !== lv.quantity || lv.orderCount === 0) fail(`level ${lv.price} aggregate ${lv.quantity}/${lv.orderCount} != ${sum}/${at.length}`);
        }
        for (const x of orders) {
          if (!(x.leavesQuantity > 0)) fail(`resting order ${x.orderId} has leaves ${x.leavesQuantity}`);
          if (x.leavesQuantity + x.cumQuantity !== this.expectedQuantity.get(x.orderId)) {
            fail(`resting order ${x.orderId}: filled ${x.cumQuantity} + leaves ${x.leavesQuantity} != quantity ${this.expectedQuantity.get(x.orderId)}`);
          }
        }
      }
    }
  }
}

function runBoth(s: Scenario): readonly Output[] {
  const engineSink = new RecordingSink();
  const referenceSink = new RecordingSink();
  const engine = new Engine(engineSink, { terminalOrderMemoryCapacity: s.terminalOrderMemoryCapacity, ...SMALL_ENGINE_SIZING });
  const reference = new ReferenceEngine(referenceSink, { terminalOrderMemoryCapacity: s.terminalOrderMemoryCapacity });
  const checker = new InvariantChecker(engine);
  s.commands.forEach((c, i) => {
    const inSeq = i + 1;
    const before = checker.restingPrices();
    const from = engineSink.outputs.length;
    applyCommand(engine, inSeq, c, engineSink.outputs);
    applyCommand(reference, inSeq, c, referenceSink.outputs);
    checker.check(inSeq, c, engineSink.outputs.slice(from).filter((o) => o[0] !== 'admin-result'), before);
  });
  const diff = firstDifference(engineSink.outputs, referenceSink.outputs);
  if (diff !== undefined) throw new Error(diff);
  for (const p of SCENARIO_PRODUCTS) {
    for (const side of [Side.INFLOW, Side.OUTFLOW]) {
      const a = JSON.stringify(engine.restingOrders(p.productId, side));
      const b = JSON.stringify(reference.restingOrders(p.productId, side));
      if (a !== b) throw new Error(`resting orders of product ${p.productId} side ${side} differ:\n  engine:    ${a}\n  reference: ${b}`);
    }
  }
  return engineSink.outputs;
}

t.test('engine and reference book emit identical outputs and keep every invariant after each command', (t) => {
  t.comment(`fast-check seed ${SEED}, ${RUNS} runs`);
  let commands = 0;
  let fills = 0;
  let selfTradeCancels = 0;
  const kinds = new Set<string>();
  fc.assert(
    fc.property(scenarioArbitrary(20, 160), (s) => {
      const outputs = runBoth(s);
      // Coverage bookkeeping, to show the random streams reach the interesting cases.
      commands += s.commands.length;
      for (const o of outputs) {
        kinds.add(o[0] === 'canceled' || o[0] === 'rejected' ? `${o[0]}:${o[o.length - 1]}` : o[0]);
        if (o[0] === 'fill') fills++;
        if (o[0] === 'canceled' && o[o.length - 1] === 4) selfTradeCancels++;
      }
    }),
    { seed: SEED, numRuns: RUNS },
  );
  t.comment(`${commands} commands, ${fills} fills, ${selfTradeCancels} self-trade cancels; output kinds seen: ${[...kinds].sort().join(' ')}`);
  for (const needed of ['fill', 'accepted', 'amended', 'expired', 'level', 'canceled:1', 'canceled:2', 'canceled:3', 'canceled:4', 'canceled:6']) {
    t.ok(kinds.has(needed), `random streams produce ${needed}`);
  }
  for (const reason of [2, 3, 4, 5, 6, 7, 8, 9, 11, 22, 23, 24]) t.ok(kinds.has(`rejected:${reason}`), `random streams produce reject reason ${reason}`);
  t.end();
});

t.test('deep books: long streams of valid orders across many levels match the reference exactly', (t) => {
  const seed = SEED + 1;
  const runs = 300;
  t.comment(`fast-check seed ${seed}, ${runs} runs`);
  let fills = 0;
  let deepest = 0;
  fc.assert(
    fc.property(scenarioArbitrary(300, 700, 'busy'), (s) => {
      const outputs = runBoth(s);
      for (const o of outputs) if (o[0] === 'fill') fills++;
      for (const o of outputs) if (o[0] === 'level') deepest = Math.max(deepest, o[o.length - 1] as number);
    }),
    { seed, numRuns: runs },
  );
  t.comment(`${fills} fills; most orders seen at one level: ${deepest}`);
  t.ok(fills > 10_000, 'busy streams match a lot');
  t.end();
});
