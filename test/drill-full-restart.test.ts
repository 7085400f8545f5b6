// The full restart drill (processes/drills/full-restart.ts) against a real supervised instance:
// under a steady REST order load every process, supervisor included, is killed -9, the run
// directory on /dev/shm is wiped as after a reboot, and the instance is started again with the same
// data directory. Asserted from the drill's audit: every order acknowledged before the kill is in
// the recovered journal once under its id, the wallets replayed from it equal those the kill left
// (and the live product manager's state before the kill), new orders trade after the restart, none
// lost or doubled, state hashes equal a clean replay, cash and stock conserved.
import * as net from 'node:net';
import t from 'tap';
import { formatFullRestartReport, runFullRestartDrill } from '../processes/drills/full-restart';
import { readPmStatus } from '../processes/product-manager/pm-status';
import { createImsInstance, until } from './support/ims-instance';

/** A free TCP port: the gateway must come back on the same one for the clients to find it. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

t.test('kill -9 of everything and a wiped /dev/shm: the system comes back from disk with every acknowledged order and the same balances', async (t) => {
  const port = await freePort();
  const inst = createImsInstance('fulldrill', ['--trading-port', String(port), '--public-port', '0']);
  t.teardown(() => inst.destroy());
  inst.start();
  await until('the gateway to listen', () => /"event":"gateway-ready"/.test(inst.log()), 90_000);
  await until('the demo day to open', () => /"event":"trading-day-open"/.test(inst.log()), 90_000);
  await until('a hot engine', () => /"event":"engine-hot"/.test(inst.log()), 30_000);

  // One product-manager takeover first: the pair's epoch in the journal is then above 1, and the
  // lease file the reboot recreates starts again at 0; the new leader must claim past the journal's.
  const first = readPmStatus(inst.runDir);
  const leader = first.instances.find((i) => i.alive && i.role === 'hot')!;
  process.kill(leader.pid, 'SIGKILL');
  await until('a product-manager takeover', () => readPmStatus(inst.runDir).instances.some((i) => i.alive && i.role === 'hot' && i.epoch > leader.epoch), 30_000);

  const report = await runFullRestartDrill({
    runDir: inst.runDir,
    gatewayUrl: `http://127.0.0.1:${port}`,
    restart: () => inst.start(),
    load: { ordersPerSecond: 150, attemptTimeoutMs: 3_000 },
    loadBeforeKillMs: 3_000,
    // Long enough for the restarted engines to reach a checkpoint (every 1,000 commands).
    loadAfterRecoveryMs: 6_000,
    restartTimeoutMs: 120_000,
  });
  t.comment(formatFullRestartReport(report));
  t.same(report.problems, [], 'the drill found no problem');
  t.ok(report.ok);
  t.ok(report.killed !== null && report.killed.processes.length >= 8, 'the supervisor and every process were killed');
  t.ok(report.restarted !== null && report.restarted.supervisorPid !== report.killed!.supervisorPid, 'a new supervisor runs');
  t.ok(report.restarted!.journalHeadAtRecovery >= report.killed!.journalSeq, `the journal came back to seq ${report.restarted?.journalHeadAtRecovery} (${report.killed?.journalSeq} visible at the kill)`);
  t.ok(report.rtoMs !== null && report.rtoMs > report.restartIssuedMs!, `RTO ${report.rtoMs?.toFixed(0)} ms`);

  t.ok(report.acknowledgedBeforeKill >= 100, `${report.acknowledgedBeforeKill} orders acknowledged before the kill`);
  t.equal(report.acknowledgedBeforeKillJournaled, report.acknowledgedBeforeKill, 'each of them is in the recovered journal under its id');
  t.ok(report.balances.liveBeforeKill?.match, "the live product manager's state before the kill equals a replay of the journal");
  t.ok(report.balances.equal, 'the balances replayed from the recovered journal equal those before the kill');
  t.equal(report.balances.beforeKill?.stateHash, report.balances.afterRestart?.stateHash);

  const a = report.audit!;
  t.ok(a.orders.acknowledged > report.acknowledgedBeforeKill, `orders trade after the restart (${a.orders.acknowledged - report.acknowledgedBeforeKill} more acknowledged)`);
  t.equal(a.orders.lost, 0, 'no acknowledged order is missing from the journal');
  t.equal(a.orders.doubled, 0, 'no client order id is journaled twice (orders cut off by the kill were resent with the same id)');
  t.equal(a.orders.wrongOrderId, 0);
  t.equal(a.orders.unanswered, 0, 'every order got a final answer');
  t.equal(a.engine.outputs.gaps + a.engine.outputs.duplicates + a.engine.outputs.mismatches + a.engine.outputs.checkpointMismatches, 0, 'the engine output stream equals a clean replay');
  t.ok(a.engine.hashesCompared >= 1, `${a.engine.hashesCompared} state hashes of the restarted engines compared`);
  t.equal(a.engine.hashesEqual, a.engine.hashesCompared, "the restarted engines' state hashes equal a clean replay");
  t.ok(a.productManager.match, "the restarted hot product manager's state hash equals a replay");
  t.equal(a.productManager.staleEpochEntries, 0, 'no input of a fenced product manager was journaled');
  t.ok(a.conservation.ok, 'cash and stock are conserved');
});
