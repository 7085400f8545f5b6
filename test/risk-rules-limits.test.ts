// Every pre-sequencing risk rule at, just under and just over its limit; rule scopes and their
// precedence; the day counters' rollover at the sequenced TradingDayOpen; and the other refusals
// of a new order (market closed, halted, delisted, account not active, tick, lot, overflow).
import t from 'tap';
import { AccountRole, RejectReason, RiskRuleKind, Side } from '../bus/enums';
import { JournalBuilder } from '../processes/product-manager/journal-builder';
import { InProcessProductManager } from '../processes/product-manager/in-process-product-manager';
import { InProcessExchange } from '../processes/product-manager/in-process-exchange';

const A = 101; // the colleague under test
const B = 202; // another colleague
const APPLE_PHONE = 1; // brand APPLE
const APPLE_WATCH = 2; // brand APPLE
const SONY_TV = 3; // brand SONY
const APPLE = 50;
const SONY = 60;
const DAY_1 = 20250106;
const DAY_2 = 20250107;
const { INFLOW, OUTFLOW } = Side;

/**
 * Products with reference price 1 (a million units is a million minor units), rich wallets, the
 * day open, and the price collar out of the way (it has its own test).
 */
function desk(referencePrice = 1): { journal: JournalBuilder; pm: InProcessProductManager } {
  const journal = new JournalBuilder();
  journal.listProduct(APPLE_PHONE, APPLE, 1, 1, referencePrice);
  journal.listProduct(APPLE_WATCH, APPLE, 1, 1, referencePrice);
  journal.listProduct(SONY_TV, SONY, 1, 1, referencePrice);
  for (const account of [A, B]) {
    journal.openAccount(account);
    journal.deposit(account, 10_000_000_000);
    for (const product of [APPLE_PHONE, APPLE_WATCH, SONY_TV]) journal.receiveInventory(account, product, 10_000_000);
  }
  journal.openTradingDay(DAY_1);
  journal.setRiskRule(RiskRuleKind.PRICE_COLLAR_BPS, 1_000_000_000);
  const pm = new InProcessProductManager(journal, { maxAccounts: 16, maxProducts: 8, initialOrderSlots: 64 });
  pm.poll();
  return { journal, pm };
}

t.test('brand daily units: 1,000,000 per colleague per brand per day by default, summed over the brand’s products', (t) => {
  const { pm } = desk();
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 1, 600_000), 0);
  t.equal(pm.submitNewOrder(A, APPLE_WATCH, OUTFLOW, 1, 399_999), 0, 'just under: 999,999 units of APPLE');
  t.equal(pm.submitNewOrder(A, APPLE_WATCH, INFLOW, 1, 2), RejectReason.RISK_BRAND_DAILY_LIMIT, 'just over: 1,000,001');
  t.equal(pm.submitNewOrder(A, APPLE_WATCH, INFLOW, 1, 1), 0, 'at the limit: 1,000,000');
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 1, 1), RejectReason.RISK_BRAND_DAILY_LIMIT);
  t.equal(pm.submitNewOrder(A, SONY_TV, INFLOW, 1, 1_000_000), 0, 'another brand has its own limit');
  t.equal(pm.submitNewOrder(B, APPLE_PHONE, INFLOW, 1, 1_000_000), 0, 'another colleague has its own limit');
  pm.poll();
  t.equal(pm.state.brandUnitsToday(A, APPLE), 1_000_000, 'counted in flight, then from the journal, once');
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 1, 1), RejectReason.RISK_BRAND_DAILY_LIMIT);
  pm.state.assertInvariants();
  t.end();
});

t.test('brand daily units: cancels do not give units back, an amend counts only its increase', (t) => {
  const { pm } = desk();
  t.equal(pm.submitNewOrder(A, APPLE_WATCH, INFLOW, 1, 500_000), 0);
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 1, 499_000), 0);
  const id = pm.state.lastOrderId;
  pm.poll();
  t.equal(pm.submitAmend(A, id, 1, 500_001), RejectReason.RISK_BRAND_DAILY_LIMIT, 'an increase of 1,001 is over');
  t.equal(pm.submitAmend(A, id, 1, 500_000), 0, 'an increase of 1,000 is at the limit');
  t.equal(pm.submitAmend(A, id, 1, 10), 0, 'a reduction counts nothing');
  t.equal(pm.submitAmend(A, id, 1, 1_000), RejectReason.RISK_BRAND_DAILY_LIMIT, 'raising it again from 10 to 1,000 is an update of 990 more units');
  t.equal(pm.state.brandUnitsToday(A, APPLE), 999_000, 'the accepted amends are in flight');
  pm.poll();
  t.equal(pm.state.brandUnitsToday(A, APPLE), 1_000_000);
  t.equal(pm.submitCancel(A, id), 0);
  pm.poll();
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 1, 1), RejectReason.RISK_BRAND_DAILY_LIMIT);
  t.end();
});

