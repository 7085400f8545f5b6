// No one changes what is not theirs, through the same ring path the gateway uses: a colleague cannot
// cancel or amend another account's order (refused before sequencing with not_owner, and the answer
// carries nothing of the other account's order), a command cannot have its replies routed to
// another gateway, and reports only ever go to the gateway of the order's own session.

import t from 'tap';
import { RejectReason, Side } from '../bus/enums';
import { CancelOrder, OrderStatus, TypeId } from '../bus/schema';
import { ScratchExchange, replayProductManager } from '../processes/product-manager/drill-exchange';
import { shmPath } from './support/shm';
import { tempDir } from './support/journal-harness';

const ALICE = 101; // gateway 1
const BOB = 202; // gateway 2
const PRODUCT = 1;

t.test('a colleague cannot cancel or amend another account’s order through the ring path', async (t) => {
  const ex = await ScratchExchange.start({
    label: 'pm-authz',
    runDir: shmPath(t, 'pm-authz'),
    dataDir: tempDir(t, 'pm-authz'),
    gateways: 2,
    instances: ['a'],
    products: [{ productId: PRODUCT, brandId: 1, tickSize: 1, lotSize: 1, referencePrice: 100, symbol: 'APPL-128' }],
    accounts: [
      { accountId: ALICE, outletId: 11, cash: 1_000_000, units: 100 },
      { accountId: BOB, outletId: 12, cash: 1_000_000, units: 100 },
    ],
    leaseTimeoutMs: 1_000,
  });
  t.teardown(() => ex.close());
  const alice = ex.gateway(1);
  const bob = ex.gateway(2);
  const order = alice.placeOrder({ accountId: ALICE, productId: PRODUCT, side: Side.INFLOW, price: 100, quantity: 10, clientOrderId: 'alice-private' })!;
  await ex.waitFor(() => order.answer !== null, 5_000, 'Alice’s order answered');
  const orderId = order.answer!.orderId;

  const cancel = bob.cancel(BOB, orderId)!;
  const amend = bob.amend(BOB, orderId, 99, 20)!;
  const unknown = bob.cancel(BOB, 987_654)!;
  // A command whose body names gateway 1 although it came on gateway 2's ring.
  const forged = 2_999_999;
  bob.sendAdmin(CancelOrder, { orderId, accountId: BOB, productId: 0, requestId: forged, gatewayId: 1 });
  await ex.waitFor(() => cancel.answer !== null && amend.answer !== null && unknown.answer !== null && bob.reports.some((r) => r.requestId === forged), 5_000, 'Bob’s commands answered');

  for (const [name, r] of [['cancel', cancel], ['amend', amend]] as const) {
    t.match(r.answer, { status: OrderStatus.REJECTED, reason: RejectReason.NOT_OWNER, orderId, accountId: BOB, gatewayId: 2 }, `the ${name} is refused with not_owner`);
    t.match(r.answer, { price: 0, quantity: 0, filledQuantity: 0, remainingQuantity: 0, clientOrderId: '', eventSeq: 0 }, `the ${name}'s answer tells Bob nothing of Alice's order`);
  }
  t.match(unknown.answer, { status: OrderStatus.REJECTED, reason: RejectReason.UNKNOWN_ORDER });
  t.match(bob.reports.find((r) => r.requestId === forged), { status: OrderStatus.REJECTED, reason: RejectReason.INVALID_COMMAND, gatewayId: 2 }, 'a body naming another gateway is refused, on its own ring');
  t.notOk(alice.reports.some((r) => r.requestId === forged), 'and nothing of it reaches gateway 1');

  await ex.settle();
  let journal = ex.journal();
  t.equal(journal.filter((e) => e.typeId === TypeId.CancelOrder || e.typeId === TypeId.AmendOrder).length, 0, 'none of it reached the sequencer');
  let state = replayProductManager(journal);
  t.match(state.order(orderId), { phase: 'open', price: 100, quantity: 10, remainingQuantity: 10, accountId: ALICE }, 'Alice’s order is untouched');
  t.equal(state.account(ALICE)!.cashReserved, 1_000);

  const own = alice.cancel(ALICE, orderId)!;
  await ex.waitFor(() => own.answer !== null, 5_000, 'Alice’s own cancel answered');
  t.match(own.answer, { status: OrderStatus.CANCELED, orderId, accountId: ALICE, gatewayId: 1 }, 'the owner can cancel');
  await ex.settle();
  journal = ex.journal();
  state = replayProductManager(journal);
  t.equal(state.account(ALICE)!.cashReserved, 0, 'the reservation is released');
  t.notOk(bob.reports.some((r) => r.accountId === ALICE), 'gateway 2 never received a report of Alice’s');
});
