// `ims drill sequencer-restart` against a real supervised instance: the sequencer is killed -9 under
// a steady REST order load, the supervisor restarts it, it recovers the journal from disk, and
// trading goes on. The drill's own audit is asserted figure by figure: no acknowledged order lost
// or doubled, orders caught by the outage acknowledged after it (late, or by a retry with the same
// clientOrderId after a client timeout), the engines' and the product manager's state hashes equal
// a clean replay of the journal, cash and stock conserved.
import { spawnSync } from 'node:child_process';
import t from 'tap';
import type { SequencerRestartReport } from '../processes/drills/sequencer-restart';
import { createImsInstance, IMS, until } from './support/ims-instance';

const inst = createImsInstance('seqdrill', ['--trading-port', '0', '--public-port', '0']);
t.teardown(() => inst.destroy());

t.test('kill -9 of the sequencer under load: it is restarted, recovers the journal, and no acknowledged order is lost or doubled', async (t) => {
  inst.start();
  await until('the gateway to listen', () => /"event":"gateway-ready"/.test(inst.log()), 90_000);
  await until('the demo day to open', () => /"event":"trading-day-open"/.test(inst.log()), 90_000);
  await until('a hot engine', () => /"event":"engine-hot"/.test(inst.log()), 30_000);

  // A client timeout shorter than the outage: orders caught by it are sent again with their
  // clientOrderId while the first attempt waits in the product manager's ring.
  const run = spawnSync(
    process.execPath,
    [IMS, 'drill', 'sequencer-restart', '--instance', inst.instance, '--data-dir', inst.dataDir, '--json', '--orders-per-second', '200', '--load-ms', '3500', '--client-timeout-ms', '600'],
    { encoding: 'utf8', timeout: 150_000 },
  );
  const line = run.stdout.trim().split('\n').pop() ?? '';
  let report: SequencerRestartReport;
  try {
    report = JSON.parse(line) as SequencerRestartReport;
  } catch {
    throw new Error(`the drill printed no JSON report (exit ${run.status}):\n${run.stdout}\n${run.stderr}`);
  }
  t.comment(JSON.stringify({ detectionMs: report.detectionMs, restartMs: report.restartMs, recoveredMs: report.recoveredMs, firstJournaledMs: report.firstJournaledMs, rtoMs: report.rtoMs, outage: report.outage, load: report.load }));
  t.same(report.problems, [], 'the drill found no problem');
  t.equal(run.status, 0, 'ims drill sequencer-restart exits 0');
  t.ok(report.killed !== null && report.restarted !== null && report.restarted.pid !== report.killed.pid, 'a new sequencer process runs');
  t.ok(report.restarted!.headSeqAtRecovery >= report.killed!.visibleSeq, `it recovered the journal to seq ${report.restarted?.headSeqAtRecovery}, everything visible at the kill (${report.killed?.visibleSeq})`);
  t.ok(report.detectionMs !== null && report.recoveredMs !== null && report.rtoMs !== null, 'detection, recovery and RTO measured');
  // (recoveredMs is when the drill's poll saw it, late on a starved machine; the new process is the floor.)
  t.ok(report.rtoMs! > report.restartMs!, 'no order created after the kill is acknowledged before a new sequencer runs');

  const a = report.audit!;
  t.ok(a.orders.acknowledged >= 300, `${a.orders.acknowledged} orders acknowledged`);
  t.equal(a.orders.lost, 0, 'no acknowledged order is missing from the journal');
  t.equal(a.orders.doubled, 0, 'no client order id is journaled twice');
  t.equal(a.orders.wrongOrderId, 0, 'every acknowledged order is journaled under the id its client was told');
  t.equal(a.orders.unanswered, 0, 'every order got a final answer');
  t.equal(a.orders.journaledExactlyOnce, a.orders.acknowledged);
  t.ok(report.outage!.orders > 0, `${report.outage!.orders} orders were caught by the outage`);
  t.equal(report.outage!.unanswered, 0, 'each of them was answered in the end');
  t.equal(a.engine.outputs.gaps + a.engine.outputs.duplicates + a.engine.outputs.mismatches + a.engine.outputs.checkpointMismatches, 0, 'the engine output stream equals a clean replay');
  t.ok(a.engine.hashesCompared >= 1, `${a.engine.hashesCompared} live engine state hashes compared`);
  t.equal(a.engine.hashesEqual, a.engine.hashesCompared, "the live engines' state hashes equal a clean replay");
  t.ok(a.productManager.match, `the hot product manager's state hash equals a replay (${a.productManager.live?.hash} / ${a.productManager.replay})`);
  t.equal(a.productManager.duplicateRequests + a.productManager.duplicateOrderIds + a.productManager.sourceSeqGaps + a.productManager.sourceSeqRepeats, 0, 'no request or order id twice, no sourceSeq gap');
  t.ok(a.conservation.ok, 'cash and stock are conserved');
});
