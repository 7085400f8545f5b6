// Replay: a product manager rebuilt from the journal — from scratch, by a warm follower reading at
// its own pace, or from a snapshot plus the rest of the journal — has the same state hash as the
// live one that did the pre-sequencing checks (whatever the live one has in flight), and produces
// byte-identical execution reports for the same entries (so a gateway can drop the duplicates a
// restarted product manager re-emits, by eventSeq).
import t from 'tap';
import fc from 'fast-check';
import { Side, TimeInForce } from '../bus/enums';
import { ExecutionReport } from '../bus/schema';
import { InProcessExchange } from '../processes/product-manager/in-process-exchange';
import { InProcessProductManager, JournalFollower } from '../processes/product-manager/in-process-product-manager';
import { CHECK_DUPLICATE, ProductManagerState, type ProductManagerOptions } from '../processes/product-manager/product-manager-state';
import { clientOrderIdField, type JournalBuilder } from '../processes/product-manager/journal-builder';

const SEED = Number(process.env.IMS_TEST_SEED ?? 0x2e91_a7);
const RUNS = Number(process.env.IMS_TEST_RUNS ?? 120);
t.comment(`seed ${SEED} (set IMS_TEST_SEED to change), ${RUNS} runs`);

const SMALL: ProductManagerOptions = { maxAccounts: 16, maxProducts: 8, initialOrderSlots: 16 };
const ACCOUNTS = [21, 22, 23];
const PRODUCTS = [1, 2];

type Op =
  | { kind: 'new'; a: number; p: number; side: number; price: number; qty: number; tif: number; coid: number }
  | { kind: 'cancel'; pick: number }
  | { kind: 'amend'; pick: number; price: number; qty: number }
  | { kind: 'engine'; n: number }
  | { kind: 'flush'; n: number }
  | { kind: 'live'; n: number }
  | { kind: 'warm'; n: number }
  | { kind: 'snapshot' }
  | { kind: 'day' };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('new' as const),
      a: fc.integer({ min: 0, max: ACCOUNTS.length - 1 }),
      p: fc.integer({ min: 0, max: PRODUCTS.length - 1 }),
      side: fc.constantFrom(Side.INFLOW, Side.OUTFLOW),
      price: fc.integer({ min: 95, max: 105 }),
      qty: fc.integer({ min: 1, max: 30 }),
      tif: fc.constantFrom(TimeInForce.GTC, TimeInForce.DAY, TimeInForce.IOC),
      coid: fc.integer({ min: 0, max: 12 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('amend' as const), pick: fc.nat(), price: fc.integer({ min: 95, max: 105 }), qty: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('engine' as const), n: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('flush' as const), n: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('live' as const), n: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('warm' as const), n: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'snapshot' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'day' as const }) },
);

/** Applies entries one by one, keeping every report's bytes by journal entry index. */
class RecordingFollower extends JournalFollower {
  readonly reportsByEntry = new Map<number, string[]>();
  private readonly buffer = new Uint8Array(ExecutionReport.size);
  private readonly view = new DataView(this.buffer.buffer);

  constructor(readonly state: ProductManagerState, journal: JournalBuilder) {
    super(state, journal);
  }

  override poll(max = Number.POSITIVE_INFINITY): number {
    let done = 0;
    while (done < max && this.cursor < this.journal.length) {
      const e = this.journal.entries[this.cursor];
      const n = this.state.applyJournalEntry(this.journal.view, e.offset, e.typeId);
      const out: string[] = [];
      for (let i = 0; i < n; i++) {
        this.state.writeExecutionReport(i, this.view, 0);
        out.push(Buffer.from(this.buffer).toString('hex'));
      }
      if (n > 0) this.reportsByEntry.set(this.cursor, out);
      this.cursor++;
      done++;
    }
    return done;
  }
}

function fresh(journal: JournalBuilder, to: number): ProductManagerState {
  const state = new ProductManagerState({ ...SMALL, sourceId: 500 });
  journal.replayInto(state, 0, to);
  return state;
}

