// The failover drill as a test: a real sequencer, a hot and a warm engine process and a crossing
// order flow. The hot is killed with SIGKILL at random moments, five times (so a and b alternate as
// the hot), and the killed one is restarted each time to become the new warm (from a snapshot and
// the journal). After every kill the journal's engine output stream must equal the stream a fresh
// replay of the journal's commands emits, exactly: no gap, no duplicate, every checkpoint's hash.

import t from 'tap';
import { runEngineFailoverDrill, formatFailoverDrillReport } from '../processes/drills/engine-failover';
import { auditEngineOutputs, formatOutputAudit } from '../processes/matching-engine/output-audit';
import { tempDir } from './support/journal-harness';
import { SeededRandom, testSeed } from './support/seeded-random';
import { engineStatus, journalVisibleSeq, makeEngineBus, median, sleep, startEngine, startLoad, startSequencer, waitForQuiet, waitUntil } from './support/engine-harness';
import type { DistProcess } from './support/spawn';
import * as path from 'node:path';

const SEED = testSeed(0xfa11_0e4);
const KILLS = 5;
const COMMANDS = 120_000;
const RATE = 8_000;
// The lease timeout is raised from the default 50 ms: other test files share this 2-core machine,
// and a starved hot missing 50 ms of heartbeats is fenced (correctly, but not what this test is
// about). A kill is noticed through the pid, not the timeout, so takeover times are unaffected.
const ENGINE_ARGS = ['--checkpoint-every', '2000', '--snapshot-every', '5000', '--lease-timeout-ms', '200'];

t.comment(`seed ${SEED} (IMS_TEST_SEED replays), ${KILLS} kills under a ${RATE}/s crossing order flow of ${COMMANDS} commands`);

