// Durability modes and journal faults. fsync mode: no consumer ever sees an entry before its
// fdatasync completed (witnessed independently of the sequencer). async mode: published at once,
// synced within the stated interval. A full disk or a failed fdatasync stops the sequencer with
// an error naming the file and what to do, and nothing of the failed batch is published or
// acknowledged; after a failed fdatasync the sequencer refuses to start until an operator checked.

import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { native } from '../native/addon';
import { RingConsumer, RingFile, RingProducer, registerConsumer } from '../bus/ring';
import { JournalStatusFile } from '../bus/journal-status';
import { FSYNC_FAILED_MARKER } from '../bus/journal-recovery';
import { nodeJournalIo, type JournalIo } from '../bus/journal-writer';
import { Sequencer, SequencerFault } from '../processes/sequencer/sequencer';
import { gapFreeProblem, makeBus, produceOrders, pump, readJournal, tempDir } from './support/journal-harness';
import { spawnDist } from './support/spawn';

const sleepWord = new Int32Array(new SharedArrayBuffer(4));
function sleepMs(ms: number): void {
  Atomics.wait(sleepWord, 0, 0, ms);
}

function errno(code: string, syscall: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated, ${syscall}`), { code, syscall });
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error, none was thrown');
}

t.test('fsync mode: no entry is visible downstream before it is durable', async (t) => {
  const bus = makeBus(t, 'fsync', { consumers: ['witness'] });
  const dataDir = tempDir(t, 'fsync');
  const probeFile = path.join(bus.dir, 'durable.probe');
  const probe = new Float64Array(native.mapFile(probeFile, 8, true));
  let sequencer: Sequencer | null = null;
  // The witness: after each real fdatasync returns, record what it covered. A slow fsync widens
  // the window in which a wrong order (publish, then sync) would be seen by the follower.
  const io: JournalIo = {
    ...nodeJournalIo,
    fdatasync: (fd) => {
      sleepMs(2);
      const covered = sequencer === null ? 0 : sequencer.writer.writtenSeq;
      nodeJournalIo.fdatasync(fd);
      probe[0] = covered;
    },
  };
  sequencer = Sequencer.open({ inputs: bus.inputs, journalRing: bus.journal, dataDir, io, log: () => undefined, maxBatchEntries: 256 });
  t.teardown(() => sequencer!.close());
  const total = 20_000;
  const follower = spawnDist(t, 'processes/sequencer/journal-follower.ts', ['--ring', bus.journal, '--name', 'witness', '--state', path.join(bus.dir, 'witness.state'), '--until', String(total), '--durable-probe', probeFile]);
  await follower.waitForEvent('follower-start', 10_000);
  const producer = new RingProducer(RingFile.open(bus.inputs[0]!));
  let produced = 0;
  pump(
    () => {
      if (produced < total) produced += produceOrders(producer, 1, produced + 1, Math.min(total, produced + 150));
      sequencer!.doWork();
    },
    () => sequencer!.headSeq === total,
    30_000,
  );
  const done = await follower.waitForEvent('follower-done', 30_000);
  await follower.exited;
  t.match(done, { lastSeq: total, received: total, outOfOrder: 0 });
  t.equal(done['notDurable'], 0, 'the follower never saw an entry above what fdatasync had completed');
});

t.test('async mode publishes at once and fsyncs within the stated interval', async (t) => {
  const bus = makeBus(t, 'async');
  const dataDir = tempDir(t, 'async');
  const intervalMs = 25;
  const writes: number[] = [];
  const syncs: number[] = [];
  const io: JournalIo = {
    ...nodeJournalIo,
    pwrite: (fd, bytes, offset, length, position) => {
      writes.push(performance.now());
      return nodeJournalIo.pwrite(fd, bytes, offset, length, position);
    },
    fdatasync: (fd) => {
      nodeJournalIo.fdatasync(fd);
      syncs.push(performance.now());
    },
  };
  const sequencer = Sequencer.open({ inputs: bus.inputs, journalRing: bus.journal, dataDir, io, durability: 'async', asyncFsyncIntervalMs: intervalMs, log: () => undefined });
  t.teardown(() => sequencer.close());
  const status = JournalStatusFile.openIfExists(bus.status)!;
  t.equal(status.snapshot().durability, 'async');
  t.equal(status.snapshot().asyncFsyncIntervalMs, intervalMs, 'the bound is stated in the status file');
  const producer = new RingProducer(RingFile.open(bus.inputs[0]!));
  let produced = 0;
  let sawVisibleAboveDurable = false;
  const startMs = performance.now();
  writes.length = syncs.length = 0;
  pump(
    () => {
      if (produced < 5000 && performance.now() - startMs > produced / 10) produced += produceOrders(producer, 1, produced + 1, produced + 20);
      sequencer.doWork();
      const s = status.snapshot();
      if (s.visibleSeq > s.durableSeq) sawVisibleAboveDurable = true;
    },
    () => sequencer.headSeq === 5000 && sequencer.durableSeq === 5000,
    20_000,
  );
  t.ok(sawVisibleAboveDurable, 'entries are published before they are durable (that is what async means)');
  let worstMs = 0;
  for (const w of writes) {
    const sync = syncs.find((s) => s >= w);
    if (sync !== undefined) worstMs = Math.max(worstMs, sync - w);
  }
  t.ok(worstMs <= intervalMs + 15, `every write was fsync'd within ${worstMs.toFixed(1)} ms (bound ${intervalMs} ms + scheduling slack)`);
  t.ok(syncs.length < writes.length, `${syncs.length} fsyncs for ${writes.length} writes`);
});

