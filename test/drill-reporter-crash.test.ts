// `ims drill reporter-crash` against a real instance: under a WebSocket order load the reporter is
// killed with SIGKILL twice (the second time right after its restart has committed its first
// batch), the supervisor restarts it each time, it resumes from the last journal seq its database
// holds and catches up; then the report database reconciles with the journal with no difference.
// Besides the drill's own report, `ims reconcile` is run on the stopped instance (a separate
// process, its own reading of both sides).
import t from 'tap';
import type { ReporterCrashDrillReport } from '../processes/drills/reporter-crash';
import { createImsInstance, imsAsync, until } from './support/ims-instance';

const inst = createImsInstance('rcrash', ['--trading-port', '0', '--public-port', '0']);
t.teardown(() => inst.destroy());

t.before(async () => {
  inst.start();
  await until('the gateway to listen', () => /"event":"gateway-ready"/.test(inst.log()), 60_000);
  await until('the demo day to open', () => /"event":"trading-day-open"/.test(inst.log()), 60_000);
  await until('a hot engine', () => /"event":"engine-hot"/.test(inst.log()), 30_000);
  await until('the reporter to write', () => /"event":"reporter-progress"/.test(inst.log()), 60_000);
});

t.test('kill -9 of the reporter under load, twice: it resumes from its stored seq, catches up, and its database reconciles with the journal', async (t) => {
  const run = await imsAsync(inst, ['drill', 'reporter-crash', '--json', '--kills', '2', '--orders-per-second', '150'], 75_000);
  t.equal(run.err, '', 'the drill wrote nothing to stderr');
  const report = JSON.parse(run.out) as ReporterCrashDrillReport;
  for (const [i, k] of report.kills.entries()) {
    t.comment(`kill ${i + 1}: backlog ${k.backlogAtKill}, detection ${k.detectionMs?.toFixed(1)} ms, restarted ${k.restartedMs?.toFixed(1)} ms, resumed ${k.resumedMs?.toFixed(1)} ms, caught up ${k.caughtUpMs?.toFixed(1) ?? '-'} ms`);
  }
  t.same(report.problems, [], 'the drill found no problem');
  t.equal(run.code, 0, 'and exits 0');
  t.equal(report.kills.length, 2, 'the reporter was killed twice');
  const pids = new Set<number>();
  for (const [i, k] of report.kills.entries()) {
    t.ok(k.detectionMs !== null, `kill ${i + 1}: the supervisor noticed the exit`);
    t.ok(k.newPid !== null && k.newPid !== k.pid, `kill ${i + 1}: a new reporter process (${k.pid} → ${k.newPid})`);
    t.ok(k.resumedMs !== null, `kill ${i + 1}: the new process committed batches`);
    t.ok(k.storedSeqAtKill > 0, `kill ${i + 1}: the database held seq ${k.storedSeqAtKill} at the kill`);
    pids.add(k.pid);
  }
  t.equal(pids.size, 2, 'the second kill hit the restarted reporter');
  t.ok(report.kills[1]!.caughtUpMs !== null, 'after the last kill it caught up with the journal');
  t.ok(report.final?.caughtUp, `the database reached the journal's end (seq ${report.final?.journalSeq})`);
  const r = report.reconcile!;
  t.ok(r.ok, 'reconcile: the report database equals the journal');
  t.equal(r.differenceCount, 0, 'no row lost, none doubled, no sum different');
  t.ok(r.checked['orders']! > 0 && r.checked['executions']! > 0, `reconcile compared ${r.checked['orders']} orders and ${r.checked['executions']} executions`);
  t.ok(r.databaseLastSeq >= report.final!.journalSeq, 'reconcile covered the whole journal the drill saw');
  const o = report.orders!;
  t.equal(o.lost + o.doubled + o.wrongOrderId + o.unanswered, 0, 'every acknowledged order of the load is journaled exactly once');
  t.ok(o.acknowledged > 200, `${o.acknowledged} orders acknowledged during the drill`);
  t.ok(report.journal!.verify.ok && report.journal!.productManager.ok, 'the journal verifies and the product-manager replay conserves cash and stock');
  t.ok(report.journal!.verify.checkpointsCompared >= 1, `${report.journal!.verify.checkpointsCompared} engine checkpoint state hashes equal the replay's`);

  const status = inst.status();
  const reporter = status.processes.find((p: { name: string }) => p.name === 'reporter');
  t.ok(reporter.restarts >= 2 && reporter.alive, `the supervisor shows the reporter restarted ${reporter.restarts} times and alive`);

  // Reconciled once more by `ims reconcile`, after a clean stop (the reporter writes its last batch).
  await inst.stop();
  const reconciled = inst.ims('reconcile');
  t.equal(reconciled.code, 0, `ims reconcile finds no difference:\n${reconciled.out}${reconciled.err}`);
  t.match(reconciled.out, /\b0 differences\b/);
});
