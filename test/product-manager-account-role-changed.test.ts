// AccountRoleChanged in the journal: the product manager gives the account its new role and
// outlet (only colleagues trade, so a colleague made staff is refused new orders, and made a
// colleague again trades), keeps it active or suspended as it was, ignores an unknown account,
// and a fresh replay or a snapshot reaches the same state. The engine ignores the message.
import t from 'tap';
import { AccountRole, RejectReason, Side } from '../bus/enums';
import { AccountRoleChanged } from '../bus/schema';
import { ADMIN_SOURCE_ID } from '../processes/product-manager/journal-builder';
import { InProcessExchange } from '../processes/product-manager/in-process-exchange';
import { InProcessProductManager } from '../processes/product-manager/in-process-product-manager';
import { ProductManagerState } from '../processes/product-manager/product-manager-state';

const PRODUCT = 1;
const ALICE = 101;
const BOB = 202;
const SMALL = { maxAccounts: 16, maxProducts: 8, initialOrderSlots: 16 };

function market(): { ex: InProcessExchange; pm: InProcessProductManager; settle: () => void } {
  const ex = new InProcessExchange();
  const j = ex.journal;
  j.listProduct(PRODUCT, 5, 1, 1, 100);
  j.openAccount(ALICE, 1);
  j.openAccount(BOB, 2);
  j.deposit(ALICE, 100_000);
  j.receiveInventory(BOB, PRODUCT, 50);
  j.openTradingDay(20250106);
  const pm = new InProcessProductManager(j, SMALL);
  const settle = (): void => {
    ex.settle();
    pm.poll();
  };
  settle();
  return { ex, pm, settle };
}

let roleSeq = 10_000;
function changeRole(ex: InProcessExchange, accountId: number, role: number, outletId: number): void {
  ex.journal.append(AccountRoleChanged, { accountId, outletId, role }, { sourceId: ADMIN_SOURCE_ID, sourceSeq: ++roleSeq });
}

t.test('a colleague made analyst may not trade; made a colleague again, it trades; cash and status are kept', (t) => {
  const { ex, pm, settle } = market();
  t.equal(pm.submitNewOrder(ALICE, PRODUCT, Side.INFLOW, 100, 1), 0, 'a colleague trades');
  settle();
  const cash = pm.state.account(ALICE)!.cash;

  const outputsBefore = ex.pendingOutputs;
  changeRole(ex, ALICE, AccountRole.ANALYST, 0);
  ex.runEngine();
  t.equal(ex.pendingCommands, 0, 'the engine read past the role change');
  t.equal(ex.pendingOutputs, outputsBefore, 'and has nothing to say about it');
  settle();
  t.match(pm.state.account(ALICE), { role: AccountRole.ANALYST, outletId: 0, active: true, cash });
  t.equal(pm.submitNewOrder(ALICE, PRODUCT, Side.INFLOW, 100, 1), RejectReason.ACCOUNT_NOT_ACTIVE, 'staff do not trade');

  changeRole(ex, ALICE, AccountRole.COLLEAGUE, 9);
  settle();
  t.match(pm.state.account(ALICE), { role: AccountRole.COLLEAGUE, outletId: 9, active: true, cash });
  t.equal(pm.submitNewOrder(ALICE, PRODUCT, Side.INFLOW, 100, 1), 0, 'a colleague again: trades');
  t.end();
});

t.test('a role change leaves a suspension in place; an unknown account is ignored and not created', (t) => {
  const { ex, pm, settle } = market();
  ex.journal.suspendAccount(BOB);
  changeRole(ex, BOB, AccountRole.OPERATOR, 0);
  const ignoredBefore = pm.state.ignoredEntries;
  changeRole(ex, 999, AccountRole.ADMIN, 0);
  settle();
  t.match(pm.state.account(BOB), { role: AccountRole.OPERATOR, outletId: 0, active: false });
  t.equal(pm.state.account(999), undefined, 'no account appears from a role change');
  t.equal(pm.state.ignoredEntries, ignoredBefore + 1, 'the change for an unknown account is counted as ignored');
  t.end();
});

t.test('a fresh replay and a snapshot restore reach the same state after role changes', (t) => {
  const { ex, pm, settle } = market();
  changeRole(ex, ALICE, AccountRole.RISK_ADMIN, 0);
  pm.submitNewOrder(BOB, PRODUCT, Side.OUTFLOW, 100, 5);
  settle();
  changeRole(ex, BOB, AccountRole.ANALYST, 0);
  settle();
  const replayed = new ProductManagerState({ ...SMALL, sourceId: 500 });
  ex.journal.replayInto(replayed, 0, ex.journal.length);
  t.equal(replayed.stateHashHex(), pm.state.stateHashHex(), 'replay from the start');
  t.match(replayed.account(ALICE), { role: AccountRole.RISK_ADMIN, outletId: 0 });
  const restored = ProductManagerState.restore(pm.state.snapshot(), { ...SMALL, sourceId: 1 });
  t.equal(restored.stateHashHex(), pm.state.stateHashHex(), 'snapshot and restore');
  t.match(restored.account(BOB), { role: AccountRole.ANALYST });
  t.end();
});
