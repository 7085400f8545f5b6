// The newcomer's path through the real system, every process real (gateway, product managers,
// sequencer, hot and warm engines, control): two demo colleagues log in over HTTP, one posts an
// inflow, the other a crossing outflow; both get their executions (REST answer and a WebSocket
// push), the fill is at the resting price, the journal replays to the same engine outputs, and the
// reporter's database reconciles with the journal.
import * as path from 'node:path';
import t from 'tap';
import { journalVerify } from '../processes/sequencer/journal-tools';
import { createImsInstance } from './support/ims-instance';
import { gatewayHttp, tradingPortWhenReady } from './support/gateway-http';
import { isRefusal, TestWebSocket } from './support/gateway-ws-client';

const inst = createImsInstance('e2e', ['--trading-port', '0', '--public-port', '0']);
t.teardown(() => inst.destroy());

let port = 0;
const { call, login } = gatewayHttp(() => port);

t.before(async () => {
  inst.start();
  port = await tradingPortWhenReady(inst, 60_000);
});

t.test('an inflow and a crossing outflow of two colleagues fill at the resting price, and both hear of it', async (t) => {
  const { token: alice } = await login('alice', 'kiosk-101-demo');
  const { token: bruno } = await login('bruno', 'kiosk-102-demo');
  const ws = await TestWebSocket.connect(port, { protocols: ['ims.v1', `ims-token.${alice}`] });
  if (isRefusal(ws)) throw new Error(`stream refused: ${ws.status} ${ws.body}`);
  t.teardown(() => ws.destroy());

  const placed = await call('POST', '/v1/transact', { symbol: 'APPL-128', side: 'inflow', price: '899.00', quantity: 5, clientOrderId: 'e2e-alice-1' }, alice);
  t.equal(placed.status, 200, `alice's inflow is answered 200 (${JSON.stringify(placed.json)})`);
  t.match(placed.json, { symbol: 'APPL-128', side: 'inflow', price: '899.00', quantity: 5, status: 'added', filledQuantity: 0, remainingQuantity: 5 });

  const crossing = await call('POST', '/v1/transact', { symbol: 'APPL-128', side: 'outflow', price: '898.00', quantity: 3 }, bruno);
  t.equal(crossing.status, 200);
  t.match(crossing.json, { side: 'outflow', status: 'filled', filledQuantity: 3, remainingQuantity: 0, lastPrice: '899.00', lastQuantity: 3 }, "bruno's outflow fills at alice's resting price");

  const pushed = await ws.waitFor((m) => m['type'] === 'execution' && (m['order'] as any).id === placed.json.id, 10_000);
  t.match(pushed, { order: { status: 'partially_filled', filledQuantity: 3, remainingQuantity: 2, lastPrice: '899.00', lastQuantity: 3 } }, 'alice is pushed her fill at once');

  const again = await call('POST', '/v1/transact', { symbol: 'APPL-128', side: 'inflow', price: '899.00', quantity: 5, clientOrderId: 'e2e-alice-1' }, alice);
  t.equal(again.json.id, placed.json.id, 'the same clientOrderId returns the original order, creating nothing');

  const seen = await call('GET', `/v1/transact/${placed.json.id}`, undefined, alice);
  t.match(seen.json, { filledQuantity: 3, remainingQuantity: 2 });
  const foreign = await call('GET', `/v1/transact/${placed.json.id}`, undefined, bruno);
  t.equal(foreign.status, 404, "bruno cannot read alice's order");
  const cancel = await call('DELETE', `/v1/transact/${placed.json.id}`, undefined, bruno);
  t.ok(cancel.status === 404 || cancel.status === 403, `bruno cannot remove alice's order (${cancel.status})`);
  const removed = await call('DELETE', `/v1/transact/${placed.json.id}`, undefined, alice);
  t.match(removed.json, { status: 'removed', remainingQuantity: 0 }, 'alice removes the rest');
});

t.test('the journal verifies: CRCs, gap-free sequence, and a fresh engine replays to the recorded outputs', async (t) => {
  await inst.stop();
  const report = journalVerify({ dataDir: path.join(inst.dataDir, 'journal'), engine: true, out: () => undefined });
  t.ok(report.ok, `verify ok (${JSON.stringify(report.problems).slice(0, 300)})`);
  t.ok((report.countsByType as Record<string, number>)['Fill']! >= 1, 'the fill is in the journal');
  const reconciled = inst.ims('reconcile');
  t.equal(reconciled.code, 0, `ims reconcile finds the report database equal to the journal:\n${reconciled.out}${reconciled.err}`);
});