t.test('brand daily units: configurable per brand and per account, the most specific rule wins, removal falls back', (t) => {
  const { journal, pm } = desk();
  journal.setRiskRule(RiskRuleKind.BRAND_DAILY_UNITS, 100, 0, APPLE); // every account, brand APPLE
  journal.setRiskRule(RiskRuleKind.BRAND_DAILY_UNITS, 300, A, 0); // account A, every brand
  journal.setRiskRule(RiskRuleKind.BRAND_DAILY_UNITS, 200, A, APPLE); // account A, brand APPLE
  pm.poll();
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 1, 201), RejectReason.RISK_BRAND_DAILY_LIMIT, '(A, APPLE) = 200 beats (A, *) = 300');
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 1, 200), 0);
  t.equal(pm.submitNewOrder(A, SONY_TV, INFLOW, 1, 301), RejectReason.RISK_BRAND_DAILY_LIMIT, '(A, *) = 300 for SONY');
  t.equal(pm.submitNewOrder(A, SONY_TV, INFLOW, 1, 300), 0);
  t.equal(pm.submitNewOrder(B, APPLE_PHONE, INFLOW, 1, 101), RejectReason.RISK_BRAND_DAILY_LIMIT, '(*, APPLE) = 100 for B');
  t.equal(pm.submitNewOrder(B, APPLE_PHONE, INFLOW, 1, 100), 0);
  t.equal(pm.submitNewOrder(B, SONY_TV, INFLOW, 1, 1_000_000), 0, 'the default for (B, SONY)');
  journal.setRiskRule(RiskRuleKind.BRAND_DAILY_UNITS, -1, A, APPLE); // remove: (A, *) = 300 applies again
  pm.poll();
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 1, 101), RejectReason.RISK_BRAND_DAILY_LIMIT, '200 used + 101 > 300');
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 1, 100), 0, '200 used + 100 = 300');
  t.end();
});

t.test('the day counters reset at the sequenced TradingDayOpen, not before', (t) => {
  const { journal, pm } = desk();
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 1, 1_000_000), 0);
  t.equal(pm.submitNewOrder(A, SONY_TV, INFLOW, 100, 990_000), 0, 'notional 1,000,000 + 99,000,000 = the daily 100,000,000');
  pm.poll();
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 1, 1), RejectReason.RISK_BRAND_DAILY_LIMIT);
  t.equal(pm.submitNewOrder(A, SONY_TV, INFLOW, 1, 1), RejectReason.RISK_NOTIONAL_DAILY_LIMIT);
  journal.closeTradingDay(DAY_1);
  pm.poll();
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 1, 1), RejectReason.MARKET_CLOSED);
  journal.openTradingDay(DAY_2);
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 1, 1), RejectReason.MARKET_CLOSED, 'the open is sequenced but not yet applied');
  pm.poll();
  t.equal(pm.state.tradingDay, DAY_2);
  t.equal(pm.state.brandUnitsToday(A, APPLE), 0);
  t.equal(pm.state.account(A)?.notionalToday, 0);
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 1, 1_000_000), 0, 'a new day, a new million');
  t.equal(pm.submitNewOrder(A, SONY_TV, INFLOW, 100, 990_000), 0, 'and a new notional allowance');
  t.end();
});

t.test('notional daily limit: 100,000,000 minor units (1,000,000.00) by default, both sides, per account rule', (t) => {
  const { journal, pm } = desk(10_000);
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 10_000, 5_000), 0, '50,000,000');
  t.equal(pm.submitNewOrder(A, SONY_TV, OUTFLOW, 10_000, 4_999), 0, 'just under: 99,990,000');
  t.equal(pm.submitNewOrder(A, SONY_TV, OUTFLOW, 10_000, 2), RejectReason.RISK_NOTIONAL_DAILY_LIMIT, 'just over: 100,010,000');
  t.equal(pm.submitNewOrder(A, SONY_TV, OUTFLOW, 10_000, 1), 0, 'at: 100,000,000');
  t.equal(pm.submitNewOrder(A, APPLE_WATCH, INFLOW, 9_900, 1), RejectReason.RISK_NOTIONAL_DAILY_LIMIT);
  journal.setRiskRule(RiskRuleKind.NOTIONAL_DAILY, 100_019_800, A);
  pm.poll();
  t.equal(pm.submitNewOrder(A, APPLE_WATCH, INFLOW, 9_900, 2), 0, 'the account rule raises it: at 100,019,800');
  t.equal(pm.submitNewOrder(A, APPLE_WATCH, INFLOW, 9_900, 1), RejectReason.RISK_NOTIONAL_DAILY_LIMIT);
  journal.setRiskRule(RiskRuleKind.NOTIONAL_DAILY, 5, 0, APPLE);
  pm.poll();
  t.equal(pm.state.lastApplyResult, RejectReason.INVALID_COMMAND, 'a notional rule cannot name a brand: it counts across brands');
  t.end();
});