t.test('a full disk stops the sequencer: the error names the file and what to do, nothing of the batch is published or acknowledged', async (t) => {
  const bus = makeBus(t, 'enospc', { consumers: ['watch'] });
  const dataDir = tempDir(t, 'enospc');
  let writesLeft = 2; // the segment header, then one batch
  const io: JournalIo = {
    ...nodeJournalIo,
    pwrite: (fd, bytes, offset, length, position) => {
      if (writesLeft-- <= 0) {
        // A partial write first, as a full disk gives: some bytes land, then ENOSPC.
        nodeJournalIo.pwrite(fd, bytes, offset, Math.min(length, 100), position);
        throw errno('ENOSPC', 'write');
      }
      return nodeJournalIo.pwrite(fd, bytes, offset, length, position);
    },
  };
  const events: Array<Record<string, unknown>> = [];
  const sequencer = Sequencer.open({ inputs: bus.inputs, journalRing: bus.journal, dataDir, io, maxBatchEntries: 50, log: (e) => events.push(e) });
  const producer = new RingProducer(RingFile.open(bus.inputs[0]!));
  produceOrders(producer, 1, 1, 100);
  t.equal(sequencer.doWork(), 50, 'the first batch is written');
  const error = thrown(() => sequencer.doWork());
  t.ok(error instanceof SequencerFault);
  t.match(error.message, sequencer.writer.currentSegment);
  t.match(error.message, /ENOSPC/);
  t.match(error.message, /is full\. Nothing from seq 51 on was acknowledged\. Free space/);
  t.throws(() => sequencer.doWork(), SequencerFault, 'it stays stopped');
  const watch = new RingConsumer(RingFile.open(bus.journal), 'watch');
  let seen = 0;
  watch.poll(() => seen++, 1000);
  t.equal(seen, 50, 'consumers see only the durable first batch');
  t.equal(RingFile.open(bus.inputs[0]!).consumers().find((c) => c.name === 'sequencer')!.records, 50, 'only the first batch is acknowledged');
  const status = JournalStatusFile.openIfExists(bus.status)!.snapshot();
  t.equal(status.state, 'faulted');
  t.match(status.fault, /ENOSPC/);
  t.ok(events.some((e) => e['event'] === 'fault'));
  sequencer.close();

  // Space freed, restarted: the journal continues after seq 50 and takes the rest exactly once.
  const restarted = Sequencer.open({ inputs: bus.inputs, journalRing: bus.journal, dataDir, log: () => undefined });
  t.teardown(() => restarted.close());
  t.equal(restarted.headSeq, 50);
  pump(() => restarted.doWork(), () => restarted.headSeq === 100);
  const journal = readJournal(dataDir);
  t.equal(gapFreeProblem(journal), null);
  t.same(journal.map((e) => e.sourceSeq), Array.from({ length: 100 }, (_, i) => i + 1));
});