function run(ops: readonly Op[]): void {
  const ex = new InProcessExchange();
  const journal = ex.journal;
  for (const p of PRODUCTS) journal.listProduct(p, 3, 1, 1, 100);
  for (const a of ACCOUNTS) {
    journal.openAccount(a);
    journal.deposit(a, 50_000);
    for (const p of PRODUCTS) journal.receiveInventory(a, p, 200);
  }
  let day = 20250106;
  journal.openTradingDay(day);
  const live = new InProcessProductManager(journal, SMALL);
  const liveRecorder = new RecordingFollower(live.state, journal);
  const warm = new RecordingFollower(new ProductManagerState({ ...SMALL, sourceId: 2 }), journal);
  const snapshots: { bytes: Uint8Array; at: number }[] = [];
  const ids: number[] = [];
  ex.settle();
  liveRecorder.poll();
  const sameAsFresh = (state: ProductManagerState, cursor: number, who: string): void => {
    const replayed = fresh(journal, cursor);
    if (replayed.stateHashHex() !== state.stateHashHex()) throw new Error(`${who} at entry ${cursor}: hash ${state.stateHashHex()} ≠ fresh replay ${replayed.stateHashHex()}`);
  };
  for (const o of ops) {
    switch (o.kind) {
      case 'new': {
        const r = live.submitNewOrder(ACCOUNTS[o.a], PRODUCTS[o.p], o.side, o.price, o.qty, { timeInForce: o.tif, clientOrderId: o.coid === 0 ? '' : `r${o.coid}` });
        if (r === 0) ids.push(live.state.lastOrderId);
        break;
      }
      case 'cancel': {
        if (ids.length === 0) break;
        const id = ids[o.pick % ids.length];
        live.submitCancel(live.state.order(id)?.accountId ?? 0, id);
        break;
      }
      case 'amend': {
        if (ids.length === 0) break;
        const id = ids[o.pick % ids.length];
        live.submitAmend(live.state.order(id)?.accountId ?? 0, id, o.price, o.qty);
        break;
      }
      case 'engine':
        ex.runEngine(o.n);
        break;
      case 'flush':
        ex.flushOutputs(o.n);
        break;
      case 'live':
        liveRecorder.poll(o.n);
        sameAsFresh(live.state, liveRecorder.cursor, 'live (with commands in flight)');
        break;
      case 'warm':
        warm.poll(o.n);
        warm.state.assertInvariants();
        break;
      case 'snapshot':
        snapshots.push({ bytes: live.state.snapshot(), at: liveRecorder.cursor });
        break;
      case 'day':
        journal.closeTradingDay(day);
        journal.openTradingDay(++day);
        break;
    }
  }
  ex.settle();
  liveRecorder.poll();
  warm.poll();
  const finalHash = live.state.stateHashHex();
  if (warm.state.stateHashHex() !== finalHash) throw new Error(`warm follower ${warm.state.stateHashHex()} ≠ live ${finalHash}`);
  sameAsFresh(live.state, journal.length, 'live at the end');
  for (const [index, reports] of liveRecorder.reportsByEntry) {
    const other = warm.reportsByEntry.get(index);
    if (other === undefined || other.join() !== reports.join()) throw new Error(`entry ${index}: the warm follower's reports differ from the live ones`);
  }
  if (warm.reportsByEntry.size !== liveRecorder.reportsByEntry.size) throw new Error('the warm follower produced reports for other entries');
  for (const { bytes, at } of snapshots) {
    const restored = ProductManagerState.restore(bytes, { ...SMALL, sourceId: 3 });
    journal.replayInto(restored, at);
    if (restored.stateHashHex() !== finalHash) throw new Error(`snapshot at entry ${at} + replay ${restored.stateHashHex()} ≠ live ${finalHash}`);
  }
}

t.test('live, warm, fresh and snapshot+replay product managers agree on the state hash and the reports', (t) => {
  fc.assert(fc.property(fc.array(op, { minLength: 10, maxLength: 160, size: 'max' }), (ops) => run(ops)), { seed: SEED, numRuns: RUNS });
  t.pass(`${RUNS} random interleavings`);
  t.end();
});

t.test('a snapshot restores the same state; a damaged one is refused with the reason', (t) => {
  const ex = new InProcessExchange();
  const j = ex.journal;
  j.listProduct(1, 3, 1, 1, 100);
  j.openAccount(21);
  j.openAccount(22);
  j.deposit(21, 10_000);
  j.receiveInventory(22, 1, 100);
  j.openTradingDay(20250106);
  const pm = new InProcessProductManager(j, SMALL);
  ex.settle();
  pm.poll();
  pm.submitNewOrder(22, 1, Side.OUTFLOW, 100, 10, { clientOrderId: 'keep-me' });
  pm.submitNewOrder(21, 1, Side.INFLOW, 101, 4);
  pm.submitNewOrder(21, 1, Side.INFLOW, 99, 5, { timeInForce: TimeInForce.DAY });
  ex.settle();
  pm.poll();
  const bytes = pm.state.snapshot();
  const restored = ProductManagerState.restore(bytes, { ...SMALL, sourceId: 1 });
  t.equal(restored.stateHashHex(), pm.state.stateHashHex());
  t.equal(restored.checkNewOrder(22, 1, Side.OUTFLOW, 100, 1, TimeInForce.GTC, 0, 1, 1, clientOrderIdField('keep-me'), 0), CHECK_DUPLICATE, 'client order ids come back');
  t.equal(restored.checkNewOrder(21, 1, Side.INFLOW, 100, 1, TimeInForce.GTC, 0, 1, 1, clientOrderIdField(''), 0), 0);
  t.equal(restored.lastOrderId, pm.state.maxOrderIdSeen + 1, 'the order id counter comes back');
  const corrupt = bytes.slice();
  corrupt[corrupt.length - 3] ^= 0x40;
  t.throws(() => ProductManagerState.restore(corrupt, SMALL), /CRC32C mismatch/);
  t.throws(() => ProductManagerState.restore(bytes.subarray(0, bytes.length - 8), SMALL), /truncated or padded/);
  t.throws(() => ProductManagerState.restore(new Uint8Array(40), SMALL), /bad magic/);
  t.end();
});

t.test('the state hash changes when the state does', (t) => {
  const ex = new InProcessExchange();
  ex.journal.openAccount(21);
  const a = new ProductManagerState(SMALL);
  ex.journal.replayInto(a);
  const before = a.stateHashHex();
  ex.journal.deposit(21, 1);
  ex.journal.replayInto(a, 1);
  t.not(a.stateHashHex(), before);
  t.end();
});
