// The product-manager pair as real processes between ring-level gateways and a real sequencer (the
// engine library follows the journal in this process): an order placed through the bus reserves
// funds, is journaled, fills against another colleague's order, both wallets settle, and each
// colleague gets execution reports on its own gateway. Also: the standby only follows the journal,
// the status files, and SIGTERM.

import t, { type Test } from 'tap';
import { RejectReason, Side } from '../bus/enums';
import { RingFile } from '../bus/ring';
import { Deposit, NewOrder, OrderStatus, TypeId, Withdraw } from '../bus/schema';
import { SourceId } from '../bus/source-ids';
import { ScratchExchange, replayProductManager, type DrillAccount } from '../processes/product-manager/drill-exchange';
import { gatewayToPmRing, pmToGatewayRing } from '../processes/product-manager/pm-paths';
import { readPmStatus } from '../processes/product-manager/pm-status';
import { shmPath } from './support/shm';
import { tempDir } from './support/journal-harness';

const PRODUCT = 1;
const ALICE = 101; // trades through gateway 1
const BOB = 202; // trades through gateway 2
const ACCOUNTS: DrillAccount[] = [
  { accountId: ALICE, outletId: 11, cash: 1_000_000, units: 1_000 },
  { accountId: BOB, outletId: 12, cash: 1_000_000, units: 1_000 },
];

async function exchange(t: Test, label: string): Promise<ScratchExchange> {
  const ex = await ScratchExchange.start({
    label,
    runDir: shmPath(t, label),
    dataDir: tempDir(t, label),
    gateways: 2,
    products: [{ productId: PRODUCT, brandId: 1, tickSize: 1, lotSize: 1, referencePrice: 100, symbol: 'APPL-128' }],
    accounts: ACCOUNTS,
    // Far above the default 50 ms: these tests are about the trade path, and a loaded test machine
    // must not provoke a failover in the middle (the pm-failover tests use the default).
    leaseTimeoutMs: 1_000,
  });
  t.teardown(() => ex.close());
  return ex;
}

t.test('an inflow placed through the bus reserves cash, fills against another colleague’s outflow, and both wallets settle', async (t) => {
  const ex = await exchange(t, 'pm-trade');
  const buy = ex.gateway(1).placeOrder({ accountId: ALICE, productId: PRODUCT, side: Side.INFLOW, price: 100, quantity: 10, clientOrderId: 'alice-1' })!;
  await ex.waitFor(() => buy.answer !== null, 5_000, 'the buy answered');
  t.match(buy.answer, { status: OrderStatus.NEW, accountId: ALICE, gatewayId: 1, quantity: 10, remainingQuantity: 10, clientOrderId: 'alice-1' }, 'accepted and resting');
  t.ok(buy.answer!.orderId > 0 && buy.answer!.eventSeq > 0, 'an order id assigned by the product manager, an event from the journal');
  await ex.settle();
  let state = replayProductManager(ex.journal());
  t.equal(state.account(ALICE)!.cashReserved, 1_000, 'price × quantity of cash reserved (journal-derived)');
  t.equal(state.account(ALICE)!.cashAvailable, 999_000);

  const sell = ex.gateway(2).placeOrder({ accountId: BOB, productId: PRODUCT, side: Side.OUTFLOW, price: 100, quantity: 10, clientOrderId: 'bob-1' })!;
  await ex.waitFor(() => sell.answer !== null, 5_000, 'the sell answered');
  t.match(sell.answer, { status: OrderStatus.FILLED, accountId: BOB, gatewayId: 2, filledQuantity: 10, lastPrice: 100, lastQuantity: 10 }, 'the taker’s answer is its fill');
  await ex.waitFor(() => buy.reports.some((r) => r.status === OrderStatus.FILLED), 5_000, 'the resting buy’s fill report');
  const makerFill = buy.reports.find((r) => r.status === OrderStatus.FILLED)!;
  t.match(makerFill, { orderId: buy.answer!.orderId, gatewayId: 1, requestId: buy.requestId, filledQuantity: 10, lastPrice: 100, execId: sell.answer!.execId }, 'the maker hears of its fill on its own gateway');
  t.notOk(ex.gateway(1).reports.some((r) => r.accountId === BOB), 'gateway 1 got nothing of Bob’s');
  t.notOk(ex.gateway(2).reports.some((r) => r.accountId === ALICE), 'gateway 2 got nothing of Alice’s');

  await ex.settle();
  const journal = ex.journal();
  const newOrders = journal.filter((e) => e.typeId === TypeId.NewOrder);
  t.equal(newOrders.length, 2, 'both orders reached the sequencer');
  t.ok(newOrders.every((e) => e.sourceId === SourceId.PRODUCT_MANAGER_A || e.sourceId === SourceId.PRODUCT_MANAGER_B), 'forwarded by the product manager under its own source id');
  t.ok(journal.some((e) => e.typeId === TypeId.Fill && e.sourceId === SourceId.ENGINE_A), 'the fill is journaled from the engine');
  state = replayProductManager(journal);
  t.match(state.account(ALICE), { cash: 999_000, cashReserved: 0, cashAvailable: 999_000 }, 'the buyer paid 10 × 100 and nothing stays reserved');
  t.match(state.position(ALICE, PRODUCT), { units: 1_010, reserved: 0 });
  t.match(state.account(BOB), { cash: 1_001_000, cashReserved: 0 });
  t.match(state.position(BOB, PRODUCT), { units: 990, reserved: 0 }, 'the seller’s stock left its wallet');
  t.equal(state.totalCash(), 2_000_000, 'cash is conserved');
  t.equal(state.totalUnits(PRODUCT), 2_000, 'stock is conserved');
  state.assertInvariants();

  const status = readPmStatus(ex.runDir);
  const hot = status.instances.find((s) => s.role === 'hot')!;
  t.equal(status.leader, hot.instance, 'the lease names the hot instance');
  t.ok(status.instances.some((s) => s.role === 'warm' && s.alive), 'the other instance is the warm standby');
  t.equal(hot.ordersForwarded, 2);
  // SIGUSR2 asks for a fresh hash (the hot may hash on request only).
  for (const s of readPmStatus(ex.runDir).instances) process.kill(s.pid, 'SIGUSR2');
  await ex.waitFor(() => readPmStatus(ex.runDir).instances.every((s) => s.lastSeq === journal.length && s.hashSeq === journal.length), 5_000, 'both instances hashed the last entry');
  const expected = replayProductManager(journal).stateHashHex();
  for (const s of readPmStatus(ex.runDir).instances) t.equal(s.stateHash, expected, `pm-${s.instance}'s published state hash equals a replay of the journal`);
});

