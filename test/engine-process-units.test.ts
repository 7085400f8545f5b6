// The engine process's own data structures, in-process:
//  - the pending-outputs ring (records that never wrap, padding, the publish cursor, eviction,
//    compact copies for snapshots) against a trivial model (a plain array), seeded and printed;
//  - a replica fed a journal it did not compute reports each kind of divergence;
//  - the snapshot file refuses truncated, damaged and foreign files with a reason.

import t from 'tap';
import { encode } from '../bus/codec';
import { JOURNAL_HEADER_BYTES, JournalHeader, ListProduct, NewOrder, OrderAccepted, BookLevelChanged, Fill, EngineCheckpoint, type AnyMessage } from '../bus/schema';
import { Side, TimeInForce } from '../bus/enums';
import { SourceId } from '../bus/source-ids';
import { EngineReplica } from '../processes/matching-engine/engine-replica';
import { decodeSnapshot, encodeSnapshot } from '../processes/matching-engine/engine-snapshot-file';
import { MIN_PENDING_BYTES, PendingOutputs } from '../processes/matching-engine/pending-outputs';
import { OUT_DECIDED_FIELD_OFFSET, OUT_IN_SEQ_OFFSET, OUT_INDEX_OFFSET } from '../processes/matching-engine/engine-outputs';
import { SeededRandom, testSeed } from './support/seeded-random';

const SEED = testSeed(0xbe11_0e5);
const STEPS = 200_000;
const TYPES = [OrderAccepted, BookLevelChanged, Fill, EngineCheckpoint] as const;

t.comment(`seed ${SEED} (IMS_TEST_SEED replays)`);

t.test('the pending-outputs ring behaves like an array with a publish cursor', (t) => {
  const random = new SeededRandom(SEED);
  const ring = new PendingOutputs(MIN_PENDING_BYTES);
  const model: Array<{ typeId: number; inSeq: number; outIndex: number; fill: number }> = [];
  let published = 0;
  let inSeq = 1;
  let outIndex = 0;
  let full = 0;
  for (let step = 0; step < STEPS; step++) {
    const op = random.int(0, 99);
    if (op < 50) {
      const desc = TYPES[random.int(0, TYPES.length - 1)]!;
      if (random.int(0, 3) === 0) {
        inSeq += random.int(1, 3);
        outIndex = 0;
      }
      const body = ring.reserve(desc.typeId, desc.size);
      if (body < 0) {
        full++;
        continue;
      }
      const fill = random.nextU32() & 0xff;
      ring.bytes.fill(fill, body, body + desc.size);
      ring.view.setFloat64(body + OUT_IN_SEQ_OFFSET[desc.typeId]!, 0);
      ring.view.setUint32(body + OUT_IN_SEQ_OFFSET[desc.typeId]!, inSeq, true);
      ring.view.setUint32(body + OUT_IN_SEQ_OFFSET[desc.typeId]! + 4, 0, true);
      ring.view.setUint32(body + OUT_INDEX_OFFSET[desc.typeId]!, outIndex, true);
      model.push({ typeId: desc.typeId, inSeq, outIndex, fill });
      outIndex++;
    } else if (op < 75) {
      if (model.length === 0) continue;
      ring.dropHead();
      model.shift();
      if (published > 0) published--;
    } else if (op < 97) {
      if (published === model.length) continue;
      ring.advanceCursor();
      published++;
    } else {
      ring.unpublishAll();
      published = 0;
    }
    if (ring.records !== model.length || ring.published !== published) {
      t.fail(`step ${step}: ring has ${ring.records} records (${ring.published} published), the model ${model.length} (${published})`);
      return t.end();
    }
    if (model.length > 0) {
      const head = ring.head();
      const m = model[0]!;
      if (ring.typeIdAt(head) !== m.typeId || ring.inSeqAt(head) !== m.inSeq || ring.outIndexAt(head) !== m.outIndex || ring.bytes[ring.bodyAt(head) + OUT_DECIDED_FIELD_OFFSET[m.typeId]!] !== m.fill) {
        t.fail(`step ${step}: the head differs from the model's`);
        return t.end();
      }
      const cursor = ring.cursor();
      if (published < model.length) {
        const c = model[published]!;
        if (cursor < 0 || ring.inSeqAt(cursor) !== c.inSeq || ring.outIndexAt(cursor) !== c.outIndex) {
          t.fail(`step ${step}: the cursor is not at the first unpublished record`);
          return t.end();
        }
      } else if (cursor !== -1) {
        t.fail(`step ${step}: a cursor with nothing unpublished`);
        return t.end();
      }
    }
    if (step % 50_000 === 0 && model.length > 0) {
      // A compact copy (what a snapshot stores) restores the same records in order.
      const copy = new Uint8Array(ring.compactBytes());
      ring.copyCompact(copy, 0);
      const restored = new PendingOutputs(MIN_PENDING_BYTES);
      t.equal(restored.appendCompact(copy, 0, copy.length), model.length, `step ${step}: a compact copy restores ${model.length} records`);
      let index = restored.head();
      let same = true;
      for (const m of model) {
        same &&= restored.inSeqAt(index) === m.inSeq && restored.outIndexAt(index) === m.outIndex && restored.bytes[restored.bodyAt(index) + OUT_DECIDED_FIELD_OFFSET[m.typeId]!] === m.fill;
        index = restored.nextIndex(index);
      }
      t.ok(same, 'in the same order with the same bytes');
    }
  }
  t.ok(full > 0, `the ring filled up ${full} times and refused to overwrite`);
  t.end();
});

