// Exactly-once between processes, epoch fencing of engine outputs, fairness between input rings,
// and inputs the sequencer must not journal. The sequencer runs in-process (the same class the
// process runs), driven step by step.

import t from 'tap';
import { RingFile, RingProducer } from '../bus/ring';
import { getI64 } from '../bus/journal-format';
import { JournalStatusFile } from '../bus/journal-status';
import { NewOrder, OrderAccepted, TypeId } from '../bus/schema';
import { Sequencer, type SequencerOptions } from '../processes/sequencer/sequencer';
import { makeBus, produceEngineOutput, produceOrders, produceRaw, pump, readJournal, tempDir, type Bus } from './support/journal-harness';

function open(bus: Bus, dataDir: string, events: Array<Record<string, unknown>>, extra: Partial<SequencerOptions> = {}): Sequencer {
  return Sequencer.open({ inputs: bus.inputs, journalRing: bus.journal, dataDir, log: (e) => events.push(e), ...extra });
}

function drain(sequencer: Sequencer): void {
  // Until a doWork finds nothing to do.
  pump(() => undefined, () => sequencer.doWork() === 0);
}

t.test('duplicate inputs (sourceSeq at or below the last taken) are skipped and counted', async (t) => {
  const bus = makeBus(t, 'dup');
  const dataDir = tempDir(t, 'dup');
  const sequencer = open(bus, dataDir, []);
  t.teardown(() => sequencer.close());
  const producer = new RingProducer(RingFile.open(bus.inputs[0]!));
  produceOrders(producer, 1, 1, 100);
  drain(sequencer);
  produceOrders(producer, 1, 50, 150); // a producer that restarted and resent from 50
  drain(sequencer);
  const journal = readJournal(dataDir);
  t.equal(journal.length, 150);
  t.same(journal.map((e) => e.sourceSeq), Array.from({ length: 150 }, (_, i) => i + 1), 'each sourceSeq once, in order');
  t.equal(sequencer.exactlyOnce.duplicates, 51);
  const status = JournalStatusFile.openIfExists(bus.status)!.snapshot();
  t.match(status.sources, [{ sourceId: 1, lastSourceSeq: 150, duplicates: 51, gaps: 0 }]);
});

t.test('a gap in sourceSeq is an alarm (logged, counted per source) and the input is accepted', async (t) => {
  const bus = makeBus(t, 'gap');
  const dataDir = tempDir(t, 'gap');
  const events: Array<Record<string, unknown>> = [];
  const sequencer = open(bus, dataDir, events);
  t.teardown(() => sequencer.close());
  const producer = new RingProducer(RingFile.open(bus.inputs[0]!));
  produceOrders(producer, 3, 1, 10);
  produceOrders(producer, 3, 15, 20);
  drain(sequencer);
  t.same(readJournal(dataDir).map((e) => e.sourceSeq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 16, 17, 18, 19, 20]);
  t.equal(sequencer.exactlyOnce.gapAlarms, 1);
  t.match(events.find((e) => e['event'] === 'alarm'), { kind: 'source-gap-accepted', sourceId: 3, sourceSeq: 15, expected: 11 });
  t.match(JournalStatusFile.openIfExists(bus.status)!.snapshot().sources, [{ sourceId: 3, lastSourceSeq: 20, gaps: 1 }]);
});

t.test('engine failover: stale-epoch outputs are rejected and the journal has every output once, in order', async (t) => {
  // inputs: 0 = product manager, 1 = engine hot (epoch 1), 2 = engine warm (takes over, epoch 2)
  const bus = makeBus(t, 'epoch', { inputs: 3 });
  const dataDir = tempDir(t, 'epoch');
  const events: Array<Record<string, unknown>> = [];
  let sequencer = open(bus, dataDir, events);
  const pm = new RingProducer(RingFile.open(bus.inputs[0]!));
  const hot = new RingProducer(RingFile.open(bus.inputs[1]!));
  const warm = new RingProducer(RingFile.open(bus.inputs[2]!));
  produceOrders(pm, 1, 1, 5); // journal seqs 1..5: the commands the outputs answer
  drain(sequencer);
  // The hot publishes outputs of commands 1 and 2, then stalls in the middle of command 2.
  produceEngineOutput(hot, 10, 1, 1, 1, 0);
  produceEngineOutput(hot, 10, 2, 1, 1, 1);
  produceEngineOutput(hot, 10, 3, 1, 2, 0);
  drain(sequencer);
  // The warm takes over with epoch 2 and publishes from what it last saw journaled: (2,0) again.
  produceEngineOutput(warm, 11, 1, 2, 2, 0);
  produceEngineOutput(warm, 11, 2, 2, 2, 1);
  produceEngineOutput(warm, 11, 3, 2, 3, 0);
  drain(sequencer);
  // The old hot wakes up and carries on: fenced.
  produceEngineOutput(hot, 10, 4, 1, 2, 1);
  produceEngineOutput(hot, 10, 5, 1, 3, 0);
  drain(sequencer);
  const outputs = () =>
    readJournal(dataDir)
      .filter((e) => e.typeId === OrderAccepted.typeId)
      .map((e) => [getI64(new DataView(e.body.buffer, e.body.byteOffset), OrderAccepted.o.inSeq), e.body.readUInt16LE(OrderAccepted.o.outIndex), e.epoch]);
  t.same(outputs(), [[1, 0, 1], [1, 1, 1], [2, 0, 1], [2, 1, 2], [3, 0, 2]], 'outputs (inSeq, outIndex, epoch): no gap, no duplicate');
  t.equal(sequencer.exactlyOnce.staleEpoch, 2, 'both outputs of the stale hot rejected');
  t.equal(sequencer.exactlyOnce.duplicates, 1, "the warm's repeat of (2,0) skipped");
  t.equal(sequencer.exactlyOnce.engineEpoch, 2);
  t.ok(events.some((e) => e['event'] === 'alarm' && e['kind'] === 'stale-epoch-rejected' && e['epoch'] === 1 && e['engineEpoch'] === 2), 'stale outputs are logged');

  // A restarted sequencer rebuilds all of this from the journal.
  sequencer.close();
  sequencer = open(bus, dataDir, events);
  t.teardown(() => sequencer.close());
  t.equal(sequencer.exactlyOnce.engineEpoch, 2, 'the epoch survives a restart');
  t.equal(sequencer.exactlyOnce.lastSourceSeq(1), 5);
  produceOrders(pm, 1, 4, 6); // 4 and 5 are duplicates after the restart, 6 is new
  produceEngineOutput(hot, 10, 6, 1, 3, 1); // still fenced
  produceEngineOutput(warm, 11, 4, 2, 3, 0); // already journaled
  produceEngineOutput(warm, 11, 5, 2, 3, 1);
  drain(sequencer);
  t.same(outputs().slice(5), [[3, 1, 2]]);
  t.same(readJournal(dataDir).filter((e) => e.typeId === NewOrder.typeId).map((e) => e.sourceSeq), [1, 2, 3, 4, 5, 6]);
  t.equal(sequencer.exactlyOnce.staleEpoch, 1);
  t.equal(sequencer.exactlyOnce.duplicates, 3);
});

