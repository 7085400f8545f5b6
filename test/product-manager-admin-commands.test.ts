// Administrative commands forwarded by the product manager are checked first, under the same
// conditions in which the journaled command would change nothing, so bad input never reaches the
// sequencer; and a journaled one that cannot apply changes nothing, identically on every replica.
import t from 'tap';
import { RejectReason, RiskRuleKind } from '../bus/enums';
import { encode } from '../bus/codec';
import { Deposit, HaltProduct, InventoryDispatch, InventoryReceipt, ListProduct, SetRiskRule, Withdraw, type AnyMessage, type ValueOf } from '../bus/schema';
import { JournalBuilder } from '../processes/product-manager/journal-builder';
import { ProductManagerState } from '../processes/product-manager/product-manager-state';

const A = 101;

function state(): { journal: JournalBuilder; pm: ProductManagerState } {
  const journal = new JournalBuilder();
  journal.listProduct(1, 5, 1, 1, 100);
  journal.openAccount(A);
  journal.deposit(A, 1_000);
  journal.receiveInventory(A, 1, 10);
  const pm = new ProductManagerState({ maxAccounts: 16, maxProducts: 4, maxBrands: 4, initialOrderSlots: 16, sourceId: 1 });
  journal.replayInto(pm);
  return { journal, pm };
}

function check<M extends AnyMessage>(pm: ProductManagerState, desc: M, value: ValueOf<M>): number {
  const body = new DataView(new ArrayBuffer(desc.size));
  encode(desc, value, body, 0);
  return pm.checkAdminCommand(desc.typeId, body, 0);
}

t.test('deposits and receipts: a known account and product, a positive amount, no overflow', (t) => {
  const { pm } = state();
  t.equal(check(pm, Deposit, { amount: 5, reference: 1, accountId: A }), 0);
  t.equal(check(pm, Deposit, { amount: 5, reference: 1, accountId: 999 }), RejectReason.ACCOUNT_NOT_ACTIVE);
  t.equal(check(pm, Deposit, { amount: 0, reference: 1, accountId: A }), RejectReason.INVALID_COMMAND);
  t.equal(check(pm, Deposit, { amount: Number.MAX_SAFE_INTEGER, reference: 1, accountId: A }), RejectReason.INVALID_COMMAND, 'the balance would leave the safe range');
  t.equal(check(pm, InventoryReceipt, { quantity: 5, reference: 2, accountId: A, productId: 1 }), 0);
  t.equal(check(pm, InventoryReceipt, { quantity: 5, reference: 2, accountId: A, productId: 9 }), RejectReason.UNKNOWN_PRODUCT);
  t.equal(check(pm, InventoryReceipt, { quantity: -5, reference: 2, accountId: A, productId: 1 }), RejectReason.INVALID_COMMAND);
  t.end();
});

t.test('withdrawals and dispatches are checked against what is available, and held', (t) => {
  const { pm } = state();
  t.equal(check(pm, Withdraw, { amount: 1_001, reference: 3, accountId: A }), RejectReason.INSUFFICIENT_FUNDS);
  t.equal(check(pm, Withdraw, { amount: 600, reference: 3, accountId: A }), 0);
  t.equal(check(pm, Withdraw, { amount: 600, reference: 4, accountId: A }), RejectReason.INSUFFICIENT_FUNDS, 'the first one is held');
  t.equal(check(pm, InventoryDispatch, { quantity: 11, reference: 5, accountId: A, productId: 1 }), RejectReason.INSUFFICIENT_INVENTORY);
  t.equal(check(pm, InventoryDispatch, { quantity: 10, reference: 5, accountId: A, productId: 1 }), 0);
  t.equal(pm.inFlightCount, 2);
  pm.assertInvariants();
  t.end();
});

t.test('risk rules, listings and product states', (t) => {
  const { pm } = state();
  t.equal(check(pm, SetRiskRule, { limit: 10, accountId: A, brandId: 5, ruleKind: RiskRuleKind.BRAND_DAILY_UNITS }), 0);
  t.equal(check(pm, SetRiskRule, { limit: 10, accountId: A, brandId: 5, ruleKind: RiskRuleKind.NOTIONAL_DAILY }), RejectReason.INVALID_COMMAND, 'notional is across brands');
  t.equal(check(pm, SetRiskRule, { limit: 10, accountId: 0, brandId: 0, ruleKind: 9 }), RejectReason.INVALID_COMMAND);
  const listing = { tickSize: 1, lotSize: 1, referencePrice: 10, productId: 2, brandId: 5, selfTradePolicy: 0, symbol: 'X', brand: 'B' };
  t.equal(check(pm, ListProduct, listing), 0);
  t.equal(check(pm, ListProduct, { ...listing, productId: 1 }), RejectReason.PRODUCT_ALREADY_LISTED);
  t.equal(check(pm, ListProduct, { ...listing, tickSize: 0 }), RejectReason.INVALID_COMMAND);
  t.equal(check(pm, HaltProduct, { productId: 1 }), 0);
  t.equal(check(pm, HaltProduct, { productId: 3 }), RejectReason.UNKNOWN_PRODUCT);
  t.end();
});

t.test('a journaled admin command that cannot apply changes nothing and says why', (t) => {
  const { journal, pm } = state();
  const before = pm.stateHashHex();
  journal.append(Withdraw, { amount: 5_000, reference: 9, accountId: A }, { sourceId: 66 });
  journal.replayInto(pm, journal.length - 1);
  t.equal(pm.lastApplyResult, RejectReason.INSUFFICIENT_FUNDS);
  journal.append(InventoryDispatch, { quantity: 50, reference: 10, accountId: A, productId: 1 }, { sourceId: 66 });
  journal.replayInto(pm, journal.length - 1);
  t.equal(pm.lastApplyResult, RejectReason.INSUFFICIENT_INVENTORY);
  t.equal(pm.ignoredEntries, 2);
  t.match(pm.account(A), { cash: 1_000 });
  t.not(pm.stateHashHex(), before, 'the journal position moved');
  const replayed = new ProductManagerState({ maxAccounts: 16, maxProducts: 4, maxBrands: 4, initialOrderSlots: 16 });
  journal.replayInto(replayed);
  t.equal(replayed.stateHashHex(), pm.stateHashHex());
  t.end();
});
