// The sequencer fences the product-manager pair by epoch, as it fences engine outputs: PRODUCT_
// MANAGER_A and _B are one fenced group, and once an input of a higher epoch from either member is
// journaled, inputs of a lower epoch from either member are refused (stale-epoch-rejected) while
// each member keeps its own sourceSeq numbering. A restarted sequencer rebuilds the group's epoch
// from the journal. Other sources are not fenced. (In-process sequencer, driven step by step.)

import t from 'tap';
import { RingFile, RingProducer } from '../bus/ring';
import { SourceId } from '../bus/source-ids';
import { Sequencer } from '../processes/sequencer/sequencer';
import { makeBus, produceOrders, pump, readJournal, tempDir, type Bus } from './support/journal-harness';

const A = SourceId.PRODUCT_MANAGER_A;
const B = SourceId.PRODUCT_MANAGER_B;

function open(bus: Bus, dataDir: string, events: Array<Record<string, unknown>>): Sequencer {
  return Sequencer.open({ inputs: bus.inputs, journalRing: bus.journal, dataDir, log: (e) => events.push(e) });
}

function drain(sequencer: Sequencer): void {
  pump(() => undefined, () => sequencer.doWork() === 0);
}

t.test('an old product-manager leader is fenced once its successor’s epoch is journaled, and stays fenced across a sequencer restart', async (t) => {
  // inputs: 0 = pm-a, 1 = pm-b, 2 = control (not fenced)
  const bus = makeBus(t, 'pm-fence', { inputs: 3 });
  const dataDir = tempDir(t, 'pm-fence');
  const events: Array<Record<string, unknown>> = [];
  let sequencer = open(bus, dataDir, events);
  const pmA = new RingProducer(RingFile.open(bus.inputs[0]!));
  const pmB = new RingProducer(RingFile.open(bus.inputs[1]!));
  const control = new RingProducer(RingFile.open(bus.inputs[2]!));

  produceOrders(pmA, A, 1, 3, 1); // pm-a leads with epoch 1
  drain(sequencer);
  t.equal(sequencer.exactlyOnce.groupEpoch(A), 1);
  produceOrders(pmB, B, 1, 2, 2); // pm-b takes over with epoch 2
  drain(sequencer);
  t.equal(sequencer.exactlyOnce.groupEpoch(A), 2, 'the group’s epoch is the highest seen from either member');
  produceOrders(pmA, A, 4, 5, 1); // the old leader wakes up and carries on
  produceOrders(control, SourceId.CONTROL, 1, 2, 0); // epoch 0 from a source outside the group
  drain(sequencer);
  t.equal(sequencer.exactlyOnce.staleEpoch, 2, 'both inputs of the stale leader refused');
  t.ok(events.some((e) => e['event'] === 'alarm' && e['kind'] === 'stale-epoch-rejected' && e['sourceId'] === A && e['epoch'] === 1), 'and logged');
  const journaled = () => readJournal(dataDir).map((e) => [e.sourceId, e.sourceSeq, e.epoch]);
  t.same(journaled(), [[A, 1, 1], [A, 2, 1], [A, 3, 1], [B, 1, 2], [B, 2, 2], [SourceId.CONTROL, 1, 0], [SourceId.CONTROL, 2, 0]]);

  // pm-a comes back as the leader with epoch 3, continuing its own numbering after its last journaled input.
  produceOrders(pmA, A, 4, 4, 3);
  drain(sequencer);
  produceOrders(pmB, B, 3, 3, 2); // now pm-b is the stale one
  drain(sequencer);
  t.same(journaled().slice(7), [[A, 4, 3]], 'the new leader is taken; the old one, refused');
  t.equal(sequencer.exactlyOnce.staleEpoch, 3);

  // The fence survives a sequencer restart: it is rebuilt from the journal.
  sequencer.close();
  sequencer = open(bus, dataDir, events);
  t.teardown(() => sequencer.close());
  t.equal(sequencer.exactlyOnce.groupEpoch(B), 3, 'the group’s epoch after the restart');
  produceOrders(pmB, B, 3, 3, 2);
  produceOrders(pmA, A, 5, 5, 3);
  drain(sequencer);
  t.same(journaled().slice(8), [[A, 5, 3]]);
  t.equal(sequencer.exactlyOnce.staleEpoch, 1, 'counted since the restart');
  t.equal(sequencer.exactlyOnce.groupEpoch(SourceId.CONTROL), 0, 'sources outside the group have no fence');
});