t.test('inputs are served fairly: a flooded ring cannot starve another', async (t) => {
  const bus = makeBus(t, 'fair', { inputs: 2, inputBytes: 1 << 20 });
  const dataDir = tempDir(t, 'fair');
  const sequencer = open(bus, dataDir, [], { perRingBatch: 16, maxBatchEntries: 256 });
  t.teardown(() => sequencer.close());
  const flood = new RingProducer(RingFile.open(bus.inputs[0]!));
  const quiet = new RingProducer(RingFile.open(bus.inputs[1]!));
  t.equal(produceOrders(flood, 1, 1, 5000), 5000);
  t.equal(produceOrders(quiet, 2, 1, 40), 40);
  t.equal(sequencer.doWork(), 256, 'one group commit takes maxBatchEntries');
  const first = readJournal(dataDir);
  t.equal(first.length, 256);
  const quietSeqs = first.filter((e) => e.sourceId === 2).map((e) => e.seq);
  t.equal(quietSeqs.length, 40, 'every input of the quiet ring is in the first batch');
  t.ok(quietSeqs[0]! <= 32, `the quiet ring's first input is journaled at seq ${quietSeqs[0]}, within the first round`);
  t.ok(quietSeqs[39]! <= 40 * 2 + 16, `and its last at seq ${quietSeqs[39]}: the rings alternate in quanta of 16`);
});

t.test('an input of an unknown layout version halts its ring, naming it; the other rings go on', async (t) => {
  const bus = makeBus(t, 'version', { inputs: 2 });
  const dataDir = tempDir(t, 'version');
  const events: Array<Record<string, unknown>> = [];
  const sequencer = open(bus, dataDir, events);
  t.teardown(() => sequencer.close());
  const bad = new RingProducer(RingFile.open(bus.inputs[0]!));
  const good = new RingProducer(RingFile.open(bus.inputs[1]!));
  produceOrders(bad, 1, 1, 3);
  produceRaw(bad, NewOrder, 1, 4, { version: 9 });
  produceOrders(bad, 1, 5, 6);
  produceOrders(good, 2, 1, 10);
  drain(sequencer);
  const journal = readJournal(dataDir);
  t.same(journal.filter((e) => e.sourceId === 1).map((e) => e.sourceSeq), [1, 2, 3], 'nothing at or after the bad record is journaled');
  t.equal(journal.filter((e) => e.sourceId === 2).length, 10, 'the other ring is still read');
  const halted = events.find((e) => e['event'] === 'input-halted')!;
  t.match(halted['error'], bus.inputs[0]!);
  t.match(halted['error'], /NewOrder version 9 is unknown \(this build reads version 1\)/);
  t.match(halted['error'], /deploy matching releases/);
  const slot = RingFile.open(bus.inputs[0]!).consumers().find((c) => c.name === 'sequencer')!;
  t.equal(slot.records, 3, 'only the three good records are acknowledged');
  const status = JournalStatusFile.openIfExists(bus.status)!.snapshot();
  t.equal(status.haltedInputs, 1);
  t.match(status.fault, /NewOrder version 9/);
});

t.test('an input that is not a sequencer input, or of the wrong size, halts its ring', async (t) => {
  const bus = makeBus(t, 'foreign');
  const dataDir = tempDir(t, 'foreign');
  const events: Array<Record<string, unknown>> = [];
  const sequencer = open(bus, dataDir, events);
  t.teardown(() => sequencer.close());
  const producer = new RingProducer(RingFile.open(bus.inputs[0]!));
  produceRaw(producer, NewOrder, 1, 1, { bodyBytes: NewOrder.size + 8 });
  drain(sequencer);
  t.match(events.find((e) => e['event'] === 'input-halted')?.['error'], /NewOrder of 96 bytes, expected 88/);
  t.equal(readJournal(dataDir).length, 0);
  t.equal(TypeId.NewOrder, 1);
});