t.test('only the hot attaches to the gateway rings; the warm follows the journal and writes nothing', async (t) => {
  const ex = await exchange(t, 'pm-warm');
  const status = readPmStatus(ex.runDir);
  const hot = status.instances.find((s) => s.role === 'hot')!;
  const warm = status.instances.find((s) => s.role === 'warm')!;
  for (let g = 1; g <= 2; g++) {
    const toPm = RingFile.open(gatewayToPmRing(ex.runDir, g)).consumers().find((c) => c.name === 'pm')!;
    t.equal(toPm.pid, hot.pid, `gw${g}-to-pm is read by the hot (pid ${hot.pid})`);
    t.equal(RingFile.open(pmToGatewayRing(ex.runDir, g)).producerPid(), hot.pid, `pm-to-gw${g} is written by the hot`);
  }
  t.equal(warm.commandsForwarded, 0);
  t.equal(warm.reportsSent, 0);
  t.equal(warm.epoch, 0, 'the warm holds no epoch');
});

t.test('admin commands go through the product manager: a withdrawal beyond available cash is refused, a deposit is journaled', async (t) => {
  const ex = await exchange(t, 'pm-admin');
  const gw = ex.gateway(1);
  const hold = gw.placeOrder({ accountId: ALICE, productId: PRODUCT, side: Side.INFLOW, price: 100, quantity: 9_000 })!;
  await ex.waitFor(() => hold.answer !== null, 5_000, 'the order answered');
  t.equal(hold.answer!.status, OrderStatus.NEW, '900,000 of 1,000,000 reserved');
  t.ok(gw.sendAdmin(Withdraw, { amount: 200_000, reference: 7001, accountId: ALICE }) > 0);
  t.ok(gw.sendAdmin(Withdraw, { amount: 50_000, reference: 7002, accountId: ALICE }) > 0);
  t.ok(gw.sendAdmin(Deposit, { amount: 5_000, reference: 7003, accountId: BOB }) > 0);
  await ex.waitFor(() => (ex.hot()?.adminRejected ?? 0) >= 1 && ex.journal().some((e) => e.typeId === TypeId.Deposit && e.sourceId !== SourceId.CONTROL), 5_000, 'the admin commands handled');
  await ex.settle();
  const journal = ex.journal();
  const withdrawals = journal.filter((e) => e.typeId === Withdraw.typeId);
  t.equal(withdrawals.length, 1, 'only the withdrawal that fits the available cash is journaled');
  t.equal(new DataView(withdrawals[0]!.bytes.buffer, withdrawals[0]!.bytes.byteOffset).getUint32(32 + Withdraw.o.amount, true), 50_000);
  const state = replayProductManager(journal);
  t.match(state.account(ALICE), { cash: 950_000, cashReserved: 900_000 }, 'the reservation was respected');
  t.equal(state.account(BOB)!.cash, 1_005_000);
  t.equal(hold.answer!.reason, RejectReason.NONE);
  t.equal(journal.filter((e) => e.typeId === NewOrder.typeId).length, 1);
});

t.test('SIGTERM: the hot flushes, releases the rings and exits 0; the warm takes over and serves', async (t) => {
  const ex = await exchange(t, 'pm-term');
  const hot = ex.hot()!;
  const child = ex.pms.get(hot.instance)!;
  const exit = await child.kill('SIGTERM');
  t.same(exit, { code: 0, signal: null }, 'exit code 0');
  t.ok(child.lines.some((l) => l.event === 'pm-stopped' && l['wasHot'] === true), 'it said it stopped');
  t.equal(readPmStatus(ex.runDir).instances.find((s) => s.instance === hot.instance)!.role, 'stopped');
  await ex.waitFor(() => ex.hot() !== null && ex.hot()!.instance !== hot.instance, 5_000, 'the warm took over');
  const buy = ex.gateway(2).placeOrder({ accountId: BOB, productId: PRODUCT, side: Side.INFLOW, price: 100, quantity: 1 })!;
  await ex.waitFor(() => buy.answer !== null, 5_000, 'an order answered by the new leader');
  t.equal(buy.answer!.status, OrderStatus.NEW);
});
