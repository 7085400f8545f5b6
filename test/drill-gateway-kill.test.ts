// `ims drill gateway-kill` against a real instance started with two gateways sharing their ports:
// WebSocket clients of both place orders, gateway 1 is killed with SIGKILL, its clients reconnect
// to gateway 2 and send their unanswered orders again with the same clientOrderId, and the
// supervisor restarts gateway 1, which takes orders again. The drill's report must show nothing
// lost and nothing doubled; the test then checks the journal itself, with the product manager's
// journal audit (not the drill's code): each of the drill's client order ids is journaled once, and
// there are exactly as many as the drill says were acknowledged.
import * as path from 'node:path';
import * as net from 'node:net';
import t from 'tap';
import { auditProductManagerJournal } from '../processes/product-manager/pm-journal-audit';
import { journalVerify } from '../processes/sequencer/journal-tools';
import type { GatewayKillDrillReport } from '../processes/drills/gateway-kill';
import { createImsInstance, imsAsync, until, type ImsInstance } from './support/ims-instance';

/** Two ports free right now (the instance's gateways share them, as in production). */
async function freePorts(): Promise<[number, number]> {
  const servers = [net.createServer(), net.createServer()];
  const ports = await Promise.all(servers.map((s) => new Promise<number>((resolve) => s.listen(0, '0.0.0.0', () => resolve((s.address() as net.AddressInfo).port)))));
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return [ports[0]!, ports[1]!];
}

let inst: ImsInstance;

t.before(async () => {
  // Both gateways listen on the same trading and public ports (SO_REUSEPORT, the production
  // topology): the kernel spreads connections, and the drill finds which gateway serves each one.
  const [trading, pub] = await freePorts();
  inst = createImsInstance('gwkill', ['--gateways', '2', '--trading-port', String(trading), '--public-port', String(pub)]);
  t.teardown(() => inst.destroy());
  inst.start();
  await until('both gateways to listen', () => (inst.log().match(/"event":"gateway-ready"/g) ?? []).length >= 2, 60_000);
  await until('the demo day to open', () => /"event":"trading-day-open"/.test(inst.log()), 60_000);
  await until('a hot engine', () => /"event":"engine-hot"/.test(inst.log()), 30_000);
});

t.test('kill -9 of a gateway under load: its clients move to the other gateway; no acknowledged order is lost or doubled', async (t) => {
  const run = await imsAsync(inst, ['drill', 'gateway-kill', '--json', '--load-ms', '3000', '--orders-per-second', '200'], 75_000);
  t.equal(run.err, '', 'the drill wrote nothing to stderr');
  const report = JSON.parse(run.out) as GatewayKillDrillReport;
  t.comment(`detection ${report.detectionMs?.first.toFixed(1)} ms (last client ${report.detectionMs?.last.toFixed(1)} ms), RTO ${report.rtoMs?.toFixed(1)} ms, every client recovered ${report.recoveredMs?.toFixed(1)} ms, gateway 1 back ${report.restarted?.afterMs.toFixed(0)} ms`);
  t.same(report.problems, [], 'the drill found no problem');
  t.equal(run.code, 0, 'and exits 0');
  t.equal(report.gateways.length, 2, 'two gateways served');
  t.equal(report.gateways[0]!.port, report.gateways[1]!.port, 'on one shared trading port');
  for (const g of ['1', '2']) t.ok((report.acknowledgedBeforeKill[g] ?? 0) > 0, `gateway ${g} acknowledged orders before the kill`);
  t.equal(report.killed?.gatewayId, 1);
  t.ok(report.killed!.clientsConnected > 0, `${report.killed!.clientsConnected} clients were on gateway 1`);
  t.ok(report.killed!.requestsInFlight > 0, `gateway 1 was killed with ${report.killed!.requestsInFlight} requests of its clients in flight`);
  t.comment(`answers lost with gateway 1: ${report.orders?.answersLost}, resends: ${report.orders?.resent}`);
  t.ok(report.detectionMs !== null && report.detectionMs.last < 5_000, 'every client of gateway 1 saw its connection close');
  t.ok(report.rtoMs !== null && report.rtoMs < 10_000, 'a client of gateway 1 was acknowledged again on another connection');
  t.equal(report.reconnectedTo['2'], report.killed!.clientsConnected, 'every client of gateway 1 reconnected to gateway 2');
  t.ok(report.restarted !== null && report.restarted.pid !== report.killed!.pid, 'the supervisor restarted gateway 1 (a new process)');
  t.ok(report.restarted!.acknowledged >= 20, `the restarted gateway 1 acknowledged ${report.restarted!.acknowledged} orders`);

  const o = report.orders!;
  t.equal(o.lost, 0, 'no acknowledged order is missing from the journal');
  t.equal(o.doubled, 0, 'no client order is in the journal twice');
  t.equal(o.wrongOrderId, 0, 'each acknowledgement named the journaled order');
  t.equal(o.unanswered, 0, 'every order was answered in the end');
  t.equal(o.journaledExactlyOnce, o.acknowledged, 'every acknowledged order is journaled exactly once');
  t.ok(o.acknowledged > 300, `${o.acknowledged} orders acknowledged`);
  t.equal(o.answersLostJournaled, o.answersLost, 'every order whose answer died with gateway 1 was answered after its resend, and is journaled once');
  t.ok(report.journal!.verify.ok && report.journal!.verify.mismatches === 0, 'the journal replays to the engine outputs and state hashes');
  t.ok(report.journal!.verify.checkpointsCompared >= 1, `${report.journal!.verify.checkpointsCompared} engine checkpoint state hashes equal the replay's`);
  t.ok(report.journal!.productManager.ok, 'the product-manager replay conserves cash and stock and finds no duplicate');

  const status = inst.status();
  const gw1 = status.processes.find((p: { name: string }) => p.name === 'gateway-1');
  t.ok(gw1.restarts >= 1 && gw1.alive, `the supervisor shows gateway-1 restarted (${gw1.restarts}) and alive`);

  // The journal, read by other code than the drill's: the stopped instance's whole journal.
  await inst.stop();
  const journalDir = path.join(inst.dataDir, 'journal');
  const verify = journalVerify({ dataDir: journalDir, engine: true, out: () => undefined });
  t.ok(verify.ok, `journal verify (CRC, seq chain, engine replay): ${JSON.stringify(verify.problems).slice(0, 200)}`);
  const audit = auditProductManagerJournal({ journalDir });
  t.same(audit.problems, [], 'the product-manager journal audit finds no problem');
  t.equal(audit.duplicateClientOrderIds, 0, 'no client order id is used by two orders');
  const drillOrders = [...audit.ordersByClientOrderId.keys()].filter((k) => k.split('/')[1]!.startsWith(`${report.tag}-`));
  t.equal(drillOrders.length, o.acknowledged, `the journal holds exactly the ${o.acknowledged} acknowledged orders of the drill`);
});