/** Journal entries built by hand (seq, timestamp, input header, body). */
class Journal {
  readonly view = new DataView(new ArrayBuffer(1 << 20));
  readonly entries: Array<{ typeId: number; offset: number }> = [];
  private used = 0;
  seq = 0;
  add(desc: AnyMessage, value: Record<string, number | string>, header: { sourceId?: number; sourceSeq?: number; epoch?: number } = {}): number {
    const offset = this.used;
    const v = this.view;
    const seq = ++this.seq;
    v.setFloat64(offset, 0);
    v.setUint32(offset + JournalHeader.o.seq, seq, true);
    v.setUint32(offset + JournalHeader.o.timestampUs, 1_000 + seq, true);
    v.setUint32(offset + JournalHeader.o.sourceSeq, header.sourceSeq ?? seq, true);
    v.setUint16(offset + JournalHeader.o.sourceId, header.sourceId ?? 1, true);
    v.setUint32(offset + JournalHeader.o.epoch, header.epoch ?? 0, true);
    const full: Record<string, number | string> = {};
    for (const f of desc.fields) full[f.name] = value[f.name] ?? (f.type === 'char' ? '' : 0);
    encode(desc, full as never, v, offset + JOURNAL_HEADER_BYTES);
    this.used += JOURNAL_HEADER_BYTES + desc.size;
    this.entries.push({ typeId: desc.typeId, offset });
    return seq;
  }
  feed(replica: EngineReplica, from = 0): void {
    for (let i = from; i < this.entries.length; i++) replica.onEntry(this.entries[i]!.typeId, 1, this.view, this.entries[i]!.offset);
  }
}

