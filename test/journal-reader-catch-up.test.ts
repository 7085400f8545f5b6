// JournalReader: a consumer reads by seq, from the ring while it holds what the consumer needs and
// from the disk segments when it does not (lapped, started late, ring recreated), switching back
// to the ring without a gap or a duplicate. And a restarted sequencer refills the surviving ring
// with what was on disk but never published, so consumers resume from their positions.

import * as fs from 'node:fs';
import t from 'tap';
import { RingFile, RingProducer, registerConsumer } from '../bus/ring';
import { ENTRY_SEQ, getI64 } from '../bus/journal-format';
import { FSYNC_FAILED_MARKER } from '../bus/journal-recovery';
import { JournalReader } from '../bus/journal-reader';
import { JournalStatusFile } from '../bus/journal-status';
import { nodeJournalIo, type JournalIo } from '../bus/journal-writer';
import type { RecordBuffer } from '../bus/ring';
import { Sequencer } from '../processes/sequencer/sequencer';
import { makeBus, produceOrders, pump, tempDir } from './support/journal-harness';
import * as path from 'node:path';

/** Collects the seqs a reader hands out. */
class Collector {
  readonly seqs: number[] = [];
  readonly handler = (_typeId: number, _version: number, buf: RecordBuffer, offset: number): void => {
    this.seqs.push(getI64(buf.view, offset + ENTRY_SEQ));
  };
  problem(from: number, to: number): string | null {
    if (this.seqs.length !== to - from + 1) return `${this.seqs.length} entries, expected ${to - from + 1}`;
    for (let i = 0; i < this.seqs.length; i++) if (this.seqs[i] !== from + i) return `entry ${i} is seq ${this.seqs[i]}, expected ${from + i}`;
    return null;
  }
}

function readUntil(reader: JournalReader, collector: Collector, lastSeq: number, timeoutMs = 10_000): void {
  pump(
    () => {
      if (reader.poll(collector.handler, 256) === 0) reader.park(100_000);
    },
    () => (collector.seqs[collector.seqs.length - 1] ?? 0) >= lastSeq,
    timeoutMs,
  );
}

t.test('a consumer lapped by the ring catches up from disk and sees every entry once, in order', async (t) => {
  // A 64 KiB ring holds ~500 entries; the reader is non-gating and reads only after 5000 were sequenced.
  const bus = makeBus(t, 'lapped', { journalBytes: 1 << 16, consumers: ['slow'], nonGating: ['slow'] });
  const dataDir = tempDir(t, 'lapped');
  const sequencer = Sequencer.open({ inputs: bus.inputs, journalRing: bus.journal, dataDir, log: () => undefined, segmentBytes: 200_000 });
  t.teardown(() => sequencer.close());
  const producer = new RingProducer(RingFile.open(bus.inputs[0]!));
  const reader = new JournalReader({ ringPath: bus.journal, name: 'slow', fromSeq: 1, gating: false });
  t.teardown(() => reader.close());
  const collector = new Collector();
  let produced = 0;
  // Rounds of: produce and sequence far more than the ring holds, then read a little.
  for (let round = 0; round < 10; round++) {
    produced += produceOrders(producer, 1, produced + 1, produced + 1500);
    pump(() => sequencer.doWork(), () => sequencer.headSeq === produced);
    for (let i = 0; i < 3; i++) reader.poll(collector.handler, 200);
  }
  readUntil(reader, collector, produced);
  t.equal(collector.problem(1, produced), null, `all ${produced} entries once, in order`);
  t.ok(reader.diskCatchUps >= 1, `went to disk ${reader.diskCatchUps} times`);
  t.ok(RingFile.open(bus.journal).consumers().find((c) => c.name === 'slow')!.lapped >= 1, 'the ring did lap it');
  // Back on the ring: new entries arrive from there.
  produced += produceOrders(producer, 1, produced + 1, produced + 50);
  pump(() => sequencer.doWork(), () => sequencer.headSeq === produced);
  readUntil(reader, collector, produced);
  t.equal(collector.problem(1, produced), null);
  t.equal(reader.mode, 'ring');
  const status = JournalStatusFile.openIfExists(bus.status)!.snapshot();
  t.match(status.consumers.find((c) => c.name === 'slow'), { lastSeq: produced, lagEntries: 0 }, 'the status file shows its position and lag');
});