t.test('maximum order quantity: 1,000,000 by default; per brand', (t) => {
  const { journal, pm } = desk();
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 1, 1_000_001), RejectReason.RISK_MAX_ORDER_QUANTITY);
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 1, 999_999), 0);
  t.equal(pm.submitNewOrder(B, APPLE_PHONE, INFLOW, 1, 1_000_000), 0);
  journal.setRiskRule(RiskRuleKind.MAX_ORDER_QUANTITY, 10, 0, SONY);
  pm.poll();
  t.equal(pm.submitNewOrder(A, SONY_TV, INFLOW, 1, 11), RejectReason.RISK_MAX_ORDER_QUANTITY);
  t.equal(pm.submitNewOrder(A, SONY_TV, INFLOW, 1, 10), 0);
  t.equal(pm.submitNewOrder(A, SONY_TV, INFLOW, 1, 9), 0);
  const id = pm.state.lastOrderId;
  t.equal(pm.submitAmend(A, id, 1, 11), RejectReason.RISK_MAX_ORDER_QUANTITY, 'an amend is held to it too');
  t.end();
});

t.test('price collar: 10 % around the reference price, then around the last trade', (t) => {
  const ex = new InProcessExchange();
  const journal = ex.journal;
  journal.listProduct(APPLE_PHONE, APPLE, 1, 1, 1_000);
  for (const account of [A, B]) {
    journal.openAccount(account);
    journal.deposit(account, 100_000_000);
    journal.receiveInventory(account, APPLE_PHONE, 1_000);
  }
  journal.openTradingDay(DAY_1);
  const pm = new InProcessProductManager(journal, { maxAccounts: 16, maxProducts: 8, initialOrderSlots: 64 });
  const settle = (): void => {
    ex.settle();
    pm.poll();
  };
  settle();
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 1_101, 1), RejectReason.RISK_PRICE_COLLAR, 'just over +10 %');
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 1_100, 1), 0, 'at +10 %');
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 1_099, 1), 0, 'just under');
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, OUTFLOW, 899, 1), RejectReason.RISK_PRICE_COLLAR, 'just under −10 %');
  t.equal(pm.submitNewOrder(B, APPLE_PHONE, OUTFLOW, 900, 5), 0, 'at −10 %');
  settle(); // B's outflow at 900 trades with A's inflows at 1,100 then 1,099 (at the maker prices)
  t.equal(pm.state.position(A, APPLE_PHONE).units, 1_002);
  // The last trade (1,099) is now the reference: ±109.9.
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 1_208, 1), 0, '1,208 is within 10 % of 1,099');
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 1_209, 1), RejectReason.RISK_PRICE_COLLAR, '1,209 is not');
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 990, 1), 0);
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 989, 1), RejectReason.RISK_PRICE_COLLAR);
  settle(); // those two take B's remaining outflow at 900: the last trade is now 900
  journal.setRiskRule(RiskRuleKind.PRICE_COLLAR_BPS, 100, A, APPLE); // 1 % for A on APPLE: ±9
  settle();
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 909, 1), 0);
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 910, 1), RejectReason.RISK_PRICE_COLLAR);
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 891, 1), 0);
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 890, 1), RejectReason.RISK_PRICE_COLLAR);
  t.equal(pm.submitNewOrder(B, APPLE_PHONE, INFLOW, 990, 1), 0, 'B keeps the default 10 %');
  t.end();
});