t.test('a replica reports every kind of divergence between what it computed and the journal', (t) => {
  const events: Array<Record<string, unknown>> = [];
  const replica = new EngineReplica({ pendingBytes: MIN_PENDING_BYTES, log: (e) => events.push(e) });
  const j = new Journal();
  j.add(ListProduct, { productId: 7, tickSize: 1, lotSize: 1, referencePrice: 100, brandId: 1, selfTradePolicy: 0, symbol: 'P7', brand: 'B' });
  const order = j.add(NewOrder, { orderId: 1, price: 100, quantity: 5, accountId: 1, productId: 7, side: Side.INFLOW, timeInForce: TimeInForce.GTC });
  const engineOut = { sourceId: SourceId.ENGINE_A, epoch: 1 };
  // What the engine emits for the order: OrderAccepted (0), BookLevelChanged (1).
  j.add(OrderAccepted, { orderId: 1, price: 100, quantity: 5, leavesQuantity: 5, inSeq: order, accountId: 1, productId: 7, epoch: 1, outIndex: 0, side: Side.INFLOW }, { ...engineOut, sourceSeq: 1 });
  j.add(BookLevelChanged, { price: 100, quantity: 6, inSeq: order, productId: 7, orderCount: 1, epoch: 1, outIndex: 1, side: Side.INFLOW }, { ...engineOut, sourceSeq: 2 });
  j.feed(replica);
  t.equal(replica.matched, 1, 'the accepted order matches');
  t.equal(replica.divergences, 1, 'a level with the wrong quantity does not');
  t.match(events[0], { event: 'engine-divergence', kind: 'output-mismatch', inSeq: order, outIndex: 1 }, 'logged as output-mismatch with its key');

  const second = j.add(NewOrder, { orderId: 2, price: 101, quantity: 1, accountId: 2, productId: 7, side: Side.OUTFLOW, timeInForce: TimeInForce.GTC });
  // The journal skips the accepted (0) and records the level (1): the replica computed 0 too.
  const from = j.entries.length - 1;
  j.add(BookLevelChanged, { price: 101, quantity: 1, inSeq: second, productId: 7, orderCount: 1, epoch: 1, outIndex: 1, side: Side.OUTFLOW }, { ...engineOut, sourceSeq: 3 });
  // And an output of a command the engine never saw.
  j.add(OrderAccepted, { orderId: 9, price: 100, quantity: 1, leavesQuantity: 1, inSeq: second, accountId: 1, productId: 7, epoch: 1, outIndex: 7, side: Side.INFLOW }, { ...engineOut, sourceSeq: 4 });
  j.feed(replica, from);
  t.same(
    events.slice(1).map((e) => e['kind']),
    ['missing-in-journal', 'unexpected-in-journal'],
    'a skipped output is missing-in-journal, an output never computed is unexpected-in-journal',
  );
  t.equal(replica.divergences, 3, 'each counted');
  t.equal(replica.meta.lastSourceSeqA, 4, 'the last sourceSeq of ENGINE_A is known from the journal');
  t.equal(replica.meta.maxEpochSeen, 1, 'so is the highest epoch');
  t.end();
});

t.test('a snapshot file refuses truncation, damage and foreign bytes, saying which', (t) => {
  const replica = new EngineReplica({ pendingBytes: MIN_PENDING_BYTES, log: () => {} });
  const j = new Journal();
  j.add(ListProduct, { productId: 7, tickSize: 1, lotSize: 1, referencePrice: 100, brandId: 1, selfTradePolicy: 0, symbol: 'P7', brand: 'B' });
  j.add(NewOrder, { orderId: 1, price: 100, quantity: 5, accountId: 1, productId: 7, side: Side.INFLOW, timeInForce: TimeInForce.DAY });
  j.feed(replica);
  const bytes = encodeSnapshot(replica);
  const decoded = decodeSnapshot(bytes);
  t.equal(decoded.meta.journalSeq, 2, 'the snapshot is tagged with the last seq handled');
  t.equal(decoded.pendingRecords, 2, 'it carries the outputs not yet journaled');
  const restored = new EngineReplica({ pendingBytes: MIN_PENDING_BYTES, log: () => {} });
  restored.restore(decoded.meta, decoded.pending, decoded.engine);
  t.same(restored.engine.stateHash(), replica.engine.stateHash(), 'a restored replica has the same state hash');
  t.equal(restored.pending.records, 2, 'and the same pending outputs');
  t.throws(() => decodeSnapshot(bytes.subarray(0, bytes.length - 3)), /CRC32C mismatch|file has/, 'truncated');
  const damaged = Uint8Array.from(bytes);
  damaged[200] ^= 1;
  t.throws(() => decodeSnapshot(damaged), /CRC32C mismatch/, 'a flipped bit');
  t.throws(() => decodeSnapshot(new Uint8Array(300)), /bad magic/, 'not a snapshot');
  t.throws(() => decodeSnapshot(bytes.subarray(0, 10)), /shorter than the 128-byte header/, 'shorter than a header');
  t.end();
});
