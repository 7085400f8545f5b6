// The engine process on a journal built by a real sequencer from a crossing order flow:
//  - snapshot + replay equals an uninterrupted run: an instance killed with SIGKILL after a
//    snapshot taken mid-day (DAY orders resting), restarted after more commands and the day's
//    close, ends with the state hash of an instance that read the whole journal in one go, and of
//    an in-process replay; a corrupt newest snapshot is skipped with a warning;
//  - determinism: the same journal through two fresh engine processes gives byte-identical outputs
//    on their output rings.
// The instances under test run as warm (the test holds the lease), except in the determinism test,
// where each is hot on a lease and an output ring of its own that the test reads.

import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { JournalDiskReader, TO_DISK_END } from '../bus/journal-disk-reader';
import { JournalStatusFile } from '../bus/journal-status';
import { LeaderLease } from '../bus/leader-lease';
import { registerConsumer, RingConsumer, RingFile } from '../bus/ring';
import { EngineReplica } from '../processes/matching-engine/engine-replica';
import { decodeSnapshot, listSnapshots } from '../processes/matching-engine/engine-snapshot-file';
import { Side, TimeInForce } from '../bus/enums';
import { readEngineInstanceStatus } from '../processes/matching-engine/engine-status';
import { stateHashHex } from '../processes/matching-engine/state-encoding';
import { journalVisibleSeq, makeEngineBus, sleep, startEngine, startLoad, startSequencer, waitUntil, type EngineBus } from './support/engine-harness';
import { tempDir } from './support/journal-harness';
import { testSeed } from './support/seeded-random';
import type { DistProcess } from './support/spawn';

const SEED = testSeed(0x5a95_0e7);
const PHASE_A_COMMANDS = 15_000;
const PHASE_B_COMMANDS = 12_000;
const SNAPSHOT_EVERY = 4_000;
/** The test holds the lease, so no instance under test ever takes over. */
const NEVER_TAKE_OVER = ['--lease-timeout-ms', '600000'];

t.comment(`seed ${SEED} (IMS_TEST_SEED replays)`);

/** Holds the engine lease for the test process: instances started now stay warm. */
function holdLease(t: { teardown(fn: () => void): void }, file: string): void {
  const lease = LeaderLease.open(file);
  const epoch = lease.tryAcquire(lease.epoch);
  if (epoch < 0) throw new Error('could not take the test lease');
  const timer = setInterval(() => lease.heartbeat(epoch), 2);
  t.teardown(() => clearInterval(timer));
}

async function waitJournaled(bus: EngineBus, load: DistProcess, sourceId: number, count: number): Promise<number> {
  await load.waitForEvent('producer-done', 60_000);
  const status = JournalStatusFile.openIfExists(path.join(bus.runDir, 'journal.status'))!;
  return waitUntil(`the sequencer journals all ${count} commands of source ${sourceId}`, 20_000, () => {
    const snap = status.snapshot();
    const source = snap.sources.find((s) => s.sourceId === sourceId);
    return source !== undefined && source.lastSourceSeq === count && snap.visibleSeq === snap.headSeq ? snap.visibleSeq : undefined;
  });
}

async function caughtUp(bus: EngineBus, status: string, seq: number): Promise<void> {
  await waitUntil(`${path.basename(status)} reaches seq ${seq}`, 30_000, () => {
    const s = readEngineInstanceStatus(status);
    return s !== null && s.alive && s.lastAppliedSeq >= seq ? true : undefined;
  });
}

/** DAY orders resting in an engine process snapshot file. */
function restingDayOrders(file: Buffer): number {
  const decoded = decodeSnapshot(file);
  const replica = new EngineReplica({ pendingBytes: 16 << 20, log: () => {} });
  replica.restore(decoded.meta, decoded.pending, decoded.engine);
  let n = 0;
  for (const productId of replica.engine.productIds()) {
    for (const side of [Side.INFLOW, Side.OUTFLOW]) n += replica.engine.restingOrders(productId, side).filter((o) => o.timeInForce === TimeInForce.DAY).length;
  }
  return n;
}

