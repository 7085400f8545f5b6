// The two ways a hot is fenced when it is not dead:
//  - paused (SIGSTOP): its heartbeat ages past the lease timeout, the warm SIGKILLs it (so it can
//    never publish again, not even after SIGCONT) and takes over with the next epoch;
//  - outvoted: a newer epoch appears in the lease (here the test claims one, as a warm that saw a
//    late heartbeat would): the hot's next heartbeat is refused, it stops publishing at once and
//    carries on as a warm in the same process; when the lease is free again an instance takes over.
// Under load both times, and the journal's engine output stream still equals a clean replay.

import * as path from 'node:path';
import t from 'tap';
import { LeaderLease } from '../bus/leader-lease';
import { auditEngineOutputs, formatOutputAudit } from '../processes/matching-engine/output-audit';
import { engineStatus, makeEngineBus, sleep, startEngine, startLoad, startSequencer, waitForQuiet, waitUntil } from './support/engine-harness';
import { tempDir } from './support/journal-harness';
import { testSeed } from './support/seeded-random';

const SEED = testSeed(0xfe_4ce);
const LEASE_TIMEOUT_MS = 200;
const ARGS = ['--checkpoint-every', '2000', '--lease-timeout-ms', String(LEASE_TIMEOUT_MS)];

t.comment(`seed ${SEED} (IMS_TEST_SEED replays)`);

t.test('a paused hot is SIGKILLed and replaced; an outvoted hot stops publishing and becomes warm', async (t) => {
  const bus = makeEngineBus(t, 'fencing');
  const dataDir = tempDir(t, 'fencing');
  const journalDir = path.join(dataDir, 'journal');
  const sequencer = await startSequencer(t, bus, journalDir);
  const a = startEngine(t, bus, dataDir, 'a', ARGS);
  await a.waitForEvent('engine-hot', 10_000);
  const b = startEngine(t, bus, dataDir, 'b', ARGS);
  await b.waitForEvent('engine-start', 10_000);
  const load = startLoad(t, bus, { count: 40_000, rate: 10_000, seed: SEED });
  await load.waitForEvent('producer-start', 10_000);
  await sleep(800);

  // 1. Pause the hot.
  const pausedAt = Date.now();
  a.child.kill('SIGSTOP');
  const claimed = await b.waitForEvent('engine-claimed', 5_000);
  const detectedAfterMs = Date.now() - pausedAt;
  t.equal(claimed['reason'], 'heartbeat-timeout', `the warm presumed the paused hot dead by its heartbeat (${String(claimed['heartbeatAgeMs'])} ms old)`);
  // Judged by the heartbeat's age, not by the time since SIGSTOP: on a loaded machine the last
  // heartbeat before the pause can itself be late.
  t.ok(Number(claimed['heartbeatAgeMs']) > LEASE_TIMEOUT_MS, `not before the lease timeout (heartbeat ${String(claimed['heartbeatAgeMs'])} ms old, ${detectedAfterMs} ms after SIGSTOP)`);
  t.equal(claimed['killedPreviousLeader'], true, 'and SIGKILLed it');
  t.equal((await a.exited).signal, 'SIGKILL', 'the paused hot died of SIGKILL: it can never publish again');
  await b.waitForEvent('engine-hot', 5_000);
  const a2 = startEngine(t, bus, dataDir, 'a', ARGS);
  await a2.waitForEvent('engine-start', 10_000);
  await sleep(500);

  // 2. Outvote the hot (b): a newer epoch in the lease, held by the test for a while.
  const lease = LeaderLease.open(path.join(bus.runDir, 'engine.lease'));
  const hotEpoch = lease.epoch;
  const testEpoch = lease.tryAcquire(hotEpoch);
  t.equal(testEpoch, hotEpoch + 1, `the test claims epoch ${testEpoch}`);
  const beat = setInterval(() => lease.heartbeat(testEpoch), 2);
  const fenced = await b.waitForEvent('engine-fenced', 5_000);
  t.equal(fenced['epoch'], hotEpoch, 'the hot finds its heartbeat refused and says so');
  const published = engineStatus(bus, 'b')!.publishedOutputs;
  await sleep(300);
  const statusB = engineStatus(bus, 'b')!;
  t.equal(statusB.role, 'warm', 'it carries on as a warm, in the same process');
  t.equal(statusB.publishedOutputs, published, 'and publishes nothing more');
  t.ok(b.alive, 'it was not restarted');
  clearInterval(beat);
  // The test's "leader" goes silent: one of the instances takes over (the test's pid is not an
  // engine, so nobody kills it).
  const next = await waitUntil('an engine takes over from the silent test leader', 5_000, () => {
    const hot = (['a', 'b'] as const).map((i) => engineStatus(bus, i)).find((s) => s !== null && s.alive && s.role === 'hot' && s.epoch > testEpoch);
    return hot ?? undefined;
  });
  t.ok(next.epoch > testEpoch, `engine-${next.instance} took over with epoch ${next.epoch}`);

  await load.waitForEvent('producer-done', 60_000);
  const head = await waitForQuiet(bus, ['a', 'b'], 30_000);
  const audit = auditEngineOutputs({ journalDir, toSeq: head });
  t.comment(formatOutputAudit(audit));
  t.ok(audit.ok, 'the engine output stream equals a clean replay: no gap, no duplicate');
  t.equal(audit.pendingTail, 0, 'every output is journaled');
  t.equal(engineStatus(bus, 'a')!.divergences + engineStatus(bus, 'b')!.divergences, 0, 'no divergence');

  for (const proc of [a2, b]) {
    proc.child.kill('SIGTERM');
    t.equal((await proc.exited).code, 0, 'stops cleanly on SIGTERM');
  }
  sequencer.child.kill('SIGTERM');
  await sequencer.exited;
});