t.test('a consumer that starts far behind catches up from disk, then switches to the ring without a gap', async (t) => {
  const bus = makeBus(t, 'late');
  const dataDir = tempDir(t, 'late');
  const sequencer = Sequencer.open({ inputs: bus.inputs, journalRing: bus.journal, dataDir, log: () => undefined });
  t.teardown(() => sequencer.close());
  const producer = new RingProducer(RingFile.open(bus.inputs[0]!));
  produceOrders(producer, 1, 1, 3000);
  pump(() => sequencer.doWork(), () => sequencer.headSeq === 3000);
  // A brand-new slot starts at the ring's tail; the reader wants everything from seq 1.
  const reader = new JournalReader({ ringPath: bus.journal, name: 'late', fromSeq: 1 });
  t.teardown(() => reader.close());
  const collector = new Collector();
  readUntil(reader, collector, 3000);
  t.equal(reader.mode, 'ring', 'caught up and back on the ring');
  t.ok(reader.diskCatchUps >= 1);
  // Interleave: new entries arrive while the reader is mid catch-up of an older range.
  produceOrders(producer, 1, 3001, 3400);
  pump(() => sequencer.doWork(), () => sequencer.headSeq === 3400);
  readUntil(reader, collector, 3400);
  t.equal(collector.problem(1, 3400), null);

  // Another reader resumes at seq 1234 (its own committed state) and gets exactly 1234.. on.
  const resumed = new JournalReader({ ringPath: bus.journal, name: 'resumer', fromSeq: 1234 });
  t.teardown(() => resumed.close());
  const c2 = new Collector();
  readUntil(resumed, c2, 3400);
  t.equal(c2.problem(1234, 3400), null);
});

t.test('a restarted sequencer republishes what was on disk but not on the surviving ring; consumers resume in place', async (t) => {
  const bus = makeBus(t, 'refill', { consumers: ['engine'] });
  const dataDir = tempDir(t, 'refill');
  // The second batch's fdatasync fails AFTER its frames reached the file: on disk, never published
  // (the same state a kill -9 between write and publish leaves).
  let syncs = 0;
  const io: JournalIo = {
    ...nodeJournalIo,
    fdatasync: (fd) => {
      nodeJournalIo.fdatasync(fd);
      if (++syncs === 3) throw Object.assign(new Error('EIO: simulated'), { code: 'EIO' });
    },
  };
  const first = Sequencer.open({ inputs: bus.inputs, journalRing: bus.journal, dataDir, io, maxBatchEntries: 100, log: () => undefined });
  const producer = new RingProducer(RingFile.open(bus.inputs[0]!));
  produceOrders(producer, 1, 1, 150);
  first.doWork();
  t.throws(() => first.doWork());
  first.close();
  const reader = new JournalReader({ ringPath: bus.journal, name: 'engine', fromSeq: 1 });
  t.teardown(() => reader.close());
  const collector = new Collector();
  readUntil(reader, collector, 100);
  t.equal(collector.seqs.length, 100, 'the consumer saw the published batch only');

  fs.unlinkSync(path.join(dataDir, FSYNC_FAILED_MARKER)); // the operator checked the disk
  const events: Array<Record<string, unknown>> = [];
  const second = Sequencer.open({ inputs: bus.inputs, journalRing: bus.journal, dataDir, log: (e) => events.push(e) });
  t.teardown(() => second.close());
  t.match(second.startReport, { headSeq: 150, ringSeq: 100, refill: 50 });
  produceOrders(producer, 1, 151, 160);
  pump(() => second.doWork(), () => second.headSeq === 160);
  readUntil(reader, collector, 160);
  t.equal(collector.problem(1, 160), null, 'the consumer resumes at 101 from the ring: refilled 101..150, then new entries');
  t.equal(reader.diskCatchUps, 0, 'without a trip to disk');
  t.ok(events.some((e) => e['event'] === 'journal-ring-refilled' && e['entries'] === 50));
});

t.test('a journal ring recreated under a running consumer is noticed; the consumer continues by seq', async (t) => {
  const bus = makeBus(t, 'recreate', { consumers: ['md'] });
  const dataDir = tempDir(t, 'recreate');
  let sequencer = Sequencer.open({ inputs: bus.inputs, journalRing: bus.journal, dataDir, log: () => undefined });
  const producer = new RingProducer(RingFile.open(bus.inputs[0]!));
  produceOrders(producer, 1, 1, 100);
  pump(() => sequencer.doWork(), () => sequencer.headSeq === 100);
  const reader = new JournalReader({ ringPath: bus.journal, name: 'md', fromSeq: 1 });
  t.teardown(() => reader.close());
  const collector = new Collector();
  readUntil(reader, collector, 100);
  // A reboot-like restart of the bus: ring and status files are new, the disk journal remains.
  sequencer.close();
  fs.rmSync(bus.journal);
  fs.rmSync(bus.status);
  registerConsumer(RingFile.create(bus.journal, { capacityBytes: 1 << 22, maxConsumers: 8 }), 'md');
  sequencer = Sequencer.open({ inputs: bus.inputs, journalRing: bus.journal, dataDir, log: () => undefined });
  t.teardown(() => sequencer.close());
  t.equal(sequencer.startReport.ringSeq, -1, 'a new ring: publication starts after the disk head');
  produceOrders(producer, 1, 101, 130);
  pump(() => sequencer.doWork(), () => sequencer.headSeq === 130);
  readUntil(reader, collector, 130, 5_000);
  t.equal(collector.problem(1, 130), null);
});
