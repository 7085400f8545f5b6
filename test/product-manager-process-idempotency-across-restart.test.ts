// Client order ids stay idempotent across a kill -9 of the product manager and its restart: the
// restarted process rebuilds its state from the journal, so a resubmission (a client retrying after
// a 503) returns the original order and creates nothing — whether the first attempt had been
// answered or was still in flight when the process died.

import t from 'tap';
import { Side } from '../bus/enums';
import { OrderStatus, TypeId } from '../bus/schema';
import { ScratchExchange, entryView } from '../processes/product-manager/drill-exchange';
import { auditProductManagerJournal } from '../processes/product-manager/pm-journal-audit';
import { readPmStatus } from '../processes/product-manager/pm-status';
import { readChars } from '../bus/codec';
import { JOURNAL_HEADER_BYTES, NewOrder } from '../bus/schema';
import { shmPath } from './support/shm';
import { tempDir } from './support/journal-harness';
import * as path from 'node:path';

const ALICE = 101;
const PRODUCT = 1;

t.test('the same clientOrderId resent after a kill -9 and a restart creates one order', async (t) => {
  const ex = await ScratchExchange.start({
    label: 'pm-idem',
    runDir: shmPath(t, 'pm-idem'),
    dataDir: tempDir(t, 'pm-idem'),
    gateways: 1,
    instances: ['a'],
    products: [{ productId: PRODUCT, brandId: 1, tickSize: 1, lotSize: 1, referencePrice: 100, symbol: 'APPL-128' }],
    accounts: [{ accountId: ALICE, outletId: 11, cash: 1_000_000, units: 0 }],
    leaseTimeoutMs: 1_000,
  });
  t.teardown(() => ex.close());
  const gw = ex.gateway(1);
  const first = gw.placeOrder({ accountId: ALICE, productId: PRODUCT, side: Side.INFLOW, price: 100, quantity: 5, clientOrderId: 'kiosk-7-0001' })!;
  await ex.waitFor(() => first.answer !== null, 5_000, 'the first order answered');
  t.equal(first.answer!.status, OrderStatus.NEW);
  const orderId = first.answer!.orderId;

  // A second order in flight when the product manager dies (its answer may or may not come).
  const inFlight = gw.placeOrder({ accountId: ALICE, productId: PRODUCT, side: Side.INFLOW, price: 100, quantity: 3, clientOrderId: 'kiosk-7-0002' })!;
  const killed = ex.pms.get('a')!;
  const exit = await killed.kill('SIGKILL');
  t.equal(exit.signal, 'SIGKILL', 'killed with SIGKILL');
  const epochBefore = readPmStatus(ex.runDir).lease!.epoch;

  const restarted = ex.startPm('a');
  await restarted.waitForEvent('pm-hot', 15_000);
  t.equal(readPmStatus(ex.runDir).lease!.epoch, epochBefore + 1, 'the restarted instance leads with the next epoch');

  const again = gw.placeOrder({ accountId: ALICE, productId: PRODUCT, side: Side.INFLOW, price: 100, quantity: 5, clientOrderId: 'kiosk-7-0001' })!;
  await ex.waitFor(() => again.answer !== null, 5_000, 'the resubmission answered');
  t.equal(again.answer!.orderId, orderId, 'the resubmission is answered with the original order');
  t.equal(again.answer!.requestId, again.requestId, 'on the resubmission’s own request');
  t.equal(again.answer!.clientOrderId, 'kiosk-7-0001');
  t.equal(again.answer!.status, OrderStatus.NEW);

  const retried = gw.placeOrder({ accountId: ALICE, productId: PRODUCT, side: Side.INFLOW, price: 100, quantity: 3, clientOrderId: 'kiosk-7-0002' })!;
  await ex.waitFor(() => retried.answer !== null, 5_000, 'the retried in-flight order answered');
  t.ok(retried.answer!.orderId > 0, 'the in-flight order exists exactly once now');
  if (inFlight.answer !== null) t.equal(retried.answer!.orderId, inFlight.answer.orderId, 'and it is the order the first attempt created');

  await ex.settle();
  const journal = ex.journal();
  const byCoid = new Map<string, number[]>();
  for (const e of journal.filter((x) => x.typeId === TypeId.NewOrder)) {
    const v = entryView(e);
    const coid = readChars(v, JOURNAL_HEADER_BYTES + NewOrder.o.clientOrderId, 24);
    byCoid.set(coid, [...(byCoid.get(coid) ?? []), v.getUint32(JOURNAL_HEADER_BYTES + NewOrder.o.orderId, true)]);
  }
  t.same(byCoid.get('kiosk-7-0001'), [orderId], 'one NewOrder for kiosk-7-0001 in the journal');
  t.same(byCoid.get('kiosk-7-0002'), [retried.answer!.orderId], 'one NewOrder for kiosk-7-0002 in the journal');
  const audit = auditProductManagerJournal({ journalDir: path.join(ex.dataDir, 'journal') });
  t.same(audit.problems, [], 'the journal audit: sourceSeq continues after the restart, no duplicate, cash conserved');
  t.equal(audit.duplicateClientOrderIds, 0);
  t.match(audit.sources, [{ sourceId: 10, epochs: [1, 2] }], 'pm-a wrote under epoch 1, then 2');
});
