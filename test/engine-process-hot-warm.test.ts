// A hot and a warm engine process with a real sequencer under a crossing order flow: the hot
// publishes, the warm publishes nothing and checks everything the hot published against what it
// computed itself. Both compute the same state hash at every checkpoint, and `readEngineStatus`
// says so. Divergences are provoked through the test-only corruption switch, so the real detection
// code has to find them: the warm corrupts one output it computed (a tampered expectation), and the
// hot corrupts one checkpoint it publishes (a wrong state hash in the journal). The warm reports
// both, loudly, with the right kind; the hot, whose own copy is the corrupted one, reports nothing.

import * as path from 'node:path';
import t from 'tap';
import { readEngineStatus, formatEngineStatus } from '../processes/matching-engine/engine-status';
import { auditEngineOutputs } from '../processes/matching-engine/output-audit';
import { engineStatus, makeEngineBus, startEngine, startLoad, startSequencer, waitForQuiet } from './support/engine-harness';
import { tempDir } from './support/journal-harness';
import { testSeed } from './support/seeded-random';

const SEED = testSeed(0x407_3a7);
const COMMANDS = 30_000;
/** The warm corrupts the first output it computes for a command at or after this journal seq. */
const WARM_CORRUPTS_AT = 20_000;
/** The hot corrupts the first checkpoint it computes at or after this seq. */
const HOT_CORRUPTS_CHECKPOINT_AT = 40_000;
const COMMON = ['--checkpoint-every', '1000', '--lease-timeout-ms', '200'];

t.comment(`seed ${SEED} (IMS_TEST_SEED replays)`);

t.test('hot and warm agree on every checkpoint; the warm detects a diverging output and a wrong published state hash', async (t) => {
  const bus = makeEngineBus(t, 'hot-warm');
  const dataDir = tempDir(t, 'hot-warm');
  const journalDir = path.join(dataDir, 'journal');
  const sequencer = await startSequencer(t, bus, journalDir);
  const hot = startEngine(t, bus, dataDir, 'a', [...COMMON, '--test-corrupt-at-seq', String(HOT_CORRUPTS_CHECKPOINT_AT), '--test-corrupt-type', 'EngineCheckpoint']);
  await hot.waitForEvent('engine-hot', 10_000);
  const warm = startEngine(t, bus, dataDir, 'b', [...COMMON, '--test-corrupt-at-seq', String(WARM_CORRUPTS_AT)]);
  await warm.waitForEvent('engine-start', 10_000);
  const load = startLoad(t, bus, { count: COMMANDS, rate: 12_000, seed: SEED, extra: ['--snapshot-request-every', '10000'] });
  await load.waitForEvent('producer-done', 60_000);
  const head = await waitForQuiet(bus, ['a', 'b'], 30_000);

  const report = readEngineStatus(bus.runDir);
  t.comment(formatEngineStatus(report));
  t.equal(report.hot, 'a', 'engine-a is hot, holding the lease');
  t.equal(report.lease?.epoch, 1, 'no takeover happened (epoch 1)');
  t.equal(report.hashesAgree, true, `readEngineStatus: the state hashes agree at inSeq ${report.comparedAtInSeq}`);
  const a = engineStatus(bus, 'a')!;
  const b = engineStatus(bus, 'b')!;
  t.equal(a.role, 'hot', 'engine-a status: hot');
  t.equal(b.role, 'warm', 'engine-b status: warm');
  const commonCheckpoints = a.checkpoints.filter((c) => b.checkpoints.some((d) => d.inSeq === c.inSeq && d.stateHash === c.stateHash));
  t.equal(commonCheckpoints.length, Math.min(a.checkpoints.length, b.checkpoints.length), `the last ${commonCheckpoints.length} checkpoints of both instances carry the same hashes`);
  t.equal(a.lastAppliedSeq, head, 'the hot applied the whole journal');
  t.equal(b.lastAppliedSeq, head, 'so did the warm');
  t.equal(b.publishedOutputs, 0, 'the warm published nothing');

  const divergences = warm.lines.filter((l) => l.event === 'engine-divergence');
  t.equal(b.divergences, 2, 'the warm counted two divergences');
  t.equal(divergences.length, 2, 'and logged each as a JSON line');
  const mismatch = divergences.find((d) => d['kind'] === 'output-mismatch');
  t.ok(mismatch !== undefined && (mismatch['inSeq'] as number) >= WARM_CORRUPTS_AT, `its own tampered output is reported as output-mismatch at inSeq ${String(mismatch?.['inSeq'])}`);
  t.not((mismatch?.['computed'] as { body: string } | undefined)?.body, (mismatch?.['journaled'] as { body: string } | undefined)?.body, 'with both bodies');
  const hashMismatch = divergences.find((d) => d['kind'] === 'state-hash-mismatch');
  t.ok(hashMismatch !== undefined && (hashMismatch['inSeq'] as number) >= HOT_CORRUPTS_CHECKPOINT_AT, `the hot's wrong checkpoint is reported as state-hash-mismatch at inSeq ${String(hashMismatch?.['inSeq'])}`);
  t.match(warm.stderr, /DIVERGENCE \(output-mismatch\)/, 'loudly, on stderr too');
  t.equal(a.divergences, 0, 'the hot, whose own copy is the corrupted one, saw nothing wrong');
  t.equal(hot.lines.filter((l) => l.event === 'engine-divergence').length, 0, 'and logged none');

  const audit = auditEngineOutputs({ journalDir, toSeq: head });
  t.equal(audit.checkpointMismatches, 1, 'the independent journal audit finds the one wrong checkpoint too');
  t.equal(audit.mismatches + audit.gaps + audit.duplicates + audit.unexpected, 0, 'and nothing else');

  hot.child.kill('SIGTERM');
  warm.child.kill('SIGTERM');
  const stoppedWarm = await warm.waitForEvent('engine-stopped', 10_000);
  t.ok((stoppedWarm['checkpointsCompared'] as number) >= COMMANDS / 1000, `the warm compared ${String(stoppedWarm['checkpointsCompared'])} checkpoints and ${String(stoppedWarm['outputsCompared'])} outputs`);
  t.equal((await hot.exited).code, 0, 'the hot stops cleanly on SIGTERM');
  t.equal((await warm.exited).code, 0, 'the warm stops cleanly on SIGTERM');
  sequencer.child.kill('SIGTERM');
  await sequencer.exited;
});