t.test('maximum open orders per account, counting orders in flight; a finished order frees a place', (t) => {
  const ex = new InProcessExchange();
  const journal = ex.journal;
  journal.listProduct(APPLE_PHONE, APPLE, 1, 1, 100);
  journal.openAccount(A);
  journal.deposit(A, 1_000_000);
  journal.openTradingDay(DAY_1);
  journal.setRiskRule(RiskRuleKind.MAX_OPEN_ORDERS, 3, A);
  const pm = new InProcessProductManager(journal, { maxAccounts: 16, maxProducts: 8, initialOrderSlots: 64 });
  ex.settle();
  pm.poll();
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 100, 1), 0);
  const first = pm.state.lastOrderId;
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 100, 1), 0, 'just under: 2 open');
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 100, 1), 0, 'at: 3 open (all still in flight)');
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 100, 1), RejectReason.RISK_MAX_OPEN_ORDERS, 'just over');
  ex.settle();
  pm.poll();
  t.equal(pm.state.account(A)?.openOrders, 3);
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 100, 1), RejectReason.RISK_MAX_OPEN_ORDERS);
  t.equal(pm.submitCancel(A, first), 0);
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 100, 1), RejectReason.RISK_MAX_OPEN_ORDERS, 'the cancel is not done yet');
  ex.settle();
  pm.poll();
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 100, 1), 0, 'canceled: a place is free');
  t.end();
});

t.test('halted, delisted and unknown products; market closed; accounts that may not trade', (t) => {
  const { journal, pm } = desk();
  journal.haltProduct(APPLE_PHONE);
  journal.openAccount(303, 9, AccountRole.ANALYST);
  journal.suspendAccount(B);
  pm.poll();
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 1, 1), RejectReason.PRODUCT_HALTED);
  t.equal(pm.submitNewOrder(A, 99, INFLOW, 1, 1), RejectReason.UNKNOWN_PRODUCT);
  t.equal(pm.submitNewOrder(B, APPLE_WATCH, INFLOW, 1, 1), RejectReason.ACCOUNT_NOT_ACTIVE, 'suspended');
  t.equal(pm.submitNewOrder(303, APPLE_WATCH, INFLOW, 1, 1), RejectReason.ACCOUNT_NOT_ACTIVE, 'an analyst does not trade');
  t.equal(pm.submitNewOrder(404, APPLE_WATCH, INFLOW, 1, 1), RejectReason.ACCOUNT_NOT_ACTIVE, 'no such account');
  journal.resumeProduct(APPLE_PHONE);
  journal.delistProduct(APPLE_WATCH);
  pm.poll();
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 1, 1), 0, 'resumed');
  t.equal(pm.submitNewOrder(A, APPLE_WATCH, INFLOW, 1, 1), RejectReason.UNKNOWN_PRODUCT, 'delisted');
  journal.closeTradingDay(DAY_1);
  pm.poll();
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 1, 1), RejectReason.MARKET_CLOSED);
  t.end();
});

t.test('tick, lot, order-value overflow and malformed commands are refused with precise reasons', (t) => {
  const journal = new JournalBuilder();
  journal.listProduct(APPLE_PHONE, APPLE, 5, 10, 1_000);
  journal.openAccount(A);
  journal.deposit(A, Number.MAX_SAFE_INTEGER);
  journal.openTradingDay(DAY_1);
  journal.setRiskRule(RiskRuleKind.PRICE_COLLAR_BPS, Number.MAX_SAFE_INTEGER);
  journal.setRiskRule(RiskRuleKind.MAX_ORDER_QUANTITY, Number.MAX_SAFE_INTEGER);
  journal.setRiskRule(RiskRuleKind.BRAND_DAILY_UNITS, Number.MAX_SAFE_INTEGER);
  journal.setRiskRule(RiskRuleKind.NOTIONAL_DAILY, Number.MAX_SAFE_INTEGER);
  const pm = new InProcessProductManager(journal, { maxAccounts: 16, maxProducts: 8, initialOrderSlots: 64 });
  pm.poll();
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 1_002, 10), RejectReason.INVALID_PRICE, 'not on the tick of 5');
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 0, 10), RejectReason.INVALID_PRICE);
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 1_000, 15), RejectReason.INVALID_QUANTITY, 'not a lot of 10');
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 1_000, -10), RejectReason.INVALID_QUANTITY);
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 1_000, 2 ** 30 + 10), RejectReason.INVALID_QUANTITY, 'above the engine maximum');
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 2 ** 30 * 5, 2 ** 23 * 10), RejectReason.INVALID_QUANTITY, 'price × quantity above 2^53 − 1');
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 2 ** 24 * 5, 2 ** 23 * 10), 0, 'price × quantity inside the safe range');
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, 3, 1_000, 10), RejectReason.INVALID_COMMAND, 'side 3');
  t.equal(pm.submitNewOrder(A, APPLE_PHONE, INFLOW, 1_000, 10, { timeInForce: 9 }), RejectReason.INVALID_COMMAND, 'time in force 9');
  t.end();
});