/** The state hash of a fresh in-process replica fed the journal on disk. */
function inProcessHash(journalDir: string): { hash: string; seq: number } {
  const replica = new EngineReplica({ checkpointEvery: 2000, pendingBytes: 16 << 20, log: () => {} });
  const reader = new JournalDiskReader({ dataDir: journalDir, fromSeq: 1 });
  while (reader.read((typeId, version, buf, offset) => replica.onEntry(typeId, version, buf.view, offset), 8192, TO_DISK_END) > 0) {
    /* every entry goes to the replica */
  }
  reader.close();
  return { hash: stateHashHex(replica.engine.stateHash()), seq: replica.meta.journalSeq };
}

t.test('an engine restarted from a mid-day snapshot ends with the state hash of an uninterrupted run; a corrupt newest snapshot is skipped', async (t) => {
  const bus = makeEngineBus(t, 'snapshots');
  const dataDir = tempDir(t, 'snapshots');
  const journalDir = path.join(dataDir, 'journal');
  await startSequencer(t, bus, journalDir);
  holdLease(t, path.join(bus.runDir, 'engine.lease'));

  // Phase A: a trading day under way (DAY orders rest), no close yet.
  const headA = await waitJournaled(bus, startLoad(t, bus, { count: PHASE_A_COMMANDS, rate: 0, seed: SEED, sourceId: 70 }), 70, PHASE_A_COMMANDS);
  const interruptedDir = path.join(dataDir, 'interrupted');
  const args = (dir: string): string[] => ['--snapshot-dir', path.join(dir, 'snapshots'), '--snapshot-every', String(SNAPSHOT_EVERY), '--checkpoint-every', '1000', ...NEVER_TAKE_OVER];
  let engine = startEngine(t, bus, interruptedDir, 'a', args(interruptedDir));
  await caughtUp(bus, path.join(bus.runDir, 'engine-a.status'), headA);
  const snapshotsDir = path.join(interruptedDir, 'snapshots');
  let written: ReturnType<typeof listSnapshots>;
  try {
    written = await waitUntil('two scheduled snapshots are on disk', 10_000, () => (listSnapshots(snapshotsDir).length >= 2 ? listSnapshots(snapshotsDir) : undefined));
  } catch (e) {
    t.comment(engine.describe());
    throw e;
  }
  await engine.kill('SIGKILL');
  const newest = written[0]!;
  const restingDay = restingDayOrders(fs.readFileSync(newest.file));
  t.ok(newest.seq <= headA && restingDay > 0, `the newest snapshot (seq ${newest.seq}) was taken mid-day: ${restingDay} DAY orders rest in it, the day's close comes later`);

  // A damaged newest snapshot (a flipped byte in a copy named after a later seq) must be skipped.
  const corrupt = path.join(snapshotsDir, `engine-${String(newest.seq + 1).padStart(20, '0')}.snap`);
  const bytes = fs.readFileSync(newest.file);
  bytes[bytes.length >> 1] ^= 0xff;
  fs.writeFileSync(corrupt, bytes);

  // Phase B: more trading, then the day's close (DAY orders restored from the snapshot expire).
  const headB = await waitJournaled(bus, startLoad(t, bus, { count: PHASE_B_COMMANDS, rate: 0, seed: SEED + 1, sourceId: 71, extra: ['--close-every', String(PHASE_B_COMMANDS - 2_000)] }), 71, PHASE_B_COMMANDS);
  engine = startEngine(t, bus, interruptedDir, 'a', args(interruptedDir));
  const start = await engine.waitForEvent('engine-start', 10_000);
  const skipped = await engine.waitForEvent('engine-snapshot-skipped', 10_000);
  t.equal(skipped['file'], corrupt, 'the corrupt newest snapshot is skipped with a warning');
  t.match(String(skipped['error']), /CRC32C mismatch/, `it says why: ${String(skipped['error'])}`);
  t.equal(start['snapshot'], newest.file, 'the restart loads the newest valid snapshot');
  t.equal(start['fromSeq'], newest.seq + 1, 'and replays the journal after it');
  await caughtUp(bus, path.join(bus.runDir, 'engine-a.status'), headB);
  engine.child.kill('SIGTERM');
  const stoppedInterrupted = await engine.waitForEvent('engine-stopped', 10_000);
  t.equal((await engine.exited).code, 0, 'SIGTERM: exit 0');
  t.ok(listSnapshots(snapshotsDir).some((s) => s.seq === headB), 'SIGTERM wrote a snapshot at the last seq');

  // The uninterrupted run: a fresh instance (b) reads the whole journal in one go.
  const straightDir = path.join(dataDir, 'straight');
  const straight = startEngine(t, bus, straightDir, 'b', args(straightDir).concat(['--snapshot-every', '1000000']));
  await caughtUp(bus, path.join(bus.runDir, 'engine-b.status'), headB);
  straight.child.kill('SIGTERM');
  const stoppedStraight = await straight.waitForEvent('engine-stopped', 10_000);
  const replay = inProcessHash(journalDir);

  t.equal(stoppedInterrupted['lastAppliedSeq'], headB, 'the restarted instance applied the whole journal');
  t.equal(stoppedStraight['lastAppliedSeq'], headB, 'so did the uninterrupted one');
  t.equal(replay.seq, headB, 'and the in-process replay');
  t.equal(stoppedInterrupted['stateHash'], stoppedStraight['stateHash'], `snapshot + replay = uninterrupted run: state hash ${String(stoppedStraight['stateHash'])}`);
  t.equal(stoppedInterrupted['stateHash'], replay.hash, 'and = an in-process replay of the journal');
  const a = readEngineInstanceStatus(path.join(bus.runDir, 'engine-a.status'))!;
  const b = readEngineInstanceStatus(path.join(bus.runDir, 'engine-b.status'))!;
  const common = a.checkpoints.filter((c) => b.checkpoints.some((d) => d.inSeq === c.inSeq));
  t.ok(common.length > 0, `${common.length} checkpoints computed by both runs`);
  t.same(common, b.checkpoints.filter((d) => common.some((c) => c.inSeq === d.inSeq)), 'their checkpoint hashes agree');
  t.equal(a.divergences + b.divergences, 0, 'no divergence');
});