t.test('a failed fdatasync stops the sequencer and blocks restarts until an operator has checked the disk', async (t) => {
  const bus = makeBus(t, 'eio');
  const dataDir = tempDir(t, 'eio');
  let syncsLeft = 2; // the segment header's, then the first batch's
  const io: JournalIo = {
    ...nodeJournalIo,
    fdatasync: (fd) => {
      if (syncsLeft-- <= 0) throw errno('EIO', 'fdatasync');
      nodeJournalIo.fdatasync(fd);
    },
  };
  const sequencer = Sequencer.open({ inputs: bus.inputs, journalRing: bus.journal, dataDir, io, maxBatchEntries: 10, log: () => undefined });
  const producer = new RingProducer(RingFile.open(bus.inputs[0]!));
  produceOrders(producer, 1, 1, 20);
  sequencer.doWork();
  const error = thrown(() => sequencer.doWork());
  t.match(error.message, /fdatasync of .*\.seg failed \(EIO\)/);
  t.match(error.message, /Nothing from seq 11 on was acknowledged/);
  t.equal(RingFile.open(bus.inputs[0]!).consumers().find((c) => c.name === 'sequencer')!.records, 10);
  sequencer.close();
  const marker = path.join(dataDir, FSYNC_FAILED_MARKER);
  t.ok(fs.existsSync(marker), 'a marker file is left beside the segments');
  const refused = thrown(() => Sequencer.open({ inputs: bus.inputs, journalRing: bus.journal, dataDir, log: () => undefined }));
  t.match(refused.message, /an earlier fdatasync failed/);
  t.match(refused.message, `remove ${marker} to start`);
  fs.unlinkSync(marker);
  const restarted = Sequencer.open({ inputs: bus.inputs, journalRing: bus.journal, dataDir, log: () => undefined });
  t.teardown(() => restarted.close());
  pump(() => restarted.doWork(), () => restarted.headSeq === 20);
  t.same(readJournal(dataDir).map((e) => e.sourceSeq), Array.from({ length: 20 }, (_, i) => i + 1));
});

t.test('a journal ring of the wrong size or an input ring of another layout is refused, naming the file', async (t) => {
  const bus = makeBus(t, 'badring');
  const dataDir = tempDir(t, 'badring');
  const fake = path.join(bus.dir, 'fake.ring');
  fs.writeFileSync(fake, Buffer.alloc(10_000));
  const e1 = thrown(() => Sequencer.open({ inputs: bus.inputs, journalRing: fake, dataDir, log: () => undefined }));
  t.match(e1.message, /cannot use the journal ring/);
  t.match(e1.message, fake);
  const other = path.join(bus.dir, 'other.ring');
  registerConsumer(RingFile.create(other, { capacityBytes: 1 << 16, maxConsumers: 2 }), 'sequencer');
  const bytes = fs.readFileSync(other);
  bytes.writeUInt32LE(7, 4); // layout version 7
  fs.writeFileSync(other, bytes);
  const e2 = thrown(() => Sequencer.open({ inputs: [other], journalRing: bus.journal, dataDir, log: () => undefined }));
  t.match(e2.message, /cannot attach input ring/);
  t.match(e2.message, other);
  t.match(e2.message, /layout version 7/);
  t.equal(JournalStatusFile.openIfExists(bus.status)!.snapshot().state, 'faulted', 'the status says why it is not running');
});

t.test('a second sequencer on the same journal directory is refused while the first runs', async (t) => {
  const bus = makeBus(t, 'twice');
  const other = makeBus(t, 'twice-other');
  const dataDir = tempDir(t, 'twice');
  const first = spawnDist(t, 'processes/sequencer/main.ts', ['--input', bus.inputs[0]!, '--journal-ring', bus.journal, '--data-dir', dataDir]);
  await first.waitForEvent('sequencer-start', 10_000);
  const second = thrown(() => Sequencer.open({ inputs: other.inputs, journalRing: other.journal, dataDir, log: () => undefined }));
  t.match(second.message, `pid ${first.pid} holds ${path.join(dataDir, 'sequencer.pid')}`);
  await first.kill('SIGKILL');
  const third = Sequencer.open({ inputs: other.inputs, journalRing: other.journal, dataDir, log: () => undefined });
  t.teardown(() => third.close());
  t.pass('after the first died, the lock is taken over');
});