t.test('kill -9 of the hot engine under load: the warm takes over and the journal gets every output exactly once', async (t) => {
  const random = new SeededRandom(SEED);
  const bus = makeEngineBus(t, 'failover');
  const dataDir = tempDir(t, 'failover');
  const journalDir = path.join(dataDir, 'journal');
  const sequencer = await startSequencer(t, bus, journalDir);
  // A small supervisor: an engine that exits is started again at once (as the real supervisor
  // does). The drill's kills are expected; any other exit (a warm presuming a starved hot dead on
  // this shared 2-core machine and fencing it) is counted and reported, and is handled the same way.
  const engines = {} as Record<'a' | 'b', DistProcess>;
  const drillKilled = new Set<number>();
  let stopping = false;
  let unexpectedExits = 0;
  const keep = (instance: 'a' | 'b'): DistProcess => {
    const proc = startEngine(t, bus, dataDir, instance, ENGINE_ARGS);
    engines[instance] = proc;
    void proc.exited.then((status) => {
      if (stopping) return;
      if (!drillKilled.has(proc.pid)) {
        unexpectedExits++;
        const fence = Object.values(engines).flatMap((e) => e.lines.filter((l) => l.event === 'engine-claimed' && l['previousLeaderPid'] === proc.pid));
        t.comment(`engine-${instance} pid ${proc.pid} exited ${JSON.stringify(status)} without the drill: ${fence.length > 0 ? `fenced by a takeover (${String(fence[0]!['reason'])})` : proc.describe()}`);
      }
      keep(instance);
    });
    return proc;
  };
  await keep('a').waitForEvent('engine-hot', 10_000);
  await keep('b').waitForEvent('engine-start', 10_000);
  const load = startLoad(t, bus, { count: COMMANDS, rate: RATE, seed: SEED, extra: ['--snapshot-request-every', '9000', '--close-every', '40000'] });
  await load.waitForEvent('producer-start', 10_000);

  const takeovers: number[] = [];
  const detections: number[] = [];
  for (let i = 0; i < KILLS; i++) {
    await sleep(random.int(200, 700));
    const hotPid = (engineStatus(bus, 'a')?.role === 'hot' ? engines.a : engines.b).pid;
    drillKilled.add(hotPid);
    const report = await runEngineFailoverDrill({ runDir: bus.runDir, journalDir, loadWindowMs: 300, minLoadPerSecond: 1000, settleMs: 200, takeoverTimeoutMs: 5_000 });
    if (report.killed !== null && report.killed.pid !== hotPid) drillKilled.add(report.killed.pid);
    t.comment(formatFailoverDrillReport(report));
    if (!report.ok) {
      for (const e of [engines.a, engines.b]) t.comment(e.lines.filter((l) => l.event !== 'engine-snapshot-written').map((l) => JSON.stringify(l)).join('\n'));
    }
    t.ok(report.ok, `kill ${i + 1}: engine-${report.killed?.instance} killed, engine-${report.newHot?.instance} took over, the journal equals a clean replay`);
    if (report.audit !== null) {
      t.equal(report.audit.gaps + report.audit.duplicates + report.audit.mismatches + report.audit.unexpected, 0, `kill ${i + 1}: no gap, no duplicate, no difference`);
    }
    const newHot = report.newHot === null ? undefined : engines[report.newHot.instance as 'a' | 'b'];
    const claimed = newHot?.lines.filter((l) => l.event === 'engine-claimed').pop();
    if (claimed !== undefined) t.comment(`  engine-${report.newHot!.instance} found the leader dead by ${String(claimed['reason'])} (heartbeat ${String(claimed['heartbeatAgeMs'])} ms old)`);
    if (report.takeoverMs !== null) takeovers.push(report.takeoverMs);
    if (report.detectionMs !== null) detections.push(report.detectionMs);
    if (report.killed === null) continue;
    const killed = report.killed.instance as 'a' | 'b';
    // The killed instance comes back as the new warm (the keeper restarts it): newest snapshot + journal replay.
    const back = await waitUntil(`engine-${killed} restarted`, 10_000, () => (engines[killed].pid !== report.killed!.pid ? engines[killed] : undefined));
    const started = await back.waitForEvent('engine-start', 10_000);
    t.ok(started['snapshot'] !== null, `kill ${i + 1}: engine-${killed} restarted from ${String(started['snapshot'])}`);
    try {
      await waitUntil(`engine-${killed} is warm and caught up`, 20_000, () => {
        const s = engineStatus(bus, killed);
        const other = engineStatus(bus, killed === 'a' ? 'b' : 'a');
        return s !== null && s.alive && s.role === 'warm' && other !== null && other.lastAppliedSeq - s.lastAppliedSeq < 5_000 ? true : undefined;
      });
    } catch (e) {
      t.comment(JSON.stringify({ restarted: engineStatus(bus, killed), other: engineStatus(bus, killed === 'a' ? 'b' : 'a') }));
      throw e;
    }
  }

  await load.waitForEvent('producer-done', 60_000);
  let head = 0;
  try {
    head = await waitForQuiet(bus, ['a', 'b'], 30_000);
  } catch (e) {
    t.comment(JSON.stringify({ head: journalVisibleSeq(bus), a: engineStatus(bus, 'a'), b: engineStatus(bus, 'b') }));
    t.comment(engines.a.describe());
    t.comment(engines.b.describe());
    throw e;
  }
  const audit = auditEngineOutputs({ journalDir, toSeq: head });
  t.comment(`final audit: ${formatOutputAudit(audit)}`);
  t.ok(audit.ok, 'the whole journal: the engine output stream equals a clean replay');
  t.equal(audit.pendingTail, 0, 'every output of every command is journaled');
  t.equal(audit.sourceSeqRegressions, 0, 'each engine instance numbered its journaled outputs on across its restarts (sourceSeq)');
  t.ok(audit.epochs.length >= KILLS + 1, `${audit.epochs.length} epochs published along the stream`);
  for (const instance of ['a', 'b'] as const) {
    const s = engineStatus(bus, instance)!;
    t.equal(s.divergences, 0, `engine-${instance} saw no divergence (${s.matchedOutputs} outputs compared since its start)`);
    t.equal(s.lastAppliedSeq, head, `engine-${instance} applied the whole journal`);
  }
  const a = engineStatus(bus, 'a')!;
  const b = engineStatus(bus, 'b')!;
  t.equal(a.stateHash, b.stateHash, `hot and warm agree on the state hash at the last checkpoint (inSeq ${a.checkpointInSeq})`);

  t.comment(`takeover (SIGKILL -> new hot publishing): median ${median(takeovers).toFixed(1)} ms, max ${Math.max(...takeovers).toFixed(1)} ms over ${takeovers.length} kills`);
  t.comment(`detection (SIGKILL -> warm finds the leader dead): median ${median(detections).toFixed(1)} ms, max ${Math.max(...detections).toFixed(1)} ms`);

  t.comment(`engine exits the drill did not cause (fencing of a starved hot): ${unexpectedExits}`);
  stopping = true;
  for (const instance of ['a', 'b'] as const) {
    engines[instance].child.kill('SIGTERM');
    t.equal((await engines[instance].exited).code, 0, `engine-${instance} stops cleanly on SIGTERM`);
  }
  sequencer.child.kill('SIGTERM');
  t.equal((await sequencer.exited).code, 0, 'the sequencer stops cleanly');
});