t.test('the same journal through two fresh engine processes gives byte-identical outputs', async (t) => {
  const bus = makeEngineBus(t, 'determinism');
  const dataDir = tempDir(t, 'determinism');
  const journalDir = path.join(dataDir, 'journal');
  await startSequencer(t, bus, journalDir);
  const head = await waitJournaled(bus, startLoad(t, bus, { count: 20_000, rate: 0, seed: SEED + 2, extra: ['--close-every', '15000', '--snapshot-request-every', '7000'] }), 70, 20_000);

  const runOnce = async (label: string): Promise<Buffer[]> => {
    // A world of its own: lease, status, snapshots and output ring; the journal is shared.
    const dir = path.join(dataDir, label);
    fs.mkdirSync(dir);
    const outRing = path.join(bus.runDir, `${label}-out.ring`);
    const ring = RingFile.create(outRing, { capacityBytes: 1 << 20, maxConsumers: 2 });
    registerConsumer(ring, 'sequencer');
    const consumer = new RingConsumer(ring, 'sequencer');
    const records: Buffer[] = [];
    const engine = startEngine(t, bus, dir, 'a', ['--out-ring', outRing, '--lease', path.join(dir, 'lease'), '--status', path.join(dir, 'status'), '--snapshot-dir', path.join(dir, 'snapshots'), '--checkpoint-every', '1500']);
    await engine.waitForEvent('engine-hot', 10_000);
    const drain = (): number =>
      consumer.poll((typeId, version, buf, offset, length) => {
        const record = Buffer.alloc(4 + length);
        record.writeUInt16LE(typeId, 0);
        record.writeUInt16LE(version, 2);
        record.set(buf.bytes.subarray(offset, offset + length), 4);
        records.push(record);
      }, 4096);
    try {
      await waitUntil(`${label} publishes the outputs of the whole journal`, 30_000, () => {
        drain();
        const s = readEngineInstanceStatus(path.join(dir, 'status'));
        return s !== null && s.lastAppliedSeq === head && s.pendingOutputs === s.publishedOutputs && !consumer.hasData() ? true : undefined;
      });
    } catch (e) {
      t.comment(JSON.stringify({ head, lag: consumer.lag(), records: records.length, status: readEngineInstanceStatus(path.join(dir, 'status')) }));
      t.comment(engine.describe());
      throw e;
    }
    await sleep(50);
    drain();
    engine.child.kill('SIGTERM');
    t.equal((await engine.exited).code, 0, `${label} stops cleanly`);
    return records;
  };
  const first = await runOnce('first');
  const second = await runOnce('second');
  t.ok(first.length > 20_000, `${first.length} outputs published by the first run`);
  t.equal(second.length, first.length, 'the second run published as many');
  const differing = first.findIndex((r, i) => !r.equals(second[i]!));
  t.equal(differing, -1, 'every published record (input header and body) is byte-identical');
});
