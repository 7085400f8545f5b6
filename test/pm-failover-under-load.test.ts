// kill -9 of the hot product manager while gateways send orders: the warm notices, kills nothing
// (the leader is already dead), claims the next epoch, waits for the sequencer to drain the dead
// leader's input ring, reads the journal to its end and serves. The drill
// (processes/drills/pm-failover.ts) audits every client order: each acknowledged one is journaled
// exactly once, none twice, no order id or client order id is used twice, the pair's inputs are
// gap-free and fenced by epoch, the new leader's state hash equals a fresh replay of the journal,
// and the killed instance, restarted, comes back as the standby with the same state.
// Also: a leader that is paused (SIGSTOP), not dead, is killed by its standby before it takes over.

import t from 'tap';
import { Side } from '../bus/enums';
import { OrderStatus } from '../bus/schema';
import { formatPmFailoverDrillReport, runScratchPmFailoverDrill } from '../processes/drills/pm-failover';
import { ScratchExchange, sleep } from '../processes/product-manager/drill-exchange';
import { readPmStatus } from '../processes/product-manager/pm-status';
import { shmPath } from './support/shm';
import { tempDir } from './support/journal-harness';

t.test('kill -9 of the hot under load: the warm takes over; no acknowledged order is lost or doubled; its state equals a replay', async (t) => {
  const report = await runScratchPmFailoverDrill({
    runDir: shmPath(t, 'pm-failover'),
    dataDir: tempDir(t, 'pm-failover'),
    gateways: 2,
    ordersPerSecond: 1_500,
    loadBeforeKillMs: 800,
    loadAfterKillMs: 800,
  });
  t.comment(formatPmFailoverDrillReport(report));
  t.same(report.problems, [], 'the drill found no problem');
  t.ok(report.ok);
  t.ok(report.killed !== null && report.newLeader !== null);
  t.not(report.newLeader!.instance, report.killed!.instance, 'the other instance leads');
  t.ok(report.newLeader!.epoch > report.killed!.epoch, 'with a higher epoch');
  t.ok(report.ordersPerSecondAtKill > 0, 'the hot was forwarding orders when it was killed');
  t.ok(report.takeoverMs !== null && report.takeoverMs < 2_000, `serving again ${report.takeoverMs?.toFixed(1)} ms after the kill`);
  const q = report.requests;
  t.ok(q.clientOrders > 1_000, `${q.clientOrders} client orders`);
  t.equal(q.unanswered, 0, 'every client order was answered (after retries with its clientOrderId)');
  t.equal(q.acknowledged + q.rejected, q.clientOrders);
  const a = report.audit!;
  t.equal(a.duplicateRequests, 0, 'no gateway request journaled twice');
  t.equal(a.duplicateClientOrderIds, 0, 'no client order id journaled twice');
  t.equal(a.duplicateOrderIds, 0, 'no order id assigned twice');
  t.equal(a.staleEpochEntries, 0, 'no input of the dead leader after its successor’s');
  t.equal(a.sourceSeqGaps + a.sourceSeqRepeats, 0, 'each instance’s inputs are numbered without a gap or a repeat');
  t.equal(a.sources.length, 2, 'both instances wrote to the journal');
  t.ok(report.stateHash?.match, `the new leader’s state hash ${report.stateHash?.live} equals a replay of the journal (${report.stateHash?.replay})`);
  t.equal(report.restarted?.role, 'warm', 'the killed instance, restarted, is the standby');
});

t.test('a paused leader (SIGSTOP) is killed by its standby, which then takes over', async (t) => {
  const ex = await ScratchExchange.start({
    label: 'pm-paused',
    runDir: shmPath(t, 'pm-paused'),
    dataDir: tempDir(t, 'pm-paused'),
    gateways: 1,
    products: [{ productId: 1, brandId: 1, tickSize: 1, lotSize: 1, referencePrice: 100, symbol: 'APPL-128' }],
    accounts: [{ accountId: 101, outletId: 1, cash: 1_000_000, units: 100 }],
  });
  t.teardown(() => ex.close());
  const hot = ex.hot()!;
  const leader = ex.pms.get(hot.instance)!;
  leader.child.kill('SIGSTOP');
  const exit = await Promise.race([leader.exited, sleep(5_000).then(() => null)]);
  t.same(exit, { code: null, signal: 'SIGKILL' }, 'the standby killed the paused leader');
  await ex.waitFor(() => ex.hot() !== null && ex.hot()!.instance !== hot.instance, 5_000, 'the standby leads');
  const s = readPmStatus(ex.runDir);
  t.equal(s.lease!.epoch, hot.epoch + 1);
  const order = ex.gateway(1).placeOrder({ accountId: 101, productId: 1, side: Side.INFLOW, price: 100, quantity: 1 })!;
  await ex.waitFor(() => order.answer !== null, 5_000, 'an order answered by the new leader');
  t.equal(order.answer!.status, OrderStatus.NEW);
  const other = ex.pmHistory.find((p) => p.instance !== hot.instance)!.process;
  t.ok(other.lines.some((l) => l.event === 'leader-killed' && l['pid'] === leader.pid), 'it says whom it killed');
});
